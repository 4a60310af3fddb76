import { wipe } from '../../kms/key-material.js';
import type { CallOptions, KeyService, KeyStatus, ServedKey } from '../../keys/service.js';
import type { KeyAction } from '../access.js';
import { encodeKey, encodeKeyStatus } from '../proto.js';

/** What a method answers: its encoded response message, and for a key, where it came from (for the audit line). */
export interface MethodAnswer {
  message: Buffer;
  served?: { source: string; created: boolean };
}

/**
 * One RPC of rkms.v1.Rkms: its name in the .proto, the action it is authorized as, and
 * what it does with a valid id.
 */
export interface KeyMethod {
  name: 'GetKey' | 'CreateKey' | 'DeleteKey' | 'RestoreKey';
  action: KeyAction;
  run(keys: KeyService, id: string, options: CallOptions): Promise<MethodAnswer>;
}

/** An rkms.v1.Key answer; the caller's copy of the key is wiped once encoded. */
export function keyAnswer(id: string, served: ServedKey): MethodAnswer {
  const message = encodeKey({ id, key: served.key });
  wipe(served.key);
  return { message, served: { source: served.source, created: served.created } };
}

/** An rkms.v1.KeyStatus answer. */
export function statusAnswer(status: KeyStatus): MethodAnswer {
  return {
    message: encodeKeyStatus({
      id: status.id,
      state: status.state,
      deletion_date: status.deletionDate ?? '',
    }),
  };
}
