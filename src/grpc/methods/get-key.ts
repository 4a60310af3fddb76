import { keyAnswer, type KeyMethod } from './method.js';

/**
 * GetKey — the data key for the id, created on the first call (GET /key). Never a new key
 * for an id whose key is pending deletion or was destroyed (FAILED_PRECONDITION). Creating
 * the key of a new id needs the `create` action too (the call's beforeCreate checks it).
 */
export const getKey: KeyMethod = {
  name: 'GetKey',
  action: 'get',
  run: async (keys, id, options) => keyAnswer(id, await keys.getKey(id, options)),
};
