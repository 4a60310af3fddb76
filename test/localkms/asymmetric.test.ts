import {
  constants,
  createHash,
  createPublicKey,
  publicEncrypt,
  verify as nodeVerify,
  type KeyObject,
} from 'node:crypto';
import {
  CreateKeyCommand,
  DecryptCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  EnableKeyRotationCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  GetKeyRotationStatusCommand,
  GetPublicKeyCommand,
  ReEncryptCommand,
  SignCommand,
  VerifyCommand,
  type KeySpec,
  type KMSClient,
  type SigningAlgorithmSpec,
} from '@aws-sdk/client-kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bytes, createKey, expectKmsError, Fixture, kmsErrorOf, text } from '../support/local-kms.js';

const fixture = new Fixture();
let client: KMSClient;

beforeAll(async () => {
  client = fixture.client(await fixture.start());
});
afterAll(() => fixture.cleanup());

const SIGNING_CASES: [KeySpec, SigningAlgorithmSpec[]][] = [
  [
    'RSA_2048',
    [
      'RSASSA_PKCS1_V1_5_SHA_256',
      'RSASSA_PKCS1_V1_5_SHA_384',
      'RSASSA_PKCS1_V1_5_SHA_512',
      'RSASSA_PSS_SHA_256',
      'RSASSA_PSS_SHA_384',
      'RSASSA_PSS_SHA_512',
    ],
  ],
  ['RSA_3072', ['RSASSA_PSS_SHA_384', 'RSASSA_PKCS1_V1_5_SHA_256']],
  ['RSA_4096', ['RSASSA_PSS_SHA_512', 'RSASSA_PKCS1_V1_5_SHA_512']],
  ['ECC_NIST_P256', ['ECDSA_SHA_256']],
  ['ECC_NIST_P384', ['ECDSA_SHA_384']],
  ['ECC_NIST_P521', ['ECDSA_SHA_512']],
  ['ECC_SECG_P256K1', ['ECDSA_SHA_256']],
];

const HASH_OF: Record<string, string> = { '256': 'sha256', '384': 'sha384', '512': 'sha512' };

function hashOf(algorithm: string): string {
  return HASH_OF[algorithm.slice(-3)] ?? 'sha256';
}

/** Checks a signature the way a party outside KMS would: Node's crypto and the DER public key. */
function verifiesOutsideKms(publicKey: KeyObject, algorithm: string, message: Buffer, signature: Uint8Array) {
  const key = algorithm.startsWith('RSASSA_PSS')
    ? {
        key: publicKey,
        padding: constants.RSA_PKCS1_PSS_PADDING,
        saltLength: constants.RSA_PSS_SALTLEN_DIGEST,
      }
    : algorithm.startsWith('RSASSA_PKCS1')
      ? { key: publicKey, padding: constants.RSA_PKCS1_PADDING }
      : { key: publicKey, dsaEncoding: 'der' as const };
  return nodeVerify(hashOf(algorithm), message, key, signature);
}

async function publicKeyOf(keyId: string): Promise<KeyObject> {
  const { PublicKey } = await client.send(new GetPublicKeyCommand({ KeyId: keyId }));
  return createPublicKey({ key: Buffer.from(PublicKey ?? []), format: 'der', type: 'spki' });
}

