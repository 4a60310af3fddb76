import { describe, expect, it } from 'vitest';
import { hostAllowed, hostnameOf, hostPolicyFor, isLoopbackName } from '../../src/shared/hosts.js';

describe('Host policy', () => {
  it('knows loopback names and addresses', () => {
    for (const name of [
      'localhost',
      'LOCALHOST.',
      'a.localhost',
      '127.0.0.1',
      '127.1.2.3',
      '::1',
      '[::1]',
      '0:0:0:0:0:0:0:1',
      '::ffff:127.0.0.1',
    ]) {
      expect(isLoopbackName(name), name).toBe(true);
    }
    for (const name of ['0.0.0.0', '::', '10.0.0.1', 'localhost.evil.test', '128.0.0.1', '::2']) {
      expect(isLoopbackName(name), name).toBe(false);
    }
  });

  it('reads the name out of a Host header, or nothing from a malformed one', () => {
    expect(hostnameOf('Example.COM:8080')).toBe('example.com');
    expect(hostnameOf('[::1]:443')).toBe('::1');
    expect(hostnameOf('::1')).toBeUndefined();
    expect(hostnameOf('a b')).toBeUndefined();
    expect(hostnameOf('a:99999999')).toBeUndefined();
    expect(hostnameOf(undefined)).toBeUndefined();
  });

  it('on loopback: loopback names, and allowed_hosts; nothing else', () => {
    const policy = hostPolicyFor('127.0.0.1', undefined);
    expect(policy).toEqual({ loopback: true, allowed: [] });
    if (!policy) return;
    expect(hostAllowed('localhost:8080', policy)).toBe(true);
    expect(hostAllowed('[::1]', policy)).toBe(true);
    expect(hostAllowed('evil.test', policy)).toBe(false);
    expect(hostAllowed('10.0.0.1', policy)).toBe(false);
    expect(hostAllowed(undefined, policy)).toBe(false);
    const named = hostPolicyFor('localhost', ['rkms.test']);
    expect(named && hostAllowed('rkms.test:1', named)).toBe(true);
  });

  it('elsewhere: any name without allowed_hosts; with them, those, addresses and loopback names', () => {
    expect(hostPolicyFor('0.0.0.0', undefined)).toBeUndefined();
    const policy = hostPolicyFor('0.0.0.0', ['rkms.example.com', '*.svc.cluster.local']);
    if (!policy) throw new Error('expected a policy');
    for (const host of [
      'rkms.example.com',
      'rkms.rkms.svc.cluster.local:8080',
      '10.1.2.3:8080',
      '[fd00::1]',
      'localhost',
    ]) {
      expect(hostAllowed(host, policy), host).toBe(true);
    }
    for (const host of ['example.com', 'svc.cluster.local', 'evil.test', 'rkms.example.com.evil.test']) {
      expect(hostAllowed(host, policy), host).toBe(false);
    }
  });
});
