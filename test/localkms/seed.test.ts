import { createHmac, generateKeyPairSync } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  CreateKeyCommand,
  DecryptCommand,
  DescribeKeyCommand,
  EncryptCommand,
  GenerateMacCommand,
  GetKeyRotationStatusCommand,
  GetPublicKeyCommand,
  ListResourceTagsCommand,
  UpdateAliasCommand,
} from '@aws-sdk/client-kms';
import { afterEach, describe, expect, it } from 'vitest';
import { SeedError, type SeedSpec } from '../../src/localkms/index.js';
import { bytes, expectKmsError, Fixture, text } from '../support/local-kms.js';

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

describe('seeds of asymmetric, HMAC and multi-Region keys', () => {
  const SIGNING_KEY = '0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0';
  const MAC_KEY = '11111111-2222-4333-8444-555555555555';
  const MULTI_KEY = 'mrk-00112233445566778899aabbccddeeff';

  it('create them with fixed material, so public keys, MACs and ciphertexts stay the same across runs', async () => {
    const signingPair = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const macSecret = Buffer.alloc(32, 9);
    const dataDir = await fixture.tempDir();
    const seed: SeedSpec = {
      keys: [
        {
          keyId: SIGNING_KEY,
          region: 'us-east-1',
          keySpec: 'ECC_NIST_P256',
          keyUsage: 'SIGN_VERIFY',
          aliases: ['alias/signer'],
          keyMaterial: signingPair.privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64'),
        },
        {
          keyId: MAC_KEY,
          region: 'us-east-1',
          keySpec: 'HMAC_256',
          keyUsage: 'GENERATE_VERIFY_MAC',
          keyMaterial: macSecret.toString('base64'),
        },
        {
          keyId: MULTI_KEY,
          regions: ['eu-west-1', 'us-east-1'],
          multiRegion: true,
          aliases: ['alias/everywhere'],
        },
      ],
    };
    for (let run = 0; run < 2; run++) {
      const kms = await fixture.start({ regions: ['us-east-1', 'eu-west-1'], dataDir, seed });
      const east = fixture.client(kms, 'us-east-1');
      const eu = fixture.client(kms, 'eu-west-1');
      const { PublicKey } = await east.send(new GetPublicKeyCommand({ KeyId: 'alias/signer' }));
      expect(
        Buffer.from(PublicKey ?? []).equals(signingPair.publicKey.export({ format: 'der', type: 'spki' })),
      ).toBe(true);
      const { Mac } = await east.send(
        new GenerateMacCommand({ KeyId: MAC_KEY, Message: bytes('seeded'), MacAlgorithm: 'HMAC_SHA_256' }),
      );
      // The MAC is RFC 2104 HMAC under the seeded secret, as any library computes it.
      expect(Buffer.from(Mac ?? [])).toEqual(createHmac('sha256', macSecret).update('seeded').digest());
      expect(
        (await eu.send(new DescribeKeyCommand({ KeyId: 'alias/everywhere' }))).KeyMetadata,
      ).toMatchObject({
        KeyId: MULTI_KEY,
        MultiRegionConfiguration: { MultiRegionKeyType: 'PRIMARY', ReplicaKeys: [{ Region: 'us-east-1' }] },
      });
      const blob = (
        await eu.send(new EncryptCommand({ KeyId: 'alias/everywhere', Plaintext: bytes('seeded mrk') }))
      ).CiphertextBlob;
      expect(text((await east.send(new DecryptCommand({ CiphertextBlob: blob }))).Plaintext)).toBe(
        'seeded mrk',
      );
      await kms.close();
    }
  });

  it('refuse a key spec without usage, a usage that does not fit, mismatched material and mrk ids out of place', async () => {
    const bad: SeedSpec[] = [
      { keys: [{ keyId: SIGNING_KEY, keySpec: 'RSA_2048' }] },
      { keys: [{ keyId: SIGNING_KEY, keySpec: 'ECC_NIST_P256', keyUsage: 'ENCRYPT_DECRYPT' }] },
      {
        keys: [
          {
            keyId: MAC_KEY,
            keySpec: 'HMAC_512',
            keyUsage: 'GENERATE_VERIFY_MAC',
            keyMaterial: Buffer.alloc(32).toString('base64'),
          },
        ],
      },
      { keys: [{ keyId: MULTI_KEY }] },
      { keys: [{ keyId: SIGNING_KEY, multiRegion: true }] },
      {
        keys: [{ keyId: SIGNING_KEY, keySpec: 'HMAC_256', keyUsage: 'GENERATE_VERIFY_MAC', rotation: true }],
      },
    ];
    for (const seed of bad) await expect(fixture.start({ seed })).rejects.toBeInstanceOf(SeedError);
  });
});
