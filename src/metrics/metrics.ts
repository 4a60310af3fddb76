import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { SecurityEvent } from '../auth/events.js';
import type { CircuitState } from '../resilience/circuit-breaker.js';
import { CounterTallies, HistogramTallies, type CountTally, type HistogramTally } from './tallies.js';

/** What the circuit gauges read at scrape time. */
export interface MetricsSources {
  regions(): readonly { region: string; circuit: CircuitState }[];
  storeCircuit(): CircuitState;
  cacheSize(): number;
}

const CIRCUIT_VALUE: Record<CircuitState, number> = { closed: 0, 'half-open': 1, open: 2 };
const SECONDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * RKMS's Prometheus metrics. Labels name routes, regions, operations and outcomes —
 * never an id, and never anything derived from key material.
 */
export class Metrics {
  readonly registry = new Registry();

  private readonly httpRequests = new CounterTallies(
    'rkms_http_requests_total',
    'HTTP requests answered, by route pattern, method and status',
    this.registry,
  );
  private readonly httpDuration = new HistogramTallies(
    'rkms_http_request_duration_seconds',
    'Time to answer an HTTP request, by route pattern and method',
    SECONDS,
    this.registry,
  );
  readonly grpcRequests = new Counter({
    name: 'rkms_grpc_requests_total',
    help: 'gRPC calls of rkms.v1.Rkms answered, by method (GetKey, CreateKey, DeleteKey, RestoreKey) and status code (OK, NOT_FOUND, ...)',
    labelNames: ['method', 'code'] as const,
    registers: [this.registry],
  });
  readonly grpcDuration = new Histogram({
    name: 'rkms_grpc_request_duration_seconds',
    help: 'Time to answer a gRPC call of rkms.v1.Rkms, by method',
    labelNames: ['method'] as const,
    buckets: SECONDS,
    registers: [this.registry],
  });
  readonly kmsCalls = new Counter({
    name: 'rkms_kms_calls_total',
    help: 'KMS calls by region, operation and outcome (ok, throttled, transient, misconfigured, rejected, cancelled)',
    labelNames: ['region', 'operation', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly kmsDuration = new Histogram({
    name: 'rkms_kms_call_duration_seconds',
    help: 'KMS call latency by region and operation (every outcome)',
    labelNames: ['region', 'operation'] as const,
    buckets: SECONDS,
    registers: [this.registry],
  });
  readonly hedges = new Counter({
    name: 'rkms_kms_hedges_total',
    help: 'Hedged KMS calls started (a slow region was not waited for), by the region asked',
    labelNames: ['region'] as const,
    registers: [this.registry],
  });
  readonly hedgesWon = new Counter({
    name: 'rkms_kms_hedges_won_total',
    help: 'Hedged KMS calls that answered first, by region',
    labelNames: ['region'] as const,
    registers: [this.registry],
  });
  // A tally, like the HTTP metrics: every cached read counts a hit.
  private readonly cacheLookups = new CounterTallies(
    'rkms_cache_lookups_total',
    'Key cache lookups by result (hit, miss)',
    this.registry,
  );
  private readonly cacheHits = this.cacheLookups.of({ result: 'hit' });
  private readonly cacheMisses = this.cacheLookups.of({ result: 'miss' });
  readonly merged = new Counter({
    name: 'rkms_single_flight_merged_total',
    help: 'Requests that joined a load of the same id already in flight',
    registers: [this.registry],
  });
  readonly storeCalls = new Counter({
    name: 'rkms_store_calls_total',
    help: 'Key store calls by operation (read, write, scan) and outcome',
    labelNames: ['operation', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly storeDuration = new Histogram({
    name: 'rkms_store_call_duration_seconds',
    help: 'Key store call latency by operation',
    labelNames: ['operation'] as const,
    buckets: SECONDS,
    registers: [this.registry],
  });
  readonly keysCreated = new Counter({
    name: 'rkms_keys_created_total',
    help: 'Data keys created',
    registers: [this.registry],
  });
  readonly copiesRepaired = new Counter({
    name: 'rkms_copies_repaired_total',
    help: 'Copies of keys added or replaced by repair, by region',
    labelNames: ['region'] as const,
    registers: [this.registry],
  });
  readonly incomplete = new Counter({
    name: 'rkms_incomplete_items_served_total',
    help: 'Keys served that lacked a good copy in a region (missing, malformed or refused), by region',
    labelNames: ['region'] as const,
    registers: [this.registry],
  });
  readonly authDenials = new Counter({
    name: 'rkms_auth_denials_total',
    help: 'Requests and gRPC calls refused by authentication (unauthenticated: 401, UNAUTHENTICATED) or authorization (forbidden: 403, PERMISSION_DENIED), by client name',
    labelNames: ['kind', 'client'] as const,
    registers: [this.registry],
  });
  readonly rateLimited = new Counter({
    name: 'rkms_rate_limited_total',
    help: 'Requests and gRPC calls refused by a rate limit (429, RESOURCE_EXHAUSTED), by limit (requests, creates) and client name',
    labelNames: ['limit', 'client'] as const,
    registers: [this.registry],
  });
  readonly auditFailures = new Counter({
    name: 'rkms_audit_failures_total',
    help: 'Audit lines that could not be written (the answers were withheld: 503 AuditUnavailable)',
    registers: [this.registry],
  });

  private sources: MetricsSources = { regions: () => [], storeCircuit: () => 'closed', cacheSize: () => 0 };

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'rkms_' });
    const read = () => this.sources;
    new Gauge({
      name: 'rkms_kms_circuit_state',
      help: 'Each KMS region circuit: 0 closed, 1 half-open (probe due), 2 open (skipped)',
      labelNames: ['region'] as const,
      registers: [this.registry],
      collect() {
        for (const { region, circuit } of read().regions()) this.set({ region }, CIRCUIT_VALUE[circuit]);
      },
    });
    new Gauge({
      name: 'rkms_store_circuit_state',
      help: 'The key store circuit: 0 closed, 1 half-open (probe due), 2 open (answering 503 at once)',
      registers: [this.registry],
      collect() {
        this.set(CIRCUIT_VALUE[read().storeCircuit()]);
      },
    });
    new Gauge({
      name: 'rkms_cache_keys',
      help: 'Decrypted keys held in the cache',
      registers: [this.registry],
      collect() {
        this.set(read().cacheSize());
      },
    });
  }

  /** One answered HTTP request. The tallies are looked up once per route, method and status. */
  recordHttp(route: string, method: string, status: number, seconds: number): void {
    const key = `${method} ${route} ${status}`;
    let series = this.httpSeries.get(key);
    if (!series) {
      series = {
        count: this.httpRequests.of({ route, method, status }),
        duration: this.httpDuration.of({ route, method }),
      };
      this.httpSeries.set(key, series);
    }
    series.count.value += 1;
    series.duration.observe(seconds);
  }

  private readonly httpSeries = new Map<string, { count: CountTally; duration: HistogramTally }>();

  /** One answered gRPC call: method and code are bounded sets, never the id. */
  readonly onGrpcCall = (call: { method: string; code: string; seconds: number }): void => {
    this.grpcRequests.inc({ method: call.method, code: call.code });
    this.grpcDuration.observe({ method: call.method }, call.seconds);
  };

  /** Where the gauges read the state they report, once the parts exist. */
  watch(sources: MetricsSources): void {
    this.sources = sources;
  }

  readonly onKmsCall = (call: { region: string; operation: string; outcome: string; ms: number }): void => {
    this.kmsCalls.inc({ region: call.region, operation: call.operation, outcome: call.outcome });
    this.kmsDuration.observe({ region: call.region, operation: call.operation }, call.ms / 1000);
  };

  readonly onStoreCall = (call: { operation: string; outcome: string; ms: number }): void => {
    this.storeCalls.inc({ operation: call.operation, outcome: call.outcome });
    this.storeDuration.observe({ operation: call.operation }, call.ms / 1000);
  };

  readonly onHedge = (region: string): void => {
    this.hedges.inc({ region });
  };

  readonly onHedgeWon = (region: string): void => {
    this.hedgesWon.inc({ region });
  };

  readonly onRepaired = (region: string): void => {
    this.copiesRepaired.inc({ region });
  };

  readonly onIncomplete = (region: string): void => {
    this.incomplete.inc({ region });
  };

  /** Refusals by the access controls. Client names come from the config: a bounded label. */
  readonly onSecurityEvent = (event: SecurityEvent): void => {
    switch (event.type) {
      case 'unauthenticated':
        this.authDenials.inc({ kind: 'unauthenticated', client: 'unknown' });
        break;
      case 'forbidden':
        this.authDenials.inc({ kind: 'forbidden', client: event.client });
        break;
      case 'rate_limited':
        this.rateLimited.inc({ limit: event.limit, client: event.client });
        break;
      case 'audit_failed':
        this.auditFailures.inc();
    }
  };

  readonly keyEvents = {
    cacheHit: (): void => {
      this.cacheHits.value += 1;
    },
    cacheMiss: (): void => {
      this.cacheMisses.value += 1;
    },
    merged: (): void => {
      this.merged.inc();
    },
    created: (): void => {
      this.keysCreated.inc();
    },
  };

  /** The exposition text, for `GET /metrics`. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
