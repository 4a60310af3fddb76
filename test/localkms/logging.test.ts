import { Writable } from 'node:stream';
import {
  CreateKeyCommand,
  DecryptCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  GenerateDataKeyPairCommand,
  GenerateMacCommand,
  GenerateRandomCommand,
  ReEncryptCommand,
  SignCommand,
  VerifyMacCommand,
} from '@aws-sdk/client-kms';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { Fixture } from '../support/local-kms.js';

const fixture = new Fixture();
afterAll(() => fixture.cleanup());

function capturedLogger() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(
        ...chunk
          .toString('utf8')
          .split('\n')
          .filter((line) => line !== ''),
      );
      done();
    },
  });
  return { logger: pino({ level: 'trace' }, stream), lines };
}

describe('logs', () => {
  it('show every call with its bodies at trace level, with plaintext and data keys redacted', async () => {
    const { logger, lines } = capturedLogger();
    const kms = await fixture.start({ logger });
    const client = fixture.client(kms);
    const keyId = (await client.send(new CreateKeyCommand({}))).KeyMetadata?.KeyId;
    const secret = Buffer.from('the plaintext that must not leak');

    const encrypted = await client.send(new EncryptCommand({ KeyId: keyId, Plaintext: secret }));
    const decrypted = await client.send(new DecryptCommand({ CiphertextBlob: encrypted.CiphertextBlob }));
    const dataKey = await client.send(new GenerateDataKeyCommand({ KeyId: keyId, NumberOfBytes: 32 }));
    const random = await client.send(new GenerateRandomCommand({ NumberOfBytes: 32 }));
    await client.send(
      new ReEncryptCommand({ CiphertextBlob: encrypted.CiphertextBlob, DestinationKeyId: keyId }),
    );
    await client
      .send(new EncryptCommand({ KeyId: 'alias/missing', Plaintext: secret }))
      .catch(() => undefined);

    const log = lines.join('\n');
    const leaks = [
      secret.toString('base64'),
      secret.toString('utf8'),
      Buffer.from(decrypted.Plaintext ?? []).toString('base64'),
      Buffer.from(dataKey.Plaintext ?? []).toString('base64'),
      Buffer.from(random.Plaintext ?? []).toString('base64'),
    ];
    for (const leak of leaks) expect(log).not.toContain(leak);

    const bodies = lines.map(
      (line) =>
        JSON.parse(line) as {
          msg: string;
          operation?: string;
          request?: { Plaintext?: string };
          response?: { Plaintext?: string };
        },
    );
    const encryptCall = bodies.find(
      (entry) => entry.msg === 'kms call bodies' && entry.operation === 'Encrypt',
    );
    expect(encryptCall?.request?.Plaintext).toBe('[Redacted]');
    const dataKeyCall = bodies.find(
      (entry) => entry.msg === 'kms call bodies' && entry.operation === 'GenerateDataKey',
    );
    expect(dataKeyCall?.response?.Plaintext).toBe('[Redacted]');
    expect(bodies.filter((entry) => entry.msg === 'kms call').map((entry) => entry.operation)).toEqual([
      'CreateKey',
      'Encrypt',
      'Decrypt',
      'GenerateDataKey',
      'GenerateRandom',
      'ReEncrypt',
      'Encrypt',
    ]);
  });

  it('redact the private key of a data key pair, MACs and messages to sign', async () => {
    const { logger, lines } = capturedLogger();
    const kms = await fixture.start({ logger });
    const client = fixture.client(kms);
    const symmetric = (await client.send(new CreateKeyCommand({}))).KeyMetadata?.KeyId;
    const hmac = (
      await client.send(new CreateKeyCommand({ KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC' }))
    ).KeyMetadata?.KeyId;
    const signing = (
      await client.send(new CreateKeyCommand({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' }))
    ).KeyMetadata?.KeyId;
    const message = Buffer.from('a message that may be secret');
    const pair = await client.send(
      new GenerateDataKeyPairCommand({ KeyId: symmetric, KeyPairSpec: 'ECC_NIST_P256' }),
    );
    const mac = await client.send(
      new GenerateMacCommand({ KeyId: hmac, Message: message, MacAlgorithm: 'HMAC_SHA_256' }),
    );
    await client.send(
      new VerifyMacCommand({ KeyId: hmac, Message: message, Mac: mac.Mac, MacAlgorithm: 'HMAC_SHA_256' }),
    );
    await client.send(
      new SignCommand({ KeyId: signing, Message: message, SigningAlgorithm: 'ECDSA_SHA_256' }),
    );

    const log = lines.join('\n');
    for (const secret of [pair.PrivateKeyPlaintext, mac.Mac, message]) {
      expect(secret).toBeDefined();
      expect(log).not.toContain(Buffer.from(secret ?? []).toString('base64'));
    }
    // The public key and the ciphertext of the private key are not secret, and stay readable for debugging.
    expect(log).toContain(Buffer.from(pair.PublicKey ?? []).toString('base64'));
    expect(log).toContain('[Redacted]');
  });
});
