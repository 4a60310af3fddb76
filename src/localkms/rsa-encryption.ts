import { constants, createPublicKey, privateDecrypt, publicEncrypt } from 'node:crypto';
import { privateKeyObject } from './key-material.js';
import { OAEP_HASHES, type RsaEncryptionAlgorithm } from './key-specs.js';

/**
 * RSAES-OAEP as AWS does it: MGF1 with the same hash as the label hash, an
 * empty label, and the raw RSA output as the ciphertext, so a ciphertext made
 * with GetPublicKey's key by any standard library decrypts here and the other
 * way round.
 */

export function oaepEncrypt(material: Buffer, algorithm: RsaEncryptionAlgorithm, plaintext: Buffer): Buffer {
  const key = createPublicKey(privateKeyObject(material));
  return publicEncrypt(
    { key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: OAEP_HASHES[algorithm].hash },
    plaintext,
  );
}

/** The plaintext, or undefined when the ciphertext is not one this key and algorithm made. */
export function oaepDecrypt(
  material: Buffer,
  algorithm: RsaEncryptionAlgorithm,
  ciphertext: Buffer,
): Buffer | undefined {
  try {
    return privateDecrypt(
      {
        key: privateKeyObject(material),
        padding: constants.RSA_PKCS1_OAEP_PADDING,
        oaepHash: OAEP_HASHES[algorithm].hash,
      },
      ciphertext,
    );
  } catch {
    return undefined;
  }
}
