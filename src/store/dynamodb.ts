import { DescribeTableCommand, DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
  paginateScan,
} from '@aws-sdk/lib-dynamodb';
import type { AwsCredentialIdentity } from '@smithy/types';
import type { Logger } from 'pino';
import type { DynamoDbConfig } from '../config/schema.js';
import { awsRequestHandler } from '../resilience/aws-http.js';
import { CircuitBreaker } from '../resilience/circuit-breaker.js';
import type { Clock } from '../resilience/clock.js';
import { abortable, deadlineAfter, isDeadline } from '../resilience/deadline.js';
import { classifyAwsError, logDetail } from '../resilience/failures.js';
import { CONTEXT_MARKER, encodeCopies, names, recordFromItem } from './item.js';
import {
  CHANGED,
  MalformedItemError,
  StoreUnavailableError,
  type Changed,
  type KeyRecord,
  type KeyState,
  type NewKey,
  type Store,
  type StoreHealth,
  type StoredKey,
  type Tombstone,
} from './store.js';

/** Matches an item still at `version`; items the original RKMS wrote have no version attribute. */
function versionIs(version: number) {
  return version === 0
    ? { condition: 'attribute_not_exists(#version)', values: {} }
    : { condition: '#version = :expected', values: { ':expected': version } };
}

export interface DynamoStoreOptions {
  config: DynamoDbConfig;
  clock: Clock;
  /** Only for the embedded store; real tables use the SDK's credential chain. */
  credentials?: AwsCredentialIdentity | undefined;
  logger?: Logger | undefined;
  /** Told about every call's outcome, for the metrics. */
  onCall?: (call: { operation: string; outcome: string; ms: number }) => void;
}

type Operation = 'read' | 'write' | 'scan';

export class DynamoStore implements Store {
  /** The home region's client: conditional writes and authoritative reads go here. */
  private readonly writer: DynamoDBDocumentClient;
  /** A nearby replica for reads, when configured; the writer otherwise. */
  private readonly reader: DynamoDBDocumentClient;
  private readonly table: string;
  private readonly breaker: CircuitBreaker;
  private readonly clock: Clock;
  private readonly onCall: DynamoStoreOptions['onCall'];
  /** A call still unanswered after this long has had at least one attempt time out. */
  private readonly attemptTimeoutMs: number;
  private lastFailure: { at: string; reason: string } | undefined;

  constructor({ config, clock, credentials, logger, onCall }: DynamoStoreOptions) {
    const clientConfig = (region: string, endpoint: string | undefined): DynamoDBClientConfig => ({
      region,
      maxAttempts: config.max_attempts,
      requestHandler: awsRequestHandler(config),
      ...(endpoint ? { endpoint } : {}),
      ...(credentials ? { credentials } : {}),
    });
    this.table = config.table_name;
    this.clock = clock;
    this.onCall = onCall;
    this.attemptTimeoutMs = config.timeout_ms;
    this.writer = DynamoDBDocumentClient.from(
      new DynamoDBClient(clientConfig(config.region, config.endpoint)),
    );
    const separateReader = config.read_region !== undefined || config.read_endpoint !== undefined;
    this.reader = separateReader
      ? DynamoDBDocumentClient.from(
          new DynamoDBClient(clientConfig(config.read_region ?? config.region, config.read_endpoint)),
        )
      : this.writer;
    this.breaker = new CircuitBreaker({
      failureRatePercent: config.circuit.failure_rate_percent,
      minimumCalls: config.circuit.minimum_calls,
      windowMs: config.circuit.window_ms,
      resetAfterMs: config.circuit.reset_after_ms,
      clock,
      onChange: ({ to }) => {
        if (to === 'open') {
          logger?.warn(
            { table: this.table, retryAfterMs: config.circuit.reset_after_ms },
            'key store circuit opened after repeated failures: answering 503 at once until a probe succeeds',
          );
        } else if (to === 'closed')
          logger?.info({ table: this.table }, 'key store healthy again: circuit closed');
      },
    });
  }

  /** The store's circuit and its last failure, for readiness. */
  get health(): StoreHealth {
    return { circuit: this.breaker.state, ...(this.lastFailure ? { lastFailure: this.lastFailure } : {}) };
  }

  async get(id: string, signal?: AbortSignal): Promise<KeyRecord | undefined> {
    const found = await this.read(this.reader, id, signal);
    // A replica may not have the item yet; only the home region can say it does not exist.
    if (found || this.reader === this.writer) return found;
    return this.read(this.writer, id, signal);
  }

