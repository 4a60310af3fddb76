import type { KeyStatus } from '../../keys/service.js';

/** The `{id, state, deletion_date?}` body of DELETE and restore. */
export function keyStatusBody(status: KeyStatus): {
  id: string;
  state: KeyStatus['state'];
  deletion_date?: string;
} {
  return {
    id: status.id,
    state: status.state,
    ...(status.deletionDate ? { deletion_date: status.deletionDate } : {}),
  };
}
