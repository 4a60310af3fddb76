import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeyNotFoundError } from '../../src/keys/errors.js';
import type { ServedKey } from '../../src/keys/service.js';
import { recordKey } from '../support/audit.js';
import { testConfig } from '../support/config.js';
import { startStack, type Stack } from '../support/stack.js';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack(testConfig({ cache: { ttl_seconds: 0 } }), 'key-create-gate');
});
afterAll(async () => {
  await stack.close();
});

const record = (served: ServedKey) => {
  recordKey(Buffer.from(served.key).toString('base64'));
  return served;
};

class Refused extends KeyNotFoundError {}

describe('beforeCreate', () => {
  it('runs only when the call would create a key, and its refusal creates nothing', async () => {
    const { keys } = await stack.keyParts();
    const calls: string[] = [];
    const refuse = {
      beforeCreate: () => {
        calls.push('asked');
        return Promise.reject(new Refused('gated/new'));
      },
    };
    await expect(keys.getKey('gated/new', refuse)).rejects.toBeInstanceOf(Refused);
    await expect(keys.createKey('gated/new', refuse)).rejects.toBeInstanceOf(Refused);
    expect(await stack.table.item('gated/new')).toBeUndefined();
    expect(calls).toEqual(['asked', 'asked']);

    record(await keys.getKey('gated/existing'));
    calls.length = 0;
    record(await keys.getKey('gated/existing', refuse));
    expect(calls).toEqual([]);
  });

  it('refuses only the caller it belongs to when callers share one load', async () => {
    const { keys } = await stack.keyParts();
    // The refused caller starts the shared load; the other joins it, then creates with its own rights.
    const refused = keys.getKey('gated/shared', {
      beforeCreate: () => Promise.reject(new Refused('gated/shared')),
    });
    const allowed = keys.getKey('gated/shared', { beforeCreate: () => Promise.resolve() });
    await expect(refused).rejects.toBeInstanceOf(Refused);
    const served = record(await allowed);
    expect(served.created).toBe(true);
    expect(await stack.table.item('gated/shared')).toMatchObject({ state: 'Enabled' });
  });
});
