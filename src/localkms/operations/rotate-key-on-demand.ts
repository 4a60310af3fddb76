import Type from 'typebox';
import { resolveKey } from '../resolve.js';
import { KeyIdField } from './common.js';
import { defineStateChange } from './operation.js';
import { assertRotatable } from './rotation-state.js';

/**
 * RotateKeyOnDemand: new key material at once (AWS rotates in the background);
 * ciphertexts made under earlier material still decrypt.
 */
export const rotateKeyOnDemand = defineStateChange(
  'RotateKeyOnDemand',
  Type.Object({ KeyId: KeyIdField }),
  async (request, { region, store, persist }) => {
    const key = resolveKey(store, region, request.KeyId, 'key');
    assertRotatable(key);
    store.rotate(key, 'ON_DEMAND');
    await persist();
    return { KeyId: key.arn };
  },
);
