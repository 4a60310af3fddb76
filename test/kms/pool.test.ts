import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import {
  DecryptCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  InvalidCiphertextException,
  KMSClient,
  KMSInternalException,
} from '@aws-sdk/client-kms';
import { mockClient, type AwsClientStub } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { EMBEDDED_CREDENTIALS } from '../../src/config/aws.js';
import { kmsError } from '../support/aws-errors.js';
import { CiphertextRejectedError, KmsUnavailableError } from '../../src/kms/errors.js';
import { RegionalKms } from '../../src/kms/pool.js';
import { Region, createKmsClient } from '../../src/kms/region.js';

const circuit = { failure_rate_percent: 50, minimum_calls: 3, window_ms: 10_000, reset_after_ms: 300 };
const context = { 'rkms:id': 'tenant-1' };
const key = () => new Uint8Array(32).fill(7);
const blob = (name: string) => new Uint8Array(Buffer.from(`ciphertext-${name}`));

const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});

interface Mocked {
  kms: RegionalKms;
  mocks: Record<string, AwsClientStub<KMSClient>>;
}

function mockedPool(names: string[], hedgeAfterMs = 0): Mocked {
  const mocks: Record<string, AwsClientStub<KMSClient>> = {};
  const regions = names.map((name) => {
    const client = new KMSClient({ region: name, credentials: EMBEDDED_CREDENTIALS, maxAttempts: 1 });
    mocks[name] = mockClient(client);
    return new Region({ name, keyId: `alias/rkms-${name}`, client, circuit });
  });
  const kms = new RegionalKms(regions, { hedgeAfterMs });
  cleanups.push(() => {
    kms.close();
  });
  return { kms, mocks };
}

const ciphertexts = (names: string[]) => Object.fromEntries(names.map((n) => [n, blob(n)]));
const calls = (mock: AwsClientStub<KMSClient>) => mock.calls().length;

