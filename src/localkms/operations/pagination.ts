import { KmsError } from '../errors.js';

export interface Page<T> {
  readonly items: T[];
  readonly nextMarker: string | undefined;
}

/**
 * One page of `items`, which must be sorted by `position`. The marker is the
 * position of the next item, so an item added or removed between two calls
 * never makes a page skip or repeat the others.
 */
export function pageOf<T>(
  items: readonly T[],
  limit: number,
  marker: string | undefined,
  position: (item: T) => string,
): Page<T> {
  const start = marker === undefined ? 0 : firstIndexAtOrAfter(items, decodeMarker(marker), position);
  const pageItems = items.slice(start, start + limit);
  const next = items[start + limit];
  return { items: pageItems, nextMarker: next === undefined ? undefined : encodeMarker(position(next)) };
}

/** The members every AWS list response carries. */
export function pageFields(page: Page<unknown>): { NextMarker?: string; Truncated: boolean } {
  return page.nextMarker === undefined
    ? { Truncated: false }
    : { NextMarker: page.nextMarker, Truncated: true };
}

function firstIndexAtOrAfter<T>(items: readonly T[], target: string, position: (item: T) => string): number {
  const index = items.findIndex((item) => position(item) >= target);
  return index === -1 ? items.length : index;
}

function encodeMarker(position: string): string {
  return Buffer.from(position, 'utf8').toString('base64url');
}

function decodeMarker(marker: string): string {
  const position = Buffer.from(marker, 'base64url').toString('utf8');
  if (position === '' || encodeMarker(position) !== marker) {
    throw new KmsError(
      'InvalidMarkerException',
      'The marker is not one that a previous call of this operation returned.',
    );
  }
  return position;
}