describe('CreateKey with a key spec', () => {
  it('describes each kind of key with the algorithms AWS lists for it', async () => {
    const cases = [
      {
        input: { KeySpec: 'RSA_2048', KeyUsage: 'ENCRYPT_DECRYPT' },
        expected: { EncryptionAlgorithms: ['RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256'] },
      },
      {
        input: { KeySpec: 'RSA_3072', KeyUsage: 'SIGN_VERIFY' },
        expected: { SigningAlgorithms: SIGNING_CASES[0]?.[1] },
      },
      {
        input: { KeySpec: 'ECC_NIST_P384', KeyUsage: 'SIGN_VERIFY' },
        expected: { SigningAlgorithms: ['ECDSA_SHA_384'] },
      },
      {
        input: { KeySpec: 'HMAC_384', KeyUsage: 'GENERATE_VERIFY_MAC' },
        expected: { MacAlgorithms: ['HMAC_SHA_384'] },
      },
      {
        input: { CustomerMasterKeySpec: 'ECC_SECG_P256K1', KeyUsage: 'SIGN_VERIFY' },
        expected: { KeySpec: 'ECC_SECG_P256K1', SigningAlgorithms: ['ECDSA_SHA_256'] },
      },
    ] as const;
    for (const { input, expected } of cases) {
      const { KeyMetadata } = await client.send(new CreateKeyCommand(input));
      const spec = 'KeySpec' in input ? input.KeySpec : input.CustomerMasterKeySpec;
      expect(KeyMetadata).toMatchObject({
        KeySpec: spec,
        CustomerMasterKeySpec: spec,
        KeyUsage: input.KeyUsage,
        KeyState: 'Enabled',
        Origin: 'AWS_KMS',
        MultiRegion: false,
        ...expected,
      });
      // Members of other kinds of keys are absent, as in AWS.
      expect(KeyMetadata?.CurrentKeyMaterialId).toBeUndefined();
      const described = await client.send(new DescribeKeyCommand({ KeyId: KeyMetadata?.Arn }));
      expect(described.KeyMetadata).toEqual(KeyMetadata);
    }
  });

  it('refuses KeySpec with CustomerMasterKeySpec before looking at anything else', async () => {
    for (const input of [
      { KeySpec: 'RSA_2048', CustomerMasterKeySpec: 'RSA_2048', KeyUsage: 'ENCRYPT_DECRYPT' },
      // Neither a missing KeyUsage nor a description that is too long is reported first.
      { KeySpec: 'ECC_NIST_P256', CustomerMasterKeySpec: 'ECC_NIST_P256', Description: 'x'.repeat(9000) },
    ] as const) {
      const message = await expectKmsError(client.send(new CreateKeyCommand(input)), 'ValidationException');
      expect(message).toBe(
        'You cannot specify KeySpec and CustomerMasterKeySpec in the same request. CustomerMasterKeySpec is deprecated.',
      );
    }
  });

  it('needs a KeyUsage for every key but a symmetric one, and one that fits the spec', async () => {
    expect(
      await expectKmsError(client.send(new CreateKeyCommand({ KeySpec: 'HMAC_256' })), 'ValidationException'),
    ).toBe('You must specify a KeyUsage value for all KMS keys except for symmetric encryption keys.');
    expect(
      await expectKmsError(
        client.send(new CreateKeyCommand({ KeyUsage: 'SIGN_VERIFY' })),
        'ValidationException',
      ),
    ).toBe(
      'The operation failed because the KeyUsage value of the CMK is SIGN_VERIFY. To perform this operation, the KeyUsage value must be ENCRYPT_DECRYPT.',
    );
    // The usages the local KMS makes; AWS would also take KEY_AGREEMENT here (docs/local-kms.md).
    expect(
      await expectKmsError(
        client.send(new CreateKeyCommand({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'ENCRYPT_DECRYPT' })),
        'ValidationException',
      ),
    ).toBe(
      'The operation failed because the KeyUsage value of the CMK is ENCRYPT_DECRYPT. To perform this operation, the KeyUsage value must be SIGN_VERIFY.',
    );
    await expectKmsError(
      client.send(new CreateKeyCommand({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'KEY_AGREEMENT' })),
      'UnsupportedOperationException',
    );
    for (const input of [
      { KeySpec: 'RSA_2048', KeyUsage: 'GENERATE_VERIFY_MAC' },
      { KeySpec: 'HMAC_512', KeyUsage: 'SIGN_VERIFY' },
    ] as const) {
      await expectKmsError(client.send(new CreateKeyCommand(input)), 'ValidationException');
    }
    const badSpec = await kmsErrorOf(
      client.send(new CreateKeyCommand({ KeySpec: 'RSA_1024' as KeySpec, KeyUsage: 'SIGN_VERIFY' })),
    );
    expect(badSpec.name).toBe('ValidationException');
    expect(badSpec.message).toMatch(
      /^1 validation error detected: Value 'RSA_1024' at 'keySpec' failed to satisfy constraint: Member must satisfy enum value set/,
    );
  });
});

