import Fastify from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { PathSequence, runLoad } from '../../bench/load.js';

const servers: { close(): Promise<unknown> }[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

/** A route that keeps the id of every request it answers. */
async function recordingServer(): Promise<{ url: string; ids: string[] }> {
  const ids: string[] = [];
  const app = Fastify();
  app.get('/key', (request) => {
    ids.push((request.query as { id: string }).id);
    return {};
  });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  servers.push(app);
  return { url, ids };
}

describe("the bench's load runs", () => {
  it('go on numbering where the last run of the same sequence stopped: no new id is asked for twice', async () => {
    const { url, ids } = await recordingServer();
    const paths = new PathSequence((n) => `/key?id=new-${n}`);
    const first = await runLoad({ url, connections: 2, durationSeconds: 1, paths });
    const asked = ids.length;
    const second = await runLoad({ url, connections: 2, durationSeconds: 1, paths });

    expect(first.requests).toBeGreaterThan(0);
    expect(second.requests).toBeGreaterThan(0);
    expect(ids.length).toBeGreaterThan(asked);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
