import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  loadSync,
  type MethodDefinition,
  type Options,
  type PackageDefinition,
  type ServiceDefinition,
} from '@grpc/proto-loader';
import { protoPath as healthProtoPath } from 'grpc-health-check';

/** The repository's proto/ folder, next to src/ and to dist/ alike. */
export const PROTO_DIR = fileURLToPath(new URL('../../proto/', import.meta.url));

export const RKMS_SERVICE = 'rkms.v1.Rkms';
export const HEALTH_SERVICE = 'grpc.health.v1.Health';

/** Field names as the .proto spells them (`deletion_date`), as grpcurl and every other client see them. */
export const PROTO_LOADER_OPTIONS: Options = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
};

// grpc-health-check ships the standard health.proto as <package>/proto/health/v1/health.proto.
const HEALTH_PROTO_DIR = path.resolve(path.dirname(healthProtoPath), '../..');

/**
 * What the server offers, for its handlers and for reflection: rkms.v1 and the standard
 * health service, each file named by its path under its proto folder.
 */
export const packageDefinition: PackageDefinition = loadSync(
  ['rkms/v1/rkms.proto', 'health/v1/health.proto'],
  {
    ...PROTO_LOADER_OPTIONS,
    includeDirs: [PROTO_DIR, HEALTH_PROTO_DIR],
  },
);

export const rkmsDefinition = packageDefinition[RKMS_SERVICE] as ServiceDefinition;

/** One method of rkms.v1.Rkms, as the .proto defines it. */
export function rkmsMethod(name: string): MethodDefinition<object, object> {
  const method = rkmsDefinition[name];
  if (!method) throw new Error(`${RKMS_SERVICE} has no method ${name}`);
  return method;
}

/** rkms.v1.Key. */
export interface KeyMessage {
  id: string;
  key: Uint8Array;
}

/** rkms.v1.KeyStatus; `deletion_date` is empty unless the key is pending deletion. */
export interface KeyStatusMessage {
  id: string;
  state: string;
  deletion_date: string;
}

const keySerializer = rkmsMethod('GetKey').responseSerialize;
const keyStatusSerializer = rkmsMethod('DeleteKey').responseSerialize;

/** Encodes an rkms.v1.Key: the handlers answer with encoded messages (see service.ts). */
export const encodeKey = (message: KeyMessage): Buffer => keySerializer(message);

/** Encodes an rkms.v1.KeyStatus. */
export const encodeKeyStatus = (message: KeyStatusMessage): Buffer => keyStatusSerializer(message);
