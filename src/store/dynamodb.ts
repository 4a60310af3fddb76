import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
  paginateScan,
} from '@aws-sdk/lib-dynamodb';
import type { AwsCredentialIdentity } from '@smithy/types';
import { awsRequestHandler, describeAwsError } from '../config/aws.js';
import type { DynamoDbConfig } from '../config/schema.js';
import {
  MalformedItemError,
  StoreUnavailableError,
  VersionConflictError,
  type KeyRecord,
  type KeyState,
  type NewKeyRecord,
  type Store,
} from './store.js';

/** The `ctx` attribute's value: the encryption context key the ciphertexts are bound to. */
export const CONTEXT_MARKER = 'rkms:id';

/** Attribute names, as the original RKMS wrote them (`id`, `keys`) plus RKMS's own. */
const NAMES = {
  '#id': 'id',
  '#keys': 'keys',
  '#ctx': 'ctx',
  '#created': 'created_at',
  '#version': 'version',
  '#state': 'state',
  '#deletion': 'deletion_date',
} as const;

type Names = keyof typeof NAMES;
const names = (...used: Names[]) => Object.fromEntries(used.map((n) => [n, NAMES[n]]));

/** Matches an item still at `version`; items the original RKMS wrote have no version attribute. */
function versionIs(version: number) {
  return version === 0
    ? { condition: 'attribute_not_exists(#version)', values: {} }
    : { condition: '#version = :expected', values: { ':expected': version } };
}

export interface DynamoStoreOptions {
  config: DynamoDbConfig;
  /** Only for the embedded store; real tables use the SDK's credential chain. */
  credentials?: AwsCredentialIdentity;
}

export class DynamoStore implements Store {
  /** The home region's client: conditional writes and authoritative reads go here. */
  readonly homeClient: DynamoDBClient;
  private readonly writer: DynamoDBDocumentClient;
  /** A nearby replica for reads, when configured; the writer otherwise. */
  private readonly reader: DynamoDBDocumentClient;
  private readonly table: string;
  private readonly description: string;

  constructor({ config, credentials }: DynamoStoreOptions) {
    const clientConfig = (region: string, endpoint: string | undefined): DynamoDBClientConfig => ({
      region,
      maxAttempts: config.max_attempts,
      requestHandler: awsRequestHandler(config),
      ...(endpoint ? { endpoint } : {}),
      ...(credentials ? { credentials } : {}),
    });
    this.table = config.table_name;
    this.description = `DynamoDB table ${config.table_name} in ${config.region}`;
    this.homeClient = new DynamoDBClient(clientConfig(config.region, config.endpoint));
    this.writer = DynamoDBDocumentClient.from(this.homeClient);
    const separateReader = config.read_region !== undefined || config.read_endpoint !== undefined;
    this.reader = separateReader
      ? DynamoDBDocumentClient.from(
          new DynamoDBClient(clientConfig(config.read_region ?? config.region, config.read_endpoint)),
        )
      : this.writer;
  }

  async get(id: string): Promise<KeyRecord | undefined> {
    const found = await this.read(this.reader, id);
    // A replica may not have the item yet; only the home region can say it does not exist.
    if (found || this.reader === this.writer) return found;
    return this.read(this.writer, id);
  }

  private async read(client: DynamoDBDocumentClient, id: string): Promise<KeyRecord | undefined> {
    const reply = await this.call('read', () =>
      client.send(new GetCommand({ TableName: this.table, Key: { id }, ConsistentRead: true })),
    );
    return reply.Item ? recordFromItem(id, reply.Item) : undefined;
  }

  async create(record: NewKeyRecord): Promise<'created' | 'exists'> {
    const item = {
      id: record.id,
      keys: Object.fromEntries(
        Object.entries(record.ciphertexts).map(([region, blob]) => [
          region,
          Buffer.from(blob).toString('base64'),
        ]),
      ),
      ctx: CONTEXT_MARKER,
      created_at: record.createdAt,
      version: 1,
      state: 'Enabled' satisfies KeyState,
    };
    try {
      await this.call('write', () =>
        this.writer.send(
          new PutCommand({
            TableName: this.table,
            Item: item,
            ConditionExpression: 'attribute_not_exists(#id)',
            ExpressionAttributeNames: names('#id'),
          }),
        ),
      );
      return 'created';
    } catch (err) {
      if (isConditionFailure(err)) return 'exists';
      throw err;
    }
  }

  scheduleDeletion(id: string, expectedVersion: number, deletionDate: string): Promise<KeyRecord> {
    return this.update(id, expectedVersion, {
      expression: 'SET #state = :state, #deletion = :deletion, #version = :next',
      names: names('#state', '#deletion'),
      values: { ':state': 'PendingDeletion' satisfies KeyState, ':deletion': deletionDate },
    });
  }

  cancelDeletion(id: string, expectedVersion: number): Promise<KeyRecord> {
    return this.update(id, expectedVersion, {
      expression: 'SET #state = :state, #version = :next REMOVE #deletion',
      names: names('#state', '#deletion'),
      values: { ':state': 'Enabled' satisfies KeyState },
    });
  }

