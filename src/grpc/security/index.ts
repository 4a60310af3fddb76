import type { ServerCredentials } from '@grpc/grpc-js';
import type { TlsCredentials } from '../../http/security/tls.js';
import type { AccessControl } from '../access.js';
import { accessControl, type AccessParts } from './access-control.js';
import { grpcCredentials } from './credentials.js';

export interface GrpcSecurity {
  access: AccessControl;
  credentials: ServerCredentials;
}

/** What the gRPC server needs from the parts HTTP uses: their access control, and their TLS. */
export function grpcSecurityFrom(parts: AccessParts & { tls: TlsCredentials | undefined }): GrpcSecurity {
  return { access: accessControl(parts), credentials: grpcCredentials(parts.tls) };
}

export { accessControl, type AccessParts } from './access-control.js';
