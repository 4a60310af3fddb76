import type { Static, TSchema } from 'typebox';
import type { KeyStore } from '../keystore.js';
import { parseInput } from '../validation.js';

/** A JSON value as it goes on the wire; `undefined` members are left out of the response. */
export type WireValue = string | number | boolean | WireValue[] | { [key: string]: WireValue | undefined };
export type WireObject = Record<string, WireValue | undefined>;

export interface OperationContext {
  /** The region the request is for; only its keys and aliases are visible. */
  readonly region: string;
  /** Every region this local KMS serves: where ReplicateKey may put a replica. */
  readonly regions: readonly string[];
  readonly store: KeyStore;
  /**
   * Resolves once the change this call made is on disk (at once in memory).
   * Only operations that change state call it, so cryptographic calls never
   * touch the disk.
   */
  readonly persist: () => Promise<void>;
}

export interface Operation {
  readonly name: string;
  /**
   * Set on operations that write the store. Before one runs, the server
   * applies what the clock made due (deletions, automatic rotations), so they
   * reach the disk with the call's own write and never with a read.
   */
  readonly changesState: boolean;
  run(body: unknown, context: OperationContext): Promise<WireObject>;
}

type Handler<S extends TSchema> = (
  request: Static<S>,
  context: OperationContext,
) => WireObject | Promise<WireObject>;

/**
 * Runs on the raw request body before the schema is checked, for the few
 * conflicts AWS reports before any other validation error.
 */
export type Precheck = (body: Readonly<Record<string, unknown>>) => void;

/** An operation of the KMS API: its request schema and its handler, which receives the validated request. */
export function defineOperation<S extends TSchema>(
  name: string,
  input: S,
  handle: Handler<S>,
  precheck?: Precheck,
): Operation {
  return operation(name, input, handle, false, precheck);
}

/** An operation that changes keys or aliases and persists them. */
export function defineStateChange<S extends TSchema>(
  name: string,
  input: S,
  handle: Handler<S>,
  precheck?: Precheck,
): Operation {
  return operation(name, input, handle, true, precheck);
}

function operation<S extends TSchema>(
  name: string,
  input: S,
  handle: Handler<S>,
  changesState: boolean,
  precheck: Precheck | undefined,
): Operation {
  return {
    name,
    changesState,
    async run(body, context) {
      if (precheck && body !== null && typeof body === 'object') precheck(body as Record<string, unknown>);
      return handle(parseInput(input, body), context);
    },
  };
}
