import type { PeerCertificate } from 'node:tls';
import type { Metadata } from '@grpc/grpc-js';

/**
 * Where authentication, authorization and the audit trail plug in. The gRPC service calls
 * them when given; the HTTP API's implementations are meant to be passed here as they are
 * (through a small adapter), so both transports share one policy and one trail.
 */

export type KeyAction = 'get' | 'create' | 'delete' | 'restore';

/** What the authorize hook decides on: who calls (token, certificate), for which id and action. */
export interface AccessRequest {
  action: KeyAction;
  /** A valid id: authorization runs after validation and before the key service, so a refused caller learns nothing about the id. */
  id: string;
  /** The token of an `authorization: Bearer <token>` metadata entry. */
  bearerToken: string | undefined;
  /** The client's certificate, on a TLS connection where the client sent one (mTLS). */
  peerCertificate: PeerCertificate | undefined;
  /** The call's metadata, for other schemes. */
  metadata: Metadata;
  /** The client's address, `ip:port`. */
  peer: string;
}

export type AccessDecision =
  | { allowed: true; client: string }
  | {
      allowed: false;
      /** UNAUTHENTICATED (no or unknown credentials) or PERMISSION_DENIED (not for this id or action). */
      status: 'unauthenticated' | 'permission-denied';
      message: string;
      /** The HTTP API's error_type for the same refusal; defaults to Unauthenticated or PermissionDenied. */
      errorType?: string;
    };

export type Authorize = (request: AccessRequest) => AccessDecision | Promise<AccessDecision>;

/** One record per call, successful or not. A served key is answered only once its record was accepted. */
export interface AuditEvent {
  transport: 'grpc';
  requestId: string;
  /** `rkms.v1.Rkms/GetKey`, ... */
  method: string;
  action: KeyAction;
  /** Absent when the request had no valid id. */
  id?: string;
  /** Who the authorize hook said calls. */
  client?: string;
  peer: string;
  /** `OK`, or the gRPC status name of the failure. */
  code: string;
  /** The HTTP API's error_type of a failure. */
  errorType?: string;
  /** For a served key: `cache` or the KMS region, and whether this call created it. */
  source?: string;
  created?: boolean;
  /** For DeleteKey and RestoreKey: the key's state afterwards. */
  state?: string;
}

/** Throws to refuse: the key is then not answered (INTERNAL). */
export type AuditSink = (event: AuditEvent) => void | Promise<void>;
