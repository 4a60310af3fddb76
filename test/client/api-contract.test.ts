import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RkmsClient, RkmsError } from '../../src/client/index.js';
import { testConfig } from '../support/config.js';
import { getKey } from '../support/http.js';
import { startStack, type RunningService, type Stack } from '../support/stack.js';
import { recordingFetch } from '../support/recording-fetch.js';

/**
 * The client against the parts of the HTTP API that came with the client's issue:
 * explicit creation (POST /key) and request ids on every answer.
 */
let stack: Stack;
let replica: RunningService;
let client: RkmsClient;

beforeAll(async () => {
  stack = await startStack(testConfig({ cache: { ttl_seconds: 0 } }), 'client-contract');
  replica = await stack.startService();
  client = new RkmsClient({ urls: [replica.url], fetch: recordingFetch().fetch });
});

afterAll(async () => {
  client.close();
  await stack.close();
});

async function rejection(promise: Promise<unknown>): Promise<RkmsError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(RkmsError);
  return error as RkmsError;
}

describe('createKey', () => {
  it('creates the key that GET then serves', async () => {
    const created = await client.createKey('explicit-1');
    expect(created).toHaveLength(32);
    expect((await getKey(replica.url, 'explicit-1')).body.key).toBe(created.toString('base64'));
  });

  it('rejects with KeyExists for an id that has a key', async () => {
    await client.getKey('explicit-2');
    expect(await rejection(client.createKey('explicit-2'))).toMatchObject({
      errorType: 'KeyExists',
      status: 409,
      retryable: false,
    });
  });
});

describe('errors', () => {
  it('carry the request id of the answer', async () => {
    await client.getKey('pending');
    await client.deleteKey('pending');
    const error = await rejection(client.getKey('pending'));
    expect(error.errorType).toBe('KeyPendingDeletion');
    expect(error.requestId).toEqual(expect.any(String));
    expect(error.message).toContain(error.requestId);
  });
});
