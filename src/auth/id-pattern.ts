/**
 * The `ids` of a client: glob patterns over ids, as IAM's StringLike reads them. `*` is
 * any run of characters (slashes included: ids are not paths), `?` is one character,
 * `\` makes the next character literal. Everything else matches itself, so an id with
 * brackets or braces needs no escaping. Patterns and ids are compared by Unicode
 * character, never by UTF-16 unit, so `?` matches one emoji.
 */
export type IdMatcher = (id: string) => boolean;

interface CharToken {
  kind: 'char';
  char: string;
}
type Token = { kind: 'any' } | { kind: 'one' } | CharToken;

export function compileIdPattern(pattern: string): IdMatcher {
  const tokens = tokenize(pattern);
  const chars = tokens.filter((t): t is CharToken => t.kind === 'char');
  if (chars.length === tokens.length) {
    const literal = chars.map((t) => t.char).join('');
    return (id) => id === literal;
  }
  return (id) => matches(tokens, Array.from(id));
}

function tokenize(pattern: string): Token[] {
  const tokens: Token[] = [];
  const chars = Array.from(pattern);
  for (let i = 0; i < chars.length; i++) {
    const char = chars[i] ?? '';
    if (char === '\\' && i + 1 < chars.length) tokens.push({ kind: 'char', char: chars[++i] ?? '' });
    else if (char === '*') {
      // `**` means what `*` means; one token keeps the matcher linear.
      if (tokens.at(-1)?.kind !== 'any') tokens.push({ kind: 'any' });
    } else if (char === '?') tokens.push({ kind: 'one' });
    else tokens.push({ kind: 'char', char });
  }
  return tokens;
}

/** Greedy matching that backtracks only to the last `*`: O(pattern × id), never exponential. */
function matches(tokens: readonly Token[], id: readonly string[]): boolean {
  let t = 0;
  let i = 0;
  let starToken = -1;
  let starId = 0;
  while (i < id.length) {
    const token = tokens[t];
    if (token?.kind === 'any') {
      starToken = t++;
      starId = i;
    } else if (token && (token.kind === 'one' || token.char === id[i])) {
      t++;
      i++;
    } else if (starToken >= 0) {
      t = starToken + 1;
      i = ++starId;
    } else {
      return false;
    }
  }
  while (tokens[t]?.kind === 'any') t++;
  return t === tokens.length;
}
