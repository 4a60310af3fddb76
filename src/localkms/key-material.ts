import { createPrivateKey, createPublicKey, generateKeyPair, randomBytes, type KeyObject } from 'node:crypto';
import { KEY_SPECS, type LocalDataKeyPairSpec, type LocalKeySpec } from './key-specs.js';

/**
 * Key material by spec. Symmetric and HMAC keys hold random bytes; an RSA or
 * ECC key holds its private key as DER PKCS #8, the form AWS hands out for
 * data key pairs, so one encoding serves the store and GenerateDataKeyPair.
 */

export const SYMMETRIC_KEY_BYTES = 32;

/** Async because an RSA_4096 key takes about a second to make: the server keeps answering meanwhile. */
export async function newKeyMaterial(spec: LocalKeySpec): Promise<Buffer> {
  const kind = KEY_SPECS[spec];
  switch (kind.kind) {
    case 'symmetric':
      return randomBytes(SYMMETRIC_KEY_BYTES);
    case 'hmac':
      return randomBytes(kind.keyBytes);
    case 'rsa':
    case 'ecc':
      return newPrivateKeyDer(spec);
  }
}

export interface KeyPair {
  /** DER PKCS #8 PrivateKeyInfo (RFC 5958). */
  readonly privateKey: Buffer;
  /** DER X.509 SubjectPublicKeyInfo (RFC 5280). */
  readonly publicKey: Buffer;
}

export async function newKeyPair(spec: LocalDataKeyPairSpec): Promise<KeyPair> {
  const privateKey = await newPrivateKeyDer(spec);
  return { privateKey, publicKey: publicKeyDer(privateKey) };
}

export function privateKeyObject(material: Buffer): KeyObject {
  return createPrivateKey({ key: material, format: 'der', type: 'pkcs8' });
}

export function publicKeyDer(privateKey: Buffer): Buffer {
  return createPublicKey(privateKeyObject(privateKey)).export({ format: 'der', type: 'spki' });
}

/** Whether stored material has the shape its spec needs, so a damaged store fails at start, not at first use. */
export function isMaterialOf(spec: LocalKeySpec, material: Buffer): boolean {
  const kind = KEY_SPECS[spec];
  if (kind.kind === 'symmetric') return material.length === SYMMETRIC_KEY_BYTES;
  if (kind.kind === 'hmac') return material.length === kind.keyBytes;
  try {
    const key = privateKeyObject(material);
    if (kind.kind === 'rsa')
      return key.asymmetricKeyType === 'rsa' && key.asymmetricKeyDetails?.modulusLength === kind.modulusBits;
    return key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === kind.curve;
  } catch {
    return false;
  }
}

function newPrivateKeyDer(spec: LocalKeySpec): Promise<Buffer> {
  const kind = KEY_SPECS[spec];
  const encoding = {
    publicKeyEncoding: { format: 'der', type: 'spki' },
    privateKeyEncoding: { format: 'der', type: 'pkcs8' },
  } as const;
  return new Promise((resolve, reject) => {
    const done = (error: Error | null, _publicKey: Buffer, privateKey: Buffer) => {
      if (error) reject(error);
      else resolve(privateKey);
    };
    if (kind.kind === 'rsa') {
      generateKeyPair('rsa', { modulusLength: kind.modulusBits, publicExponent: 0x10001, ...encoding }, done);
    } else if (kind.kind === 'ecc') {
      generateKeyPair('ec', { namedCurve: kind.curve, ...encoding }, done);
    } else {
      reject(new Error(`${spec} has no key pair`));
    }
  });
}
