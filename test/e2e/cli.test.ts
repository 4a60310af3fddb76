import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killAllClis, resultLine, runCli } from '../support/cli.js';
import { deleteKey, getKey } from '../support/http.js';
import { setDeletionDate } from '../support/table.js';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'rkms-e2e-'));
});
afterAll(async () => {
  killAllClis();
  await rm(dir, { recursive: true, force: true });
});

async function writeConfig(name: string, text: string): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, text);
  return file;
}

const EMBEDDED_CONFIG = `
[server]
port = 0
[kms]
regions = ["us-east-1", "us-east-2", "us-west-1"]
[dynamodb]
region = "us-east-1"
table_name = "rkms_keys"
[keys]
deletion_window_days = 7
[embedded]
kms = true
dynamodb = true
data_dir = "./data"
`;

describe('rkms serve on the embedded default', () => {
  it('serves keys, shuts down cleanly on Ctrl-C, and serves the same keys after a restart', async () => {
    const config = await writeConfig('config.toml', EMBEDDED_CONFIG);

    const first = runCli(['serve', '--config', config]);
    const [, url = ''] = await first.waitFor(/RKMS listening on (http:\/\/\S+)/);
    expect(first.stderr()).toContain(`curl '${url}/key?id=my-first-key'`);
    expect(first.stderr()).toMatch(
      /embedded: local KMS at http:\/\/127\.0\.0\.1:\d+ \(regions us-east-1, us-east-2, us-west-1\)/,
    );
    const alpha = await getKey(url, 'alpha');
    const beta = await getKey(url, 'beta', '/api/v1');
    expect(alpha.status).toBe(200);
    expect(beta.body.key).not.toBe(alpha.body.key);
    expect((await deleteKey(url, 'beta')).body.state).toBe('PendingDeletion');
    expect(await first.stop('SIGINT')).toBe(0);
    // The embedded default writes its audit trail to stdout: stdout then holds the trail's
    // lines and nothing else, and the service log goes to stderr beside the banner.
    const audit = first
      .stdout()
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(audit.map((line) => [line.type, line.id, line.outcome])).toEqual([
      ['audit', 'alpha', 'created'],
      ['audit', 'beta', 'created'],
      ['audit', 'beta', 'deleted'],
    ]);
    expect(first.stderr()).toMatch(/^\{"level":30,.*"msg":"request completed"\}$/m);

    const second = runCli(['serve', '--config', config]);
    const [, url2 = ''] = await second.waitFor(/RKMS listening on (http:\/\/\S+)/);
    expect((await getKey(url2, 'alpha')).body).toEqual(alpha.body);
    expect((await getKey(url2, 'beta')).status).toBe(409);
    expect(await second.stop('SIGTERM')).toBe(0);
  });

  it('finds its config through RKMS_CONFIG, and takes the port from RKMS_PORT and the data directory from RKMS_DATA_DIR', async () => {
    const config = await writeConfig(
      'by-env.toml',
      EMBEDDED_CONFIG.replace('table_name = "rkms_keys"', 'table_name = "from_env_var"').replace(
        'port = 0',
        'port = 26998', // what RKMS_PORT overrides: the server must not listen there
      ),
    );
    const cli = runCli(['serve'], {
      RKMS_CONFIG: config,
      RKMS_PORT: '0',
      RKMS_DATA_DIR: path.join(dir, 'other-data'),
    });
    const [, url = ''] = await cli.waitFor(/RKMS listening on (http:\/\/\S+)/);
    expect(url).not.toMatch(/:26998$/);
    expect(cli.stderr()).toContain('DynamoDB table from_env_var');
    expect(cli.stderr()).toContain(path.join(dir, 'other-data', 'kms'));
    expect(await cli.stop()).toBe(0);
  });
});

describe('rkms sweep', () => {
  it('destroys the keys whose deletion date has passed, and only those', async () => {
    const config = await writeConfig('sweep.toml', EMBEDDED_CONFIG.replace('./data', './sweep-data'));
    const server = runCli(['serve', '--config', config]);
    const [, url = ''] = await server.waitFor(/RKMS listening on (http:\/\/\S+)/);
    const [, store = ''] = await server.waitFor(/\(dynalite\) at (http:\/\/\S+),/);
    await getKey(url, 'keep');
    await getKey(url, 'drop');
    expect((await deleteKey(url, 'drop')).body.state).toBe('PendingDeletion');
    await setDeletionDate(store, 'drop', '2020-01-01T00:00:00.000Z'); // as if the window had passed
    expect(await server.stop()).toBe(0);

    const sweep = runCli(['sweep', '--config', config]);
    expect(await sweep.exited).toBe(0);
    expect(sweep.stderr()).toContain('deleted 1 key(s) whose deletion date had passed\n  "drop"');
    expect(resultLine(sweep.stdout(), 'destroyed')).toEqual({ destroyed: ['drop'] });

    const again = runCli(['serve', '--config', config]);
    const [, url2 = ''] = await again.waitFor(/RKMS listening on (http:\/\/\S+)/);
    expect((await getKey(url2, 'drop')).status).toBe(410);
    expect((await getKey(url2, 'keep')).status).toBe(200);
    expect(await again.stop()).toBe(0);
  });

  it('says in one line what failed when the embedded store is locked by a running server', async () => {
    const config = await writeConfig('locked.toml', EMBEDDED_CONFIG.replace('./data', './locked-data'));
    const server = runCli(['serve', '--config', config]);
    await server.waitFor(/RKMS listening on/);
    const sweep = runCli(['sweep', '--config', config]);
    expect(await sweep.exited).toBe(1);
    expect(sweep.stderr()).toMatch(/^rkms sweep: could not start the embedded KMS or store: .+\n$/m);
    // The remedy names the setting rkms reads the directory from, not the local KMS's own flag.
    expect(sweep.stderr()).toMatch(/is in use by process \d+ .*set \[embedded\] data_dir/);
    expect(sweep.stderr()).not.toContain('--data');
    expect(sweep.stderr()).not.toMatch(/\n\s+at /); // no stack trace
    expect(await server.stop()).toBe(0);
  });
});

describe('rkms with an invalid config', () => {
  // What each field's message says is tested in process (test/config/load.test.ts); here, the exit code.
  it('stops with exit code 2, naming the file and the field', async () => {
    const config = await writeConfig(
      'bad.toml',
      '[kms]\nregions = ["us-east-1"]\n[dynamodb]\nregion = "us-east-1"\ntabel_name = "x"\n',
    );
    const cli = runCli(['serve', '--config', config]);
    expect(await cli.exited).toBe(2);
    expect(cli.stderr()).toMatch(/dynamodb\.tabel_name: unknown setting/);
    expect(cli.stderr()).toContain(config);
    expect(cli.stderr()).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('says which file it could not find', async () => {
    const cli = runCli(['--config', path.join(dir, 'missing.toml')]);
    expect(await cli.exited).toBe(2);
    expect(cli.stderr()).toMatch(/cannot read config file .*missing\.toml: no such file/);
  });
});
