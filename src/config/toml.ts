import TOML from '@iarna/toml';

/**
 * Parses TOML 1.0, plus inline tables written over several lines: the original
 * RKMS's config.toml wrote `key_ids = { ... }` that way (its Go parser accepted it,
 * as TOML 1.1 does), and those files must keep loading.
 */
export function parseToml(text: string): unknown {
  try {
    return TOML.parse(text);
  } catch (strictError) {
    const joined = joinMultilineInlineTables(text);
    if (joined === text) throw strictError;
    try {
      return TOML.parse(joined);
    } catch {
      throw strictError;
    }
  }
}

/** Puts every inline table on one line, dropping comments inside it. Strings are left alone. */
export function joinMultilineInlineTables(text: string): string {
  let out = '';
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === '"' || ch === "'") {
      const end = endOfString(text, i);
      out += text.slice(i, end);
      i = end - 1;
    } else if (ch === '#') {
      const end = text.indexOf('\n', i);
      const stop = end === -1 ? text.length : end;
      if (depth === 0) out += text.slice(i, stop);
      i = stop - 1;
    } else if (ch === '{') {
      depth++;
      out += ch;
    } else if (ch === '}') {
      depth = Math.max(0, depth - 1);
      out += ch;
    } else if ((ch === '\n' || ch === '\r') && depth > 0) {
      out += ' ';
    } else {
      out += ch;
    }
  }
  return out;
}

/** Index just past the string that starts at `start` (basic, literal, or their multi-line forms). */
function endOfString(text: string, start: number): number {
  const quote = text[start]!;
  const triple = text.startsWith(quote.repeat(3), start);
  const delimiter = triple ? quote.repeat(3) : quote;
  let i = start + delimiter.length;
  while (i < text.length) {
    if (quote === '"' && text[i] === '\\') {
      i += 2;
      continue;
    }
    if (text.startsWith(delimiter, i)) return i + delimiter.length;
    if (!triple && text[i] === '\n') return i;
    i++;
  }
  return text.length;
}
