import type { TlsCredentials } from '../../http/security/tls.js';
import type { AccessControl } from '../access.js';
import { accessControl, type AccessParts } from './access-control.js';

export interface GrpcSecurity {
  access: AccessControl;
  /** HTTP's certificate and client CAs: the gRPC port terminates TLS with them (src/grpc/transport/listener.ts). */
  tls: TlsCredentials | undefined;
}

/** What the gRPC server needs from the parts HTTP uses: their access control, and their TLS. */
export function grpcSecurityFrom(parts: AccessParts & { tls: TlsCredentials | undefined }): GrpcSecurity {
  return { access: accessControl(parts), tls: parts.tls };
}

export { accessControl, type AccessParts } from './access-control.js';
