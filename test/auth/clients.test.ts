import { describe, expect, it } from 'vitest';
import { refusal } from '../../src/auth/authorize.js';
import { ClientRegistry, parseSubject } from '../../src/auth/clients.js';
import { newToken, TOKEN_PREFIX, tokenSha256 } from '../../src/auth/token.js';

const billingToken = newToken();
const readerToken = newToken();
const registry = new ClientRegistry({
  allow_anonymous: false,
  clients: [
    {
      name: 'billing',
      token_sha256: tokenSha256(billingToken),
      ids: ['billing/*'],
      actions: ['get', 'create'],
    },
    // Hashes are compared case-insensitively, as hex is.
    { name: 'reader', token_sha256: tokenSha256(readerToken).toUpperCase(), ids: ['*'], actions: ['get'] },
    { name: 'by-subject', cert_subject: 'CN=svc, O=Example\\, Inc.', ids: ['svc/*'], actions: ['get'] },
    { name: 'by-san', cert_san: 'DNS:Worker.Internal', ids: ['w/*'], actions: ['get'] },
  ],
});

describe('tokens', () => {
  it('are 256 random bits, base64url, after a prefix', () => {
    const token = newToken();
    expect(token.startsWith(TOKEN_PREFIX)).toBe(true);
    expect(Buffer.from(token.slice(TOKEN_PREFIX.length), 'base64url')).toHaveLength(32);
    expect(newToken()).not.toBe(token);
    expect(tokenSha256('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
});

describe('ClientRegistry', () => {
  it('finds the client of a bearer token, and no one for any other', () => {
    expect(registry.authenticate({ authorization: `Bearer ${billingToken}` })).toMatchObject({
      ok: true,
      method: 'token',
      client: { name: 'billing' },
    });
    expect(registry.authenticate({ authorization: `bearer  ${readerToken}` })).toMatchObject({
      ok: true,
      client: { name: 'reader' },
    });
    expect(registry.authenticate({ authorization: `Bearer ${newToken()}` })).toMatchObject({
      ok: false,
      problem: 'unknown',
    });
    expect(registry.authenticate({ authorization: `Bearer ${billingToken}x` })).toMatchObject({ ok: false });
    expect(registry.authenticate({ authorization: 'Basic abc' })).toMatchObject({
      ok: false,
      problem: 'malformed',
    });
    expect(registry.authenticate({})).toMatchObject({ ok: false, problem: 'missing' });
  });

  it('finds the client of a verified certificate by subject or SAN', () => {
    expect(
      registry.authenticate({ certificate: { subject: { CN: 'svc', O: 'Example, Inc.', OU: 'x' } } }),
    ).toMatchObject({ ok: true, method: 'certificate', client: { name: 'by-subject' } });
    expect(registry.authenticate({ certificate: { subject: { CN: 'svc' } } })).toMatchObject({ ok: false });
    expect(
      registry.authenticate({
        certificate: { subject: { CN: 'x' }, subjectaltname: 'URI:spiffe://a, DNS:worker.internal' },
      }),
    ).toMatchObject({ ok: true, client: { name: 'by-san' } });
    // A token decides when both are given.
    expect(
      registry.authenticate({
        authorization: `Bearer ${readerToken}`,
        certificate: { subject: { CN: 'svc', O: 'Example, Inc.' } },
      }),
    ).toMatchObject({ client: { name: 'reader' } });
  });

  it('says why a certificate TLS did not verify identifies no one, and lets a token in beside it', () => {
    const refused = (reason: string) => {
      const result = registry.authenticate({ rejectedCertificate: reason });
      expect(result).toMatchObject({ ok: false, problem: 'unknown' });
      return result.ok ? '' : result.message;
    };
    expect(refused('UNABLE_TO_VERIFY_LEAF_SIGNATURE')).toBe(
      'the client certificate was not signed by a CA of server.tls.ca (UNABLE_TO_VERIFY_LEAF_SIGNATURE), so it identifies no client: present one that server.tls.ca signed, or send Authorization: Bearer <token>',
    );
    expect(refused('CERT_HAS_EXPIRED')).toMatch(/^the client certificate has expired \(CERT_HAS_EXPIRED\)/);
    expect(refused('CERT_REVOKED')).toMatch(/did not verify against server\.tls\.ca \(CERT_REVOKED\)/);
    expect(
      registry.authenticate({
        authorization: `Bearer ${readerToken}`,
        rejectedCertificate: 'CERT_HAS_EXPIRED',
      }),
    ).toMatchObject({ ok: true, client: { name: 'reader' } });
  });

  it('lets every caller in as anonymous when no client is declared', () => {
    const open = new ClientRegistry({ allow_anonymous: false, clients: [] });
    expect(open.authenticate({ authorization: 'Bearer whatever' })).toMatchObject({
      ok: true,
      method: 'anonymous',
      client: { name: 'anonymous', anonymous: true },
    });
  });

  it('parses a subject with escaped commas', () => {
    expect(parseSubject('CN=a, o=B\\, C ,OU = d')).toEqual([
      ['CN', 'a'],
      ['O', 'B, C'],
      ['OU', 'd'],
    ]);
  });
});

describe('refusal', () => {
  const billing = registry.authenticate({ authorization: `Bearer ${billingToken}` });
  if (!billing.ok) throw new Error('billing did not authenticate');
  it('names the action or the ids that refuse, or nothing when allowed', () => {
    expect(refusal(billing.client, 'get', 'billing/1')).toBeUndefined();
    expect(refusal(billing.client, 'delete', 'billing/1')).toBe(
      'client billing may not delete keys: its actions are ["get","create"]',
    );
    expect(refusal(billing.client, 'get', 'other')).toBe(
      'client billing may not use the id "other": its ids are ["billing/*"]',
    );
  });
});
