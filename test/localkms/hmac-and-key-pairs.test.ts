import { createPrivateKey, createPublicKey, sign, verify } from 'node:crypto';
import {
  DecryptCommand,
  GenerateDataKeyPairCommand,
  GenerateDataKeyPairWithoutPlaintextCommand,
  GenerateMacCommand,
  ScheduleKeyDeletionCommand,
  VerifyMacCommand,
  type DataKeyPairSpec,
  type KMSClient,
  type MacAlgorithmSpec,
} from '@aws-sdk/client-kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bytes, createKey, expectKmsError, Fixture, kmsErrorOf } from '../support/local-kms.js';

const fixture = new Fixture();
let client: KMSClient;

beforeAll(async () => {
  client = fixture.client(await fixture.start());
});
afterAll(() => fixture.cleanup());

describe('GenerateMac and VerifyMac', () => {
  const cases: [string, MacAlgorithmSpec, number][] = [
    ['HMAC_224', 'HMAC_SHA_224', 28],
    ['HMAC_256', 'HMAC_SHA_256', 32],
    ['HMAC_384', 'HMAC_SHA_384', 48],
    ['HMAC_512', 'HMAC_SHA_512', 64],
  ];
  for (const [spec, algorithm, length] of cases) {
    it(`computes ${algorithm} with an ${spec} key: the same MAC for the same message, verified by VerifyMac`, async () => {
      const { keyId, arn } = await createKey(client, {
        KeySpec: spec as 'HMAC_256',
        KeyUsage: 'GENERATE_VERIFY_MAC',
      });
      const message = bytes(`a message for ${spec}`);
      const first = await client.send(
        new GenerateMacCommand({ KeyId: keyId, Message: message, MacAlgorithm: algorithm }),
      );
      const second = await client.send(
        new GenerateMacCommand({ KeyId: keyId, Message: message, MacAlgorithm: algorithm }),
      );
      expect(first).toMatchObject({ KeyId: arn, MacAlgorithm: algorithm });
      expect(first.Mac?.length).toBe(length);
      expect(Buffer.from(second.Mac ?? []).equals(Buffer.from(first.Mac ?? []))).toBe(true);
      const verified = await client.send(
        new VerifyMacCommand({ KeyId: keyId, Message: message, Mac: first.Mac, MacAlgorithm: algorithm }),
      );
      expect(verified).toMatchObject({ KeyId: arn, MacValid: true, MacAlgorithm: algorithm });
    });
  }

  it('answers a MAC that does not match with KMSInvalidMacException, never MacValid false', async () => {
    const { keyId } = await createKey(client, { KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC' });
    const other = await createKey(client, { KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC' });
    const { Mac } = await client.send(
      new GenerateMacCommand({ KeyId: keyId, Message: bytes('original'), MacAlgorithm: 'HMAC_SHA_256' }),
    );
    for (const [id, message, mac] of [
      [keyId, 'changed', Mac],
      [keyId, 'original', Mac?.subarray(0, 16)],
      [other.keyId, 'original', Mac],
    ] as const) {
      const error = await kmsErrorOf(
        client.send(
          new VerifyMacCommand({
            KeyId: id,
            Message: bytes(message),
            Mac: mac,
            MacAlgorithm: 'HMAC_SHA_256',
          }),
        ),
      );
      expect(error).toMatchObject({ name: 'KMSInvalidMacException', status: 400 });
    }
  });

  it("refuses another key spec's algorithm, another usage and a key pending deletion in AWS's words", async () => {
    const hmac = await createKey(client, { KeySpec: 'HMAC_224', KeyUsage: 'GENERATE_VERIFY_MAC' });
    const symmetric = await createKey(client);
    expect(
      await expectKmsError(
        client.send(
          new GenerateMacCommand({ KeyId: hmac.keyId, Message: bytes('m'), MacAlgorithm: 'HMAC_SHA_256' }),
        ),
        'InvalidKeyUsageException',
      ),
    ).toBe('Algorithm HMAC_SHA_256 is incompatible with key spec HMAC_224.');
    expect(
      await expectKmsError(
        client.send(
          new GenerateMacCommand({
            KeyId: symmetric.keyId,
            Message: bytes('m'),
            MacAlgorithm: 'HMAC_SHA_256',
          }),
        ),
        'InvalidKeyUsageException',
      ),
    ).toBe(`${symmetric.arn} key usage is ENCRYPT_DECRYPT which is not valid for GenerateMac.`);
    const badAlgorithm = await kmsErrorOf(
      client.send(
        new GenerateMacCommand({
          KeyId: hmac.keyId,
          Message: bytes('m'),
          MacAlgorithm: 'INVALID' as MacAlgorithmSpec,
        }),
      ),
    );
    expect(badAlgorithm.name).toBe('ValidationException');
    expect(badAlgorithm.message).toMatch(/Value 'INVALID' at 'macAlgorithm' failed to satisfy constraint/);
    await expectKmsError(
      client.send(
        new GenerateMacCommand({ KeyId: 'key_id', Message: bytes('m'), MacAlgorithm: 'HMAC_SHA_224' }),
      ),
      'NotFoundException',
    );
    await client.send(new ScheduleKeyDeletionCommand({ KeyId: hmac.keyId, PendingWindowInDays: 7 }));
    await expectKmsError(
      client.send(
        new GenerateMacCommand({ KeyId: hmac.keyId, Message: bytes('m'), MacAlgorithm: 'HMAC_SHA_224' }),
      ),
      'KMSInvalidStateException',
    );
  });
});

describe('GenerateDataKeyPair', () => {
  const specs: DataKeyPairSpec[] = [
    'RSA_2048',
    'RSA_3072',
    'RSA_4096',
    'ECC_NIST_P256',
    'ECC_NIST_P384',
    'ECC_NIST_P521',
    'ECC_SECG_P256K1',
  ];
  for (const spec of specs) {
    it(`makes a ${spec} pair whose private key decrypts under the context and belongs to the public key`, async () => {
      const { keyId, arn } = await createKey(client);
      const pair = await client.send(
        new GenerateDataKeyPairCommand({
          KeyId: keyId,
          KeyPairSpec: spec,
          EncryptionContext: { pair: spec },
        }),
      );
      expect(pair).toMatchObject({ KeyId: arn, KeyPairSpec: spec });
      const privateKey = createPrivateKey({
        key: Buffer.from(pair.PrivateKeyPlaintext ?? []),
        format: 'der',
        type: 'pkcs8',
      });
      const publicKey = createPublicKey({
        key: Buffer.from(pair.PublicKey ?? []),
        format: 'der',
        type: 'spki',
      });
      expect(
        createPublicKey(privateKey)
          .export({ format: 'der', type: 'spki' })
          .equals(Buffer.from(pair.PublicKey ?? [])),
      ).toBe(true);
      const signature = sign('sha256', Buffer.from('works outside KMS'), privateKey);
      expect(verify('sha256', Buffer.from('works outside KMS'), publicKey, signature)).toBe(true);

      const decrypted = await client.send(
        new DecryptCommand({
          CiphertextBlob: pair.PrivateKeyCiphertextBlob,
          EncryptionContext: { pair: spec },
        }),
      );
      expect(Buffer.from(decrypted.Plaintext ?? []).equals(Buffer.from(pair.PrivateKeyPlaintext ?? []))).toBe(
        true,
      );
      await expectKmsError(
        client.send(new DecryptCommand({ CiphertextBlob: pair.PrivateKeyCiphertextBlob })),
        'InvalidCiphertextException',
      );
    });
  }

  it('leaves the private key out of GenerateDataKeyPairWithoutPlaintext', async () => {
    const { keyId } = await createKey(client);
    const pair = await client.send(
      new GenerateDataKeyPairWithoutPlaintextCommand({ KeyId: keyId, KeyPairSpec: 'ECC_NIST_P256' }),
    );
    expect(pair).not.toHaveProperty('PrivateKeyPlaintext');
    const { Plaintext } = await client.send(
      new DecryptCommand({ CiphertextBlob: pair.PrivateKeyCiphertextBlob }),
    );
    const privateKey = createPrivateKey({ key: Buffer.from(Plaintext ?? []), format: 'der', type: 'pkcs8' });
    expect(privateKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
  });

  it('needs a symmetric encryption key, and refuses pair specs it does not make', async () => {
    const rsa = await createKey(client, { KeySpec: 'RSA_2048', KeyUsage: 'ENCRYPT_DECRYPT' });
    const hmac = await createKey(client, { KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC' });
    const symmetric = await createKey(client);
    expect(
      await expectKmsError(
        client.send(new GenerateDataKeyPairCommand({ KeyId: rsa.keyId, KeyPairSpec: 'RSA_2048' })),
        'InvalidKeyUsageException',
      ),
    ).toBe(`${rsa.arn} key spec is RSA_2048 which is not valid for GenerateDataKeyPair.`);
    expect(
      await expectKmsError(
        client.send(
          new GenerateDataKeyPairWithoutPlaintextCommand({ KeyId: hmac.keyId, KeyPairSpec: 'RSA_2048' }),
        ),
        'InvalidKeyUsageException',
      ),
    ).toBe(
      `${hmac.arn} key usage is GENERATE_VERIFY_MAC which is not valid for GenerateDataKeyPairWithoutPlaintext.`,
    );
    await expectKmsError(
      client.send(new GenerateDataKeyPairCommand({ KeyId: symmetric.keyId, KeyPairSpec: 'SM2' })),
      'UnsupportedOperationException',
    );
    await expectKmsError(
      client.send(
        new GenerateDataKeyPairCommand({
          KeyId: symmetric.keyId,
          KeyPairSpec: 'RSA_1024' as DataKeyPairSpec,
        }),
      ),
      'ValidationException',
    );
    await expectKmsError(
      client.send(
        new GenerateDataKeyPairCommand({ KeyId: symmetric.keyId, KeyPairSpec: 'RSA_2048', DryRun: true }),
      ),
      'DryRunOperationException',
    );
  });
});
