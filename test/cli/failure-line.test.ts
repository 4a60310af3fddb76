import { createServer, type AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { EMBEDDED_CREDENTIALS } from '../../src/cli/embedded.js';
import { failureLine } from '../../src/cli/failure-line.js';
import { DynamoStore } from '../../src/store/dynamodb.js';
import { testConfig } from '../support/config.js';

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** What a real scan of the store throws, as `rkms sweep` and `rkms repair` meet it. */
async function scanFailure(store: DynamoStore): Promise<unknown> {
  try {
    // Reading the first page is what fails; no item is expected.
    for await (const item of store.scan()) throw new Error(`the scan read ${JSON.stringify(item)}`);
  } catch (err) {
    return err;
  } finally {
    store.close();
  }
  throw new Error('the scan did not fail');
}

afterEach(() => {
  vi.unstubAllEnvs();
});

describe("a command's failure line", () => {
  it('names [dynamodb] endpoint when nothing answers there', async () => {
    const config = testConfig({ dynamodb: { endpoint: `http://127.0.0.1:${await closedPort()}` } });
    const store = new DynamoStore({
      config: config.dynamodb,
      clock: Date.now,
      credentials: EMBEDDED_CREDENTIALS,
    });
    expect(failureLine(await scanFailure(store), config)).toMatch(
      /^the key store is unavailable: scan: connection refused\. check \[dynamodb\] endpoint \(http:\/\/127\.0\.0\.1:\d+\): nothing answers there$/,
    );
  });

  it("points at the SDK's credential chain when it finds no AWS credentials", async () => {
    // Nothing for the default chain to find: no keys, no profile, no instance metadata.
    for (const name of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE'])
      vi.stubEnv(name, undefined);
    for (const name of ['AWS_CONTAINER_CREDENTIALS_RELATIVE_URI', 'AWS_CONTAINER_CREDENTIALS_FULL_URI'])
      vi.stubEnv(name, undefined);
    vi.stubEnv('AWS_WEB_IDENTITY_TOKEN_FILE', undefined);
    vi.stubEnv('AWS_EC2_METADATA_DISABLED', 'true');
    vi.stubEnv('AWS_SHARED_CREDENTIALS_FILE', '/nonexistent/rkms-test/credentials');
    vi.stubEnv('AWS_CONFIG_FILE', '/nonexistent/rkms-test/config');
    const config = testConfig({ dynamodb: { endpoint: `http://127.0.0.1:${await closedPort()}` } });
    const line = failureLine(
      await scanFailure(new DynamoStore({ config: config.dynamodb, clock: Date.now })),
      config,
    );
    expect(line).toMatch(
      /^the key store is unavailable: scan: no AWS credentials found \(CredentialsProviderError\)\. RKMS signs its AWS calls with the SDK's default credential chain: set AWS_PROFILE/,
    );
  });
});
