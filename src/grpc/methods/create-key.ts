import { keyAnswer, type KeyMethod } from './method.js';

/**
 * CreateKey — creates the key of an id that has none or whose key was destroyed (POST /key);
 * ALREADY_EXISTS otherwise. The only way a destroyed id gets a new key.
 */
export const createKey: KeyMethod = {
  name: 'CreateKey',
  action: 'create',
  run: async (keys, id, options) => keyAnswer(id, await keys.createKey(id, options)),
};
