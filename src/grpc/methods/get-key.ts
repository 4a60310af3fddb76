import { keyAnswer, type KeyMethod } from './method.js';

/**
 * GetKey — the data key for the id, created on the first call (GET /key). Never a new key
 * for an id whose key is pending deletion or was destroyed (FAILED_PRECONDITION).
 */
export const getKey: KeyMethod = {
  name: 'GetKey',
  action: 'get',
  run: async (keys, id) => keyAnswer(id, await keys.getKey(id)),
};
