import { KMSServiceException } from '@aws-sdk/client-kms';
import { describe, expect, it } from 'vitest';
import { classifyAwsError, whatToCheck } from '../../src/resilience/failures.js';

const service = (name: string, fault: 'client' | 'server' = 'client') =>
  new KMSServiceException({
    name,
    message: `${name}: arn:aws:kms:us-east-1:111122223333:key/1234abcd is not allowed`,
    $fault: fault,
    $metadata: { httpStatusCode: fault === 'client' ? 400 : 500 },
  });
const network = (code: string) =>
  Object.assign(new Error(`connect ${code} 127.0.0.1:4599`), { code, name: 'Error' });

describe('classifyAwsError', () => {
  it.each([
    [service('ThrottlingException'), 'throttled', 'throttled (ThrottlingException)'],
    [service('KMSInternalException', 'server'), 'transient', 'internal error (KMSInternalException)'],
    [service('SomethingNew', 'server'), 'transient', 'server error (SomethingNew)'],
    [service('AccessDeniedException'), 'misconfigured', 'access denied (AccessDeniedException)'],
    [service('NotFoundException'), 'misconfigured', 'key not found (NotFoundException)'],
    [service('DisabledException'), 'misconfigured', 'key disabled (DisabledException)'],
    [
      service('KMSInvalidStateException'),
      'misconfigured',
      'key state does not allow the call (KMSInvalidStateException)',
    ],
    [service('InvalidCiphertextException'), 'rejected', 'ciphertext refused (InvalidCiphertextException)'],
    [
      service('IncorrectKeyException'),
      'rejected',
      'ciphertext made under another key (IncorrectKeyException)',
    ],
    [
      Object.assign(new Error('Could not load credentials from any providers'), {
        name: 'CredentialsProviderError',
      }),
      'misconfigured',
      'no AWS credentials found (CredentialsProviderError)',
    ],
    [network('ECONNREFUSED'), 'transient', 'connection refused'],
    [network('ECONNRESET'), 'transient', 'connection reset'],
    // The SDK reports a reset connection as a TimeoutError: it is still a reset.
    [
      Object.assign(new Error('socket hang up'), { name: 'TimeoutError', code: 'ECONNRESET' }),
      'transient',
      'connection reset',
    ],
    [
      Object.assign(new Error('a request has exceeded the configured 2000 ms requestTimeout.'), {
        name: 'TimeoutError',
        code: 'ETIMEDOUT',
      }),
      'transient',
      'timed out waiting for a reply',
    ],
    [
      Object.assign(
        new Error('the request socket did not establish a connection with the server within 1000 ms'),
        {
          name: 'TimeoutError',
        },
      ),
      'transient',
      'timed out connecting',
    ],
    [
      Object.assign(new Error('This operation was aborted'), { name: 'AbortError' }),
      'cancelled',
      'cancelled',
    ],
    [new Error('socket hang up'), 'transient', 'connection closed before a reply'],
  ])('%s is %s: %s', (error, kind, reason) => {
    expect(classifyAwsError(error)).toEqual({ kind, reason });
  });

  it('finds a network error wrapped as the cause of another', () => {
    const wrapped = new Error('request failed', { cause: network('ECONNREFUSED') });
    expect(classifyAwsError(wrapped)).toEqual({ kind: 'transient', reason: 'connection refused' });
  });

  it('never repeats an endpoint, an ARN, an account id or an SDK message', () => {
    for (const error of [
      service('AccessDeniedException'),
      network('ECONNREFUSED'),
      service('Odd name with spaces'),
    ]) {
      const { reason } = classifyAwsError(error);
      expect(reason).not.toMatch(/arn:|111122223333|127\.0\.0\.1|4599|not allowed|spaces/);
    }
  });
});

describe('whatToCheck', () => {
  it('sends an operator to the credentials, or to the endpoint when nothing answers there', () => {
    expect(whatToCheck(service('UnrecognizedClientException'))).toBe('credentials');
    expect(whatToCheck(Object.assign(new Error('none'), { name: 'CredentialsProviderError' }))).toBe(
      'credentials',
    );
    expect(whatToCheck(new Error('request failed', { cause: network('ECONNREFUSED') }))).toBe('endpoint');
    expect(whatToCheck(network('ENOTFOUND'))).toBe('endpoint');
    // A reset or a throttle is the service's doing, not a setting to check.
    expect(whatToCheck(network('ECONNRESET'))).toBeUndefined();
    expect(whatToCheck(service('ThrottlingException'))).toBeUndefined();
  });
});
