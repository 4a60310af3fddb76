import type { AwsCredentialIdentity } from '@smithy/types';
import type { Logger } from 'pino';
import type { KmsConfig } from '../config/schema.js';
import type { Clock } from '../resilience/clock.js';
import { HedgeBudget } from '../resilience/hedge-budget.js';
import { AwsKmsBackend } from './aws-backend.js';
import { Region, type RegionOptions } from './region.js';
import { RegionalKms } from './regional-kms.js';

/** Hedges always allowed per budget window, so light traffic can hedge too. */
const HEDGE_FLOOR = 10;

export interface RegionalKmsFromConfigOptions {
  config: KmsConfig;
  clock: Clock;
  /** Overrides every region's endpoint: the embedded local KMS. */
  endpoint?: string | undefined;
  credentials?: AwsCredentialIdentity | undefined;
  logger?: Logger | undefined;
  onCall?: RegionOptions['onCall'];
  onHedge?: (region: string) => void;
  onHedgeWon?: (region: string) => void;
}

export function regionalKmsFromConfig(options: RegionalKmsFromConfigOptions): RegionalKms {
  const { config, clock, endpoint, credentials, logger, onCall, onHedge, onHedgeWon } = options;
  // key_ids lists every region, in the configured order (nearest first).
  const regions = Object.entries(config.key_ids).map(
    ([name, keyId]) =>
      new Region({
        name,
        keyId,
        backend: new AwsKmsBackend({
          region: name,
          endpoint: endpoint ?? config.endpoints[name],
          kms: config,
          credentials,
        }),
        circuit: config.circuit,
        attemptTimeoutMs: config.timeout_ms,
        clock,
        logger,
        onCall,
      }),
  );
  return new RegionalKms(regions, {
    hedgeAfterMs: config.hedge_after_ms,
    minRegions: config.min_regions,
    budget: new HedgeBudget({
      percent: config.hedge_budget_percent,
      floor: HEDGE_FLOOR,
      windowMs: config.circuit.window_ms,
      clock,
    }),
    onHedge,
    onHedgeWon,
  });
}
