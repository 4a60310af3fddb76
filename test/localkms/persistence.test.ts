import { copyFile, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CreateAliasCommand,
  CreateKeyCommand,
  DecryptCommand,
  DescribeKeyCommand,
  EncryptCommand,
  GenerateMacCommand,
  GetPublicKeyCommand,
  ReplicateKeyCommand,
  RotateKeyOnDemandCommand,
  VerifyMacCommand,
  ScheduleKeyDeletionCommand,
  TagResourceCommand,
  ListResourceTagsCommand,
} from '@aws-sdk/client-kms';
import { afterEach, describe, expect, it } from 'vitest';
import { StoreLockedError, WrongPassphraseError, type LocalKms } from '../../src/localkms/index.js';
import { bytes, createKey, expectKmsError, Fixture, text } from '../support/local-kms.js';

const fixture = new Fixture();
afterEach(() => fixture.cleanup());

const STORE = 'kms-store.json';
const MATERIAL = Buffer.alloc(32, 7);

/** Creates a key with a known alias, tag and rotation, and a ciphertext under it; returns what to look for after a restart. */
async function populate(kms: LocalKms, region = 'us-east-1') {
  const client = fixture.client(kms, region);
  const keyId =
    (await client.send(new CreateKeyCommand({ Description: 'survivor' }))).KeyMetadata?.KeyId ?? '';
  await client.send(new CreateAliasCommand({ AliasName: 'alias/survivor', TargetKeyId: keyId }));
  await client.send(new TagResourceCommand({ KeyId: keyId, Tags: [{ TagKey: 'kept', TagValue: 'yes' }] }));
  const beforeRotation = await client.send(
    new EncryptCommand({
      KeyId: 'alias/survivor',
      Plaintext: bytes('old material'),
      EncryptionContext: { id: '1' },
    }),
  );
  await client.send(new RotateKeyOnDemandCommand({ KeyId: keyId }));
  const afterRotation = await client.send(
    new EncryptCommand({ KeyId: keyId, Plaintext: bytes('new material') }),
  );
  return { keyId, oldBlob: beforeRotation.CiphertextBlob, newBlob: afterRotation.CiphertextBlob };
}

async function expectSurvived(
  kms: LocalKms,
  saved: Awaited<ReturnType<typeof populate>>,
  region = 'us-east-1',
) {
  const client = fixture.client(kms, region);
  const described = await client.send(new DescribeKeyCommand({ KeyId: 'alias/survivor' }));
  expect(described.KeyMetadata).toMatchObject({
    KeyId: saved.keyId,
    Description: 'survivor',
    KeyState: 'Enabled',
  });
  expect((await client.send(new ListResourceTagsCommand({ KeyId: saved.keyId }))).Tags).toEqual([
    { TagKey: 'kept', TagValue: 'yes' },
  ]);
  const old = await client.send(
    new DecryptCommand({ CiphertextBlob: saved.oldBlob, EncryptionContext: { id: '1' } }),
  );
  expect(text(old.Plaintext)).toBe('old material');
  expect(text((await client.send(new DecryptCommand({ CiphertextBlob: saved.newBlob }))).Plaintext)).toBe(
    'new material',
  );
}

