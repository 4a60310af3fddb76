import { MalformedItemError, type KeyRecord, type Store } from '../store/store.js';
import type { Call } from './call.js';
import { KeyIntegrityError } from './errors.js';

/** An id's item; one RKMS cannot read is a KeyIntegrityError, logged for an operator. */
export async function readRecord(store: Store, id: string, call: Call): Promise<KeyRecord | undefined> {
  try {
    return await store.get(id, call.signal);
  } catch (err) {
    if (!(err instanceof MalformedItemError)) throw err;
    call.log?.error({ id, problem: err.problem }, 'stored item is malformed: needs an operator');
    throw new KeyIntegrityError(id, err.problem, { cause: err });
  }
}