describe('GetPublicKey', () => {
  it('returns a DER SubjectPublicKeyInfo of the key spec, with its usage and algorithms', async () => {
    const rsa = await createKey(client, { KeySpec: 'RSA_4096', KeyUsage: 'ENCRYPT_DECRYPT' });
    const answer = await client.send(new GetPublicKeyCommand({ KeyId: rsa.keyId }));
    expect(answer).toMatchObject({
      KeyId: rsa.arn,
      KeySpec: 'RSA_4096',
      CustomerMasterKeySpec: 'RSA_4096',
      KeyUsage: 'ENCRYPT_DECRYPT',
      EncryptionAlgorithms: ['RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256'],
    });
    expect(answer.SigningAlgorithms).toBeUndefined();
    const publicKey = createPublicKey({
      key: Buffer.from(answer.PublicKey ?? []),
      format: 'der',
      type: 'spki',
    });
    expect(publicKey.asymmetricKeyDetails?.modulusLength).toBe(4096);

    const ecc = await createKey(client, { KeySpec: 'ECC_SECG_P256K1', KeyUsage: 'SIGN_VERIFY' });
    expect((await publicKeyOf(ecc.keyId)).asymmetricKeyDetails?.namedCurve).toBe('secp256k1');
  });

  it('refuses symmetric and HMAC keys with UnsupportedOperationException', async () => {
    for (const input of [{}, { KeySpec: 'HMAC_224', KeyUsage: 'GENERATE_VERIFY_MAC' }] as const) {
      const { keyId, arn } = await createKey(client, input);
      const message = await expectKmsError(
        client.send(new GetPublicKeyCommand({ KeyId: keyId })),
        'UnsupportedOperationException',
      );
      expect(message).toContain(arn);
    }
  });
});

describe('key states', () => {
  it('apply to GetPublicKey, Verify and DryRun as to the other cryptographic calls', async () => {
    const { keyId } = await createKey(client, { KeySpec: 'RSA_2048', KeyUsage: 'SIGN_VERIFY' });
    const { Signature } = await client.send(
      new SignCommand({ KeyId: keyId, Message: bytes('m'), SigningAlgorithm: 'RSASSA_PSS_SHA_256' }),
    );
    await expectKmsError(
      client.send(
        new VerifyCommand({
          KeyId: keyId,
          Message: bytes('m'),
          Signature,
          SigningAlgorithm: 'RSASSA_PSS_SHA_256',
          DryRun: true,
        }),
      ),
      'DryRunOperationException',
    );
    await client.send(new DisableKeyCommand({ KeyId: keyId }));
    await expectKmsError(client.send(new GetPublicKeyCommand({ KeyId: keyId })), 'DisabledException');
    await expectKmsError(
      client.send(
        new VerifyCommand({
          KeyId: keyId,
          Message: bytes('m'),
          Signature,
          SigningAlgorithm: 'RSASSA_PSS_SHA_256',
        }),
      ),
      'DisabledException',
    );
  });
});

