import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  CreateKeyCommand,
  DecryptCommand,
  DescribeKeyCommand,
  EncryptCommand,
  GetKeyRotationStatusCommand,
  ListResourceTagsCommand,
  UpdateAliasCommand,
} from '@aws-sdk/client-kms';
import { afterEach, describe, expect, it } from 'vitest';
import { SeedError, type SeedSpec } from '../../src/localkms/index.js';
import { bytes, expectKmsError, Fixture, text } from './helpers.js';

const fixture = new Fixture();
afterEach(() => fixture.cleanup());

const ORDERS_KEY = '1234abcd-12ab-34cd-56ef-1234567890ab';
const AUDIT_KEY = 'abcdef01-2345-4678-9abc-def012345678';

const JSON_SEED = JSON.stringify({
  keys: [
    {
      keyId: ORDERS_KEY,
      region: 'us-east-1',
      aliases: ['alias/orders'],
      description: 'orders',
      tags: { team: 'shop' },
    },
    { keyId: AUDIT_KEY, aliases: ['alias/audit'], enabled: false, rotation: true },
  ],
});

const TOML_SEED = `
[[keys]]
keyId = "${ORDERS_KEY}"
region = "us-east-1"
aliases = ["alias/orders"]
description = "orders"
[keys.tags]
team = "shop"

[[keys]]
keyId = "${AUDIT_KEY}"
aliases = ["alias/audit"]
enabled = false
rotation = true
`;

describe('seed files', () => {
  for (const [format, content] of [
    ['json', JSON_SEED],
    ['toml', TOML_SEED],
  ] as const) {
    it(`creates keys with fixed ids and aliases from a ${format.toUpperCase()} file`, async () => {
      const dir = await fixture.tempDir();
      const seedPath = join(dir, `seed.${format}`);
      await writeFile(seedPath, content);
      const kms = await fixture.start({ regions: ['us-east-1', 'eu-west-1'], seed: seedPath });
      const east = fixture.client(kms, 'us-east-1');
      const west = fixture.client(kms, 'eu-west-1');

      const orders = await east.send(new DescribeKeyCommand({ KeyId: 'alias/orders' }));
      expect(orders.KeyMetadata).toMatchObject({
        KeyId: ORDERS_KEY,
        Description: 'orders',
        KeyState: 'Enabled',
      });
      expect((await east.send(new ListResourceTagsCommand({ KeyId: ORDERS_KEY }))).Tags).toEqual([
        { TagKey: 'team', TagValue: 'shop' },
      ]);
      await expectKmsError(west.send(new DescribeKeyCommand({ KeyId: 'alias/orders' })), 'NotFoundException');

      for (const client of [east, west]) {
        const audit = await client.send(new DescribeKeyCommand({ KeyId: 'alias/audit' }));
        expect(audit.KeyMetadata).toMatchObject({ KeyId: AUDIT_KEY, KeyState: 'Disabled' });
        expect(
          (await client.send(new GetKeyRotationStatusCommand({ KeyId: AUDIT_KEY }))).KeyRotationEnabled,
        ).toBe(true);
      }
    });
  }

  it('refuses a file that is not a seed with a message that says what is wrong', async () => {
    const dir = await fixture.tempDir();
    const seedPath = join(dir, 'seed.json');
    await writeFile(seedPath, JSON.stringify({ keys: [{ keyId: 'not-a-uuid' }] }));
    const start = fixture.start({ seed: seedPath });
    await expect(start).rejects.toBeInstanceOf(SeedError);
    await expect(start).rejects.toThrow(/keyId/);
    await writeFile(join(dir, 'seed.toml'), 'keys = [');
    await expect(fixture.start({ seed: join(dir, 'seed.toml') })).rejects.toThrow(/not valid TOML/);
    await expect(fixture.start({ seed: join(dir, 'missing.json') })).rejects.toThrow(/cannot read seed file/);
  });
});

describe('seeds given as objects', () => {
  it('refuses an unknown region, a bad alias, bad key material and an alias given to two keys', async () => {
    const bad: SeedSpec[] = [
      { keys: [{ keyId: ORDERS_KEY, region: 'ap-east-1' }] },
      { keys: [{ keyId: ORDERS_KEY, aliases: ['alias/aws/ebs'] }] },
      { keys: [{ keyId: ORDERS_KEY, aliases: ['no-prefix'] }] },
      { keys: [{ keyId: ORDERS_KEY, keyMaterial: Buffer.alloc(16).toString('base64') }] },
      {
        keys: [
          { keyId: ORDERS_KEY, aliases: ['alias/x'] },
          { keyId: AUDIT_KEY, aliases: ['alias/x'] },
        ],
      },
    ];
    for (const seed of bad) await expect(fixture.start({ seed })).rejects.toBeInstanceOf(SeedError);
  });

  it('with fixed key material, keeps ciphertexts valid across in-memory runs', async () => {
    const seed: SeedSpec = {
      keys: [{ keyId: ORDERS_KEY, keyMaterial: Buffer.alloc(32, 3).toString('base64') }],
    };
    const first = await fixture.start({ seed });
    const blob = (
      await fixture.client(first).send(new EncryptCommand({ KeyId: ORDERS_KEY, Plaintext: bytes('fixture') }))
    ).CiphertextBlob;
    await first.close();
    const second = await fixture.start({ seed });
    expect(
      text((await fixture.client(second).send(new DecryptCommand({ CiphertextBlob: blob }))).Plaintext),
    ).toBe('fixture');
  });

  it('is idempotent on a persistent store: keys keep their material and seeded aliases point back at their keys', async () => {
    const dataDir = await fixture.tempDir();
    const seed: SeedSpec = { keys: [{ keyId: ORDERS_KEY, aliases: ['alias/orders'] }] };
    const first = await fixture.start({ dataDir, seed });
    const client = fixture.client(first);
    const blob = (await client.send(new EncryptCommand({ KeyId: 'alias/orders', Plaintext: bytes('kept') })))
      .CiphertextBlob;
    const other = (await client.send(new CreateKeyCommand({}))).KeyMetadata?.KeyId;
    await client.send(new UpdateAliasCommand({ AliasName: 'alias/orders', TargetKeyId: other }));
    await first.close();

    const second = await fixture.start({ dataDir, seed });
    const again = fixture.client(second);
    expect((await again.send(new DescribeKeyCommand({ KeyId: 'alias/orders' }))).KeyMetadata?.KeyId).toBe(
      ORDERS_KEY,
    );
    expect(text((await again.send(new DecryptCommand({ CiphertextBlob: blob }))).Plaintext)).toBe('kept');
    expect((await again.send(new DescribeKeyCommand({ KeyId: other }))).KeyMetadata?.KeyState).toBe(
      'Enabled',
    );
  });
});
