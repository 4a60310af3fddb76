import type { Action } from '../config/security-schema.js';
import type { RateLimitKind } from './errors.js';

/**
 * What the access controls refused, for whoever counts it (the metrics). `client` is a
 * configured client's name or `anonymous`, never an address or a token: safe as a label.
 */
export type SecurityEvent =
  | { type: 'unauthenticated'; problem: 'missing' | 'malformed' | 'unknown' }
  | { type: 'forbidden'; client: string; action: Action }
  | { type: 'rate_limited'; client: string; limit: RateLimitKind }
  | { type: 'audit_failed' };

export type SecurityListener = (event: SecurityEvent) => void;

/** A small fan-out: the metrics module subscribes, access control emits; neither imports the other. */
export class SecurityEvents {
  private readonly listeners = new Set<SecurityListener>();

  /** Returns the function that unsubscribes. */
  subscribe(listener: SecurityListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(event: SecurityEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch {
        // A listener's bug must not change the answer to a request.
      }
    }
  }
}
