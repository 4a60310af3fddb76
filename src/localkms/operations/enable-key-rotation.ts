import Type from 'typebox';
import { resolveKey } from '../resolve.js';
import { KeyIdField } from './common.js';
import { defineStateChange } from './operation.js';
import { assertRotatable } from './rotation-state.js';

/** EnableKeyRotation: automatic rotation every RotationPeriodInDays (90–2560, 365 by default). */
export const enableKeyRotation = defineStateChange(
  'EnableKeyRotation',
  Type.Object({
    KeyId: KeyIdField,
    RotationPeriodInDays: Type.Optional(Type.Integer({ minimum: 90, maximum: 2560 })),
  }),
  async (request, { region, store, persist }) => {
    const key = resolveKey(store, region, request.KeyId, 'key');
    assertRotatable(key);
    store.enableRotation(key, request.RotationPeriodInDays ?? 365);
    await persist();
    return {};
  },
);
