import path from 'node:path';
import protobuf from 'protobufjs';
import { PROTO_DIR } from './proto.js';

/**
 * google.rpc.Status with its standard details, the `grpc-status-details-bin` trailer that
 * gRPC's "richer error model" clients decode (grpcurl prints it).
 */
const root = new protobuf.Root();
// google/protobuf/*.proto come with protobufjs; google/rpc/*.proto from the repository's proto/.
root.resolvePath = (_origin, target) =>
  target.startsWith('google/protobuf/') ? target : path.join(PROTO_DIR, target);
root.loadSync(['google/rpc/status.proto', 'google/rpc/error_details.proto'], { keepCase: true });

const Status = root.lookupType('google.rpc.Status');
const ErrorInfo = root.lookupType('google.rpc.ErrorInfo');
const RetryInfo = root.lookupType('google.rpc.RetryInfo');
const RequestInfo = root.lookupType('google.rpc.RequestInfo');

/** The domain of every ErrorInfo RKMS sends; its reason is the HTTP API's error_type. */
export const ERROR_DOMAIN = 'rkms';

export interface StatusDetails {
  code: number;
  message: string;
  errorType: string;
  requestId: string;
  retryAfterSeconds?: number | undefined;
}

/** The encoded google.rpc.Status: ErrorInfo, RequestInfo, and RetryInfo when a retry may succeed. */
export function encodeStatusDetails(details: StatusDetails): Buffer {
  const packed = [
    pack(ErrorInfo, { reason: details.errorType, domain: ERROR_DOMAIN }),
    pack(RequestInfo, { request_id: details.requestId }),
  ];
  if (details.retryAfterSeconds !== undefined) {
    packed.push(pack(RetryInfo, { retry_delay: { seconds: details.retryAfterSeconds, nanos: 0 } }));
  }
  const status = Status.fromObject({ code: details.code, message: details.message, details: packed });
  return Buffer.from(Status.encode(status).finish());
}

function pack(type: protobuf.Type, value: Record<string, unknown>) {
  return {
    type_url: `type.googleapis.com/${type.fullName.slice(1)}`,
    value: type.encode(type.fromObject(value)).finish(),
  };
}
