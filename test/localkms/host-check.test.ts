import { request } from 'node:http';
import { CreateKeyCommand } from '@aws-sdk/client-kms';
import { afterAll, describe, expect, it } from 'vitest';
import { Fixture } from '../support/local-kms.js';

const fixture = new Fixture();
afterAll(() => fixture.cleanup());

/** A request with this Host header (fetch would send its own). */
function send(url: string, method: string, path: string, host: string, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; body: Record<string, unknown> }>((resolve, reject) => {
    const req = request(`${url}${path}`, { method, headers: { host, ...headers }, agent: false }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => {
        resolve({
          status: res.statusCode ?? 0,
          body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
        });
      });
    });
    req.on('error', reject);
    req.end(method === 'PUT' ? '{"down":{}}' : '{}');
  });
}

const target = { 'x-amz-target': 'TrentService.ListKeys', 'content-type': 'application/x-amz-json-1.1' };

describe('the local KMS and its admin endpoint (DNS rebinding)', () => {
  it('answer loopback names only when they listen on loopback', async () => {
    const kms = await fixture.start();
    const port = new URL(kms.url).port;
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, '[::1]']) {
      expect((await send(kms.url, 'GET', '/admin/counters', host)).status, host).toBe(200);
      expect((await send(kms.url, 'POST', '/', host, target)).status, host).toBe(200);
    }
    for (const host of ['evil.test', `attacker.example:${port}`]) {
      const put = await send(kms.url, 'PUT', '/admin/faults/us-east-1', host);
      expect(put.status).toBe(421);
      expect(put.body.error).toMatch(/not a name this local KMS answers to/);
      const call = await send(kms.url, 'POST', '/', host, target);
      expect(call.status).toBe(421);
      expect(call.body.__type).toBe('MisdirectedRequest');
    }
    // The refused PUT changed nothing.
    expect(kms.faults.get()).toEqual({});
    // The AWS SDK names the endpoint it was given, so it keeps working.
    await fixture.client(kms).send(new CreateKeyCommand({}));
  });

  it('answer the names given as allowedHosts too', async () => {
    const kms = await fixture.start({ allowedHosts: ['kms.test', '*.kms.internal'] });
    expect((await send(kms.url, 'GET', '/admin/counters', 'kms.test:4599')).status).toBe(200);
    expect((await send(kms.url, 'POST', '/', 'us-east-1.kms.internal', target)).status).toBe(200);
    expect((await send(kms.url, 'GET', '/admin/counters', 'other.test')).status).toBe(421);
  });
});
