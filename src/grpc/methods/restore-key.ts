import { statusAnswer, type KeyMethod } from './method.js';

/** RestoreKey — cancels a pending deletion; the same key is served again (POST /key/restore). */
export const restoreKey: KeyMethod = {
  name: 'RestoreKey',
  action: 'restore',
  run: async (keys, id, options) => statusAnswer(await keys.restore(id, options)),
};
