import { CreateAliasCommand, CreateKeyCommand } from '@aws-sdk/client-kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EMBEDDED_CREDENTIALS } from '../../src/cli/embedded.js';
import type { KeyParts } from '../../src/cli/compose.js';
import type { Config } from '../../src/config/schema.js';
import type { Log } from '../../src/keys/log.js';
import { createKmsClient } from '../../src/kms/aws-backend.js';
import { repairTable, type ScanOptions } from '../../src/keys/repair-scan.js';
import { recordKey } from '../support/audit.js';
import { testConfig } from '../support/config.js';
import { startStack, type Stack } from '../support/stack.js';

const FOUR = ['us-east-1', 'us-east-2', 'us-west-1', 'us-west-2'];
const THREE = FOUR.slice(0, 3);
let stack: Stack;

beforeAll(async () => {
  stack = await startStack(testConfig({ kms: { regions: FOUR, hedge_after_ms: 0 } }), 'repair');
});
afterAll(async () => {
  await stack.close();
});

const OPTIONS: ScanOptions = { dryRun: false, verify: false, rewrap: false, concurrency: 4 };
const unique = (name: string) => `${name}-${Math.random().toString(36).slice(2, 8)}`;
const b64 = (served: Uint8Array | { key: Uint8Array }) => {
  const encoded = Buffer.from(served instanceof Uint8Array ? served : served.key).toString('base64');
  recordKey(encoded);
  return encoded;
};
const regionsOf = async (id: string) => Object.keys((await stack.table.item(id))?.keys ?? {});

/** RKMS over `regions` of the local KMS's four, with no cache, so every read decrypts. */
function parts(regions: string[], kms: Partial<Config['kms']> = {}) {
  const key_ids = Object.fromEntries(regions.map((r) => [r, `alias/rkms-${r}`]));
  return stack.keyParts({
    cache: { ...stack.config.cache, ttl_seconds: 0 },
    kms: { ...stack.config.kms, regions, key_ids, min_regions: 2, ...kms },
  });
}

describe('repair on read', () => {
  it('repairs at most one item per id at a time, in the background, bounded', async () => {
    const three = await parts(THREE);
    const id = unique('busy');
    b64(await three.keys.getKey(id));
    await stack.table.removeCopy(id, 'us-west-1');
    stack.kms.resetCounters();
    // Ten reads of the same incomplete item: one repair (one Encrypt), not ten.
    await Promise.all(Array.from({ length: 10 }, async () => b64(await three.keys.getKey(id))));
    await three.repairer.settled();
    expect(stack.kms.counters()['us-west-1']?.Encrypt).toBe(1);
    expect(await regionsOf(id)).toEqual(['us-east-1', 'us-east-2', 'us-west-1']);
  });
});

interface Line {
  level: 'info' | 'warn' | 'error';
  fields: Record<string, unknown>;
  message: string;
}

/** A request's log that keeps its lines, as the repairer gets one from the key service. */
function captureLog() {
  const lines: Line[] = [];
  const at = (level: Line['level']) => (fields: Record<string, unknown>, message: string) => {
    lines.push({ level, fields, message });
  };
  const log = { info: at('info'), warn: at('warn'), error: at('error') } as unknown as Log;
  const matching = (level: Line['level'], message: RegExp) =>
    lines.filter((line) => line.level === level && message.test(line.message));
  return { log, matching };
}

const MISSING = /^key has no copy in a configured region: repairing it$/;
const UNREACHABLE = /^serving keys that have no copy in a region that cannot be reached/;
const NOT_REPAIRED = /^could not repair some copies; will retry$/;

/** A key read through `three`, then its us-west-1 copy removed behind RKMS's back. */
async function withoutWest1(three: KeyParts, name: string) {
  const id = unique(name);
  const { key } = await three.keys.getKey(id);
  b64(key);
  await three.repairer.settled();
  await stack.table.removeCopy(id, 'us-west-1');
  const record = await three.store.get(id);
  if (record?.state !== 'Enabled') throw new Error(`expected ${id} to be enabled`);
  return { id, key, record };
}

describe('repair on read: what it reports', () => {
  it('reports a missing copy at error level once a minute per region, and each repair at info', async () => {
    const three = await parts(THREE);
    const { log, matching } = captureLog();
    const ids: string[] = [];
    for (const name of ['gap-a', 'gap-b', 'gap-c']) {
      const { id, key, record } = await withoutWest1(three, name);
      ids.push(id);
      three.repairer.offer(record, key, [], log);
      await three.repairer.settled();
    }
    expect(matching('error', MISSING).map((line) => line.fields)).toEqual([
      { id: ids[0], region: 'us-west-1', suppressed: 0 },
    ]);
    expect(matching('info', /^repaired missing or damaged copies$/).map((line) => line.fields.id)).toEqual(
      ids,
    );
    for (const id of ids) expect(await regionsOf(id)).toEqual(THREE);
  });

  it('says once that it could not repair a region, then once that the region cannot be reached', async () => {
    const three = await parts(THREE);
    const { key, record } = await withoutWest1(three, 'stuck');
    const { log, matching } = captureLog();
    stack.kms.faults.set('us-west-1', { error: { operations: ['Encrypt'] } });
    try {
      // Every repair fails, until enough have failed to open us-west-1's circuit.
      let offers = 0;
      while (three.kms.callable('us-west-1') && offers < 20) {
        three.repairer.offer(record, key, [], log);
        offers++;
        await three.repairer.settled();
      }
      expect(three.kms.callable('us-west-1')).toBe(false);
      expect(offers).toBeGreaterThan(2);
      for (let i = 0; i < 3; i++) three.repairer.offer(record, key, [], log);
      await three.repairer.settled();
      expect(matching('warn', NOT_REPAIRED).map((line) => line.fields)).toEqual([
        {
          id: record.id,
          region: 'us-west-1',
          reason: 'Encrypt: internal error (KMSInternalException)',
          suppressed: 0,
        },
      ]);
      expect(matching('error', MISSING)).toHaveLength(1);
      expect(matching('error', UNREACHABLE).map((line) => line.fields)).toEqual([
        { id: record.id, region: 'us-west-1', suppressed: 0 },
      ]);
    } finally {
      stack.kms.faults.clear();
    }
  });
});

