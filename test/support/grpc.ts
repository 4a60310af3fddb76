import path from 'node:path';
import { checkServerIdentity } from 'node:tls';
import { createRequire } from 'node:module';
import {
  Client,
  credentials,
  loadPackageDefinition,
  Metadata,
  status as Code,
  type ChannelCredentials,
  type ClientReadableStream,
  type ServiceError,
} from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import protobuf from 'protobufjs';
import descriptor from 'protobufjs/ext/descriptor/index.js';
import type { Service } from '../../src/cli/compose.js';
import type { Config } from '../../src/config/schema.js';
import { recordKey } from './audit.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const PROTO_DIR = path.join(ROOT, 'proto');
const require = createRequire(import.meta.url);
const PACKAGE_PROTOS = (name: string, file: string) =>
  path.join(path.dirname(require.resolve(`${name}/package.json`)), file);

/** The outcome of one call, as a client sees it: the status, the trailers, and the answer or the error details. */
export interface Outcome<T> {
  code: Code;
  /** `OK`, `NOT_FOUND`, ... */
  codeName: string;
  details: string;
  message: T | undefined;
  trailers: Metadata;
  /** The `rkms-error-type` trailer. */
  errorType: string | undefined;
  /** google.rpc.Status from `grpc-status-details-bin`, decoded. */
  status: DecodedStatus | undefined;
}

export interface DecodedStatus {
  code: number;
  message: string;
  errorInfo?: { reason: string; domain: string };
  retryDelaySeconds?: number;
  requestId?: string;
}

/** rkms.v1.Key with its bytes as base64, as grpcurl (and any protobuf JSON) shows it. */
export interface KeyReply {
  id: string;
  key: string;
}

export interface KeyStatusReply {
  id: string;
  state: string;
  deletion_date: string;
}

type Callback = (error: ServiceError | null, value?: unknown) => void;
type UnaryMethod = (request: object, metadata: Metadata, callback: Callback) => NodeJS.EventEmitter;

const rkmsPackage = loadPackageDefinition(
  loadSync('rkms/v1/rkms.proto', {
    includeDirs: [PROTO_DIR],
    keepCase: true,
    bytes: String,
    defaults: true,
  }),
) as unknown as { rkms: { v1: { Rkms: new (address: string, creds: unknown) => Client } } };

const healthPackage = loadPackageDefinition(
  loadSync(PACKAGE_PROTOS('grpc-health-check', 'proto/health/v1/health.proto'), {
    keepCase: true,
    enums: String,
    defaults: true,
  }),
) as unknown as { grpc: { health: { v1: { Health: new (address: string, creds: unknown) => Client } } } };

/**
 * A client of rkms.v1.Rkms built from the repository's .proto, as an application would build
 * it; plaintext unless given credentials (tlsCredentials). Records every key it receives.
 */
export class RkmsGrpcClient {
  readonly client: Client;

  constructor(
    readonly address: string,
    channelCredentials: ChannelCredentials = credentials.createInsecure(),
  ) {
    this.client = new rkmsPackage.rkms.v1.Rkms(address, channelCredentials);
  }

  getKey = (id: string, metadata?: Record<string, string>) => this.keyCall('GetKey', id, metadata);
  createKey = (id: string, metadata?: Record<string, string>) => this.keyCall('CreateKey', id, metadata);
  deleteKey = (id: string, metadata?: Record<string, string>) =>
    this.call<KeyStatusReply>('DeleteKey', { id }, metadata);
  restoreKey = (id: string, metadata?: Record<string, string>) =>
    this.call<KeyStatusReply>('RestoreKey', { id }, metadata);

  /** A request of raw bytes, for what a generated client cannot send (invalid UTF-8, broken protobuf). */
  raw(method: string, request: Buffer, metadata: Record<string, string> = {}): Promise<Outcome<Buffer>> {
    return outcomeOf<Buffer>((callback) =>
      this.client.makeUnaryRequest(
        `/rkms.v1.Rkms/${method}`,
        (bytes: Buffer) => bytes,
        (bytes: Buffer) => bytes,
        request,
        metadataOf(metadata),
        {},
        callback,
      ),
    );
  }

  close(): void {
    this.client.close();
  }

  private async keyCall(method: string, id: string, metadata?: Record<string, string>) {
    const outcome = await this.call<KeyReply>(method, { id }, metadata);
    if (outcome.message) recordKey(outcome.message.key);
    return outcome;
  }

