import {
  CancelKeyDeletionCommand,
  CreateAliasCommand,
  DecryptCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  DisableKeyRotationCommand,
  EnableKeyRotationCommand,
  EncryptCommand,
  GenerateMacCommand,
  GetKeyRotationStatusCommand,
  ListKeyRotationsCommand,
  ListResourceTagsCommand,
  ReplicateKeyCommand,
  RotateKeyOnDemandCommand,
  ScheduleKeyDeletionCommand,
  SignCommand,
  UpdatePrimaryRegionCommand,
  VerifyCommand,
  VerifyMacCommand,
  type KMSClient,
} from '@aws-sdk/client-kms';
import { afterEach, describe, expect, it } from 'vitest';
import type { LocalKms } from '../../src/localkms/index.js';
import { bytes, createKey, expectKmsError, Fixture, text } from '../support/local-kms.js';

const REGIONS = ['us-east-1', 'us-west-1', 'eu-west-1'];
const DAY_MS = 86_400_000;
const fixture = new Fixture();
afterEach(() => fixture.cleanup());

async function serve(
  clock?: () => number,
): Promise<{ kms: LocalKms; east: KMSClient; west: KMSClient; eu: KMSClient }> {
  const kms = await fixture.start({ regions: REGIONS, ...(clock ? { clock } : {}) });
  return {
    kms,
    east: fixture.client(kms, 'us-east-1'),
    west: fixture.client(kms, 'us-west-1'),
    eu: fixture.client(kms, 'eu-west-1'),
  };
}

async function describeKey(client: KMSClient, keyId: string) {
  const { KeyMetadata } = await client.send(new DescribeKeyCommand({ KeyId: keyId }));
  if (!KeyMetadata) throw new Error('no KeyMetadata');
  return KeyMetadata;
}

const arnIn = (region: string, keyId: string) => `arn:aws:kms:${region}:111122223333:key/${keyId}`;

