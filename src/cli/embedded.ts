import { mkdir } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import {
  CreateAliasCommand,
  CreateKeyCommand,
  DescribeKeyCommand,
  NotFoundException,
} from '@aws-sdk/client-kms';
import type { AwsCredentialIdentity } from '@smithy/types';
import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import { createKmsClient } from '../kms/aws-backend.js';
import { ensureTable } from '../store/table.js';
import type { EmbeddedEndpoints } from './compose.js';
import { answerLoopbackNamesOnly } from './loopback-store.js';

/**
 * Credentials for the embedded local KMS and store, which accept any signature.
 * Real endpoints use the SDK's default credential chain instead.
 */
export const EMBEDDED_CREDENTIALS: AwsCredentialIdentity = {
  accessKeyId: 'rkms-embedded',
  secretAccessKey: 'rkms-embedded',
};

export interface Embedded {
  endpoints: EmbeddedEndpoints;
  /** One line per part that runs, for the start banner. */
  summary: string[];
  close(): Promise<void>;
}

/**
 * Starts what `[embedded]` asks for: the local KMS (keys under <data_dir>/kms) and a
 * dynalite store (under <data_dir>/dynamodb), both on ephemeral loopback ports. Each is
 * loaded only when asked for, so production never loads dynalite's native LevelDB binding.
 */
export async function startEmbedded(config: Config, logger: Logger): Promise<Embedded> {
  const closers: (() => Promise<void>)[] = [];
  const summary: string[] = [];
  const endpoints: EmbeddedEndpoints = { credentials: EMBEDDED_CREDENTIALS };
  const close = async () => {
    for (const closer of closers.reverse()) await closer();
  };
  try {
    // The local KMS first: a data directory in use by another RKMS is reported clearly by its lock.
    if (config.embedded.kms) {
      const dir = path.join(config.embedded.data_dir, 'kms');
      const { startLocalKms, StoreLockedError } = await import('../localkms/index.js');
      const kms = await startLocalKms({ regions: config.kms.regions, dataDir: dir, port: 0, logger }).catch(
        (err: unknown) => {
          if (!(err instanceof StoreLockedError) || err.holder === undefined) throw err;
          throw new Error(
            `${err.dir} is in use by ${err.holder} (a running rkms serve, or another local KMS): ` +
              'stop it, or set [embedded] data_dir (or RKMS_DATA_DIR) to another directory',
            { cause: err },
          );
        },
      );
      closers.push(() => kms.close());
      endpoints.kms = kms.url;
      await ensureEmbeddedKeys(config, kms.url);
      summary.push(`local KMS at ${kms.url} (regions ${config.kms.regions.join(', ')}), keys in ${dir}`);
    }
    if (config.embedded.dynamodb) {
      const dir = path.join(config.embedded.data_dir, 'dynamodb');
      await mkdir(dir, { recursive: true });
      const { default: dynalite } = await import('dynalite').catch((err: unknown) => {
        throw new Error(
          'the embedded store needs dynalite, an optional dependency that is not installed: ' +
            'run `npm install` (not --omit=optional), or set [embedded] dynamodb = false',
          { cause: err },
        );
      });
      const server = dynalite({ path: dir, createTableMs: 0 });
      answerLoopbackNamesOnly(server);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, '127.0.0.1', resolve);
      });
      endpoints.dynamodb = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      closers.push(
        () =>
          new Promise<void>((resolve) => {
            server.closeAllConnections();
            server.close(() => {
              resolve();
            });
          }),
      );
      await ensureTable(
        { ...config.dynamodb, endpoint: endpoints.dynamodb },
        { credentials: EMBEDDED_CREDENTIALS, logger },
      );
      summary.push(`DynamoDB-compatible store (dynalite) at ${endpoints.dynamodb}, data in ${dir}`);
    }
  } catch (err) {
    await close();
    throw err;
  }
  return { endpoints, summary, close };
}

/** Creates each region's `alias/...` key in a local KMS when it does not exist yet. */
export async function ensureEmbeddedKeys(config: Config, endpoint: string): Promise<void> {
  for (const [region, keyId] of Object.entries(config.kms.key_ids)) {
    const client = createKmsClient({ region, endpoint, credentials: EMBEDDED_CREDENTIALS, kms: config.kms });
    try {
      await client.send(new DescribeKeyCommand({ KeyId: keyId }));
    } catch (err) {
      if (!(err instanceof NotFoundException)) throw err;
      if (!keyId.startsWith('alias/')) {
        throw new Error(
          `kms.key_ids.${region}: key ${keyId} does not exist in the embedded local KMS; ` +
            'use an alias (alias/...) so RKMS can create the key on first start',
          { cause: err },
        );
      }
      const created = await client.send(
        new CreateKeyCommand({ Description: `RKMS embedded key for ${region}` }),
      );
      await client.send(
        new CreateAliasCommand({ AliasName: keyId, TargetKeyId: created.KeyMetadata?.KeyId }),
      );
    } finally {
      client.destroy();
    }
  }
}