  private async read(
    client: DynamoDBDocumentClient,
    id: string,
    signal: AbortSignal | undefined,
  ): Promise<KeyRecord | undefined> {
    const reply = await this.call('read', signal, (abortSignal) =>
      client.send(new GetCommand({ TableName: this.table, Key: { id }, ConsistentRead: true }), {
        abortSignal,
      }),
    );
    return reply.Item ? recordFromItem(id, reply.Item) : undefined;
  }

  async create(
    key: NewKey,
    { replacing, signal }: { replacing?: Tombstone; signal?: AbortSignal } = {},
  ): Promise<'created' | 'exists'> {
    // Versions keep growing across re-creation, so a writer holding the destroyed key's
    // record can never mistake the new item for the one it read.
    const version = (replacing?.version ?? 0) + 1;
    const item = {
      id: key.id,
      keys: encodeCopies(key.copies),
      ctx: CONTEXT_MARKER,
      created_at: key.createdAt,
      version,
      state: 'Enabled' satisfies KeyState,
    };
    const condition = replacing
      ? {
          ConditionExpression: '#state = :deleted AND #version = :tombstone',
          ExpressionAttributeNames: names('#state', '#version'),
          ExpressionAttributeValues: {
            ':deleted': 'Deleted' satisfies KeyState,
            ':tombstone': replacing.version,
          },
        }
      : { ConditionExpression: 'attribute_not_exists(#id)', ExpressionAttributeNames: names('#id') };
    const outcome = await this.conditional('write', signal, (abortSignal) =>
      this.writer.send(new PutCommand({ TableName: this.table, Item: item, ...condition }), { abortSignal }),
    );
    return outcome === CHANGED ? 'exists' : 'created';
  }

  async scheduleDeletion(
    key: StoredKey,
    deletionDate: string,
    signal?: AbortSignal,
  ): Promise<StoredKey | Changed> {
    return this.update<StoredKey>(key, signal, {
      expression: 'SET #state = :state, #deletion = :deletion, #version = :next',
      names: names('#state', '#deletion'),
      values: { ':state': 'PendingDeletion' satisfies KeyState, ':deletion': deletionDate },
    });
  }

  async cancelDeletion(key: StoredKey, signal?: AbortSignal): Promise<StoredKey | Changed> {
    return this.update<StoredKey>(key, signal, {
      expression: 'SET #state = :state, #version = :next REMOVE #deletion',
      names: names('#state', '#deletion'),
      values: { ':state': 'Enabled' satisfies KeyState },
    });
  }

  async destroy(key: StoredKey, signal?: AbortSignal): Promise<Tombstone | Changed> {
    return this.update<Tombstone>(key, signal, {
      expression: 'SET #state = :deleted, #version = :next REMOVE #keys, #ctx',
      names: names('#state', '#keys', '#ctx'),
      values: { ':deleted': 'Deleted' satisfies KeyState, ':pending': 'PendingDeletion' satisfies KeyState },
      condition: '#state = :pending',
    });
  }

  async putCopy(
    key: StoredKey,
    region: string,
    ciphertext: Uint8Array,
    signal?: AbortSignal,
  ): Promise<StoredKey | Changed> {
    return this.update<StoredKey>(key, signal, {
      expression: 'SET #keys.#region = :copy, #version = :next',
      names: { ...names('#keys'), '#region': region },
      values: { ':copy': Buffer.from(ciphertext).toString('base64') },
    });
  }

