import { Metadata, status as Code } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { failureOf } from '../../src/grpc/errors.js';
import { KeyContentionError } from '../../src/keys/errors.js';
import { MalformedItemError } from '../../src/store/store.js';
import { auditedLogger } from '../support/audit.js';
import { decodeStatus } from '../support/grpc.js';

/** The failures the integration tests cannot bring about on demand. */
describe('failureOf', () => {
  const log = auditedLogger('grpc-errors');
  const trailer = () => {
    const metadata = new Metadata();
    metadata.set('x-request-id', 'req-1');
    return metadata;
  };

  it('answers KeyContention as UNAVAILABLE with a 1 s RetryInfo, as HTTP answers 503 with Retry-After: 1', () => {
    const { error, errorType } = failureOf(new KeyContentionError('busy'), 'req-1', trailer(), log);
    expect(errorType).toBe('KeyContention');
    expect(error.code).toBe(Code.UNAVAILABLE);
    expect(error.details).toBe('the item for id "busy" is being changed by other requests; retry');
    expect(error.metadata.get('retry-after')).toEqual(['1']);
    expect(error.metadata.get('x-request-id')).toEqual(['req-1']);
    const [details] = error.metadata.get('grpc-status-details-bin');
    expect(decodeStatus(details as Buffer)).toEqual({
      code: Code.UNAVAILABLE,
      message: error.details,
      errorInfo: { reason: 'KeyContention', domain: 'rkms' },
      requestId: 'req-1',
      retryDelaySeconds: 1,
    });
  });

  it('answers a malformed stored item as DATA_LOSS KeyIntegrityError', () => {
    const { error, errorType } = failureOf(new MalformedItemError('x', 'no keys'), 'req-1', trailer(), log);
    expect([error.code, errorType]).toEqual([Code.DATA_LOSS, 'KeyIntegrityError']);
    expect(error.metadata.get('retry-after')).toEqual([]);
  });

  it('answers anything else as INTERNAL, with the request id and nothing of the error', () => {
    const { error, errorType } = failureOf('thrown string with a secret', 'req-9', trailer(), log);
    expect([error.code, errorType]).toEqual([Code.INTERNAL, 'InternalError']);
    expect(error.details).toBe(
      'an unexpected error occurred (request req-9); the server log has the details',
    );
  });
});
