import {
  CreateKeyCommand,
  DecryptCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  DisableKeyRotationCommand,
  EnableKeyRotationCommand,
  EncryptCommand,
  GetKeyRotationStatusCommand,
  ListKeyRotationsCommand,
  RotateKeyOnDemandCommand,
  ScheduleKeyDeletionCommand,
  CancelKeyDeletionCommand,
  type KMSClient,
} from '@aws-sdk/client-kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalKms } from '../../src/localkms/index.js';
import { bytes, expectKmsError, Fixture, text, createKey } from '../support/local-kms.js';

const fixture = new Fixture();
let kms: LocalKms;
let client: KMSClient;

beforeAll(async () => {
  kms = await fixture.start();
  client = fixture.client(kms);
});
afterAll(() => fixture.cleanup());

const newKeyId = async () => (await createKey(client)).keyId;

describe('automatic rotation settings', () => {
  it('is off for a new key, on with a period after EnableKeyRotation, off again after DisableKeyRotation', async () => {
    const keyId = await newKeyId();
    expect((await client.send(new GetKeyRotationStatusCommand({ KeyId: keyId }))).KeyRotationEnabled).toBe(
      false,
    );

    await client.send(new EnableKeyRotationCommand({ KeyId: keyId, RotationPeriodInDays: 90 }));
    const on = await client.send(new GetKeyRotationStatusCommand({ KeyId: keyId }));
    expect(on).toMatchObject({ KeyRotationEnabled: true, RotationPeriodInDays: 90 });
    expect(on.KeyId).toMatch(new RegExp(`key/${keyId}$`));
    const daysAhead = ((on.NextRotationDate?.getTime() ?? 0) - Date.now()) / 86_400_000;
    expect(Math.round(daysAhead)).toBe(90);

    await client.send(new DisableKeyRotationCommand({ KeyId: keyId }));
    expect((await client.send(new GetKeyRotationStatusCommand({ KeyId: keyId }))).KeyRotationEnabled).toBe(
      false,
    );
  });

  it('defaults the period to 365 days and refuses one outside 90–2560', async () => {
    const keyId = await newKeyId();
    await client.send(new EnableKeyRotationCommand({ KeyId: keyId }));
    expect((await client.send(new GetKeyRotationStatusCommand({ KeyId: keyId }))).RotationPeriodInDays).toBe(
      365,
    );
    await expectKmsError(
      client.send(new EnableKeyRotationCommand({ KeyId: keyId, RotationPeriodInDays: 89 })),
      'ValidationException',
    );
    await expectKmsError(
      client.send(new EnableKeyRotationCommand({ KeyId: keyId, RotationPeriodInDays: 2561 })),
      'ValidationException',
    );
  });

  it('answers DisabledException for a disabled key and KMSInvalidStateException for one pending deletion', async () => {
    const disabled = await newKeyId();
    await client.send(new DisableKeyCommand({ KeyId: disabled }));
    await expectKmsError(client.send(new EnableKeyRotationCommand({ KeyId: disabled })), 'DisabledException');
    await expectKmsError(client.send(new RotateKeyOnDemandCommand({ KeyId: disabled })), 'DisabledException');
    const doomed = await newKeyId();
    await client.send(new ScheduleKeyDeletionCommand({ KeyId: doomed, PendingWindowInDays: 7 }));
    await expectKmsError(
      client.send(new EnableKeyRotationCommand({ KeyId: doomed })),
      'KMSInvalidStateException',
    );
    await expectKmsError(
      client.send(new RotateKeyOnDemandCommand({ KeyId: doomed })),
      'KMSInvalidStateException',
    );
  });

  it('reports rotation off while the key is pending deletion and restores it on cancel', async () => {
    const keyId = await newKeyId();
    await client.send(new EnableKeyRotationCommand({ KeyId: keyId }));
    await client.send(new ScheduleKeyDeletionCommand({ KeyId: keyId, PendingWindowInDays: 7 }));
    expect((await client.send(new GetKeyRotationStatusCommand({ KeyId: keyId }))).KeyRotationEnabled).toBe(
      false,
    );
    await client.send(new CancelKeyDeletionCommand({ KeyId: keyId }));
    expect((await client.send(new GetKeyRotationStatusCommand({ KeyId: keyId }))).KeyRotationEnabled).toBe(
      true,
    );
  });

  it('rotates a key automatically once its period is over', async () => {
    let now = Date.UTC(2031, 0, 1);
    const own = new Fixture();
    try {
      const server = await own.start({ clock: () => now });
      const c = own.client(server);
      const keyId = (await c.send(new CreateKeyCommand({}))).KeyMetadata?.KeyId ?? '';
      await c.send(new EnableKeyRotationCommand({ KeyId: keyId, RotationPeriodInDays: 90 }));
      const before = await c.send(new EncryptCommand({ KeyId: keyId, Plaintext: bytes('old') }));
      now += 91 * 86_400_000;
      // Due rotations are applied by the minute timer and before any state-changing call, such as this one.
      await c.send(new DisableKeyRotationCommand({ KeyId: keyId }));
      const rotations = await c.send(new ListKeyRotationsCommand({ KeyId: keyId }));
      expect(rotations.Rotations?.map((r) => r.RotationType)).toEqual(['AUTOMATIC']);
      expect(
        text((await c.send(new DecryptCommand({ CiphertextBlob: before.CiphertextBlob }))).Plaintext),
      ).toBe('old');
    } finally {
      await own.cleanup();
    }
  });
});

describe('RotateKeyOnDemand', () => {
  it('changes the key material; ciphertexts from before and after the rotation both decrypt', async () => {
    const keyId = await newKeyId();
    const materialBefore = (await client.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata
      ?.CurrentKeyMaterialId;
    const before = await client.send(
      new EncryptCommand({ KeyId: keyId, Plaintext: bytes('before'), EncryptionContext: { v: '1' } }),
    );

    const rotated = await client.send(new RotateKeyOnDemandCommand({ KeyId: keyId }));
    expect(rotated.KeyId).toMatch(new RegExp(`key/${keyId}$`));
    const materialAfter = (await client.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata
      ?.CurrentKeyMaterialId;
    expect(materialAfter).not.toBe(materialBefore);

    const after = await client.send(new EncryptCommand({ KeyId: keyId, Plaintext: bytes('after') }));
    await client.send(new RotateKeyOnDemandCommand({ KeyId: keyId }));
    expect(
      text(
        (
          await client.send(
            new DecryptCommand({ CiphertextBlob: before.CiphertextBlob, EncryptionContext: { v: '1' } }),
          )
        ).Plaintext,
      ),
    ).toBe('before');
    expect(
      text((await client.send(new DecryptCommand({ CiphertextBlob: after.CiphertextBlob }))).Plaintext),
    ).toBe('after');

    const rotations = await client.send(new ListKeyRotationsCommand({ KeyId: keyId }));
    expect(rotations.Rotations?.map((r) => r.RotationType)).toEqual(['ON_DEMAND', 'ON_DEMAND']);
    expect(rotations.Rotations?.at(-1)?.KeyMaterialId).toBe(
      (await client.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata?.CurrentKeyMaterialId,
    );
  });

  it('answers NotFoundException for an unknown key', async () => {
    await expectKmsError(
      client.send(new RotateKeyOnDemandCommand({ KeyId: 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee' })),
      'NotFoundException',
    );
  });
});
