import { randomBytes } from 'node:crypto';
import {
  DecryptCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  InvalidCiphertextException,
  KMSClient,
} from '@aws-sdk/client-kms';
import { mockClient, type AwsClientStub } from 'aws-sdk-client-mock';
import { EMBEDDED_CREDENTIALS } from '../../src/config/aws.js';
import { RegionalKms } from '../../src/kms/pool.js';
import { Region } from '../../src/kms/region.js';

interface Sealed {
  region: string;
  plaintext: Uint8Array;
  context: string;
}

const circuit = { failure_rate_percent: 50, minimum_calls: 5, window_ms: 10_000, reset_after_ms: 5_000 };

/**
 * KMS regions whose clients are stubbed by aws-sdk-client-mock with a tiny in-memory
 * KMS: a ciphertext is a random handle, and decrypting it checks the region and the
 * exact encryption context, as KMS does. For unit tests that need to shape errors.
 */
export function fakeRegionalKms(names: string[], hedgeAfterMs = 0) {
  const sealed = new Map<string, Sealed>();
  const contextKey = (context?: Record<string, string>) =>
    JSON.stringify(Object.entries(context ?? {}).sort());
  const seal = (region: string, plaintext: Uint8Array, context?: Record<string, string>) => {
    const handle = randomBytes(24);
    sealed.set(handle.toString('hex'), {
      region,
      plaintext: Uint8Array.from(plaintext),
      context: contextKey(context),
    });
    return new Uint8Array(handle);
  };

  const mocks: Record<string, AwsClientStub<KMSClient>> = {};
  const regions = names.map((name) => {
    const client = new KMSClient({ region: name, credentials: EMBEDDED_CREDENTIALS, maxAttempts: 1 });
    const mock = mockClient(client);
    mock.on(GenerateDataKeyCommand).callsFake((input) => {
      const plaintext = new Uint8Array(randomBytes(input.NumberOfBytes ?? 32));
      return {
        Plaintext: plaintext,
        CiphertextBlob: seal(name, plaintext, input.EncryptionContext),
        KeyId: input.KeyId,
      };
    });
    mock.on(EncryptCommand).callsFake((input) => ({
      CiphertextBlob: seal(name, input.Plaintext, input.EncryptionContext),
      KeyId: input.KeyId,
    }));
    mock.on(DecryptCommand).callsFake((input) => {
      const entry = sealed.get(Buffer.from(input.CiphertextBlob).toString('hex'));
      if (!entry || entry.region !== name || entry.context !== contextKey(input.EncryptionContext)) {
        throw new InvalidCiphertextException({ message: 'The ciphertext is invalid', $metadata: {} });
      }
      return { Plaintext: Uint8Array.from(entry.plaintext), KeyId: input.KeyId };
    });
    mocks[name] = mock;
    return new Region({ name, keyId: `alias/rkms-${name}`, client, circuit });
  });
  return {
    kms: new RegionalKms(regions, { hedgeAfterMs }),
    mocks,
    /** A ciphertext as a legacy (context-free) writer would have made it. */
    sealWithoutContext: (region: string, plaintext: Uint8Array) => seal(region, plaintext),
  };
}