  private async update(
    id: string,
    expectedVersion: number,
    change: { expression: string; names: Record<string, string>; values: Record<string, unknown> },
  ): Promise<KeyRecord> {
    const expected = versionIs(expectedVersion);
    try {
      const reply = await this.call('write', () =>
        this.writer.send(
          new UpdateCommand({
            TableName: this.table,
            Key: { id },
            UpdateExpression: change.expression,
            ConditionExpression: `attribute_exists(#id) AND ${expected.condition}`,
            ExpressionAttributeNames: { ...change.names, ...names('#id', '#version') },
            ExpressionAttributeValues: { ...change.values, ...expected.values, ':next': expectedVersion + 1 },
            ReturnValues: 'ALL_NEW',
          }),
        ),
      );
      return recordFromItem(id, reply.Attributes ?? {});
    } catch (err) {
      if (isConditionFailure(err)) throw new VersionConflictError(id);
      throw err;
    }
  }

  async purge(id: string, expectedVersion: number): Promise<boolean> {
    const expected = versionIs(expectedVersion);
    try {
      await this.call('write', () =>
        this.writer.send(
          new DeleteCommand({
            TableName: this.table,
            Key: { id },
            ConditionExpression: `#state = :pending AND ${expected.condition}`,
            ExpressionAttributeNames: names('#state', '#version'),
            ExpressionAttributeValues: {
              ':pending': 'PendingDeletion' satisfies KeyState,
              ...expected.values,
            },
          }),
        ),
      );
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  }

  async *pendingDeletion(): AsyncIterable<KeyRecord> {
    const pages = paginateScan(
      { client: this.writer },
      {
        TableName: this.table,
        FilterExpression: '#state = :pending',
        ExpressionAttributeNames: names('#state'),
        ExpressionAttributeValues: { ':pending': 'PendingDeletion' satisfies KeyState },
        ConsistentRead: true,
      },
    );
    const iterator = pages[Symbol.asyncIterator]();
    for (;;) {
      const page = await this.call('scan', () => iterator.next());
      if (page.done) return;
      for (const item of page.value.Items ?? []) {
        const id = item.id;
        if (typeof id === 'string') yield recordFromItem(id, item);
      }
    }
  }

  async ping(): Promise<void> {
    await this.call('read', () =>
      this.writer.send(new GetCommand({ TableName: this.table, Key: { id: '\u0000rkms:ping' } })),
    );
  }

  close(): void {
    this.writer.destroy();
    if (this.reader !== this.writer) this.reader.destroy();
  }

  /** Every store failure other than a failed condition becomes a StoreUnavailableError. */
  private async call<T>(what: string, action: () => Promise<T>): Promise<T> {
    try {
      return await action();
    } catch (err) {
      if (isConditionFailure(err)) throw err;
      throw new StoreUnavailableError(this.description, `${what} failed: ${describeAwsError(err)}`, {
        cause: err,
      });
    }
  }
}

function isConditionFailure(err: unknown): boolean {
  return (err as { name?: string } | null)?.name === 'ConditionalCheckFailedException';
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** Reads an item in RKMS's format or the original RKMS's `{id, keys}` format. */
export function recordFromItem(id: string, item: Record<string, unknown>): KeyRecord {
  const keys = item.keys;
  if (typeof keys !== 'object' || keys === null || Array.isArray(keys)) {
    throw new MalformedItemError(id, 'attribute "keys" is not a map of region to ciphertext');
  }
  const ciphertexts: Record<string, Uint8Array> = {};
  for (const [region, value] of Object.entries(keys)) {
    if (typeof value !== 'string' || !BASE64.test(value)) {
      throw new MalformedItemError(id, `keys.${region} is not a base64 ciphertext`);
    }
    ciphertexts[region] = Buffer.from(value, 'base64');
  }
  if (Object.keys(ciphertexts).length === 0) throw new MalformedItemError(id, 'attribute "keys" is empty');

  const state = item.state ?? 'Enabled';
  if (state !== 'Enabled' && state !== 'PendingDeletion') {
    throw new MalformedItemError(id, `unknown state ${JSON.stringify(state)}`);
  }
  const version = item.version ?? 0;
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 0) {
    throw new MalformedItemError(id, 'attribute "version" is not a non-negative integer');
  }
  if (item.ctx !== undefined && item.ctx !== CONTEXT_MARKER) {
    throw new MalformedItemError(
      id,
      `attribute "ctx" is ${JSON.stringify(item.ctx)}, expected "${CONTEXT_MARKER}"`,
    );
  }
  return {
    id,
    ciphertexts,
    boundToId: item.ctx === CONTEXT_MARKER,
    version,
    state,
    ...(typeof item.created_at === 'string' ? { createdAt: item.created_at } : {}),
    ...(typeof item.deletion_date === 'string' ? { deletionDate: item.deletion_date } : {}),
  };
}