describe('RegionalKms.decrypt', () => {
  const names = ['us-east-1', 'us-east-2', 'us-west-1'];

  it('decrypts in one region only when it is healthy, with the context and the region key', async () => {
    const { kms, mocks } = mockedPool(names);
    mocks['us-east-1']!.on(DecryptCommand).resolves({ Plaintext: key() });
    const { plaintext, region } = await kms.decrypt(ciphertexts(names), context);
    expect(region).toBe('us-east-1');
    expect(plaintext).toEqual(key());
    expect(calls(mocks['us-east-2']!) + calls(mocks['us-west-1']!)).toBe(0);
    expect(mocks['us-east-1']!.commandCalls(DecryptCommand)[0]!.args[0].input).toEqual({
      KeyId: 'alias/rkms-us-east-1',
      CiphertextBlob: blob('us-east-1'),
      EncryptionContext: context,
    });
  });

  it('falls back to the next region when a region fails', async () => {
    const { kms, mocks } = mockedPool(names);
    mocks['us-east-1']!.on(DecryptCommand).rejects(
      new KMSInternalException({ message: 'boom', $metadata: {} }),
    );
    mocks['us-east-2']!.on(DecryptCommand).resolves({ Plaintext: key() });
    expect((await kms.decrypt(ciphertexts(names), context)).region).toBe('us-east-2');
  });

  it('falls back when the home region throttles on the third call', async () => {
    const { kms, mocks } = mockedPool(names);
    mocks['us-east-1']!.on(DecryptCommand)
      .resolvesOnce({ Plaintext: key() })
      .resolvesOnce({ Plaintext: key() })
      .rejectsOnce(kmsError('ThrottlingException', 'Rate exceeded'));
    mocks['us-east-2']!.on(DecryptCommand).resolves({ Plaintext: key() });
    const regions = [];
    for (let i = 0; i < 3; i++) regions.push((await kms.decrypt(ciphertexts(names), context)).region);
    expect(regions).toEqual(['us-east-1', 'us-east-1', 'us-east-2']);
  });

  it('hedges to the next region when the first is slow, and the first answer wins', async () => {
    const { kms, mocks } = mockedPool(names, 30);
    mocks['us-east-1']!.on(DecryptCommand).callsFake(
      () =>
        new Promise((resolve) =>
          setTimeout(() => {
            resolve({ Plaintext: new Uint8Array(32).fill(1) });
          }, 2_000),
        ),
    );
    mocks['us-east-2']!.on(DecryptCommand).resolves({ Plaintext: key() });
    const { plaintext, region } = await kms.decrypt(ciphertexts(names), context);
    expect(region).toBe('us-east-2');
    expect(plaintext).toEqual(key());
    expect(calls(mocks['us-west-1']!)).toBe(0);
  });

  it('decrypts a legacy ciphertext without an encryption context', async () => {
    const { kms, mocks } = mockedPool(names);
    mocks['us-east-1']!.on(DecryptCommand).resolves({ Plaintext: key() });
    await kms.decrypt(ciphertexts(names), undefined);
    expect(
      mocks['us-east-1']!.commandCalls(DecryptCommand)[0]!.args[0].input.EncryptionContext,
    ).toBeUndefined();
  });

  it('tries only regions that hold a ciphertext', async () => {
    const { kms, mocks } = mockedPool(names);
    mocks['us-west-1']!.on(DecryptCommand).resolves({ Plaintext: key() });
    expect((await kms.decrypt({ 'us-west-1': blob('w') }, context)).region).toBe('us-west-1');
    expect(calls(mocks['us-east-1']!)).toBe(0);
    await expect(kms.decrypt({ 'eu-west-1': blob('e') }, context)).rejects.toThrow(
      /stored for eu-west-1 \(configured: us-east-1, us-east-2, us-west-1\)/,
    );
  });

  it('reports a ciphertext every region refuses as rejected, not as an outage', async () => {
    const { kms, mocks } = mockedPool(names);
    for (const name of names) {
      mocks[name]!.on(DecryptCommand).rejects(
        new InvalidCiphertextException({ message: 'bad', $metadata: {} }),
      );
    }
    await expect(kms.decrypt(ciphertexts(names), context)).rejects.toBeInstanceOf(CiphertextRejectedError);
  });

  it('names every region and its reason when none can decrypt', async () => {
    const { kms, mocks } = mockedPool(names);
    mocks['us-east-1']!.on(DecryptCommand).rejects(kmsError('ThrottlingException', 'Rate exceeded'));
    mocks['us-east-2']!.on(DecryptCommand).rejects(
      new InvalidCiphertextException({ message: 'bad', $metadata: {} }),
    );
    mocks['us-west-1']!.on(DecryptCommand).rejects(
      new KMSInternalException({ message: 'down', $metadata: {} }),
    );
    const failure = kms.decrypt(ciphertexts(names), context);
    await expect(failure).rejects.toBeInstanceOf(KmsUnavailableError);
    await expect(failure).rejects.toThrow(
      /us-east-1: Decrypt: ThrottlingException: Rate exceeded; us-east-2: Decrypt: InvalidCiphertextException: bad; us-west-1: Decrypt: KMSInternalException: down/,
    );
  });

  it('skips a failing region (circuit open) until a probe succeeds', async () => {
    const { kms, mocks } = mockedPool(['us-east-1', 'us-east-2']);
    mocks['us-east-1']!.on(DecryptCommand).rejects(
      new KMSInternalException({ message: 'down', $metadata: {} }),
    );
    mocks['us-east-2']!.on(DecryptCommand).resolves({ Plaintext: key() });
    const both = ciphertexts(['us-east-1', 'us-east-2']);
    for (let i = 0; i < circuit.minimum_calls; i++) await kms.decrypt(both, context);
    expect(kms.regions[0]!.circuit).toBe('open');

    const failedCalls = calls(mocks['us-east-1']!);
    for (let i = 0; i < 5; i++) expect((await kms.decrypt(both, context)).region).toBe('us-east-2');
    expect(calls(mocks['us-east-1']!)).toBe(failedCalls); // skipped, not called

    mocks['us-east-1']!.reset();
    mocks['us-east-1']!.on(DecryptCommand).resolves({ Plaintext: key() });
    await new Promise((resolve) => setTimeout(resolve, circuit.reset_after_ms + 50));
    expect(kms.regions[0]!.circuit).toBe('half-open');
    // The probe goes to the recovered region; its success closes the circuit.
    await kms.decrypt({ 'us-east-1': blob('us-east-1') }, context);
    expect(kms.regions[0]!.circuit).toBe('closed');
    expect((await kms.decrypt(both, context)).region).toBe('us-east-1');
  });

  it('does not count refused ciphertexts against a region', async () => {
    const { kms, mocks } = mockedPool(['us-east-1']);
    mocks['us-east-1']!.on(DecryptCommand).rejects(
      new InvalidCiphertextException({ message: 'bad', $metadata: {} }),
    );
    for (let i = 0; i < circuit.minimum_calls * 2; i++) {
      await expect(kms.decrypt({ 'us-east-1': blob('x') }, context)).rejects.toBeInstanceOf(
        CiphertextRejectedError,
      );
    }
    expect(kms.regions[0]!.circuit).toBe('closed');
  });
});

