import {
  CreateAliasCommand,
  DecryptCommand,
  DisableKeyCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  GenerateDataKeyWithoutPlaintextCommand,
  GenerateRandomCommand,
  ReEncryptCommand,
  ScheduleKeyDeletionCommand,
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

const newKey = () => createKey(client);

async function encrypted(
  keyId: string,
  plaintext: string,
  context?: Record<string, string>,
): Promise<Uint8Array> {
  const result = await client.send(
    new EncryptCommand({ KeyId: keyId, Plaintext: bytes(plaintext), EncryptionContext: context }),
  );
  return result.CiphertextBlob ?? new Uint8Array();
}

describe('Encrypt and Decrypt', () => {
  it('round-trips, and Decrypt finds the key without a KeyId', async () => {
    const { keyId, arn } = await newKey();
    const result = await client.send(
      new EncryptCommand({ KeyId: keyId, Plaintext: bytes('attack at dawn') }),
    );
    expect(result).toMatchObject({ KeyId: arn, EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' });
    expect(text(result.CiphertextBlob)).not.toContain('attack at dawn');
    const decrypted = await client.send(new DecryptCommand({ CiphertextBlob: result.CiphertextBlob }));
    expect(text(decrypted.Plaintext)).toBe('attack at dawn');
    expect(decrypted).toMatchObject({ KeyId: arn, EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' });
  });

  it('encrypts and decrypts by alias, and Decrypt accepts a matching KeyId in any form', async () => {
    const { keyId, arn } = await newKey();
    await client.send(new CreateAliasCommand({ AliasName: 'alias/crypto', TargetKeyId: keyId }));
    const blob = await encrypted('alias/crypto', 'by alias');
    for (const ref of [keyId, arn, 'alias/crypto', 'arn:aws:kms:us-east-1:111122223333:alias/crypto']) {
      const decrypted = await client.send(new DecryptCommand({ CiphertextBlob: blob, KeyId: ref }));
      expect(text(decrypted.Plaintext)).toBe('by alias');
    }
  });

  it('gives a different ciphertext each time for the same plaintext', async () => {
    const { keyId } = await newKey();
    expect(
      Buffer.from(await encrypted(keyId, 'same')).equals(Buffer.from(await encrypted(keyId, 'same'))),
    ).toBe(false);
  });

  it('answers IncorrectKeyException when Decrypt names another key than the one that encrypted', async () => {
    const one = await newKey();
    const other = await newKey();
    const blob = await encrypted(one.keyId, 'mine');
    await expectKmsError(
      client.send(new DecryptCommand({ CiphertextBlob: blob, KeyId: other.keyId })),
      'IncorrectKeyException',
    );
  });

  it('decrypts only with exactly the encryption context it was encrypted with', async () => {
    const { keyId } = await newKey();
    const context = { 'rkms:id': 'tenant-1', purpose: 'test' };
    const blob = await encrypted(keyId, 'bound', context);
    const reordered = { purpose: 'test', 'rkms:id': 'tenant-1' };
    expect(
      text(
        (await client.send(new DecryptCommand({ CiphertextBlob: blob, EncryptionContext: reordered })))
          .Plaintext,
      ),
    ).toBe('bound');

    const wrongContexts: (Record<string, string> | undefined)[] = [
      undefined,
      {},
      { 'rkms:id': 'tenant-1' },
      { ...context, extra: 'x' },
      { ...context, 'rkms:id': 'tenant-2' },
      { 'RKMS:ID': 'tenant-1', purpose: 'test' },
    ];
    for (const wrong of wrongContexts) {
      await expectKmsError(
        client.send(new DecryptCommand({ CiphertextBlob: blob, EncryptionContext: wrong })),
        'InvalidCiphertextException',
      );
    }
  });

  it('refuses a context on Decrypt when there was none on Encrypt', async () => {
    const { keyId } = await newKey();
    const blob = await encrypted(keyId, 'unbound');
    await expectKmsError(
      client.send(new DecryptCommand({ CiphertextBlob: blob, EncryptionContext: { 'rkms:id': 'x' } })),
      'InvalidCiphertextException',
    );
    expect(
      text(
        (await client.send(new DecryptCommand({ CiphertextBlob: blob, EncryptionContext: {} }))).Plaintext,
      ),
    ).toBe('unbound');
  });

  it('answers InvalidCiphertextException for a tampered blob, any byte of it, and for garbage', async () => {
    const { keyId } = await newKey();
    const blob = await encrypted(keyId, 'tamper me');
    for (let i = 0; i < blob.length; i++) {
      const tampered = Uint8Array.from(blob);
      tampered[i] = (tampered[i] ?? 0) ^ 0x01;
      const { name } = await client.send(new DecryptCommand({ CiphertextBlob: tampered })).then(
        () => ({ name: 'decrypted' }),
        (error: unknown) => ({ name: error instanceof Error ? error.name : String(error) }),
      );
      // Flipping a bit of the key id can only point at an unknown key; every other flip breaks authentication.
      expect(name).toBe('InvalidCiphertextException');
    }
    await expectKmsError(
      client.send(new DecryptCommand({ CiphertextBlob: bytes('definitely not a ciphertext') })),
      'InvalidCiphertextException',
    );
    await expectKmsError(
      client.send(new DecryptCommand({ CiphertextBlob: blob.subarray(0, 20) })),
      'InvalidCiphertextException',
    );
  });

  it('refuses an empty plaintext and one over 4096 bytes with ValidationException', async () => {
    const { keyId } = await newKey();
    await expectKmsError(
      client.send(new EncryptCommand({ KeyId: keyId, Plaintext: new Uint8Array(4097) })),
      'ValidationException',
    );
    await expectKmsError(
      client.send(new EncryptCommand({ KeyId: keyId, Plaintext: new Uint8Array(0) })),
      'ValidationException',
    );
    expect(
      (await client.send(new EncryptCommand({ KeyId: keyId, Plaintext: new Uint8Array(4096) })))
        .CiphertextBlob,
    ).toBeDefined();
  });

  it('answers NotFoundException for an unknown key and InvalidKeyUsageException for an asymmetric algorithm', async () => {
    await expectKmsError(
      client.send(new EncryptCommand({ KeyId: 'alias/missing', Plaintext: bytes('x') })),
      'NotFoundException',
    );
    const { keyId } = await newKey();
    await expectKmsError(
      client.send(
        new EncryptCommand({
          KeyId: keyId,
          Plaintext: bytes('x'),
          EncryptionAlgorithm: 'RSAES_OAEP_SHA_256',
        }),
      ),
      'InvalidKeyUsageException',
    );
  });

  it('answers DisabledException (400) for a disabled key, on Encrypt and on Decrypt', async () => {
    const { keyId } = await newKey();
    const blob = await encrypted(keyId, 'before disabling');
    await client.send(new DisableKeyCommand({ KeyId: keyId }));
    const message = await expectKmsError(
      client.send(new EncryptCommand({ KeyId: keyId, Plaintext: bytes('x') })),
      'DisabledException',
    );
    expect(message).toContain('is disabled');
    await expectKmsError(client.send(new DecryptCommand({ CiphertextBlob: blob })), 'DisabledException');
    await expectKmsError(
      client.send(new GenerateDataKeyCommand({ KeyId: keyId, NumberOfBytes: 32 })),
      'DisabledException',
    );
  });

  it('answers KMSInvalidStateException for a key pending deletion', async () => {
    const { keyId } = await newKey();
    const blob = await encrypted(keyId, 'before deletion');
    await client.send(new ScheduleKeyDeletionCommand({ KeyId: keyId, PendingWindowInDays: 7 }));
    const message = await expectKmsError(
      client.send(new DecryptCommand({ CiphertextBlob: blob })),
      'KMSInvalidStateException',
    );
    expect(message).toContain('pending deletion');
    await expectKmsError(
      client.send(new EncryptCommand({ KeyId: keyId, Plaintext: bytes('x') })),
      'KMSInvalidStateException',
    );
  });

  it('honours DryRun with DryRunOperationException', async () => {
    const { keyId } = await newKey();
    await expectKmsError(
      client.send(new EncryptCommand({ KeyId: keyId, Plaintext: bytes('x'), DryRun: true })),
      'DryRunOperationException',
    );
  });
});

describe('ReEncrypt', () => {
  it('moves a ciphertext to another key and context without showing the plaintext', async () => {
    const source = await newKey();
    const destination = await newKey();
    const blob = await encrypted(source.keyId, 'moving', { a: '1' });
    const moved = await client.send(
      new ReEncryptCommand({
        CiphertextBlob: blob,
        SourceEncryptionContext: { a: '1' },
        DestinationKeyId: destination.keyId,
        DestinationEncryptionContext: { b: '2' },
      }),
    );
    expect(moved).toMatchObject({ SourceKeyId: source.arn, KeyId: destination.arn });
    expect(moved).not.toHaveProperty('Plaintext');
    const decrypted = await client.send(
      new DecryptCommand({ CiphertextBlob: moved.CiphertextBlob, EncryptionContext: { b: '2' } }),
    );
    expect(decrypted.KeyId).toBe(destination.arn);
    expect(text(decrypted.Plaintext)).toBe('moving');
  });

  it('fails like Decrypt when the source context is wrong', async () => {
    const source = await newKey();
    const blob = await encrypted(source.keyId, 'x', { a: '1' });
    await expectKmsError(
      client.send(new ReEncryptCommand({ CiphertextBlob: blob, DestinationKeyId: source.keyId })),
      'InvalidCiphertextException',
    );
  });
});

describe('GenerateDataKey and GenerateDataKeyWithoutPlaintext', () => {
  it('returns NumberOfBytes of plaintext and a ciphertext that decrypts to it', async () => {
    const { keyId, arn } = await newKey();
    const context = { 'rkms:id': 'user-42' };
    const dataKey = await client.send(
      new GenerateDataKeyCommand({ KeyId: keyId, NumberOfBytes: 48, EncryptionContext: context }),
    );
    expect(dataKey.Plaintext?.length).toBe(48);
    expect(dataKey.KeyId).toBe(arn);
    const decrypted = await client.send(
      new DecryptCommand({
        CiphertextBlob: dataKey.CiphertextBlob,
        KeyId: keyId,
        EncryptionContext: context,
      }),
    );
    expect(Buffer.from(decrypted.Plaintext ?? []).equals(Buffer.from(dataKey.Plaintext ?? []))).toBe(true);
  });

  it('sizes the key from KeySpec AES_128 and AES_256', async () => {
    const { keyId } = await newKey();
    expect(
      (await client.send(new GenerateDataKeyCommand({ KeyId: keyId, KeySpec: 'AES_128' }))).Plaintext?.length,
    ).toBe(16);
    expect(
      (await client.send(new GenerateDataKeyCommand({ KeyId: keyId, KeySpec: 'AES_256' }))).Plaintext?.length,
    ).toBe(32);
  });

  it('refuses neither or both of NumberOfBytes and KeySpec, and sizes outside 1–1024', async () => {
    const { keyId } = await newKey();
    await expectKmsError(client.send(new GenerateDataKeyCommand({ KeyId: keyId })), 'ValidationException');
    await expectKmsError(
      client.send(new GenerateDataKeyCommand({ KeyId: keyId, KeySpec: 'AES_256', NumberOfBytes: 32 })),
      'ValidationException',
    );
    await expectKmsError(
      client.send(new GenerateDataKeyCommand({ KeyId: keyId, NumberOfBytes: 0 })),
      'ValidationException',
    );
    const message = await expectKmsError(
      client.send(new GenerateDataKeyCommand({ KeyId: keyId, NumberOfBytes: 1025 })),
      'ValidationException',
    );
    expect(message).toContain("'numberOfBytes'");
  });

  it('without plaintext returns a ciphertext only, which decrypts to NumberOfBytes', async () => {
    const { keyId } = await newKey();
    const dataKey = await client.send(
      new GenerateDataKeyWithoutPlaintextCommand({ KeyId: keyId, KeySpec: 'AES_256' }),
    );
    expect(dataKey).not.toHaveProperty('Plaintext');
    const decrypted = await client.send(new DecryptCommand({ CiphertextBlob: dataKey.CiphertextBlob }));
    expect(decrypted.Plaintext?.length).toBe(32);
  });
});

describe('GenerateRandom', () => {
  it('returns the requested number of random bytes', async () => {
    const first = await client.send(new GenerateRandomCommand({ NumberOfBytes: 64 }));
    const second = await client.send(new GenerateRandomCommand({ NumberOfBytes: 64 }));
    expect(first.Plaintext?.length).toBe(64);
    expect(Buffer.from(first.Plaintext ?? []).equals(Buffer.from(second.Plaintext ?? []))).toBe(false);
  });

  it('refuses sizes outside 1–1024 and a missing size', async () => {
    await expectKmsError(
      client.send(new GenerateRandomCommand({ NumberOfBytes: 1025 })),
      'ValidationException',
    );
    await expectKmsError(client.send(new GenerateRandomCommand({ NumberOfBytes: 0 })), 'ValidationException');
    await expectKmsError(client.send(new GenerateRandomCommand({})), 'ValidationException');
  });
});
