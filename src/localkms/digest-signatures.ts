import {
  constants,
  createECDH,
  createHash,
  privateDecrypt,
  privateEncrypt,
  publicDecrypt,
  randomBytes,
  timingSafeEqual,
  type KeyObject,
} from 'node:crypto';
import type { EccCurve, HashName } from './key-specs.js';

/**
 * Signatures over a digest the caller computed (Sign and Verify with
 * MessageType DIGEST). Node's crypto.sign always hashes what it is given, so
 * these build the standard encodings around the digest and leave the
 * arithmetic to Node: RSA through its raw private/public operations, ECDSA
 * through ECDH, whose public key is k·G for any scalar k. The results are
 * ordinary signatures: a RAW signature of a message verifies here against its
 * digest, and a signature made here verifies with Node, OpenSSL or any
 * standard library against the message (the tests check both ways).
 */

/** DER of the DigestInfo prefix before the digest (RFC 8017, 9.2, note 1). */
const DIGEST_INFO_PREFIX: Readonly<Record<HashName, Buffer>> = {
  sha1: Buffer.from('3021300906052b0e03021a05000414', 'hex'),
  sha224: Buffer.from('302d300d06096086480165030402040500041c', 'hex'),
  sha256: Buffer.from('3031300d060960864801650304020105000420', 'hex'),
  sha384: Buffer.from('3041300d060960864801650304020205000430', 'hex'),
  sha512: Buffer.from('3051300d060960864801650304020305000440', 'hex'),
};

/** RSASSA-PKCS1-v1_5: privateEncrypt with PKCS #1 type 1 padding is exactly EMSA-PKCS1-v1_5 over the DigestInfo. */
export function signPkcs1Digest(privateKey: KeyObject, hash: HashName, digest: Buffer): Buffer {
  return privateEncrypt(
    { key: privateKey, padding: constants.RSA_PKCS1_PADDING },
    Buffer.concat([DIGEST_INFO_PREFIX[hash], digest]),
  );
}

export function verifyPkcs1Digest(
  publicKey: KeyObject,
  hash: HashName,
  digest: Buffer,
  signature: Buffer,
): boolean {
  try {
    const recovered = publicDecrypt({ key: publicKey, padding: constants.RSA_PKCS1_PADDING }, signature);
    return equalBytes(recovered, Buffer.concat([DIGEST_INFO_PREFIX[hash], digest]));
  } catch {
    return false;
  }
}

/** RSASSA-PSS with MGF1 of the same hash and a salt as long as the digest, as AWS signs (RFC 8017, 9.1.1). */
export function signPssDigest(
  privateKey: KeyObject,
  hash: HashName,
  digest: Buffer,
  modulusBits: number,
): Buffer {
  const emBits = modulusBits - 1;
  const emLength = Math.ceil(emBits / 8);
  const hashLength = digest.length;
  const salt = randomBytes(hashLength);
  const h = hashOf(hash, Buffer.concat([Buffer.alloc(8), digest, salt]));
  const db = Buffer.concat([Buffer.alloc(emLength - 2 * hashLength - 2), Buffer.from([1]), salt]);
  const maskedDb = xor(db, mgf1(hash, h, emLength - hashLength - 1));
  maskedDb[0] = (maskedDb[0] ?? 0) & (0xff >> (8 * emLength - emBits));
  const em = Buffer.concat([maskedDb, h, Buffer.from([0xbc])]);
  return rawRsa(privateKey, leftPad(em, modulusBits / 8));
}