describe('rkms repair (repairTable)', () => {
  it('gives every existing key a copy in a region added to the config', async () => {
    const three = await parts(THREE);
    const ids = Array.from({ length: 12 }, (_, i) => unique(`grow-${i}`));
    const keys = await Promise.all(ids.map(async (id) => b64(await three.keys.getKey(id))));
    await three.repairer.settled();

    const four = await parts(FOUR);
    const dry = await repairTable(four, { ...OPTIONS, dryRun: true });
    expect(dry.repaired['us-west-2']).toBeGreaterThanOrEqual(ids.length);
    for (const id of ids) expect(await regionsOf(id)).not.toContain('us-west-2'); // a dry run writes nothing

    const summary = await repairTable(four, OPTIONS);
    expect(summary.failed).toEqual([]);
    expect(summary.repaired['us-west-2']).toBeGreaterThanOrEqual(ids.length);
    for (const id of ids) expect(await regionsOf(id)).toEqual(FOUR);
    // Every new copy is a copy of the same key: read through us-west-2 alone.
    const onlyWest2 = await parts(['us-west-2'], { min_regions: 1 });
    for (const [i, id] of ids.entries()) expect(b64(await onlyWest2.keys.getKey(id))).toBe(keys[i]);

    const again = await repairTable(four, OPTIONS);
    expect(again.repaired).toEqual({});
    expect(again.complete).toBe(again.scanned - again.deleted - again.failed.length);
  });

  it('finds a damaged copy only with --verify, and replaces it with a copy of the same key', async () => {
    const three = await parts(THREE);
    const id = unique('damaged');
    const key = b64(await three.keys.getKey(id));
    const copy = Buffer.from(
      ((await stack.table.item(id))?.keys as Record<string, string>)['us-west-1'] ?? '',
      'base64',
    );
    copy[copy.length - 2] = (copy[copy.length - 2] ?? 0) ^ 0x40;
    await stack.table.setCopy(id, 'us-west-1', copy.toString('base64'));

    const plain = await repairTable(three, OPTIONS);
    expect(plain.damaged).toBe(0);
    const verified = await repairTable(three, { ...OPTIONS, verify: true });
    expect(verified.damaged).toBeGreaterThanOrEqual(1);
    expect(verified.repaired['us-west-1']).toBeGreaterThanOrEqual(1);
    expect(verified.failed).toEqual([]);
    const onlyWest1 = await parts(['us-west-1'], { min_regions: 1 });
    expect(b64(await onlyWest1.keys.getKey(id))).toBe(key);
  });

  it('moves copies to a region’s new KMS key with --rewrap, and reads them under the new key', async () => {
    const three = await parts(THREE);
    const id = unique('rewrap');
    const key = b64(await three.keys.getKey(id));
    // The operator creates a new key in us-east-2 and points a new alias at it.
    const admin = createKmsClient({
      region: 'us-east-2',
      endpoint: stack.kms.url,
      credentials: EMBEDDED_CREDENTIALS,
      kms: stack.config.kms,
    });
    const created = await admin.send(new CreateKeyCommand({ Description: 'rkms us-east-2, rotated' }));
    const alias = unique('alias/rkms-us-east-2-new');
    await admin.send(new CreateAliasCommand({ AliasName: alias, TargetKeyId: created.KeyMetadata?.KeyId }));
    admin.destroy();
    const moved = await parts(THREE, {
      key_ids: {
        'us-east-1': 'alias/rkms-us-east-1',
        'us-east-2': alias,
        'us-west-1': 'alias/rkms-us-west-1',
      },
    });

    const summary = await repairTable(moved, { ...OPTIONS, rewrap: true });
    expect(summary.failed).toEqual([]);
    expect(summary.rewrapped).toBeGreaterThanOrEqual(1);
    const onlyNewKey = await parts(['us-east-2'], { min_regions: 1, key_ids: { 'us-east-2': alias } });
    expect(b64(await onlyNewKey.keys.getKey(id))).toBe(key);
    const again = await repairTable(moved, { ...OPTIONS, rewrap: true });
    expect(again.rewrapped).toBe(0);
  });

  it('counts an unreadable item as failed, with what is wrong with it', async () => {
    const three = await parts(THREE);
    const bad = unique('unreadable');
    await stack.table.put({ id: bad, keys: 'not a map' });
    const summary = await repairTable(three, OPTIONS);
    expect(summary.failed).toContainEqual({
      id: bad,
      reason: 'attribute "keys" is not a map of region to ciphertext',
    });
  });

  it('reports the regions it could not reach; a later run completes them', async () => {
    const three = await parts(THREE);
    const four = await parts(FOUR);
    const id = unique('partial');
    b64(await three.keys.getKey(id));
    stack.kms.faults.set('us-west-2', { error: {} });
    try {
      const summary = await repairTable(four, OPTIONS);
      expect(summary.failed).toContainEqual({
        id,
        reason: 'us-west-2: Encrypt: internal error (KMSInternalException)',
      });
    } finally {
      stack.kms.faults.clear();
    }
    const fresh = await parts(FOUR);
    const summary = await repairTable(fresh, OPTIONS);
    expect(summary.failed.filter((f) => f.id === id)).toEqual([]);
    expect(await regionsOf(id)).toEqual(FOUR);
  });
});
