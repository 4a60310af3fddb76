import { constants, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import {
  signEcdsaDigest,
  signPkcs1Digest,
  signPssDigest,
  verifyEcdsaDigest,
  verifyPkcs1Digest,
  verifyPssDigest,
} from './digest-signatures.js';
import { privateKeyObject } from './key-material.js';
import { KEY_SPECS, SIGNING_SCHEMES, type LocalKeySpec, type LocalSigningAlgorithm } from './key-specs.js';

/**
 * Sign and Verify with an asymmetric key's material. A RAW message goes to
 * Node's crypto as it is; a DIGEST is signed as the digest of a message (see
 * digest-signatures.ts), so either kind verifies against the other.
 */

export type MessageKind = 'RAW' | 'DIGEST';

export interface SigningKey {
  readonly spec: LocalKeySpec;
  /** DER PKCS #8 private key. */
  readonly material: Buffer;
}

export function signMessage(
  key: SigningKey,
  algorithm: LocalSigningAlgorithm,
  message: Buffer,
  kind: MessageKind,
): Buffer {
  const scheme = SIGNING_SCHEMES[algorithm];
  const privateKey = privateKeyObject(key.material);
  if (kind === 'RAW') return sign(scheme.hash, message, nodeOptions(privateKey, scheme.padding));
  const spec = KEY_SPECS[key.spec];
  if (scheme.padding === 'ecdsa' && spec.kind === 'ecc')
    return signEcdsaDigest(privateKey, spec.curve, message);
  if (spec.kind !== 'rsa') throw new Error(`${algorithm} does not fit ${key.spec}`);
  if (scheme.padding === 'pss') return signPssDigest(privateKey, scheme.hash, message, spec.modulusBits);
  return signPkcs1Digest(privateKey, scheme.hash, message);
}

export function verifySignature(
  key: SigningKey,
  algorithm: LocalSigningAlgorithm,
  message: Buffer,
  kind: MessageKind,
  signature: Buffer,
): boolean {
  const scheme = SIGNING_SCHEMES[algorithm];
  const privateKey = privateKeyObject(key.material);
  const publicKey = createPublicKey(privateKey);
  if (kind === 'RAW') {
    try {
      return verify(scheme.hash, message, nodeOptions(publicKey, scheme.padding), signature);
    } catch {
      // A malformed signature is a signature that does not verify.
      return false;
    }
  }
  const spec = KEY_SPECS[key.spec];
  if (scheme.padding === 'ecdsa' && spec.kind === 'ecc')
    return verifyEcdsaDigest(privateKey, spec.curve, message, signature);
  if (spec.kind !== 'rsa') return false;
  if (scheme.padding === 'pss')
    return verifyPssDigest(publicKey, scheme.hash, message, signature, spec.modulusBits);
  return verifyPkcs1Digest(publicKey, scheme.hash, message, signature);
}

function nodeOptions(key: KeyObject, padding: 'pkcs1' | 'pss' | 'ecdsa') {
  if (padding === 'pss') {
    return { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST };
  }
  if (padding === 'pkcs1') return { key, padding: constants.RSA_PKCS1_PADDING };
  return { key, dsaEncoding: 'der' as const };
}
