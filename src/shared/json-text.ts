/** What JSON.stringify would escape in a string: control characters, quote, backslash, any surrogate. */
// eslint-disable-next-line no-control-regex -- control characters are what it looks for
const NEEDS_ESCAPE = /[\u0000-\u001f"\\\ud800-\udfff]/;

/**
 * A string as JSON, exactly as JSON.stringify writes it, for lines written field by field
 * (one audit line and one log line per request). Ids, request ids and URLs rarely need an
 * escape, so most are quoted as they are, without JSON.stringify's pass over the string.
 */
export function jsonText(value: string): string {
  return NEEDS_ESCAPE.test(value) ? JSON.stringify(value) : `"${value}"`;
}
