import { parseConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';

export const TEST_REGIONS = ['us-east-1', 'us-east-2', 'us-west-1'];

type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? DeepPartial<T[K]> : T[K] };

/** A full config as the loader would produce it, from the sections a test cares about. */
export function testConfig(
  overrides: DeepPartial<Record<keyof Config, Record<string, unknown>>> = {},
): Config {
  const { server, kms, dynamodb, keys, cache, logger, embedded, ...security } = overrides;
  return parseConfig(
    {
      server: { port: 0, ...server },
      logger: { level: 'trace', ...logger },
      kms: { regions: TEST_REGIONS, timeout_ms: 2000, ...kms },
      dynamodb: {
        region: 'us-east-1',
        table_name: `rkms_test_${Math.random().toString(36).slice(2, 10)}`,
        ...dynamodb,
      },
      keys: { ...keys },
      cache: { ...cache },
      embedded: { ...embedded },
      // auth, audit, rate_limit: as given
      ...security,
    },
    { baseDir: process.cwd() },
  );
}
