import { describe, expect, it } from 'vitest';
import { RkmsClient, RkmsConfigError, type RkmsClientOptions } from '../../src/client/index.js';

const build = (options: Partial<RkmsClientOptions>) => () =>
  new RkmsClient({ urls: ['http://127.0.0.1:8080'], ...options });

describe('client options', () => {
  it.each([
    [{ urls: [] }, /at least one RKMS URL/],
    [{ urls: ['rkms-a:8080'] }, /not an http or https URL/],
    [{ urls: ['not a url'] }, /is not a URL/],
    [{ urls: ['http://rkms/?id=x'] }, /must not carry a query/],
    [{ urls: ['http://user:pass@rkms'] }, /credentials \(use token\)/],
    [{ token: '' }, /token: give a non-empty string/],
    [{ deadlineMs: 0 }, /deadlineMs: give a positive number of milliseconds/],
    [{ cache: { ttlMs: -1 } }, /cache.ttlMs/],
    [{ retry: { maxAttempts: 0 } }, /retry.maxAttempts: give a positive number of attempts/],
  ])('refuses %j', (options, message) => {
    expect(build(options as Partial<RkmsClientOptions>)).toThrow(RkmsConfigError);
    expect(build(options as Partial<RkmsClientOptions>)).toThrow(message);
  });

  it('accepts base URLs with a path, with or without a trailing slash', () => {
    expect(build({ urls: ['https://rkms.internal/api/v1/', 'http://10.0.0.2:8080'] })).not.toThrow();
  });
});