describe('RegionalKms.createDataKey', () => {
  const names = ['us-east-1', 'us-east-2', 'us-west-1'];

  it('generates in one region and encrypts in every other, all with the id context', async () => {
    const { kms, mocks } = mockedPool(names);
    mocks['us-east-1']!.on(GenerateDataKeyCommand).resolves({
      Plaintext: key(),
      CiphertextBlob: blob('us-east-1'),
    });
    mocks['us-east-2']!.on(EncryptCommand).resolves({ CiphertextBlob: blob('us-east-2') });
    mocks['us-west-1']!.on(EncryptCommand).resolves({ CiphertextBlob: blob('us-west-1') });

    const created = await kms.createDataKey(context, 32);
    expect(created.plaintext).toEqual(key());
    expect(created.ciphertexts).toEqual(ciphertexts(names));
    expect(created.failures).toEqual([]);
    expect(mocks['us-east-1']!.commandCalls(GenerateDataKeyCommand)[0]!.args[0].input).toEqual({
      KeyId: 'alias/rkms-us-east-1',
      NumberOfBytes: 32,
      EncryptionContext: context,
    });
    for (const name of ['us-east-2', 'us-west-1']) {
      expect(mocks[name]!.commandCalls(EncryptCommand)[0]!.args[0].input).toEqual({
        KeyId: `alias/rkms-${name}`,
        Plaintext: key(),
        EncryptionContext: context,
      });
    }
  });

  it('generates in the next region when the first fails or replies with a malformed key', async () => {
    const { kms, mocks } = mockedPool(names);
    mocks['us-east-1']!.on(GenerateDataKeyCommand).resolves({
      Plaintext: new Uint8Array(5),
      CiphertextBlob: blob('x'),
    });
    mocks['us-east-1']!.on(EncryptCommand).resolves({ CiphertextBlob: blob('us-east-1') });
    mocks['us-east-2']!.on(GenerateDataKeyCommand).resolves({
      Plaintext: key(),
      CiphertextBlob: blob('us-east-2'),
    });
    mocks['us-west-1']!.on(EncryptCommand).resolves({ CiphertextBlob: blob('us-west-1') });
    const created = await kms.createDataKey(context, 32);
    expect(created.plaintext).toEqual(key());
    expect(Object.keys(created.ciphertexts).sort()).toEqual([...names].sort());
  });

  it('reports the regions that could not encrypt the new key', async () => {
    const { kms, mocks } = mockedPool(names);
    mocks['us-east-1']!.on(GenerateDataKeyCommand).resolves({
      Plaintext: key(),
      CiphertextBlob: blob('us-east-1'),
    });
    mocks['us-east-2']!.on(EncryptCommand).resolves({ CiphertextBlob: blob('us-east-2') });
    mocks['us-west-1']!.on(EncryptCommand).rejects(kmsError('ThrottlingException', 'Rate exceeded'));
    const created = await kms.createDataKey(context, 32);
    expect(Object.keys(created.ciphertexts)).toEqual(['us-east-1', 'us-east-2']);
    expect(created.failures.map((f) => f.message)).toEqual([
      'us-west-1: Encrypt: ThrottlingException: Rate exceeded',
    ]);
  });

  it('fails with every reason when no region can generate', async () => {
    const { kms, mocks } = mockedPool(['us-east-1', 'us-east-2']);
    for (const mock of Object.values(mocks)) {
      mock.on(GenerateDataKeyCommand).rejects(new KMSInternalException({ message: 'down', $metadata: {} }));
    }
    await expect(kms.createDataKey(context, 32)).rejects.toThrow(
      /no KMS region could generate a data key: us-east-1: GenerateDataKey: KMSInternalException: down; us-east-2/,
    );
  });
});