describe('persistence without a passphrase', () => {
  it('keeps keys, aliases, tags and every key-material version across a restart', async () => {
    const dataDir = await fixture.tempDir();
    const first = await fixture.start({ dataDir, regions: ['us-east-1', 'us-west-2'] });
    const saved = await populate(first, 'us-west-2');
    await first.close();
    const second = await fixture.start({ dataDir, regions: ['us-east-1', 'us-west-2'] });
    await expectSurvived(second, saved, 'us-west-2');
    await expectKmsError(
      fixture.client(second, 'us-east-1').send(new DescribeKeyCommand({ KeyId: 'alias/survivor' })),
      'NotFoundException',
    );
    expect(second.storeEncrypted).toBe(false);
  });

  it('keeps a scheduled deletion, and removes the key when it comes due while the server is down', async () => {
    const dataDir = await fixture.tempDir();
    let now = Date.UTC(2032, 5, 1);
    const first = await fixture.start({ dataDir, clock: () => now });
    const client = fixture.client(first);
    const keyId = (await client.send(new CreateKeyCommand({}))).KeyMetadata?.KeyId ?? '';
    await client.send(new ScheduleKeyDeletionCommand({ KeyId: keyId, PendingWindowInDays: 7 }));
    await first.close();

    const second = await fixture.start({ dataDir, clock: () => now });
    expect(
      (await fixture.client(second).send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata?.KeyState,
    ).toBe('PendingDeletion');
    await second.close();

    now += 8 * 86_400_000;
    await fixture.start({ dataDir, clock: () => now }).then((third) => third.close());
    expect(await readFile(join(dataDir, STORE), 'utf8')).not.toContain(keyId);
  });

  it('leaves no temporary file behind, and a plain store says it holds key material', async () => {
    const dataDir = await fixture.tempDir();
    const kms = await fixture.start({ dataDir });
    await populate(kms);
    await kms.close();
    expect((await readdir(dataDir)).sort()).toEqual([STORE]);
    expect(JSON.parse(await readFile(join(dataDir, STORE), 'utf8'))).toMatchObject({ protected: false });
  });

  it('does not write the store for cryptographic calls', async () => {
    const dataDir = await fixture.tempDir();
    const kms = await fixture.start({ dataDir });
    const client = fixture.client(kms);
    const keyId = (await client.send(new CreateKeyCommand({}))).KeyMetadata?.KeyId;
    const before = await readFile(join(dataDir, STORE), 'utf8');
    const blob = (await client.send(new EncryptCommand({ KeyId: keyId, Plaintext: bytes('x') })))
      .CiphertextBlob;
    await client.send(new DecryptCommand({ CiphertextBlob: blob }));
    expect(await readFile(join(dataDir, STORE), 'utf8')).toBe(before);
  });

  it('keeps a second server off the same directory', async () => {
    const dataDir = await fixture.tempDir();
    await fixture.start({ dataDir });
    await expect(fixture.start({ dataDir })).rejects.toBeInstanceOf(StoreLockedError);
  });

  it('refuses a store made for another account, and a damaged one, without touching it', async () => {
    const dataDir = await fixture.tempDir();
    await (await fixture.start({ dataDir, accountId: '000000000001' })).close();
    await expect(fixture.start({ dataDir, accountId: '000000000002' })).rejects.toThrow(
      /account 000000000001/,
    );
    await writeFile(join(dataDir, STORE), '{"format": "rkms-local-kms-store", "trunc');
    await expect(fixture.start({ dataDir })).rejects.toThrow(/not valid JSON/);
    expect(await readFile(join(dataDir, STORE), 'utf8')).toBe('{"format": "rkms-local-kms-store", "trunc');
  });
});

describe('persistence with a passphrase', () => {
  const seed = {
    keys: [
      {
        keyId: '0b6c1c2e-7a4f-4a57-9a34-3c1a9f5e2d10',
        aliases: ['alias/fixed'],
        keyMaterial: MATERIAL.toString('base64'),
      },
    ],
  };

  it('keeps everything across a restart, and the file on disk reveals no key material, key id or alias', async () => {
    const dataDir = await fixture.tempDir();
    const first = await fixture.start({ dataDir, passphrase: 'correct horse', seed });
    expect(first.storeEncrypted).toBe(true);
    const saved = await populate(first);
    await first.close();

    const onDisk = await readFile(join(dataDir, STORE), 'utf8');
    expect(JSON.parse(onDisk)).toMatchObject({ protected: true, kdf: { name: 'scrypt' } });
    for (const secret of [
      MATERIAL.toString('base64'),
      MATERIAL.toString('hex'),
      saved.keyId,
      'alias/survivor',
      'alias/fixed',
      'materials',
    ]) {
      expect(onDisk).not.toContain(secret);
    }

    const second = await fixture.start({ dataDir, passphrase: 'correct horse' });
    await expectSurvived(second, saved);
  });

  it('refuses a wrong passphrase with a clear error and leaves the store as it was', async () => {
    const dataDir = await fixture.tempDir();
    const first = await fixture.start({ dataDir, passphrase: 'right' });
    const saved = await populate(first);
    await first.close();
    const before = await readFile(join(dataDir, STORE), 'utf8');

    const wrong = fixture.start({ dataDir, passphrase: 'wrong' });
    await expect(wrong).rejects.toBeInstanceOf(WrongPassphraseError);
    await expect(wrong).rejects.toThrow(/wrong passphrase/);
    await expect(fixture.start({ dataDir })).rejects.toThrow(/encrypted: give its passphrase/);
    expect(await readFile(join(dataDir, STORE), 'utf8')).toBe(before);

    await expectSurvived(await fixture.start({ dataDir, passphrase: 'right' }), saved);
  });

  it('encrypts a store that was unprotected once a passphrase is given', async () => {
    const dataDir = await fixture.tempDir();
    const first = await fixture.start({ dataDir });
    const saved = await populate(first);
    await first.close();
    const second = await fixture.start({ dataDir, passphrase: 'from now on' });
    await second.close();
    const onDisk = await readFile(join(dataDir, STORE), 'utf8');
    expect(onDisk).not.toContain(saved.keyId);
    await expect(fixture.start({ dataDir })).rejects.toBeInstanceOf(WrongPassphraseError);
    await expectSurvived(await fixture.start({ dataDir, passphrase: 'from now on' }), saved);
  });

  it('fails authentication, not decryption into garbage, when the encrypted file is altered', async () => {
    const dataDir = await fixture.tempDir();
    await (await fixture.start({ dataDir, passphrase: 'p' })).close();
    const file = JSON.parse(await readFile(join(dataDir, STORE), 'utf8')) as { ciphertext: string };
    const bytesOnDisk = Buffer.from(file.ciphertext, 'base64');
    bytesOnDisk[0] = (bytesOnDisk[0] ?? 0) ^ 0xff;
    await writeFile(
      join(dataDir, STORE),
      JSON.stringify({ ...file, ciphertext: bytesOnDisk.toString('base64') }),
    );
    await expect(fixture.start({ dataDir, passphrase: 'p' })).rejects.toBeInstanceOf(WrongPassphraseError);
  });
});

describe('stores written before asymmetric keys (store version 1)', () => {
  const FIXTURES = fileURLToPath(new URL('./fixtures/store-v1/', import.meta.url));

  interface FixtureCiphertexts {
    region: string;
    keyId: string;
    passphrase: string | null;
    beforeRotation: { blob: string; context: Record<string, string>; plaintext: string };
    afterRotation: { blob: string; plaintext: string };
  }

  for (const kind of ['plain', 'protected'] as const) {
    it(`load (${kind}), decrypt their old ciphertexts, and are written back as version 2`, async () => {
      const dataDir = await fixture.tempDir();
      await copyFile(join(FIXTURES, kind, STORE), join(dataDir, STORE));
      const saved = JSON.parse(
        await readFile(join(FIXTURES, kind, 'ciphertexts.json'), 'utf8'),
      ) as FixtureCiphertexts;
      const kms = await fixture.start({
        dataDir,
        regions: ['us-east-1', 'us-west-2'],
        ...(saved.passphrase === null ? {} : { passphrase: saved.passphrase }),
      });
      const client = fixture.client(kms, saved.region);
      expect(
        (await client.send(new DescribeKeyCommand({ KeyId: 'alias/legacy' }))).KeyMetadata,
      ).toMatchObject({
        KeyId: saved.keyId,
        KeySpec: 'SYMMETRIC_DEFAULT',
        KeyUsage: 'ENCRYPT_DECRYPT',
        MultiRegion: false,
        Description: 'before asymmetric keys',
      });
      for (const { blob, plaintext, context } of [
        saved.beforeRotation,
        { ...saved.afterRotation, context: undefined },
      ]) {
        const decrypted = await client.send(
          new DecryptCommand({ CiphertextBlob: Buffer.from(blob, 'base64'), EncryptionContext: context }),
        );
        expect(text(decrypted.Plaintext)).toBe(plaintext);
      }
      await client.send(
        new TagResourceCommand({ KeyId: saved.keyId, Tags: [{ TagKey: 'era', TagValue: 'v2' }] }),
      );
      await kms.close();
      const rewritten = JSON.parse(await readFile(join(dataDir, STORE), 'utf8')) as { version: number };
      expect(rewritten.version).toBe(2);
      const again = fixture.client(
        await fixture.start({
          dataDir,
          regions: ['us-east-1', 'us-west-2'],
          ...(saved.passphrase === null ? {} : { passphrase: saved.passphrase }),
        }),
        saved.region,
      );
      const old = await again.send(
        new DecryptCommand({
          CiphertextBlob: Buffer.from(saved.beforeRotation.blob, 'base64'),
          EncryptionContext: saved.beforeRotation.context,
        }),
      );
      expect(text(old.Plaintext)).toBe(saved.beforeRotation.plaintext);
    });
  }

  it('refuse a store from a newer local KMS with a message that says so', async () => {
    const dataDir = await fixture.tempDir();
    await writeFile(
      join(dataDir, STORE),
      JSON.stringify({ format: 'rkms-local-kms-store', version: 99, protected: false, store: {} }),
    );
    await expect(fixture.start({ dataDir })).rejects.toThrow(/newer local KMS \(store version 99\)/);
  });
});

describe('persistence of asymmetric, HMAC and multi-Region keys', () => {
  it('keeps their key material, spec, usage and replicas across a restart', async () => {
    const dataDir = await fixture.tempDir();
    const regions = ['us-east-1', 'us-west-2'];
    const first = await fixture.start({ dataDir, regions, passphrase: 'keep them' });
    const east = fixture.client(first, 'us-east-1');
    const signing = await createKey(east, { KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' });
    const hmac = await createKey(east, { KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC' });
    const multi = await createKey(east, {
      MultiRegion: true,
      KeySpec: 'RSA_2048',
      KeyUsage: 'ENCRYPT_DECRYPT',
    });
    await east.send(new ReplicateKeyCommand({ KeyId: multi.keyId, ReplicaRegion: 'us-west-2' }));
    const publicKey = (await east.send(new GetPublicKeyCommand({ KeyId: signing.keyId }))).PublicKey;
    const { Mac } = await east.send(
      new GenerateMacCommand({ KeyId: hmac.keyId, Message: bytes('m'), MacAlgorithm: 'HMAC_SHA_256' }),
    );
    const rsaBlob = (
      await east.send(
        new EncryptCommand({
          KeyId: multi.keyId,
          Plaintext: bytes('survives'),
          EncryptionAlgorithm: 'RSAES_OAEP_SHA_1',
        }),
      )
    ).CiphertextBlob;
    await first.close();

    const second = await fixture.start({ dataDir, regions, passphrase: 'keep them' });
    const east2 = fixture.client(second, 'us-east-1');
    const west2 = fixture.client(second, 'us-west-2');
    expect((await east2.send(new GetPublicKeyCommand({ KeyId: signing.keyId }))).PublicKey).toEqual(
      publicKey,
    );
    const verified = await east2.send(
      new VerifyMacCommand({ KeyId: hmac.keyId, Message: bytes('m'), Mac, MacAlgorithm: 'HMAC_SHA_256' }),
    );
    expect(verified.MacValid).toBe(true);
    const decrypted = await west2.send(
      new DecryptCommand({
        CiphertextBlob: rsaBlob,
        KeyId: multi.keyId,
        EncryptionAlgorithm: 'RSAES_OAEP_SHA_1',
      }),
    );
    expect(text(decrypted.Plaintext)).toBe('survives');
    expect(
      (await west2.send(new DescribeKeyCommand({ KeyId: multi.keyId }))).KeyMetadata
        ?.MultiRegionConfiguration,
    ).toMatchObject({
      MultiRegionKeyType: 'REPLICA',
      PrimaryKey: { Region: 'us-east-1' },
    });
  });

  it('refuses a store whose key material does not fit its key spec', async () => {
    const dataDir = await fixture.tempDir();
    const kms = await fixture.start({ dataDir });
    await createKey(fixture.client(kms), { KeySpec: 'HMAC_512', KeyUsage: 'GENERATE_VERIFY_MAC' });
    await kms.close();
    const file = JSON.parse(await readFile(join(dataDir, STORE), 'utf8')) as {
      store: { regions: Record<string, { keys: { keySpec: string }[] }> };
    };
    const stored = file.store.regions['us-east-1']?.keys[0];
    if (stored) stored.keySpec = 'HMAC_224';
    await writeFile(join(dataDir, STORE), JSON.stringify(file));
    await expect(fixture.start({ dataDir })).rejects.toThrow(/does not hold HMAC_224 key material/);
  });
});
