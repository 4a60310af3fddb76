import type { Action } from '../config/security-schema.js';
import type { Client } from './clients.js';

/**
 * Why a client may not do `action` on `id`, naming the rule that refuses it, or undefined
 * when it may. Reads only the client's declaration, never the store: a refusal is the same
 * whether the id has a key or not.
 */
export function refusal(client: Client, action: Action, id: string): string | undefined {
  if (!client.actions.has(action)) {
    return `client ${client.name} may not ${action} keys: its actions are ${JSON.stringify([...client.actions])}`;
  }
  if (!client.mayUse(id)) {
    return `client ${client.name} may not use the id ${JSON.stringify(id)}: its ids are ${JSON.stringify(client.ids)}`;
  }
  return undefined;
}

/** A GET creates the key of an id that has none; the client needs `create` on that id too. */
export function mayCreate(client: Client, id: string): boolean {
  return refusal(client, 'create', id) === undefined;
}
