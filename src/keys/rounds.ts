import { KeyContentionError } from './errors.js';

/** Returned by a round that found the item changed under it: read and decide again. */
export const AGAIN = Symbol('again');

/** Rounds of read → act when other writers keep changing the item. */
const MAX_ROUNDS = 4;

/** Runs `round` until it returns an answer; a few rounds of contention, then KeyContentionError. */
export async function inRounds<T>(id: string, round: () => Promise<T | typeof AGAIN>): Promise<T> {
  for (let i = 0; i < MAX_ROUNDS; i++) {
    const result = await round();
    if (result !== AGAIN) return result;
  }
  throw new KeyContentionError(id);
}
