import {
  CreateAliasCommand,
  CreateKeyCommand,
  DecryptCommand,
  DescribeKeyCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  type KMSClient,
} from '@aws-sdk/client-kms';
import { afterEach, describe, expect, it } from 'vitest';
import type { LocalKms } from '../../src/localkms/index.js';
import { Fixture, kmsErrorOf } from '../support/local-kms.js';

/** The way RKMS's embedded default uses the local KMS (DESIGN.md, "The embedded default"). */
const REGIONS = ['us-east-1', 'us-east-2', 'us-west-1'];
const fixture = new Fixture();
afterEach(() => fixture.cleanup());

async function bootstrapKeys(clients: Map<string, KMSClient>): Promise<Map<string, string>> {
  const keys = new Map<string, string>();
  for (const [region, client] of clients) {
    const alias = `alias/rkms-${region}`;
    try {
      keys.set(region, (await client.send(new DescribeKeyCommand({ KeyId: alias }))).KeyMetadata?.Arn ?? '');
    } catch (error) {
      if ((error as Error).name !== 'NotFoundException') throw error;
      const created = await client.send(new CreateKeyCommand({ Description: `RKMS ${region}` }));
      await client.send(
        new CreateAliasCommand({ AliasName: alias, TargetKeyId: created.KeyMetadata?.KeyId }),
      );
      keys.set(region, created.KeyMetadata?.Arn ?? '');
    }
  }
  return keys;
}

function clientsFor(kms: LocalKms): Map<string, KMSClient> {
  return new Map(REGIONS.map((region) => [region, fixture.client(kms, region)]));
}

function clientOf(clients: Map<string, KMSClient>, region: string): KMSClient {
  const client = clients.get(region);
  if (!client) throw new Error(`no client for ${region}`);
  return client;
}

describe('the contract RKMS relies on', () => {
  it('bootstraps one key per region, protects a data key in every region, and still decrypts it after a restart', async () => {
    const dataDir = await fixture.tempDir();
    const first = await fixture.start({ regions: REGIONS, dataDir });
    const clients = clientsFor(first);
    const keys = await bootstrapKeys(clients);
    expect(new Set(keys.values()).size).toBe(3);

    const context = { 'rkms:id': 'tenant-7' };
    const east = clients.get('us-east-1');
    const dataKey = await east?.send(
      new GenerateDataKeyCommand({
        KeyId: 'alias/rkms-us-east-1',
        NumberOfBytes: 32,
        EncryptionContext: context,
      }),
    );
    const ciphertexts = new Map<string, Uint8Array | undefined>([['us-east-1', dataKey?.CiphertextBlob]]);
    for (const region of ['us-east-2', 'us-west-1']) {
      const result = await clients.get(region)?.send(
        new EncryptCommand({
          KeyId: `alias/rkms-${region}`,
          Plaintext: dataKey?.Plaintext,
          EncryptionContext: context,
        }),
      );
      ciphertexts.set(region, result?.CiphertextBlob);
    }
    const legacy = await east?.send(
      new EncryptCommand({ KeyId: 'alias/rkms-us-east-1', Plaintext: dataKey?.Plaintext }),
    );
    await first.close();

    const second = await fixture.start({ regions: REGIONS, dataDir });
    const again = clientsFor(second);
    expect(await bootstrapKeys(again)).toEqual(keys);
    for (const region of REGIONS) {
      const decrypted = await again.get(region)?.send(
        new DecryptCommand({
          CiphertextBlob: ciphertexts.get(region),
          KeyId: `alias/rkms-${region}`,
          EncryptionContext: context,
        }),
      );
      expect(Buffer.from(decrypted?.Plaintext ?? []).equals(Buffer.from(dataKey?.Plaintext ?? []))).toBe(
        true,
      );
    }
    const legacyPlain = await again
      .get('us-east-1')
      ?.send(new DecryptCommand({ CiphertextBlob: legacy?.CiphertextBlob, KeyId: keys.get('us-east-1') }));
    expect(Buffer.from(legacyPlain?.Plaintext ?? []).equals(Buffer.from(dataKey?.Plaintext ?? []))).toBe(
      true,
    );

    const copied = await kmsErrorOf(
      clientOf(again, 'us-east-1').send(
        new DecryptCommand({
          CiphertextBlob: ciphertexts.get('us-east-1'),
          KeyId: 'alias/rkms-us-east-1',
          EncryptionContext: { 'rkms:id': 'tenant-8' },
        }),
      ),
    );
    expect(copied.name).toBe('InvalidCiphertextException');
  });

  it('lets a test take one region down while the others keep working', async () => {
    const kms = await fixture.start({ regions: REGIONS });
    const clients = clientsFor(kms);
    await bootstrapKeys(clients);
    kms.faults.set('us-east-2', { down: {} });
    const failure = await kmsErrorOf(
      clientOf(clients, 'us-east-2').send(
        new GenerateDataKeyCommand({ KeyId: 'alias/rkms-us-east-2', NumberOfBytes: 32 }),
      ),
    );
    expect(failure.status).toBeUndefined();
    for (const region of ['us-east-1', 'us-west-1']) {
      const result = await clients
        .get(region)
        ?.send(new GenerateDataKeyCommand({ KeyId: `alias/rkms-${region}`, NumberOfBytes: 32 }));
      expect(result?.Plaintext?.length).toBe(32);
    }
    expect(kms.counters()['us-east-2']?.GenerateDataKey).toBe(1);
  });
});
