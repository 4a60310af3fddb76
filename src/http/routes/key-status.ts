import type { Static } from 'typebox';
import type { KeyStatus } from '../../keys/service.js';
import type { KeyStatusBody } from '../schemas.js';

export function keyStatusBody(status: KeyStatus): Static<typeof KeyStatusBody> {
  return {
    id: status.id,
    state: status.state,
    ...(status.deletionDate ? { deletion_date: status.deletionDate } : {}),
  };
}
