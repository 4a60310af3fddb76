import Type from 'typebox';
import { resolveKey } from '../resolve.js';
import { epochSeconds, KeyIdField, keyMaterialId, MarkerField } from './common.js';
import { defineOperation } from './operation.js';
import { assertRotationApplies } from './rotation-state.js';
import { pageFields, pageOf } from './pagination.js';

/** ListKeyRotations: completed rotations, oldest first. */
export const listKeyRotations = defineOperation(
  'ListKeyRotations',
  Type.Object({
    KeyId: KeyIdField,
    IncludeKeyMaterial: Type.Optional(Type.Enum(['ALL_KEY_MATERIAL', 'ROTATIONS_ONLY'])),
    Limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
    Marker: Type.Optional(MarkerField),
  }),
  (request, { region, store }) => {
    const key = resolveKey(store, region, request.KeyId, 'key');
    assertRotationApplies(key);
    const rotations = key.rotations.map((rotation, index) => ({ ...rotation, version: index + 1 }));
    const page = pageOf(rotations, request.Limit ?? 100, request.Marker, (rotation) =>
      String(rotation.version).padStart(10, '0'),
    );
    return {
      Rotations: page.items.map((rotation) => ({
        KeyId: key.keyId,
        RotationDate: epochSeconds(rotation.date),
        RotationType: rotation.type,
        KeyMaterialId: keyMaterialId(key, rotation.version),
        KeyMaterialState: rotation.version === key.materials.length - 1 ? 'CURRENT' : 'NON_CURRENT',
      })),
      ...pageFields(page),
    };
  },
);