export function verifyPssDigest(
  publicKey: KeyObject,
  hash: HashName,
  digest: Buffer,
  signature: Buffer,
  modulusBits: number,
): boolean {
  const emBits = modulusBits - 1;
  const emLength = Math.ceil(emBits / 8);
  const hashLength = digest.length;
  if (signature.length !== modulusBits / 8) return false;
  let em: Buffer;
  try {
    em = publicDecrypt({ key: publicKey, padding: constants.RSA_NO_PADDING }, signature);
  } catch {
    return false;
  }
  em = em.subarray(em.length - emLength);
  if (em[em.length - 1] !== 0xbc) return false;
  const maskedDb = em.subarray(0, emLength - hashLength - 1);
  const h = em.subarray(emLength - hashLength - 1, emLength - 1);
  const topBits = 0xff >> (8 * emLength - emBits);
  if (((maskedDb[0] ?? 0) & ~topBits) !== 0) return false;
  const db = xor(maskedDb, mgf1(hash, h, maskedDb.length));
  db[0] = (db[0] ?? 0) & topBits;
  const separator = emLength - 2 * hashLength - 2;
  if (!db.subarray(0, separator).every((byte) => byte === 0) || db[separator] !== 1) return false;
  const salt = db.subarray(db.length - hashLength);
  return equalBytes(h, hashOf(hash, Buffer.concat([Buffer.alloc(8), digest, salt])));
}

/** The order n of each curve's base point, and its size (SEC 2; FIPS 186-4, D.1.2). */
const CURVE_ORDERS: Readonly<Record<EccCurve, { n: bigint; bits: number }>> = {
  prime256v1: { n: 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n, bits: 256 },
  secp384r1: {
    n: 0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973n,
    bits: 384,
  },
  secp521r1: {
    n: 0x1fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffa51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e91386409n,
    bits: 521,
  },
  secp256k1: { n: 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n, bits: 256 },
};

/** ECDSA over a digest (SEC 1, 4.1.3), DER-encoded as AWS returns it (RFC 3279, 2.2.3). */
export function signEcdsaDigest(privateKey: KeyObject, curve: EccCurve, digest: Buffer): Buffer {
  const { n } = CURVE_ORDERS[curve];
  const d = privateScalar(privateKey);
  const e = digestScalar(curve, digest);
  for (;;) {
    const k = randomScalar(n);
    const r = mod(basePointMultipleX(curve, k), n);
    const s = mod(modInverse(k, n) * (e + r * d), n);
    if (r !== 0n && s !== 0n) return encodeDerSignature(r, s);
  }
}

/**
 * Checks an ECDSA signature with the private key the emulator holds:
 * u1·G + u2·Q = (u1 + u2·d)·G, so one multiplication of the base point does.
 */
export function verifyEcdsaDigest(
  privateKey: KeyObject,
  curve: EccCurve,
  digest: Buffer,
  signature: Buffer,
): boolean {
  const { n } = CURVE_ORDERS[curve];
  const decoded = decodeDerSignature(signature);
  if (!decoded) return false;
  const { r, s } = decoded;
  if (r <= 0n || r >= n || s <= 0n || s >= n) return false;
  const w = modInverse(s, n);
  const scalar = mod(digestScalar(curve, digest) * w + r * w * privateScalar(privateKey), n);
  if (scalar === 0n) return false;
  return mod(basePointMultipleX(curve, scalar), n) === r;
}

function basePointMultipleX(curve: EccCurve, scalar: bigint): bigint {
  const ecdh = createECDH(curve);
  const fieldBytes = Math.ceil(CURVE_ORDERS[curve].bits / 8);
  ecdh.setPrivateKey(leftPad(bigintBytes(scalar), fieldBytes));
  const point = ecdh.getPublicKey();
  return bytesBigint(point.subarray(1, 1 + (point.length - 1) / 2));
}

/** The leftmost bits of the digest, as many as the order has (SEC 1, 4.1.3, step 5). */
function digestScalar(curve: EccCurve, digest: Buffer): bigint {
  const { bits } = CURVE_ORDERS[curve];
  const value = bytesBigint(digest);
  const excess = digest.length * 8 - bits;
  return excess > 0 ? value >> BigInt(excess) : value;
}

function privateScalar(privateKey: KeyObject): bigint {
  const { d } = privateKey.export({ format: 'jwk' });
  if (d === undefined) throw new Error('not an EC private key');
  return bytesBigint(Buffer.from(d, 'base64url'));
}

function randomScalar(n: bigint): bigint {
  const bytes = Math.ceil(n.toString(16).length / 2) + 8;
  return (bytesBigint(randomBytes(bytes)) % (n - 1n)) + 1n;
}

