import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { KmsError } from './errors.js';

/**
 * AWS Signature Version 4, as the SDKs and the CLI sign KMS requests: the
 * region of a request comes from its credential scope, and when access keys
 * are configured, the signature is checked against them.
 */

export interface SigV4Authorization {
  readonly accessKeyId: string;
  readonly date: string;
  readonly region: string;
  readonly service: string;
  readonly signedHeaders: readonly string[];
  readonly signature: string;
}

export interface SignedRequest {
  readonly method: string;
  /** The request target as received, path and query. */
  readonly url: string;
  /** Node's `rawHeaders`: names and values alternating, as sent. */
  readonly rawHeaders: readonly string[];
  readonly body: Buffer;
}

const ALGORITHM = 'AWS4-HMAC-SHA256';
const MAX_CLOCK_SKEW_MS = 5 * 60 * 1000;

export function parseAuthorization(header: string | undefined): SigV4Authorization | undefined {
  if (!header?.startsWith(`${ALGORITHM} `)) return undefined;
  const fields = new Map<string, string>();
  for (const part of header.slice(ALGORITHM.length + 1).split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const [accessKeyId, date, region, service, terminator] = (fields.get('Credential') ?? '').split('/');
  const signedHeaders = fields.get('SignedHeaders');
  const signature = fields.get('Signature');
  if (
    !accessKeyId ||
    !date ||
    !region ||
    !service ||
    terminator !== 'aws4_request' ||
    !signedHeaders ||
    !signature
  ) {
    return undefined;
  }
  return { accessKeyId, date, region, service, signedHeaders: signedHeaders.split(';'), signature };
}

/** Throws the error AWS would send when the signature of `request` is missing or does not verify. */
export function verifySignature(
  request: SignedRequest,
  secrets: ReadonlyMap<string, string>,
  now: number,
): void {
  const headers = headerValues(request.rawHeaders);
  const authorizationHeader = headers.get('authorization');
  if (authorizationHeader === undefined) {
    throw new KmsError('MissingAuthenticationTokenException', 'Missing Authentication Token');
  }
  const authorization = parseAuthorization(authorizationHeader);
  if (!authorization) {
    throw new KmsError(
      'IncompleteSignatureException',
      `Authorization header must be '${ALGORITHM} ` +
        `Credential=<key>/<date>/<region>/<service>/aws4_request, SignedHeaders=..., Signature=...'`,
    );
  }
  const secret = secrets.get(authorization.accessKeyId);
  if (secret === undefined) {
    throw new KmsError(
      'UnrecognizedClientException',
      'The security token included in the request is invalid.',
    );
  }
  const declaredHash = headers.get('x-amz-content-sha256');
  if (declaredHash !== undefined && declaredHash !== sha256Hex(request.body)) {
    throw new KmsError(
      'InvalidSignatureException',
      "The provided 'x-amz-content-sha256' header does not match what was computed.",
    );
  }
  const amzDate = headers.get('x-amz-date') ?? '';
  checkFreshness(amzDate, authorization.date, now);
  const expected = signatureFor(request, headers, authorization, amzDate, secret);
  const given = Buffer.from(authorization.signature, 'utf8');
  if (given.length !== expected.length || !timingSafeEqual(given, Buffer.from(expected, 'utf8'))) {
    throw new KmsError(
      'InvalidSignatureException',
      'The request signature we calculated does not match the signature you provided. ' +
        'Check your AWS Secret Access Key and signing method.',
    );
  }
}

function signatureFor(
  request: SignedRequest,
  headers: ReadonlyMap<string, string>,
  authorization: SigV4Authorization,
  amzDate: string,
  secret: string,
): string {
  const scope = `${authorization.date}/${authorization.region}/${authorization.service}/aws4_request`;
  const stringToSign = [
    ALGORITHM,
    amzDate,
    scope,
    sha256Hex(canonicalRequest(request, headers, authorization)),
  ].join('\n');
  let key: Buffer = hmac(`AWS4${secret}`, authorization.date);
  for (const part of [authorization.region, authorization.service, 'aws4_request']) key = hmac(key, part);
  return hmac(key, stringToSign).toString('hex');
}

function canonicalRequest(
  request: SignedRequest,
  headers: ReadonlyMap<string, string>,
  authorization: SigV4Authorization,
): string {
  const [path = '/', query = ''] = request.url.split('?', 2);
  const canonicalHeaders = authorization.signedHeaders
    .map((name) => `${name}:${headers.get(name) ?? ''}\n`)
    .join('');
  const payloadHash = sha256Hex(request.body);
  return [
    request.method,
    canonicalPath(path),
    canonicalQuery(query),
    canonicalHeaders,
    authorization.signedHeaders.join(';'),
    payloadHash,
  ].join('\n');
}

/** Services other than S3 sign the path with each segment encoded once more. */
function canonicalPath(path: string): string {
  return path
    .split('/')
    .map((segment) => encodeRfc3986(segment))
    .join('/');
}

function canonicalQuery(query: string): string {
  if (query === '') return '';
  return query
    .split('&')
    .map((pair) => {
      const [name = '', value = ''] = pair.split('=', 2);
      return [encodeRfc3986(decodedOrRaw(name)), encodeRfc3986(decodedOrRaw(value))] as const;
    })
    .sort(([a, av], [b, bv]) => (a === b ? (av < bv ? -1 : 1) : a < b ? -1 : 1))
    .map(([name, value]) => `${name}=${value}`)
    .join('&');
}

/** Header values as SigV4 canonicalizes them: names lowercased, values trimmed, repeats joined by commas. */
function headerValues(rawHeaders: readonly string[]): Map<string, string> {
  const values = new Map<string, string>();
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = (rawHeaders[i] ?? '').toLowerCase();
    const value = (rawHeaders[i + 1] ?? '').trim().replace(/\s+/g, ' ');
    const previous = values.get(name);
    values.set(name, previous === undefined ? value : `${previous},${value}`);
  }
  return values;
}

function checkFreshness(amzDate: string, scopeDate: string, now: number): void {
  const match = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate);
  if (!match)
    throw new KmsError(
      'IncompleteSignatureException',
      'X-Amz-Date header is missing or not in the form YYYYMMDDTHHMMSSZ',
    );
  const [year = 0, month = 1, day, hour, minute, second] = match.slice(1).map(Number);
  const signedAt = Date.UTC(year, month - 1, day, hour, minute, second);
  if (!amzDate.startsWith(scopeDate)) {
    throw new KmsError(
      'InvalidSignatureException',
      `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: ` +
        `'${scopeDate}' != '${amzDate.slice(0, 8)}'`,
    );
  }
  if (Math.abs(now - signedAt) > MAX_CLOCK_SKEW_MS) {
    throw new KmsError(
      'InvalidSignatureException',
      `Signature expired: ${amzDate} is more than 5 minutes away from the server time ${new Date(now).toISOString()}`,
    );
  }
}

function decodedOrRaw(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

function encodeRfc3986(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}