  /** A conditional update of an item still at the version `key` was read at; returns the item after it. */
  private async update<After extends KeyRecord>(
    key: StoredKey,
    signal: AbortSignal | undefined,
    change: {
      expression: string;
      names: Record<string, string>;
      values: Record<string, unknown>;
      condition?: string;
    },
  ): Promise<After | Changed> {
    const expected = versionIs(key.version);
    const condition = ['attribute_exists(#id)', expected.condition, change.condition]
      .filter(Boolean)
      .join(' AND ');
    const reply = await this.conditional('write', signal, (abortSignal) =>
      this.writer.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { id: key.id },
          UpdateExpression: change.expression,
          ConditionExpression: condition,
          ExpressionAttributeNames: { ...change.names, ...names('#id', '#version') },
          ExpressionAttributeValues: { ...change.values, ...expected.values, ':next': key.version + 1 },
          ReturnValues: 'ALL_NEW',
        }),
        { abortSignal },
      ),
    );
    return reply === CHANGED ? CHANGED : (recordFromItem(key.id, reply.Attributes ?? {}) as After);
  }

  async *scan(filter: { state?: KeyState } = {}): AsyncIterable<KeyRecord | MalformedItemError> {
    const pages = paginateScan(
      { client: this.writer },
      {
        TableName: this.table,
        ConsistentRead: true,
        ...(filter.state
          ? {
              FilterExpression: '#state = :state',
              ExpressionAttributeNames: names('#state'),
              ExpressionAttributeValues: { ':state': filter.state },
            }
          : {}),
      },
    );
    const iterator = pages[Symbol.asyncIterator]();
    for (;;) {
      const page = await this.call('scan', undefined, () => iterator.next());
      if (page.done) return;
      for (const item of page.value.Items ?? []) {
        const id: unknown = item.id;
        if (typeof id !== 'string') continue;
        try {
          yield recordFromItem(id, item);
        } catch (err) {
          if (!(err instanceof MalformedItemError)) throw err;
          yield err;
        }
      }
    }
  }

  /**
   * DescribeTable's ItemCount, which DynamoDB refreshes about every six hours (0 until it
   * first counts: no estimate). Outside the circuit: a role without DescribeTable only
   * loses the estimate.
   */
  async approximateCount(): Promise<number | undefined> {
    try {
      const reply = await this.writer.send(new DescribeTableCommand({ TableName: this.table }), {
        abortSignal: deadlineAfter(this.attemptTimeoutMs),
      });
      const count = reply.Table?.ItemCount;
      return count !== undefined && count > 0 ? count : undefined;
    } catch {
      return undefined;
    }
  }

  async ping(signal?: AbortSignal): Promise<void> {
    await this.call('read', signal, (abortSignal) =>
      this.writer.send(new GetCommand({ TableName: this.table, Key: { id: '\u0000rkms:ping' } }), {
        abortSignal,
      }),
    );
  }

  close(): void {
    this.writer.destroy();
    if (this.reader !== this.writer) this.reader.destroy();
  }

  /** A write whose failed condition means "the item changed": CHANGED, not an error. */
  private async conditional<T>(
    operation: Operation,
    signal: AbortSignal | undefined,
    send: (signal: AbortSignal | undefined) => Promise<T>,
  ): Promise<T | Changed> {
    try {
      return await this.call(operation, signal, send);
    } catch (err) {
      if (err instanceof ConditionFailed) return CHANGED;
      throw err;
    }
  }

  /**
   * Every call goes through the store's circuit (a failing or hung store answers at once
   * instead of holding each request for its retries) and stops at the request's deadline.
   * Every failure other than a failed condition becomes a StoreUnavailableError.
   */
  private async call<T>(
    operation: Operation,
    signal: AbortSignal | undefined,
    send: (signal: AbortSignal | undefined) => Promise<T>,
  ): Promise<T> {
    const permit = this.breaker.acquire();
    if (!permit) {
      throw new StoreUnavailableError(
        `circuit ${this.breaker.state} after repeated failures; retrying shortly`,
      );
    }
    const started = performance.now();
    try {
      const reply = await abortable(send(signal), signal);
      this.breaker.success(permit);
      this.onCall?.({ operation, outcome: 'ok', ms: performance.now() - started });
      return reply;
    } catch (err) {
      const ms = performance.now() - started;
      if (isConditionFailure(err)) {
        this.breaker.success(permit);
        this.onCall?.({ operation, outcome: 'ok', ms });
        throw new ConditionFailed();
      }
      const { kind, reason } = classifyAwsError(err);
      const deadline = kind === 'cancelled' && isDeadline(signal);
      // The SDK retries inside one call, so a hung store shows only as calls the deadline cut
      // off: one that ran past an attempt's timeout counts against the store; one that started
      // late in its request says nothing about it.
      const hung = deadline && ms >= this.attemptTimeoutMs;
      this.onCall?.({ operation, outcome: hung ? 'transient' : kind, ms });
      const said = deadline ? 'no answer before the request deadline' : reason;
      if (kind === 'cancelled' && !hung) {
        this.breaker.release(permit);
        throw new StoreUnavailableError(`${operation}: ${said}`, logDetail(err), { cause: err });
      }
      if (kind === 'misconfigured') this.breaker.trip('misconfigured', permit);
      else this.breaker.failure(permit);
      this.lastFailure = {
        at: new Date(this.clock()).toISOString(),
        reason: `${operation}: ${hung ? `no answer within ${Math.round(ms)} ms` : reason}`,
      };
      throw new StoreUnavailableError(`${operation}: ${said}`, logDetail(err), { cause: err });
    }
  }
}

class ConditionFailed extends Error {
  override name = 'ConditionFailed';
}

function isConditionFailure(err: unknown): boolean {
  return (err as { name?: string } | null)?.name === 'ConditionalCheckFailedException';
}
