import {
  CreateAliasCommand,
  CreateKeyCommand,
  DecryptCommand,
  DescribeKeyCommand,
  EncryptCommand,
  ListKeysCommand,
} from '@aws-sdk/client-kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalKms } from '../../src/localkms/index.js';
import { bytes, expectKmsError, Fixture, text } from '../support/local-kms.js';

const REGIONS = ['us-east-1', 'us-east-2', 'us-west-1'];
const fixture = new Fixture();
let kms: LocalKms;

beforeAll(async () => {
  kms = await fixture.start({ regions: REGIONS, regionPorts: { 'us-west-1': 0 } });
});
afterAll(() => fixture.cleanup());

describe('several regions on one port', () => {
  it('serves each region from the credential scope of the request, with its own keys and aliases', async () => {
    for (const region of REGIONS) {
      const client = fixture.client(kms, region);
      const { KeyMetadata } = await client.send(new CreateKeyCommand({ Description: `key of ${region}` }));
      expect(KeyMetadata?.Arn).toBe(`arn:aws:kms:${region}:111122223333:key/${KeyMetadata?.KeyId}`);
      await client.send(
        new CreateAliasCommand({ AliasName: 'alias/rkms-shared-name', TargetKeyId: KeyMetadata?.KeyId }),
      );
    }
    for (const region of REGIONS) {
      const described = await fixture
        .client(kms, region)
        .send(new DescribeKeyCommand({ KeyId: 'alias/rkms-shared-name' }));
      expect(described.KeyMetadata?.Description).toBe(`key of ${region}`);
    }
  });

  it('makes a key usable only in its own region', async () => {
    const east = fixture.client(kms, 'us-east-1');
    const east2 = fixture.client(kms, 'us-east-2');
    const { KeyMetadata } = await east.send(new CreateKeyCommand({}));
    const blob = (
      await east.send(new EncryptCommand({ KeyId: KeyMetadata?.KeyId, Plaintext: bytes('regional') }))
    ).CiphertextBlob;

    await expectKmsError(
      east2.send(new DescribeKeyCommand({ KeyId: KeyMetadata?.KeyId })),
      'NotFoundException',
    );
    const message = await expectKmsError(
      east2.send(new DescribeKeyCommand({ KeyId: KeyMetadata?.Arn })),
      'NotFoundException',
    );
    expect(message).toContain('only in its own region');
    await expectKmsError(
      east2.send(new EncryptCommand({ KeyId: KeyMetadata?.Arn, Plaintext: bytes('x') })),
      'NotFoundException',
    );
    await expectKmsError(
      east2.send(new DecryptCommand({ CiphertextBlob: blob })),
      'InvalidCiphertextException',
    );
    expect(text((await east.send(new DecryptCommand({ CiphertextBlob: blob }))).Plaintext)).toBe('regional');
  });

  it('lists only the keys of the region asked', async () => {
    const own = new Fixture();
    try {
      const server = await own.start({ regions: ['us-east-1', 'eu-west-1'] });
      await own.client(server, 'us-east-1').send(new CreateKeyCommand({}));
      await own.client(server, 'us-east-1').send(new CreateKeyCommand({}));
      await own.client(server, 'eu-west-1').send(new CreateKeyCommand({}));
      expect((await own.client(server, 'us-east-1').send(new ListKeysCommand({}))).Keys).toHaveLength(2);
      const west = (await own.client(server, 'eu-west-1').send(new ListKeysCommand({}))).Keys ?? [];
      expect(west.map((key) => key.KeyArn?.split(':')[3])).toEqual(['eu-west-1']);
    } finally {
      await own.cleanup();
    }
  });

  it('answers InvalidSignatureException for a region it does not serve', async () => {
    const message = await expectKmsError(
      fixture.client(kms, 'ap-south-1').send(new ListKeysCommand({})),
      'InvalidSignatureException',
    );
    expect(message).toContain('us-east-1, us-east-2, us-west-1');
  });
});

describe('per-region ports', () => {
  it('serves the region of the port whatever region the client signs for', async () => {
    const regionUrl = kms.regionUrls['us-west-1'] ?? '';
    expect(regionUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(regionUrl).not.toBe(kms.url);
    const viaPort = fixture.client(regionUrl, 'us-east-1');
    const { KeyMetadata } = await viaPort.send(
      new CreateKeyCommand({ Description: 'made on the region port' }),
    );
    expect(KeyMetadata?.Arn).toContain(':us-west-1:');
    const viaShared = fixture.client(kms, 'us-west-1');
    expect(
      (await viaShared.send(new DescribeKeyCommand({ KeyId: KeyMetadata?.KeyId }))).KeyMetadata?.Description,
    ).toBe('made on the region port');
  });
});
