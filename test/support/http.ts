import { recordKey } from './audit.js';

export interface Reply {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

/** One HTTP request to a running RKMS; every key it hands out is recorded for the log audit. */
export async function call(
  base: string,
  method: string,
  path: string,
  init: RequestInit = {},
): Promise<Reply> {
  const response = await fetch(`${base}${path}`, { ...init, method });
  const text = await response.text();
  let body: Record<string, unknown>;
  try {
    body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  } catch {
    body = { raw: text };
  }
  if (typeof body.key === 'string') recordKey(body.key);
  return { status: response.status, headers: response.headers, body };
}

export const getKey = (base: string, id: string, prefix = '') =>
  call(base, 'GET', `${prefix}/key?id=${encodeURIComponent(id)}`);
export const deleteKey = (base: string, id: string, prefix = '') =>
  call(base, 'DELETE', `${prefix}/key?id=${encodeURIComponent(id)}`);
export const restoreKey = (base: string, id: string, prefix = '') =>
  call(base, 'POST', `${prefix}/key/restore?id=${encodeURIComponent(id)}`);