  private call<T>(
    method: string,
    request: object,
    metadata: Record<string, string> = {},
  ): Promise<Outcome<T>> {
    const unary = (this.client as unknown as Record<string, UnaryMethod>)[method];
    if (!unary) throw new Error(`no method ${method}`);
    return outcomeOf<T>((callback) => unary.call(this.client, request, metadataOf(metadata), callback));
  }
}

export interface TlsClientOptions {
  /** PEM of the CA that signed the server's certificate. */
  ca: string;
  /** A client certificate and its key (mutual TLS). */
  cert?: string;
  key?: string;
  /** Told the serial number of the server certificate of each connection the channel opens. */
  onServerCertificate?: (serialNumber: string) => void;
}

/** Channel credentials for TLS, as an application would build them; 127.0.0.1 is checked against the certificate's SAN. */
export function tlsCredentials(options: TlsClientOptions): ChannelCredentials {
  return credentials.createSsl(
    Buffer.from(options.ca),
    options.key === undefined ? null : Buffer.from(options.key),
    options.cert === undefined ? null : Buffer.from(options.cert),
    {
      checkServerIdentity: (host, certificate) => {
        options.onServerCertificate?.(certificate.serialNumber);
        return checkServerIdentity(host, certificate);
      },
    },
  );
}

/** The overrides of a replica that serves gRPC (listenGrpc starts it on a free port); shutdown bounded for tests. */
export const GRPC: Partial<Config> = { grpc: { port: 0, shutdown_timeout_ms: 5_000 } };

/** Starts the gRPC server of a service whose config sets `[grpc] port`, on a free loopback port; its address. */
export async function listenGrpc(service: Service): Promise<string> {
  if (!service.grpc) throw new Error('the service has no gRPC server: set [grpc] port');
  return service.grpc.listen('127.0.0.1', 0);
}

/** A client of grpc.health.v1.Health. */
export class HealthClient {
  readonly client: Client;

  constructor(address: string) {
    this.client = new healthPackage.grpc.health.v1.Health(address, credentials.createInsecure());
  }

  check(service: string): Promise<Outcome<{ status: string }>> {
    const check = (this.client as unknown as Record<string, UnaryMethod>).Check;
    if (!check) throw new Error('no Check');
    return outcomeOf((callback) => check.call(this.client, { service }, new Metadata(), callback));
  }

  list(): Promise<Outcome<{ statuses: Record<string, { status: string }> }>> {
    const list = (this.client as unknown as Record<string, UnaryMethod>).List;
    if (!list) throw new Error('no List');
    return outcomeOf((callback) => list.call(this.client, {}, new Metadata(), callback));
  }

  watch(service: string): ClientReadableStream<{ status: string }> {
    const watch = (
      this.client as unknown as Record<string, (request: object) => ClientReadableStream<{ status: string }>>
    ).Watch;
    if (!watch) throw new Error('no Watch');
    return watch.call(this.client, { service });
  }

  close(): void {
    this.client.close();
  }
}

function metadataOf(entries: Record<string, string>): Metadata {
  const metadata = new Metadata();
  for (const [key, value] of Object.entries(entries)) metadata.set(key, value);
  return metadata;
}

/** Runs a unary call and resolves, never rejects, once its status arrived. */
function outcomeOf<T>(start: (callback: Callback) => NodeJS.EventEmitter): Promise<Outcome<T>> {
  return new Promise((resolve) => {
    let message: T | undefined;
    const call = start((_error, value) => {
      message = value as T | undefined;
    });
    call.on('status', (status: { code: Code; details: string; metadata: Metadata }) => {
      const [type] = status.metadata.get('rkms-error-type');
      const [details] = status.metadata.get('grpc-status-details-bin');
      resolve({
        code: status.code,
        codeName: Code[status.code],
        details: status.details,
        message,
        trailers: status.metadata,
        errorType: typeof type === 'string' ? type : undefined,
        status: Buffer.isBuffer(details) ? decodeStatus(details) : undefined,
      });
    });
  });
}

const rpcRoot = new protobuf.Root();
rpcRoot.resolvePath = (_origin, target) =>
  target.startsWith('google/protobuf/') ? target : path.join(PROTO_DIR, target);
rpcRoot.loadSync(['google/rpc/status.proto', 'google/rpc/error_details.proto'], { keepCase: true });

