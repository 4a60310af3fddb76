import Type from 'typebox';
import { REGION_NAME_PATTERN } from '../shared/region-name.js';
import { MAX_CACHE_TTL_SECONDS } from './defaults.js';
import { GrpcSection } from './grpc.js';
import { Audit, Auth, RateLimit, ServerSecuritySettings } from './security-schema.js';

/**
 * The config file. Section and key names keep the original Go RKMS's config.toml
 * (`[server] port`, `[kms] regions`, `key_ids`, `data_key_size_in_bytes`,
 * `[dynamodb] region`, `table_name`, ...) so an existing file loads unchanged;
 * the settings RKMS added sit beside them.
 */

const Region = Type.String({
  pattern: REGION_NAME_PATTERN,
  description: 'an AWS region name such as us-east-1',
});

const Url = Type.String({ pattern: '^https?://[^\\s]+$', description: 'an http:// or https:// URL' });

const Millis = (fallback: number, minimum = 1) =>
  Type.Integer({ minimum, maximum: 600_000, default: fallback, description: 'milliseconds' });

const Server = Type.Object(
  {
    host: Type.String({ minLength: 1, default: '127.0.0.1' }),
    // The original wrote the port as a string ("8080"); both forms load.
    port: Type.Integer({ minimum: 0, maximum: 65_535, default: 8080 }),
    api_version: Type.String({ pattern: '^[A-Za-z0-9._-]+$', default: 'v1' }),
    // One bound on a request's store and KMS calls together, retries and hedges included.
    request_timeout_ms: Millis(5_000, 100),
    // On SIGTERM: answer what is in flight, then close, within this long.
    shutdown_timeout_ms: Millis(10_000, 100),
    ...ServerSecuritySettings,
  },
  { additionalProperties: false, default: {} },
);

const Logger = Type.Object(
  {
    // `warning` and `panic` are the original's (logrus) names for pino's `warn` and `fatal`.
    level: Type.Enum(['trace', 'debug', 'info', 'warn', 'warning', 'error', 'fatal', 'panic', 'silent'], {
      default: 'info',
    }),
  },
  { additionalProperties: false, default: {} },
);

const Circuit = Type.Object(
  {
    failure_rate_percent: Type.Integer({ minimum: 1, maximum: 100, default: 50 }),
    minimum_calls: Type.Integer({ minimum: 1, default: 5 }),
    window_ms: Millis(10_000),
    reset_after_ms: Millis(5_000),
  },
  { additionalProperties: false, default: {} },
);

const Kms = Type.Object(
  {
    regions: Type.Array(Region, { minItems: 1, uniqueItems: true }),
    key_ids: Type.Record(Type.String(), Type.String({ minLength: 1 }), { default: {} }),
    endpoints: Type.Record(Type.String(), Url, { default: {} }),
    data_key_size_in_bytes: Type.Integer({ minimum: 1, maximum: 1024, default: 32 }),
    timeout_ms: Millis(2_000),
    connect_timeout_ms: Millis(1_000),
    max_attempts: Type.Integer({ minimum: 1, maximum: 10, default: 2 }),
    hedge_after_ms: Millis(200, 0),
    hedge_budget_percent: Type.Integer({ minimum: 0, maximum: 100, default: 20 }),
    // Its default (a majority of the regions) depends on `regions`: the loader fills it in, with key_ids'.
    min_regions: Type.Optional(Type.Integer({ minimum: 1 })),
    circuit: Circuit,
  },
  { additionalProperties: false },
);

const DynamoDb = Type.Object(
  {
    region: Region,
    table_name: Type.String({ pattern: '^[A-Za-z0-9_.-]{3,255}$', default: 'rkms_keys' }),
    endpoint: Type.Optional(Url),
    read_region: Type.Optional(Region),
    read_endpoint: Type.Optional(Url),
    create_table: Type.Boolean({ default: false }),
    timeout_ms: Millis(2_000),
    connect_timeout_ms: Millis(1_000),
    max_attempts: Type.Integer({ minimum: 1, maximum: 10, default: 3 }),
    circuit: Circuit,
    // The original's cache settings lived here; they still load.
    cache_expiration_in_minutes: Type.Optional(Type.Number({ minimum: 0 })),
    cache_cleanup_internal_in_minutes: Type.Optional(Type.Number({ minimum: 0 })),
  },
  { additionalProperties: false },
);

const Keys = Type.Object(
  {
    // At least a day: an accidental DELETE stays recoverable, and no cache outlives the window.
    deletion_window_days: Type.Integer({ minimum: 1, maximum: 365, default: 7 }),
    sweep_interval_minutes: Type.Integer({ minimum: 0, default: 0 }),
    repair_concurrency: Type.Integer({ minimum: 1, maximum: 64, default: 4 }),
  },
  { additionalProperties: false, default: {} },
);

const Cache = Type.Object(
  {
    ttl_seconds: Type.Integer({ minimum: 0, maximum: MAX_CACHE_TTL_SECONDS, default: 300 }),
    max_entries: Type.Integer({ minimum: 1, default: 10_000 }),
  },
  { additionalProperties: false, default: {} },
);

const Metrics = Type.Object(
  {
    // GET /metrics on a port of its own instead of the API port (0 picks a free port).
    port: Type.Optional(Type.Integer({ minimum: 0, maximum: 65_535 })),
    // The metrics port's interface; [server] host when unset.
    host: Type.Optional(Type.String({ minLength: 1 })),
  },
  { additionalProperties: false, default: {} },
);

const Embedded = Type.Object(
  {
    kms: Type.Boolean({ default: false }),
    dynamodb: Type.Boolean({ default: false }),
    data_dir: Type.String({ minLength: 1, default: './data' }),
  },
  { additionalProperties: false, default: {} },
);

export const ConfigSchema = Type.Object(
  {
    server: Server,
    logger: Logger,
    kms: Kms,
    dynamodb: DynamoDb,
    keys: Keys,
    cache: Cache,
    metrics: Metrics,
    embedded: Embedded,
    grpc: GrpcSection,
    auth: Auth,
    audit: Audit,
    rate_limit: RateLimit,
  },
  { additionalProperties: false },
);

/** The file as the schema reads it, with the schema's own defaults. */
export type ConfigFile = Type.Static<typeof ConfigSchema>;

/**
 * The config as the loader hands it to the rest of RKMS: the defaults that depend on other
 * settings are filled in, so nothing downstream applies a default again.
 */
export type Config = Omit<ConfigFile, 'kms'> & { kms: KmsConfig };

export type KmsConfig = Omit<ConfigFile['kms'], 'min_regions' | 'key_ids'> & {
  /** Region → key id or alias, for every region of `regions` and in its order (`alias/rkms-<region>` by default). */
  key_ids: Record<string, string>;
  /** A majority of the regions unless the file says otherwise. */
  min_regions: number;
};

export type DynamoDbConfig = Config['dynamodb'];
