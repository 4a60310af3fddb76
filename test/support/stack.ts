import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { EMBEDDED_CREDENTIALS } from '../../src/config/aws.js';
import type { Config } from '../../src/config/schema.js';
import { createService, type Service } from '../../src/cli/compose.js';
import { ensureEmbeddedKeys } from '../../src/cli/embedded.js';
import { startLocalKms, type LocalKms } from '../../src/localkms/index.js';
import { auditedLogger } from './audit.js';
import { startDynalite, type RunningDynalite } from './dynalite.js';

export interface RunningService {
  service: Service;
  url: string;
}

export interface Stack {
  config: Config;
  kms: LocalKms;
  dynalite: RunningDynalite;
  logger: Logger;
  /** Starts one more RKMS replica on the same store and KMS. */
  startService(overrides?: Partial<Config>, clock?: () => number): Promise<RunningService>;
  close(): Promise<void>;
}

/** The real parts over real HTTP: dynalite, the local KMS (in memory), and RKMS replicas. */
export async function startStack(config: Config, label: string): Promise<Stack> {
  const logger = auditedLogger(label);
  const dynalite = await startDynalite();
  const kms = await startLocalKms({ regions: config.kms.regions, port: 0, logger });
  await ensureEmbeddedKeys(config, kms.url);
  const services: Service[] = [];
  return {
    config,
    kms,
    dynalite,
    logger,
    async startService(overrides = {}, clock) {
      const service = await createService(
        { ...config, ...overrides, dynamodb: { ...config.dynamodb, create_table: true } },
        logger,
        { kms: kms.url, dynamodb: dynalite.endpoint, credentials: EMBEDDED_CREDENTIALS },
        clock,
      );
      services.push(service);
      await service.app.listen({ host: '127.0.0.1', port: 0 });
      return { service, url: `http://127.0.0.1:${(service.app.server.address() as AddressInfo).port}` };
    },
    async close() {
      for (const service of services) await service.close();
      await kms.close();
      await dynalite.close();
    },
  };
}