describe('multi-Region keys', () => {
  it('replicate under the same mrk- key id, and a ciphertext of one region decrypts in the other, on one port', async () => {
    const { east, west, eu } = await serve();
    const { keyId, arn } = await createKey(east, { MultiRegion: true, Description: 'primary' });
    expect(keyId).toMatch(/^mrk-[0-9a-f]{32}$/);
    expect((await describeKey(east, keyId)).MultiRegionConfiguration).toEqual({
      MultiRegionKeyType: 'PRIMARY',
      PrimaryKey: { Arn: arn, Region: 'us-east-1' },
      ReplicaKeys: [],
    });
    await expectKmsError(west.send(new DescribeKeyCommand({ KeyId: keyId })), 'NotFoundException');

    const replicated = await east.send(
      new ReplicateKeyCommand({
        KeyId: keyId,
        ReplicaRegion: 'us-west-1',
        Description: 'replica',
        Tags: [{ TagKey: 'copy', TagValue: 'west' }],
      }),
    );
    expect(replicated.ReplicaKeyMetadata).toMatchObject({
      KeyId: keyId,
      Arn: arnIn('us-west-1', keyId),
      Description: 'replica',
      KeyState: 'Enabled',
      MultiRegion: true,
      MultiRegionConfiguration: {
        MultiRegionKeyType: 'REPLICA',
        PrimaryKey: { Arn: arn, Region: 'us-east-1' },
        ReplicaKeys: [{ Arn: arnIn('us-west-1', keyId), Region: 'us-west-1' }],
      },
    });
    expect(replicated.ReplicaTags).toEqual([{ TagKey: 'copy', TagValue: 'west' }]);
    expect(JSON.parse(replicated.ReplicaPolicy ?? '{}')).toMatchObject({ Version: '2012-10-17' });
    await east.send(new ReplicateKeyCommand({ KeyId: arn, ReplicaRegion: 'eu-west-1' }));
    expect((await describeKey(east, keyId)).MultiRegionConfiguration?.ReplicaKeys).toEqual([
      { Arn: arnIn('eu-west-1', keyId), Region: 'eu-west-1' },
      { Arn: arnIn('us-west-1', keyId), Region: 'us-west-1' },
    ]);

    const encrypted = await east.send(
      new EncryptCommand({
        KeyId: keyId,
        Plaintext: bytes('from us-east-1'),
        EncryptionContext: { tenant: 't1' },
      }),
    );
    for (const client of [west, eu]) {
      const decrypted = await client.send(
        new DecryptCommand({ CiphertextBlob: encrypted.CiphertextBlob, EncryptionContext: { tenant: 't1' } }),
      );
      expect(text(decrypted.Plaintext)).toBe('from us-east-1');
      expect(decrypted.KeyId).toMatch(/^arn:aws:kms:(us-west-1|eu-west-1):/);
    }
    const back = await west.send(new EncryptCommand({ KeyId: keyId, Plaintext: bytes('from us-west-1') }));
    expect(
      text(
        (await east.send(new DecryptCommand({ CiphertextBlob: back.CiphertextBlob, KeyId: arn }))).Plaintext,
      ),
    ).toBe('from us-west-1');
  });

  it('keep their own description, tags, aliases and state in each region', async () => {
    const { east, west } = await serve();
    const { keyId } = await createKey(east, {
      MultiRegion: true,
      Tags: [{ TagKey: 'home', TagValue: 'east' }],
    });
    await east.send(new ReplicateKeyCommand({ KeyId: keyId, ReplicaRegion: 'us-west-1' }));
    await west.send(new CreateAliasCommand({ AliasName: 'alias/west-only', TargetKeyId: keyId }));
    await west.send(new DisableKeyCommand({ KeyId: keyId }));
    expect((await describeKey(east, keyId)).KeyState).toBe('Enabled');
    expect((await describeKey(west, 'alias/west-only')).KeyState).toBe('Disabled');
    await expectKmsError(
      east.send(new DescribeKeyCommand({ KeyId: 'alias/west-only' })),
      'NotFoundException',
    );
    expect((await west.send(new ListResourceTagsCommand({ KeyId: keyId }))).Tags).toEqual([]);
    await expectKmsError(
      west.send(new EncryptCommand({ KeyId: keyId, Plaintext: bytes('x') })),
      'DisabledException',
    );
  });

  it('share asymmetric and HMAC key material: a signature or MAC of one region verifies in another', async () => {
    const { east, west } = await serve();
    const signing = await createKey(east, {
      MultiRegion: true,
      KeySpec: 'ECC_NIST_P384',
      KeyUsage: 'SIGN_VERIFY',
    });
    const mac = await createKey(east, {
      MultiRegion: true,
      KeySpec: 'HMAC_512',
      KeyUsage: 'GENERATE_VERIFY_MAC',
    });
    for (const { keyId } of [signing, mac])
      await east.send(new ReplicateKeyCommand({ KeyId: keyId, ReplicaRegion: 'us-west-1' }));
    expect(await describeKey(west, signing.keyId)).toMatchObject({
      KeySpec: 'ECC_NIST_P384',
      KeyUsage: 'SIGN_VERIFY',
      SigningAlgorithms: ['ECDSA_SHA_384'],
    });
    const { Signature } = await east.send(
      new SignCommand({
        KeyId: signing.keyId,
        Message: bytes('signed in the east'),
        SigningAlgorithm: 'ECDSA_SHA_384',
      }),
    );
    const verified = await west.send(
      new VerifyCommand({
        KeyId: signing.keyId,
        Message: bytes('signed in the east'),
        Signature,
        SigningAlgorithm: 'ECDSA_SHA_384',
      }),
    );
    expect(verified.SignatureValid).toBe(true);
    const { Mac } = await west.send(
      new GenerateMacCommand({ KeyId: mac.keyId, Message: bytes('m'), MacAlgorithm: 'HMAC_SHA_512' }),
    );
    const macValid = await east.send(
      new VerifyMacCommand({ KeyId: mac.keyId, Message: bytes('m'), Mac, MacAlgorithm: 'HMAC_SHA_512' }),
    );
    expect(macValid.MacValid).toBe(true);
  });

  it('rotate as one set from the primary; a replica reports rotation but refuses to change it', async () => {
    const { east, west } = await serve();
    const { keyId } = await createKey(east, { MultiRegion: true });
    await east.send(new ReplicateKeyCommand({ KeyId: keyId, ReplicaRegion: 'us-west-1' }));
    const before = await east.send(new EncryptCommand({ KeyId: keyId, Plaintext: bytes('old material') }));
    await east.send(new EnableKeyRotationCommand({ KeyId: keyId, RotationPeriodInDays: 90 }));
    await east.send(new RotateKeyOnDemandCommand({ KeyId: keyId }));
    expect(await west.send(new GetKeyRotationStatusCommand({ KeyId: keyId }))).toMatchObject({
      KeyRotationEnabled: true,
      RotationPeriodInDays: 90,
    });
    const listed = async (client: typeof east) =>
      ((await client.send(new ListKeyRotationsCommand({ KeyId: keyId }))).Rotations ?? []).map(
        ({ RotationDate, RotationType, KeyMaterialState }) => ({
          RotationDate,
          RotationType,
          KeyMaterialState,
        }),
      );
    expect(await listed(west)).toEqual(await listed(east));
    expect(await listed(west)).toMatchObject([{ RotationType: 'ON_DEMAND', KeyMaterialState: 'CURRENT' }]);
    const after = await west.send(new EncryptCommand({ KeyId: keyId, Plaintext: bytes('new material') }));
    expect(after.KeyId).toBe(arnIn('us-west-1', keyId));
    expect(
      text((await east.send(new DecryptCommand({ CiphertextBlob: after.CiphertextBlob }))).Plaintext),
    ).toBe('new material');
    expect(
      text((await west.send(new DecryptCommand({ CiphertextBlob: before.CiphertextBlob }))).Plaintext),
    ).toBe('old material');
    await expectKmsError(
      west.send(new RotateKeyOnDemandCommand({ KeyId: keyId })),
      'UnsupportedOperationException',
    );
    await expectKmsError(
      west.send(new EnableKeyRotationCommand({ KeyId: keyId })),
      'UnsupportedOperationException',
    );
    await expectKmsError(
      west.send(new DisableKeyRotationCommand({ KeyId: keyId })),
      'UnsupportedOperationException',
    );
  });

  it('refuse ReplicateKey for a single-Region key, a replica, the same or an unserved region, and a second replica', async () => {
    const { east, west } = await serve();
    const single = await createKey(east);
    const { keyId } = await createKey(east, { MultiRegion: true });
    await east.send(new ReplicateKeyCommand({ KeyId: keyId, ReplicaRegion: 'us-west-1' }));
    const cases: [() => Promise<unknown>, string][] = [
      [
        () => east.send(new ReplicateKeyCommand({ KeyId: single.keyId, ReplicaRegion: 'us-west-1' })),
        'UnsupportedOperationException',
      ],
      [
        () => west.send(new ReplicateKeyCommand({ KeyId: keyId, ReplicaRegion: 'eu-west-1' })),
        'UnsupportedOperationException',
      ],
      [
        () => east.send(new ReplicateKeyCommand({ KeyId: keyId, ReplicaRegion: 'us-east-1' })),
        'ValidationException',
      ],
      [
        () => east.send(new ReplicateKeyCommand({ KeyId: keyId, ReplicaRegion: 'ap-south-1' })),
        'UnsupportedOperationException',
      ],
      [
        () => east.send(new ReplicateKeyCommand({ KeyId: keyId, ReplicaRegion: 'cn-north-1' })),
        'ValidationException',
      ],
      [
        () => east.send(new ReplicateKeyCommand({ KeyId: keyId, ReplicaRegion: 'not a region' })),
        'ValidationException',
      ],
      [
        () => east.send(new ReplicateKeyCommand({ KeyId: keyId, ReplicaRegion: 'us-west-1' })),
        'AlreadyExistsException',
      ],
      [
        () => east.send(new ReplicateKeyCommand({ KeyId: 'alias/none', ReplicaRegion: 'us-west-1' })),
        'NotFoundException',
      ],
    ];
    for (const [call, name] of cases) await expectKmsError(call(), name);
  });

  it('move the primary with UpdatePrimaryRegion, after which only the new primary replicates', async () => {
    const { east, west, eu } = await serve();
    const { keyId, arn } = await createKey(east, { MultiRegion: true });
    await east.send(new ReplicateKeyCommand({ KeyId: keyId, ReplicaRegion: 'us-west-1' }));
    await expectKmsError(
      east.send(new UpdatePrimaryRegionCommand({ KeyId: keyId, PrimaryRegion: 'eu-west-1' })),
      'NotFoundException',
    );
    await expectKmsError(
      west.send(new UpdatePrimaryRegionCommand({ KeyId: keyId, PrimaryRegion: 'us-east-1' })),
      'UnsupportedOperationException',
    );
    await east.send(new UpdatePrimaryRegionCommand({ KeyId: arn, PrimaryRegion: 'us-west-1' }));
    for (const client of [east, west]) {
      expect((await describeKey(client, keyId)).MultiRegionConfiguration).toMatchObject({
        PrimaryKey: { Arn: arnIn('us-west-1', keyId), Region: 'us-west-1' },
        ReplicaKeys: [{ Arn: arn, Region: 'us-east-1' }],
      });
    }
    await expectKmsError(
      east.send(new ReplicateKeyCommand({ KeyId: keyId, ReplicaRegion: 'eu-west-1' })),
      'UnsupportedOperationException',
    );
    await west.send(new ReplicateKeyCommand({ KeyId: keyId, ReplicaRegion: 'eu-west-1' }));
    expect((await describeKey(eu, keyId)).MultiRegionConfiguration?.PrimaryKey?.Region).toBe('us-west-1');
  });

  it('refuse UpdatePrimaryRegion to its own region or to a replica pending deletion, and bad replica tags', async () => {
    const { east, west } = await serve();
    const { keyId } = await createKey(east, { MultiRegion: true });
    await expectKmsError(
      east.send(
        new ReplicateKeyCommand({
          KeyId: keyId,
          ReplicaRegion: 'us-west-1',
          Tags: [{ TagKey: 'aws:x', TagValue: 'y' }],
        }),
      ),
      'TagException',
    );
    await east.send(new ReplicateKeyCommand({ KeyId: keyId, ReplicaRegion: 'us-west-1' }));
    await expectKmsError(
      east.send(new UpdatePrimaryRegionCommand({ KeyId: keyId, PrimaryRegion: 'us-east-1' })),
      'ValidationException',
    );
    await west.send(new ScheduleKeyDeletionCommand({ KeyId: keyId, PendingWindowInDays: 7 }));
    await expectKmsError(
      east.send(new UpdatePrimaryRegionCommand({ KeyId: keyId, PrimaryRegion: 'us-west-1' })),
      'KMSInvalidStateException',
    );
  });

  it('delete the primary only after its replicas: PendingReplicaDeletion, then its own window from the last replica deletion', async () => {
    let now = Date.UTC(2031, 0, 1);
    const { east, west } = await serve(() => now);
    const { keyId } = await createKey(east, { MultiRegion: true });
    await east.send(new ReplicateKeyCommand({ KeyId: keyId, ReplicaRegion: 'us-west-1' }));

    const scheduled = await east.send(
      new ScheduleKeyDeletionCommand({ KeyId: keyId, PendingWindowInDays: 10 }),
    );
    expect(scheduled).toMatchObject({ KeyState: 'PendingReplicaDeletion', PendingWindowInDays: 10 });
    expect(scheduled.DeletionDate).toBeUndefined();
    expect(await describeKey(east, keyId)).toMatchObject({
      KeyState: 'PendingReplicaDeletion',
      Enabled: false,
      PendingDeletionWindowInDays: 10,
    });
    await expectKmsError(
      east.send(new EncryptCommand({ KeyId: keyId, Plaintext: bytes('x') })),
      'KMSInvalidStateException',
    );
    await expectKmsError(
      east.send(new ReplicateKeyCommand({ KeyId: keyId, ReplicaRegion: 'eu-west-1' })),
      'KMSInvalidStateException',
    );
    await expectKmsError(
      east.send(new ScheduleKeyDeletionCommand({ KeyId: keyId })),
      'KMSInvalidStateException',
    );
    // The replica still works, and a primary waiting for it can be cancelled like any deletion.
    expect(
      (await west.send(new EncryptCommand({ KeyId: keyId, Plaintext: bytes('x') }))).KeyId,
    ).toBeDefined();
    await east.send(new CancelKeyDeletionCommand({ KeyId: keyId }));
    expect((await describeKey(east, keyId)).KeyState).toBe('Disabled');
    await east.send(new ScheduleKeyDeletionCommand({ KeyId: keyId, PendingWindowInDays: 10 }));

    const replicaDeletion = await west.send(
      new ScheduleKeyDeletionCommand({ KeyId: keyId, PendingWindowInDays: 7 }),
    );
    const replicaGone = replicaDeletion.DeletionDate?.getTime() ?? 0;
    expect(replicaGone).toBe(now + 7 * DAY_MS);
    now += 3 * DAY_MS;
    expect((await describeKey(east, keyId)).KeyState).toBe('PendingReplicaDeletion');

    now = replicaGone + DAY_MS;
    await expectKmsError(west.send(new DescribeKeyCommand({ KeyId: keyId })), 'NotFoundException');
    const primary = await describeKey(east, keyId);
    expect(primary).toMatchObject({
      KeyState: 'PendingDeletion',
      MultiRegionConfiguration: { ReplicaKeys: [] },
    });
    expect(primary.DeletionDate?.getTime()).toBe(replicaGone + 10 * DAY_MS);

    now = replicaGone + 11 * DAY_MS;
    await expectKmsError(east.send(new DescribeKeyCommand({ KeyId: keyId })), 'NotFoundException');
  });
});
