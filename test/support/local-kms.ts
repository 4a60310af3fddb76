import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateKeyCommand,
  KMSClient,
  type CreateKeyCommandInput,
  type KMSClientConfig,
} from '@aws-sdk/client-kms';
import { expect } from 'vitest';
import { startLocalKms, type LocalKms, type LocalKmsOptions } from '../../src/localkms/index.js';
import { auditedLogger, recordKey } from './audit.js';

export const TEST_CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' };

/** Servers, clients and directories made by a test file, released by `cleanup` in afterAll/afterEach. */
export class Fixture {
  private readonly servers: LocalKms[] = [];
  private readonly clients: KMSClient[] = [];
  private readonly dirs: string[] = [];

  async start(options: Partial<LocalKmsOptions> = {}): Promise<LocalKms> {
    const kms = await startLocalKms({
      regions: ['us-east-1'],
      host: '127.0.0.1',
      port: 0,
      logger: auditedLogger('localkms'),
      ...options,
    });
    this.servers.push(kms);
    return kms;
  }

  client(kms: LocalKms | string, region = 'us-east-1', config: Partial<KMSClientConfig> = {}): KMSClient {
    const client = new KMSClient({
      region,
      endpoint: typeof kms === 'string' ? kms : kms.url,
      credentials: TEST_CREDENTIALS,
      maxAttempts: 1,
      ...config,
    });
    // Every plaintext, private key and MAC the server hands out is remembered for the log audit.
    client.middlewareStack.add(
      (next) => async (args) => {
        const result = await next(args);
        const output: object = result.output;
        for (const member of ['Plaintext', 'PrivateKeyPlaintext', 'Mac']) {
          const secret: unknown = Reflect.get(output, member);
          if (secret instanceof Uint8Array && secret.length >= 16)
            recordKey(Buffer.from(secret).toString('base64'));
        }
        return result;
      },
      { step: 'initialize', name: 'recordPlaintextForAudit' },
    );
    this.clients.push(client);
    return client;
  }

  async tempDir(): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'rkms-localkms-'));
    this.dirs.push(dir);
    return dir;
  }

  async cleanup(): Promise<void> {
    for (const client of this.clients.splice(0)) client.destroy();
    await Promise.all(this.servers.splice(0).map((server) => server.close()));
    await Promise.all(this.dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
  }
}

/** The error a rejected SDK call carries: its AWS name and HTTP status. */
export async function kmsErrorOf(
  call: Promise<unknown>,
): Promise<{ name: string; status: number | undefined; message: string }> {
  try {
    await call;
  } catch (error) {
    const e = error as { name: string; message: string; $metadata?: { httpStatusCode?: number } };
    return { name: e.name, status: e.$metadata?.httpStatusCode, message: e.message };
  }
  throw new Error('expected the call to fail, but it succeeded');
}

export async function expectKmsError(call: Promise<unknown>, name: string, status = 400): Promise<string> {
  const error = await kmsErrorOf(call);
  expect({ name: error.name, status: error.status }).toEqual({ name, status });
  return error.message;
}

export function bytes(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

export function text(value: Uint8Array | undefined): string {
  return new TextDecoder().decode(value);
}

/** A new key in the client's region: its id and ARN. */
export async function createKey(
  client: KMSClient,
  input: CreateKeyCommandInput = {},
): Promise<{ keyId: string; arn: string }> {
  const { KeyMetadata } = await client.send(new CreateKeyCommand(input));
  return { keyId: KeyMetadata?.KeyId ?? '', arn: KeyMetadata?.Arn ?? '' };
}
