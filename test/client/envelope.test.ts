import { createDecipheriv, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { EnvelopeError } from '../../src/client/errors.js';
import { ENVELOPE_OVERHEAD, open, seal } from '../../src/client/envelope.js';

const key = randomBytes(32);

describe('the envelope format', () => {
  it('is version | nonce | ciphertext | tag, with the id and AAD length-prefixed as additional data', () => {
    const plaintext = Buffer.from('a record');
    const envelope = seal(key, 'tenant-ü', plaintext, 'row 7');
    expect(envelope).toHaveLength(1 + 12 + plaintext.length + 16);
    expect(envelope[0]).toBe(1);
    // Decrypted by hand, from the byte layout docs/client.md gives.
    const id = Buffer.from('tenant-ü');
    const aad = Buffer.from('row 7');
    const additional = Buffer.concat([
      Buffer.of(1),
      Buffer.of(0, 0, 0, id.length),
      id,
      Buffer.of(0, 0, 0, aad.length),
      aad,
    ]);
    const decipher = createDecipheriv('aes-256-gcm', key, envelope.subarray(1, 13));
    decipher.setAAD(additional);
    decipher.setAuthTag(envelope.subarray(-16));
    const opened = Buffer.concat([decipher.update(envelope.subarray(13, -16)), decipher.final()]);
    expect(opened.equals(plaintext)).toBe(true);
  });

  it('keeps (id, AAD) pairs with the same concatenation apart', () => {
    const envelope = seal(key, 'ab', 'x', 'c');
    expect(open(key, 'ab', envelope, 'c').toString()).toBe('x');
    expect(() => open(key, 'a', envelope, 'bc')).toThrow(EnvelopeError);
  });

  it('treats an absent AAD as an empty one', () => {
    const envelope = seal(key, 'id', 'x');
    expect(open(key, 'id', envelope, '').toString()).toBe('x');
    expect(open(key, 'id', envelope, new Uint8Array()).toString()).toBe('x');
  });

  it('does not open under another key', () => {
    expect(() => open(randomBytes(32), 'id', seal(key, 'id', 'x'))).toThrow(EnvelopeError);
  });

  it('needs a 32-byte key, and says so without showing it', () => {
    const short = randomBytes(16);
    expect(() => seal(short, 'id', 'x')).toThrow(/16 bytes; AES-256-GCM needs 32/);
    try {
      seal(short, 'id', 'x');
    } catch (error) {
      expect(String(error)).not.toContain(short.toString('base64'));
    }
  });

  it('refuses what is not bytes', () => {
    expect(() => open(key, 'id', 'AQID' as unknown as Uint8Array)).toThrow(EnvelopeError);
    expect(() => seal(key, 'id', 42 as unknown as string)).toThrow(TypeError);
    expect(ENVELOPE_OVERHEAD).toBe(29);
  });
});
