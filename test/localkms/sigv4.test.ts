import { CreateKeyCommand, ListKeysCommand, type ListKeysCommandOutput } from '@aws-sdk/client-kms';
import type { FinalizeRequestMiddleware } from '@smithy/types';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalKms } from '../../src/localkms/index.js';
import { expectKmsError, Fixture } from '../support/local-kms.js';

const fixture = new Fixture();
let kms: LocalKms;

beforeAll(async () => {
  kms = await fixture.start({
    regions: ['us-east-1', 'us-west-2'],
    accessKeys: { AKIDLOCALTEST: 'local-secret' },
  });
});
afterAll(() => fixture.cleanup());

describe('SigV4 signature checks', () => {
  it('accepts calls signed with a configured access key, in every region', async () => {
    for (const region of ['us-east-1', 'us-west-2']) {
      const client = fixture.client(kms, region, {
        credentials: { accessKeyId: 'AKIDLOCALTEST', secretAccessKey: 'local-secret' },
      });
      expect((await client.send(new CreateKeyCommand({ Description: 'signed' }))).KeyMetadata?.Arn).toContain(
        `:${region}:`,
      );
    }
  });

  it('answers InvalidSignatureException for a wrong secret', async () => {
    const client = fixture.client(kms, 'us-east-1', {
      credentials: { accessKeyId: 'AKIDLOCALTEST', secretAccessKey: 'not-the-secret' },
    });
    await expectKmsError(client.send(new ListKeysCommand({})), 'InvalidSignatureException');
  });

  it('answers InvalidSignatureException when the body changed after signing', async () => {
    const client = fixture.client(kms, 'us-east-1', {
      credentials: { accessKeyId: 'AKIDLOCALTEST', secretAccessKey: 'local-secret' },
    });
    const tamperAfterSigning: FinalizeRequestMiddleware<object, ListKeysCommandOutput> =
      (next) => async (args) => {
        const request = args.request as { body?: string; headers: Record<string, string> };
        request.body = JSON.stringify({ Limit: 7 });
        request.headers['content-length'] = String(Buffer.byteLength(request.body));
        return next(args);
      };
    client.middlewareStack.addRelativeTo(tamperAfterSigning, {
      relation: 'after',
      toMiddleware: 'httpSigningMiddleware',
      name: 'tamperAfterSigning',
    });
    await expectKmsError(client.send(new ListKeysCommand({ Limit: 5 })), 'InvalidSignatureException');
  });

  it('answers UnrecognizedClientException for an unknown access key', async () => {
    await expectKmsError(fixture.client(kms).send(new ListKeysCommand({})), 'UnrecognizedClientException');
  });

  it('answers MissingAuthenticationTokenException to an unsigned call', async () => {
    const response = await fetch(kms.url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-amz-json-1.1', 'X-Amz-Target': 'TrentService.ListKeys' },
      body: '{}',
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { __type: string }).__type).toBe(
      'MissingAuthenticationTokenException',
    );
  });

  it('checks nothing when no access keys are configured', async () => {
    const open = await fixture.start();
    const response = await fetch(open.url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-amz-json-1.1', 'X-Amz-Target': 'TrentService.ListKeys' },
      body: '{}',
    });
    expect(response.status).toBe(200);
  });
});
