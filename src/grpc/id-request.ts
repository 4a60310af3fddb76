import protobuf from 'protobufjs';
import { ID_PATTERN, MAX_ID_LENGTH } from '../keys/id.js';
import { InvalidRequestError } from './errors.js';

/**
 * Every request of rkms.v1.Rkms is `{string id = 1}`. It is decoded here from the wire, as
 * raw bytes, because a protobuf decoder turns invalid UTF-8 into U+FFFD: two different ids
 * would become one. The HTTP API refuses undecodable ids for the same reason.
 */
export type IdRequest = { idBytes: Uint8Array } | { malformed: true };

const ID_FIELD_TAG = (1 << 3) | 2; // field 1, length-delimited
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const ALLOWED = new RegExp(ID_PATTERN, 'u');

/** The request's id field, undecoded. Never throws: gRPC would answer INTERNAL. */
export function decodeIdRequest(message: Buffer): IdRequest {
  try {
    const reader = protobuf.Reader.create(message);
    let idBytes: Uint8Array = new Uint8Array();
    while (reader.pos < reader.len) {
      const tag = reader.uint32();
      // A repeated scalar field: the last one wins, as in every protobuf decoder.
      if (tag === ID_FIELD_TAG) idBytes = reader.bytes();
      else reader.skipType(tag & 7);
    }
    return { idBytes };
  } catch {
    return { malformed: true };
  }
}

/** The id as sent, for the audit line, when it is text at all (valid UTF-8, not empty); valid or not. */
export function idText(request: IdRequest): string | undefined {
  if ('malformed' in request) return undefined;
  try {
    return UTF8.decode(request.idBytes) || undefined;
  } catch {
    return undefined;
  }
}

/** The id of a request, by the same rules as the HTTP API (src/keys/id.ts); InvalidRequestError otherwise. */
export function validId(request: IdRequest): string {
  if ('malformed' in request) throw new InvalidRequestError('the request is not a valid protobuf message');
  let id: string;
  try {
    id = UTF8.decode(request.idBytes);
  } catch {
    throw new InvalidRequestError('the field id is not valid UTF-8');
  }
  if (id.length === 0) throw new InvalidRequestError('the field id is required and must not be empty');
  // Characters as the HTTP API counts them: code points, not UTF-16 units.
  if (Array.from(id).length > MAX_ID_LENGTH) {
    throw new InvalidRequestError(`the field id is too long: at most ${MAX_ID_LENGTH} characters`);
  }
  if (!ALLOWED.test(id)) {
    throw new InvalidRequestError('the field id must be valid Unicode text without control characters');
  }
  return id;
}
