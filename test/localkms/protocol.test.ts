import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalKms } from '../../src/localkms/index.js';
import { Fixture } from '../support/local-kms.js';

/** Calls the server as a hand-written client would, to send what no SDK sends. */
async function rawCall(
  url: string,
  target: string | undefined,
  body: string | Uint8Array,
): Promise<{
  status: number;
  type: string | null;
  contentType: string | null;
  json: { __type?: string; message?: string };
}> {
  const headers: Record<string, string> = { 'Content-Type': 'application/x-amz-json-1.1' };
  if (target !== undefined) headers['X-Amz-Target'] = target;
  const response = await fetch(url, { method: 'POST', headers, body });
  return {
    status: response.status,
    type: response.headers.get('x-amzn-errortype'),
    contentType: response.headers.get('content-type'),
    json: (await response.json()) as { __type?: string; message?: string },
  };
}

const fixture = new Fixture();
let kms: LocalKms;

beforeAll(async () => {
  kms = await fixture.start();
});
afterAll(() => fixture.cleanup());

describe('the KMS JSON protocol', () => {
  it('answers malformed JSON with SerializationException in AWS error form', async () => {
    const reply = await rawCall(kms.url, 'TrentService.ListKeys', '{"Limit": ');
    expect(reply).toMatchObject({
      status: 400,
      type: 'SerializationException',
      contentType: 'application/x-amz-json-1.1',
    });
    expect(reply.json.__type).toBe('SerializationException');
    expect(reply.json.message).toMatch(/JSON/);
  });

  it('answers a body that is not an object, and members of the wrong type, with SerializationException', async () => {
    expect((await rawCall(kms.url, 'TrentService.ListKeys', '[1,2]')).json.__type).toBe(
      'SerializationException',
    );
    const wrongType = await rawCall(kms.url, 'TrentService.DescribeKey', '{"KeyId": 5}');
    expect(wrongType.json.__type).toBe('SerializationException');
    expect(wrongType.json.message).toContain('keyId');
  });

  it('answers a missing required member with ValidationException naming it', async () => {
    const reply = await rawCall(kms.url, 'TrentService.DescribeKey', '{}');
    expect(reply).toMatchObject({ status: 400, type: 'ValidationException' });
    expect(reply.json.message).toBe(
      "1 validation error detected: Value null at 'keyId' failed to satisfy constraint: Member must not be null",
    );
  });

  it('answers a blob that is not base64 with SerializationException', async () => {
    const reply = await rawCall(kms.url, 'TrentService.Decrypt', '{"CiphertextBlob": "not base64!"}');
    expect(reply.json.__type).toBe('SerializationException');
  });

  it('tells an unknown operation from an AWS operation it does not emulate', async () => {
    expect((await rawCall(kms.url, 'TrentService.Frobnicate', '{}')).json.__type).toBe(
      'UnknownOperationException',
    );
    expect((await rawCall(kms.url, 'TrentService.CreateGrant', '{}')).json.__type).toBe(
      'UnsupportedOperationException',
    );
    expect((await rawCall(kms.url, 'DynamoDB_20120810.GetItem', '{}')).json.__type).toBe(
      'UnknownOperationException',
    );
    const missing = await rawCall(kms.url, undefined, '{}');
    expect(missing.json.__type).toBe('UnknownOperationException');
    expect(missing.json.message).toContain('X-Amz-Target');
  });

  it('refuses a huge body without reading it all, and keeps serving', async () => {
    const reply = await rawCall(kms.url, 'TrentService.Encrypt', new Uint8Array(5 * 1024 * 1024).fill(0x61));
    expect(reply).toMatchObject({ status: 400, type: 'ValidationException' });
    expect(reply.json.message).toContain('larger than');
    expect((await rawCall(kms.url, 'TrentService.ListKeys', '{}')).status).toBe(200);
  });

  it('never echoes a plaintext in an error message', async () => {
    const secret = Buffer.alloc(5000, 'S').toString('base64');
    const reply = await rawCall(
      kms.url,
      'TrentService.Encrypt',
      JSON.stringify({ KeyId: 'alias/x', Plaintext: secret }),
    );
    expect(reply.json.__type).toBe('ValidationException');
    expect(reply.json.message).not.toContain(secret.slice(0, 16));
  });

  it('survives bytes that are not HTTP at all', async () => {
    await new Promise<void>((resolve, reject) => {
      const socket = connect(kms.port, '127.0.0.1', () => socket.write('\x00\x01GARBAGE\r\n\r\n'));
      socket.on('close', () => {
        resolve();
      });
      socket.on('error', reject);
      socket.resume();
    });
    expect((await rawCall(kms.url, 'TrentService.ListKeys', '{}')).status).toBe(200);
  });
});
