import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse, stringify } from 'smol-toml';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { killAllClis, runCli } from '../support/cli.js';
import { HealthClient, ReflectionClient, RkmsGrpcClient } from '../support/grpc.js';
import { getKey } from '../support/http.js';
import { recordKey } from '../support/audit.js';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'rkms-grpc-serve-'));
});
afterAll(async () => {
  killAllClis();
  await rm(dir, { recursive: true, force: true });
});

it('rkms serve on the embedded default starts gRPC beside HTTP, serving the same keys, and stops on SIGTERM', async () => {
  // The repository's config.toml, on free ports and with its data in a scratch directory.
  const embedded = parse(await readFile(path.resolve('config.toml'), 'utf8')) as Record<
    string,
    Record<string, unknown>
  >;
  expect(embedded.grpc?.port).toBe(9090);
  embedded.server = { ...embedded.server, port: 0 };
  embedded.grpc = { ...embedded.grpc, port: 0 };
  embedded.embedded = { ...embedded.embedded, data_dir: path.join(dir, 'data') };
  const config = path.join(dir, 'config.toml');
  await writeFile(config, stringify(embedded));

  const cli = runCli(['serve', '--config', config]);
  const [, url = ''] = await cli.waitFor(/RKMS listening on (http:\/\/\S+)/);
  const [, address = ''] = await cli.waitFor(
    /gRPC: (127\.0\.0\.1:\d+) \(rkms\.v1\.Rkms, grpc\.health\.v1\.Health, reflection\)/,
  );
  expect(cli.stderr()).toContain(
    `grpcurl -plaintext -d '{"id":"my-first-key"}' ${address} rkms.v1.Rkms/GetKey`,
  );

  const grpc = new RkmsGrpcClient(address);
  const health = new HealthClient(address);
  const reflection = new ReflectionClient(address);
  try {
    const viaGrpc = await grpc.getKey('my-first-key');
    expect(viaGrpc.codeName).toBe('OK');
    expect((await getKey(url, 'my-first-key')).body).toEqual(viaGrpc.message);
    // The banner's grpcurl command, as grpcurl runs it: through reflection, with JSON.
    const asGrpcurl = await reflection.call('rkms.v1.Rkms', 'GetKey', { id: 'my-first-key' });
    recordKey(asGrpcurl.key as string);
    expect(asGrpcurl).toEqual(viaGrpc.message);
    expect((await health.check('')).message).toEqual({ status: 'SERVING' });
  } finally {
    grpc.close();
    health.close();
    reflection.close();
  }
  expect(await cli.stop('SIGTERM')).toBe(0);
});
