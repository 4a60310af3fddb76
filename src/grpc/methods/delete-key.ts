import { statusAnswer, type KeyMethod } from './method.js';

/** DeleteKey — schedules the key's destruction after the deletion window (DELETE /key). Idempotent. */
export const deleteKey: KeyMethod = {
  name: 'DeleteKey',
  action: 'delete',
  run: async (keys, id, options) => statusAnswer(await keys.scheduleDeletion(id, options)),
};
