import { execFile } from 'node:child_process';
import { createPublicKey, verify } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalKms } from '../../src/localkms/index.js';
import { Fixture } from '../support/local-kms.js';

/**
 * The AWS CLI against the local KMS, as a user would run it. The CLI must be
 * installed (.ci/run installs it where it is missing): a missing CLI fails
 * these tests rather than skipping them. It runs with fixed test credentials,
 * empty config and credential files so a user's own profile cannot interfere,
 * and talks to 127.0.0.1 only.
 */

const run = promisify(execFile);
const CLI_TIMEOUT_MS = 60_000;
const fixture = new Fixture();
let kms: LocalKms;
let dir: string;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  kms = await fixture.start({ regions: ['us-east-1', 'us-west-1'] });
  dir = await fixture.tempDir();
  await writeFile(join(dir, 'config'), '');
  await writeFile(join(dir, 'credentials'), '');
  env = {
    PATH: process.env.PATH,
    HOME: dir,
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_CONFIG_FILE: join(dir, 'config'),
    AWS_SHARED_CREDENTIALS_FILE: join(dir, 'credentials'),
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_PAGER: '',
  };
});
afterAll(() => fixture.cleanup());

/** Runs `aws kms <args>` in a region of the local KMS and parses its JSON answer. */
async function kmsCli(region: string, ...args: string[]): Promise<Record<string, unknown>> {
  const { stdout } = await run(
    'aws',
    ['--endpoint-url', kms.url, '--region', region, '--output', 'json', 'kms', ...args],
    { env, timeout: CLI_TIMEOUT_MS },
  );
  return stdout.trim() === '' ? {} : (JSON.parse(stdout) as Record<string, unknown>);
}

function keyIdOf(created: Record<string, unknown>): string {
  const { KeyId } = created.KeyMetadata as { KeyId: string };
  return KeyId;
}

describe('the AWS CLI', () => {
  it(
    'creates an ECC_NIST_P256 key, signs and verifies, and the signature verifies with the public key outside KMS',
    async () => {
      const keyId = keyIdOf(
        await kmsCli('us-east-1', 'create-key', '--key-spec', 'ECC_NIST_P256', '--key-usage', 'SIGN_VERIFY'),
      );
      const messageFile = join(dir, 'message.txt');
      await writeFile(messageFile, 'signed with the AWS CLI');
      const signed = await kmsCli(
        'us-east-1',
        'sign',
        '--key-id',
        keyId,
        '--message',
        `fileb://${messageFile}`,
        '--message-type',
        'RAW',
        '--signing-algorithm',
        'ECDSA_SHA_256',
      );
      expect(signed.SigningAlgorithm).toBe('ECDSA_SHA_256');
      const signature = Buffer.from(signed.Signature as string, 'base64');
      const signatureFile = join(dir, 'signature.der');
      await writeFile(signatureFile, signature);

      const verified = await kmsCli(
        'us-east-1',
        'verify',
        '--key-id',
        keyId,
        '--message',
        `fileb://${messageFile}`,
        '--message-type',
        'RAW',
        '--signature',
        `fileb://${signatureFile}`,
        '--signing-algorithm',
        'ECDSA_SHA_256',
      );
      expect(verified.SignatureValid).toBe(true);

      const publicKey = await kmsCli('us-east-1', 'get-public-key', '--key-id', keyId);
      expect(publicKey).toMatchObject({ KeySpec: 'ECC_NIST_P256', SigningAlgorithms: ['ECDSA_SHA_256'] });
      const der = Buffer.from(publicKey.PublicKey as string, 'base64');
      const key = createPublicKey({ key: der, format: 'der', type: 'spki' });
      expect(verify('sha256', await readFile(messageFile), { key, dsaEncoding: 'der' }, signature)).toBe(
        true,
      );
    },
    4 * CLI_TIMEOUT_MS,
  );

  it(
    'replicates a multi-Region key from us-east-1 to us-west-1 and decrypts there what us-east-1 encrypted, on one port',
    async () => {
      const keyId = keyIdOf(
        await kmsCli('us-east-1', 'create-key', '--multi-region', '--description', 'cli mrk'),
      );
      expect(keyId).toMatch(/^mrk-/);
      const replica = await kmsCli(
        'us-east-1',
        'replicate-key',
        '--key-id',
        keyId,
        '--replica-region',
        'us-west-1',
      );
      expect(replica.ReplicaKeyMetadata).toMatchObject({
        KeyId: keyId,
        MultiRegionConfiguration: { MultiRegionKeyType: 'REPLICA' },
      });
      const plainFile = join(dir, 'plain.txt');
      await writeFile(plainFile, 'encrypted in us-east-1');
      const encrypted = await kmsCli(
        'us-east-1',
        'encrypt',
        '--key-id',
        keyId,
        '--plaintext',
        `fileb://${plainFile}`,
        '--encryption-context',
        'purpose=cli',
      );
      const blobFile = join(dir, 'secret.bin');
      await writeFile(blobFile, Buffer.from(encrypted.CiphertextBlob as string, 'base64'));
      const decrypted = await kmsCli(
        'us-west-1',
        'decrypt',
        '--ciphertext-blob',
        `fileb://${blobFile}`,
        '--encryption-context',
        'purpose=cli',
      );
      expect(Buffer.from(decrypted.Plaintext as string, 'base64').toString('utf8')).toBe(
        'encrypted in us-east-1',
      );
      expect(decrypted.KeyId).toBe(`arn:aws:kms:us-west-1:111122223333:key/${keyId}`);
      expect(kms.counters()['us-west-1']).toEqual({ Decrypt: 1 });
    },
    5 * CLI_TIMEOUT_MS,
  );
});
