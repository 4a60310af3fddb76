import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface Pem {
  cert: string;
  key: string;
  /** Where the files are, for `[server.tls]`. */
  certPath: string;
  keyPath: string;
}

export interface TestPki {
  dir: string;
  ca: Pem;
  /** A certificate for 127.0.0.1 and localhost, signed by `ca`. */
  server(name?: string): Promise<Pem>;
  /** A client certificate with this subject (and SAN), signed by `ca`. */
  client(subject: string, san?: string): Promise<Pem>;
  /** Another CA, which RKMS does not trust. */
  foreignCa(): Promise<TestPki>;
  close(): Promise<void>;
}

/**
 * Certificates made for one test with the openssl command line (Node's crypto cannot sign
 * X.509): a CA, server and client certificates it signs. EC P-256 keys, valid one day.
 */
export async function createPki(label = 'rkms-pki'): Promise<TestPki> {
  const dir = await mkdtemp(path.join(tmpdir(), `${label}-`));
  let serial = 0;
  const openssl = (args: string[]) => run('openssl', args, { cwd: dir });
  const keyPair = async (name: string) => {
    await openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', `${name}.key`]);
  };
  const read = async (name: string): Promise<Pem> => ({
    cert: await readFile(path.join(dir, `${name}.crt`), 'utf8'),
    key: await readFile(path.join(dir, `${name}.key`), 'utf8'),
    certPath: path.join(dir, `${name}.crt`),
    keyPath: path.join(dir, `${name}.key`),
  });
  const ca = async (name: string): Promise<Pem> => {
    await keyPair(name);
    await openssl([
      'req',
      '-x509',
      '-new',
      '-key',
      `${name}.key`,
      '-subj',
      `/CN=${name}`,
      '-days',
      '1',
      '-out',
      `${name}.crt`,
    ]);
    return read(name);
  };
  const signed = async (caName: string, name: string, subject: string, extensions: string): Promise<Pem> => {
    await keyPair(name);
    await openssl(['req', '-new', '-key', `${name}.key`, '-subj', subject, '-out', `${name}.csr`]);
    await writeFile(path.join(dir, `${name}.ext`), extensions);
    await openssl([
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      `${caName}.crt`,
      '-CAkey',
      `${caName}.key`,
      '-set_serial',
      String(1000 + serial++),
      '-days',
      '1',
      '-extfile',
      `${name}.ext`,
      '-out',
      `${name}.crt`,
    ]);
    return read(name);
  };
  const build = async (caName: string): Promise<TestPki> => {
    const authority = await ca(caName);
    return {
      dir,
      ca: authority,
      server: (name = `server-${serial}`) =>
        signed(
          caName,
          name,
          '/CN=localhost',
          'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n',
        ),
      client: (subject, san) =>
        signed(
          caName,
          `client-${serial}`,
          subject,
          `extendedKeyUsage=clientAuth\n${san ? `subjectAltName=${san}\n` : ''}`,
        ),
      foreignCa: () => build(`${caName}-foreign-${serial++}`),
      close: () => rm(dir, { recursive: true, force: true }),
    };
  };
  return build('test-ca');
}