describe('per-attempt timeout', () => {
  let hung: Server | undefined;
  const sockets = new Set<Socket>();
  afterEach(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => hung?.close(resolve));
  });

  it('gives up on a region that accepts connections but never answers, and falls back', async () => {
    hung = createServer((socket) => sockets.add(socket)); // reads nothing, answers nothing
    await new Promise<void>((resolve) => hung!.listen(0, '127.0.0.1', resolve));
    const endpoint = `http://127.0.0.1:${(hung.address() as AddressInfo).port}`;

    const stuck = new Region({
      name: 'us-east-1',
      keyId: 'alias/rkms-us-east-1',
      client: createKmsClient({
        region: 'us-east-1',
        endpoint,
        credentials: EMBEDDED_CREDENTIALS,
        kms: { timeout_ms: 200, connect_timeout_ms: 200, max_attempts: 1 },
      }),
      circuit,
    });
    const healthyClient = new KMSClient({ region: 'us-east-2', credentials: EMBEDDED_CREDENTIALS });
    mockClient(healthyClient).on(DecryptCommand).resolves({ Plaintext: key() });
    const healthy = new Region({
      name: 'us-east-2',
      keyId: 'alias/rkms-us-east-2',
      client: healthyClient,
      circuit,
    });
    const kms = new RegionalKms([stuck, healthy], { hedgeAfterMs: 0 });
    cleanups.push(() => {
      kms.close();
    });

    const { region } = await kms.decrypt(ciphertexts(['us-east-1', 'us-east-2']), context);
    expect(region).toBe('us-east-2');
    expect(sockets.size).toBeGreaterThan(0); // the stuck region was really tried
  });
});

describe('region preference', () => {
  it('prefers a fast region over one that answered slowly, and forgets the slowness later', async () => {
    const names = ['us-east-1', 'us-east-2'];
    const mocks: Record<string, AwsClientStub<KMSClient>> = {};
    const shortMemory = { ...circuit, window_ms: 300 };
    const regions = names.map((name) => {
      const client = new KMSClient({ region: name, credentials: EMBEDDED_CREDENTIALS, maxAttempts: 1 });
      mocks[name] = mockClient(client);
      return new Region({ name, keyId: `alias/rkms-${name}`, client, circuit: shortMemory });
    });
    const kms = new RegionalKms(regions, { hedgeAfterMs: 20 });
    cleanups.push(() => {
      kms.close();
    });
    const slowly = () =>
      new Promise((resolve) =>
        setTimeout(() => {
          resolve({ Plaintext: key() });
        }, 60),
      );
    mocks['us-east-1']!.on(DecryptCommand).callsFakeOnce(slowly).resolves({ Plaintext: key() });
    mocks['us-east-2']!.on(DecryptCommand).resolves({ Plaintext: key() });
    const both = ciphertexts(names);

    // The slow answer still arrives and is measured, though the hedge to us-east-2 wins.
    expect((await kms.decrypt(both, context)).region).toBe('us-east-2');
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(kms.preferred().map((r) => r.name)).toEqual(['us-east-2', 'us-east-1']);

    await new Promise((resolve) => setTimeout(resolve, shortMemory.window_ms + 50));
    expect(kms.preferred().map((r) => r.name)).toEqual(['us-east-1', 'us-east-2']);
    expect((await kms.decrypt(both, context)).region).toBe('us-east-1');
  });
});