function encodeDerSignature(r: bigint, s: bigint): Buffer {
  const body = Buffer.concat([derInteger(r), derInteger(s)]);
  return Buffer.concat([Buffer.from([0x30]), derLength(body.length), body]);
}

function decodeDerSignature(signature: Buffer): { r: bigint; s: bigint } | undefined {
  const reader = { offset: 0 };
  if (signature[reader.offset++] !== 0x30) return undefined;
  const length = readDerLength(signature, reader);
  if (length === undefined || reader.offset + length !== signature.length) return undefined;
  const r = readDerInteger(signature, reader);
  const s = readDerInteger(signature, reader);
  if (r === undefined || s === undefined || reader.offset !== signature.length) return undefined;
  return { r, s };
}

function derInteger(value: bigint): Buffer {
  let bytes = bigintBytes(value);
  if ((bytes[0] ?? 0) & 0x80) bytes = Buffer.concat([Buffer.from([0]), bytes]);
  return Buffer.concat([Buffer.from([0x02]), derLength(bytes.length), bytes]);
}

function derLength(length: number): Buffer {
  return length < 0x80 ? Buffer.from([length]) : Buffer.from([0x81, length]);
}

function readDerLength(bytes: Buffer, reader: { offset: number }): number | undefined {
  const first = bytes[reader.offset++];
  if (first === undefined) return undefined;
  if (first < 0x80) return first;
  if (first !== 0x81) return undefined;
  return bytes[reader.offset++];
}

function readDerInteger(bytes: Buffer, reader: { offset: number }): bigint | undefined {
  if (bytes[reader.offset++] !== 0x02) return undefined;
  const length = readDerLength(bytes, reader);
  if (length === undefined || length === 0 || reader.offset + length > bytes.length) return undefined;
  const value = bytes.subarray(reader.offset, reader.offset + length);
  reader.offset += length;
  if ((value[0] ?? 0) & 0x80) return undefined;
  return bytesBigint(value);
}

function mgf1(hash: HashName, seed: Buffer, length: number): Buffer {
  const blocks: Buffer[] = [];
  for (let counter = 0; blocks.length * seed.length < length; counter++) {
    const c = Buffer.alloc(4);
    c.writeUInt32BE(counter);
    blocks.push(hashOf(hash, Buffer.concat([seed, c])));
  }
  return Buffer.concat(blocks).subarray(0, length);
}

/** RSASP1 with no padding: privateDecrypt and privateEncrypt both apply the private exponent. */
function rawRsa(privateKey: KeyObject, block: Buffer): Buffer {
  return privateDecrypt({ key: privateKey, padding: constants.RSA_NO_PADDING }, block);
}

function hashOf(hash: HashName, data: Buffer): Buffer {
  return createHash(hash).update(data).digest();
}

function xor(a: Buffer, b: Buffer): Buffer {
  return Buffer.from(a.map((byte, i) => byte ^ (b[i] ?? 0)));
}

function leftPad(bytes: Buffer, length: number): Buffer {
  return bytes.length >= length ? bytes : Buffer.concat([Buffer.alloc(length - bytes.length), bytes]);
}

function equalBytes(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

function bytesBigint(bytes: Buffer): bigint {
  return bytes.length === 0 ? 0n : BigInt(`0x${bytes.toString('hex')}`);
}

function bigintBytes(value: bigint): Buffer {
  const hex = value.toString(16);
  return Buffer.from(hex.length % 2 ? `0${hex}` : hex, 'hex');
}

function mod(value: bigint, n: bigint): bigint {
  const r = value % n;
  return r < 0n ? r + n : r;
}

/** n is prime, so a^(n−2) is the inverse of a (Fermat). */
function modInverse(a: bigint, n: bigint): bigint {
  let result = 1n;
  let base = mod(a, n);
  let exponent = n - 2n;
  while (exponent > 0n) {
    if (exponent & 1n) result = (result * base) % n;
    base = (base * base) % n;
    exponent >>= 1n;
  }
  return result;
}