/** Decodes google.rpc.Status and the details RKMS sends, by their type URLs. */
export function decodeStatus(bytes: Buffer): DecodedStatus {
  const Status = rpcRoot.lookupType('google.rpc.Status');
  const status = Status.toObject(Status.decode(bytes)) as {
    code: number;
    message: string;
    details?: { type_url: string; value: Uint8Array }[];
  };
  const decoded: DecodedStatus = { code: status.code, message: status.message };
  for (const { type_url, value } of status.details ?? []) {
    const type = rpcRoot.lookupType(type_url.replace('type.googleapis.com/', ''));
    const detail = type.toObject(type.decode(value), { longs: Number }) as Record<string, unknown>;
    switch (type.name) {
      case 'ErrorInfo':
        decoded.errorInfo = detail as { reason: string; domain: string };
        break;
      case 'RetryInfo': {
        const delay = detail.retry_delay as { seconds?: number; nanos?: number };
        decoded.retryDelaySeconds = (delay.seconds ?? 0) + (delay.nanos ?? 0) / 1e9;
        break;
      }
      case 'RequestInfo':
        decoded.requestId = detail.request_id as string;
        break;
    }
  }
  return decoded;
}

/** What grpcurl does: learn the services and their messages through server reflection, then call with JSON. */
export class ReflectionClient {
  private readonly client: Client;

  constructor(private readonly address: string) {
    this.client = new Client(address, credentials.createInsecure());
  }

  /** `grpcurl -plaintext <address> list` */
  async listServices(): Promise<string[]> {
    const response = await this.ask({ list_services: '*' });
    return (response.list_services_response as { service: { name: string }[] }).service.map((s) => s.name);
  }

  /** The files that define `symbol` (and what they import), as one protobuf root. */
  async resolve(symbol: string): Promise<protobuf.Root> {
    const response = await this.ask({ file_containing_symbol: symbol });
    const files = (response.file_descriptor_response as { file_descriptor_proto: Uint8Array[] })
      .file_descriptor_proto;
    const set = descriptor.FileDescriptorSet.fromObject({
      file: files.map((bytes) => descriptor.FileDescriptorProto.decode(bytes)),
    });
    return (protobuf.Root as unknown as { fromDescriptor(set: unknown): protobuf.Root }).fromDescriptor(set);
  }

  /** `grpcurl -plaintext -d '<json>' <address> <service>/<method>`: the answer as protobuf JSON. */
  async call(
    service: string,
    method: string,
    json: Record<string, unknown>,
  ): Promise<Record<string, unknown>> {
    const root = await this.resolve(service);
    const definition = root.lookupService(service).methods[method];
    if (!definition) throw new Error(`${service} has no method ${method}`);
    const request = root.lookupType(definition.requestType);
    const response = root.lookupType(definition.responseType);
    return new Promise((resolve, reject) => {
      this.client.makeUnaryRequest(
        `/${service}/${method}`,
        (value: Record<string, unknown>) => Buffer.from(request.encode(request.fromObject(value)).finish()),
        (bytes: Buffer) => response.toObject(response.decode(bytes), protobuf.util.toJSONOptions),
        json,
        (error: ServiceError | null, value?: Record<string, unknown>) => {
          if (error) reject(error);
          else resolve(value ?? {});
        },
      );
    });
  }

  close(): void {
    this.client.close();
  }

  /** One request on the v1 reflection stream (grpc.reflection.v1.ServerReflection), as grpcurl sends it. */
  private ask(request: Record<string, unknown>): Promise<Record<string, unknown>> {
    const stream = this.client.makeBidiStreamRequest(
      '/grpc.reflection.v1.ServerReflection/ServerReflectionInfo',
      (value: Record<string, unknown>) =>
        Buffer.from(Reflection.request.encode(Reflection.request.fromObject(value)).finish()),
      (bytes: Buffer) => Reflection.response.toObject(Reflection.response.decode(bytes)),
    );
    return new Promise((resolve, reject) => {
      stream.on('data', (value: Record<string, unknown>) => {
        stream.end();
        if (value.error_response) reject(new Error(JSON.stringify(value.error_response)));
        else resolve(value);
      });
      stream.on('error', reject);
      stream.write({ host: this.address, ...request });
    });
  }
}

const reflectionRoot = new protobuf.Root().loadSync(
  PACKAGE_PROTOS('@grpc/reflection', 'build/proto/grpc/reflection/v1/reflection.proto'),
  { keepCase: true },
);
const Reflection = {
  request: reflectionRoot.lookupType('grpc.reflection.v1.ServerReflectionRequest'),
  response: reflectionRoot.lookupType('grpc.reflection.v1.ServerReflectionResponse'),
};