describe('Sign and Verify', () => {
  for (const [spec, algorithms] of SIGNING_CASES) {
    it(`signs with ${spec} (${algorithms.join(', ')}); signatures verify in KMS and with Node's crypto, RAW or DIGEST`, async () => {
      const { keyId, arn } = await createKey(client, { KeySpec: spec, KeyUsage: 'SIGN_VERIFY' });
      const publicKey = await publicKeyOf(keyId);
      const message = Buffer.from(`a message signed with ${spec}`);
      for (const algorithm of algorithms) {
        const digest = createHash(hashOf(algorithm)).update(message).digest();
        const raw = await client.send(
          new SignCommand({ KeyId: keyId, Message: message, SigningAlgorithm: algorithm }),
        );
        expect(raw).toMatchObject({ KeyId: arn, SigningAlgorithm: algorithm });
        const ofDigest = await client.send(
          new SignCommand({
            KeyId: keyId,
            Message: digest,
            MessageType: 'DIGEST',
            SigningAlgorithm: algorithm,
          }),
        );
        for (const signature of [raw.Signature ?? new Uint8Array(), ofDigest.Signature ?? new Uint8Array()]) {
          expect(verifiesOutsideKms(publicKey, algorithm, message, signature), algorithm).toBe(true);
          for (const asked of [
            { Message: message, MessageType: 'RAW' as const },
            { Message: digest, MessageType: 'DIGEST' as const },
          ]) {
            const verified = await client.send(
              new VerifyCommand({
                KeyId: keyId,
                Signature: signature,
                SigningAlgorithm: algorithm,
                ...asked,
              }),
            );
            expect(verified).toMatchObject({ KeyId: arn, SignatureValid: true, SigningAlgorithm: algorithm });
          }
        }
      }
    });
  }

  it('answers a signature that does not verify with KMSInvalidSignatureException', async () => {
    const { keyId } = await createKey(client, { KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' });
    const other = await createKey(client, { KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' });
    const { Signature } = await client.send(
      new SignCommand({ KeyId: keyId, Message: bytes('signed'), SigningAlgorithm: 'ECDSA_SHA_256' }),
    );
    const tampered = Uint8Array.from(Signature ?? []);
    tampered[tampered.length - 1] = (tampered[tampered.length - 1] ?? 0) ^ 1;
    for (const [id, message, signature] of [
      [keyId, 'changed', Signature],
      [keyId, 'signed', tampered],
      [keyId, 'signed', bytes('not a DER signature at all')],
      [other.keyId, 'signed', Signature],
    ] as const) {
      const error = await kmsErrorOf(
        client.send(
          new VerifyCommand({
            KeyId: id,
            Message: bytes(message),
            Signature: signature,
            SigningAlgorithm: 'ECDSA_SHA_256',
          }),
        ),
      );
      expect(error).toMatchObject({ name: 'KMSInvalidSignatureException', status: 400 });
    }
  });

  it("refuses another usage, another spec's algorithm and a digest of the wrong length in AWS's words", async () => {
    const signing = await createKey(client, { KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' });
    const encryption = await createKey(client, { KeySpec: 'RSA_2048', KeyUsage: 'ENCRYPT_DECRYPT' });
    const symmetric = await createKey(client);
    expect(
      await expectKmsError(
        client.send(
          new SignCommand({
            KeyId: encryption.keyId,
            Message: bytes('m'),
            SigningAlgorithm: 'RSASSA_PSS_SHA_256',
          }),
        ),
        'InvalidKeyUsageException',
      ),
    ).toBe(`${encryption.arn} key usage is ENCRYPT_DECRYPT which is not valid for Sign.`);
    expect(
      await expectKmsError(
        client.send(
          new VerifyCommand({
            KeyId: symmetric.keyId,
            Message: bytes('m'),
            Signature: bytes('s'),
            SigningAlgorithm: 'ECDSA_SHA_256',
          }),
        ),
        'InvalidKeyUsageException',
      ),
    ).toBe(`${symmetric.arn} key usage is ENCRYPT_DECRYPT which is not valid for Verify.`);
    expect(
      await expectKmsError(
        client.send(
          new SignCommand({ KeyId: signing.keyId, Message: bytes('m'), SigningAlgorithm: 'ECDSA_SHA_384' }),
        ),
        'InvalidKeyUsageException',
      ),
    ).toBe('Algorithm ECDSA_SHA_384 is incompatible with key spec ECC_NIST_P256.');
    expect(
      await expectKmsError(
        client.send(
          new SignCommand({
            KeyId: signing.keyId,
            Message: new Uint8Array(48),
            MessageType: 'DIGEST',
            SigningAlgorithm: 'ECDSA_SHA_256',
          }),
        ),
        'ValidationException',
      ),
    ).toBe('Digest is invalid length for algorithm ECDSA_SHA_256.');
    expect(
      await expectKmsError(
        client.send(
          new SignCommand({
            KeyId: signing.keyId,
            Message: new Uint8Array(64),
            MessageType: 'EXTERNAL_MU',
            SigningAlgorithm: 'ECDSA_SHA_256',
          }),
        ),
        'ValidationException',
      ),
    ).toBe('Message type EXTERNAL_MU is incompatible with key spec ECC_NIST_P256.');
    await expectKmsError(
      client.send(
        new SignCommand({
          KeyId: signing.keyId,
          Message: new Uint8Array(4097),
          SigningAlgorithm: 'ECDSA_SHA_256',
        }),
      ),
      'ValidationException',
    );
    await client.send(new DisableKeyCommand({ KeyId: signing.keyId }));
    await expectKmsError(
      client.send(
        new SignCommand({ KeyId: signing.keyId, Message: bytes('m'), SigningAlgorithm: 'ECDSA_SHA_256' }),
      ),
      'DisabledException',
    );
  });

  it('stops a DryRun that would have succeeded, and an asymmetric key does not rotate', async () => {
    const { keyId } = await createKey(client, { KeySpec: 'RSA_2048', KeyUsage: 'SIGN_VERIFY' });
    await expectKmsError(
      client.send(
        new SignCommand({
          KeyId: keyId,
          Message: bytes('m'),
          SigningAlgorithm: 'RSASSA_PSS_SHA_256',
          DryRun: true,
        }),
      ),
      'DryRunOperationException',
    );
    await expectKmsError(
      client.send(new EnableKeyRotationCommand({ KeyId: keyId })),
      'UnsupportedOperationException',
    );
    await expectKmsError(
      client.send(new GetKeyRotationStatusCommand({ KeyId: keyId })),
      'UnsupportedOperationException',
    );
  });
});

describe('Encrypt and Decrypt with an RSA key', () => {
  for (const spec of ['RSA_2048', 'RSA_3072'] as const) {
    it(`round-trips with RSAES_OAEP_SHA_1 and _SHA_256 under ${spec}, and decrypts what Node's crypto encrypted with the public key`, async () => {
      const { keyId, arn } = await createKey(client, { KeySpec: spec, KeyUsage: 'ENCRYPT_DECRYPT' });
      const publicKey = await publicKeyOf(keyId);
      for (const [algorithm, oaepHash] of [
        ['RSAES_OAEP_SHA_1', 'sha1'],
        ['RSAES_OAEP_SHA_256', 'sha256'],
      ] as const) {
        const encrypted = await client.send(
          new EncryptCommand({
            KeyId: keyId,
            Plaintext: bytes(`secret ${algorithm}`),
            EncryptionAlgorithm: algorithm,
          }),
        );
        expect(encrypted).toMatchObject({ KeyId: arn, EncryptionAlgorithm: algorithm });
        expect(encrypted.CiphertextBlob?.length).toBe(Number(spec.slice(4)) / 8);
        const outside = publicEncrypt(
          { key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash },
          Buffer.from(`outside ${algorithm}`),
        );
        for (const [blob, expected] of [
          [encrypted.CiphertextBlob, `secret ${algorithm}`],
          [outside, `outside ${algorithm}`],
        ] as const) {
          const decrypted = await client.send(
            new DecryptCommand({ CiphertextBlob: blob, KeyId: keyId, EncryptionAlgorithm: algorithm }),
          );
          expect(text(decrypted.Plaintext)).toBe(expected);
          expect(decrypted).toMatchObject({ KeyId: arn, EncryptionAlgorithm: algorithm });
          expect(decrypted.KeyMaterialId).toBeUndefined();
        }
      }
    });
  }

  it("refuses what AWS refuses, in AWS's words", async () => {
    const { keyId, arn } = await createKey(client, { KeySpec: 'RSA_2048', KeyUsage: 'ENCRYPT_DECRYPT' });
    const symmetric = await createKey(client);
    const encrypted = await client.send(
      new EncryptCommand({ KeyId: keyId, Plaintext: bytes('x'), EncryptionAlgorithm: 'RSAES_OAEP_SHA_256' }),
    );
    expect(
      await expectKmsError(
        client.send(new EncryptCommand({ KeyId: keyId, Plaintext: bytes('x') })),
        'InvalidKeyUsageException',
      ),
    ).toBe('Algorithm SYMMETRIC_DEFAULT is incompatible with key spec RSA_2048.');
    expect(
      await expectKmsError(
        client.send(
          new EncryptCommand({
            KeyId: symmetric.keyId,
            Plaintext: bytes('x'),
            EncryptionAlgorithm: 'RSAES_OAEP_SHA_1',
          }),
        ),
        'InvalidKeyUsageException',
      ),
    ).toBe('Algorithm RSAES_OAEP_SHA_1 is incompatible with key spec SYMMETRIC_DEFAULT.');
    for (const [algorithm, limit] of [
      ['RSAES_OAEP_SHA_1', 214],
      ['RSAES_OAEP_SHA_256', 190],
    ] as const) {
      await client.send(
        new EncryptCommand({
          KeyId: keyId,
          Plaintext: new Uint8Array(limit),
          EncryptionAlgorithm: algorithm,
        }),
      );
      expect(
        await expectKmsError(
          client.send(
            new EncryptCommand({
              KeyId: keyId,
              Plaintext: new Uint8Array(limit + 1),
              EncryptionAlgorithm: algorithm,
            }),
          ),
          'ValidationException',
        ),
      ).toBe(`Algorithm ${algorithm} and key spec RSA_2048 cannot encrypt data larger than ${limit} bytes.`);
    }
    // Without its KeyId, or with the default algorithm, an RSA ciphertext is not one KMS can decrypt.
    await expectKmsError(
      client.send(
        new DecryptCommand({
          CiphertextBlob: encrypted.CiphertextBlob,
          EncryptionAlgorithm: 'RSAES_OAEP_SHA_256',
        }),
      ),
      'InvalidCiphertextException',
    );
    await expectKmsError(
      client.send(new DecryptCommand({ CiphertextBlob: encrypted.CiphertextBlob, KeyId: keyId })),
      'InvalidCiphertextException',
    );
    await expectKmsError(
      client.send(
        new DecryptCommand({
          CiphertextBlob: encrypted.CiphertextBlob,
          KeyId: keyId,
          EncryptionAlgorithm: 'RSAES_OAEP_SHA_1',
        }),
      ),
      'InvalidCiphertextException',
    );
    await expectKmsError(
      client.send(
        new EncryptCommand({
          KeyId: keyId,
          Plaintext: bytes('x'),
          EncryptionAlgorithm: 'RSAES_OAEP_SHA_256',
          EncryptionContext: { purpose: 'test' },
        }),
      ),
      'ValidationException',
    );
    expect(
      await expectKmsError(
        client.send(new GenerateDataKeyCommand({ KeyId: keyId, NumberOfBytes: 32 })),
        'InvalidKeyUsageException',
      ),
    ).toBe(`${arn} key spec is RSA_2048 which is not valid for GenerateDataKey.`);
    const signing = await createKey(client, { KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' });
    expect(
      await expectKmsError(
        client.send(new EncryptCommand({ KeyId: signing.keyId, Plaintext: bytes('x') })),
        'InvalidKeyUsageException',
      ),
    ).toBe(`${signing.arn} key usage is SIGN_VERIFY which is not valid for Encrypt.`);
  });

  it('re-encrypts from a symmetric key to an RSA key and back', async () => {
    const symmetric = await createKey(client);
    const rsa = await createKey(client, { KeySpec: 'RSA_3072', KeyUsage: 'ENCRYPT_DECRYPT' });
    const start = await client.send(
      new EncryptCommand({
        KeyId: symmetric.keyId,
        Plaintext: bytes('travelling'),
        EncryptionContext: { a: 'b' },
      }),
    );
    const toRsa = await client.send(
      new ReEncryptCommand({
        CiphertextBlob: start.CiphertextBlob,
        SourceEncryptionContext: { a: 'b' },
        DestinationKeyId: rsa.keyId,
        DestinationEncryptionAlgorithm: 'RSAES_OAEP_SHA_256',
      }),
    );
    expect(toRsa).toMatchObject({
      SourceKeyId: symmetric.arn,
      KeyId: rsa.arn,
      SourceEncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
      DestinationEncryptionAlgorithm: 'RSAES_OAEP_SHA_256',
    });
    const back = await client.send(
      new ReEncryptCommand({
        CiphertextBlob: toRsa.CiphertextBlob,
        SourceKeyId: rsa.keyId,
        SourceEncryptionAlgorithm: 'RSAES_OAEP_SHA_256',
        DestinationKeyId: symmetric.keyId,
      }),
    );
    expect(back.SourceEncryptionAlgorithm).toBe('RSAES_OAEP_SHA_256');
    expect(
      text((await client.send(new DecryptCommand({ CiphertextBlob: back.CiphertextBlob }))).Plaintext),
    ).toBe('travelling');
  });
});
