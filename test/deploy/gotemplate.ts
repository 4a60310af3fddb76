import { createHash } from 'node:crypto';

/**
 * Go's text/template with the Sprig/Helm functions that charts use, so the test suite can
 * render the Helm chart on a machine without a helm binary (nothing on npm renders Helm
 * charts). It follows Go where a chart could go wrong unnoticed:
 *  - numbers from values are float64 (JS number) and template literals and `int` are Go
 *    ints (bigint): comparing one with the other fails as it does in Go ("incompatible
 *    types for comparison"), and a float prints as Go prints it (1e+06);
 *  - a field of a missing map is an error ("nil pointer evaluating"), a missing key is nil;
 *  - a function the engine does not know is an error, never an empty string.
 * It is no general Go template engine: no methods on values, no `block`, `break`, char literals.
 */

export class TemplateError extends Error {
  override name = 'TemplateError';
}

type Fields = string[];
type Operand =
  | { kind: 'dot' }
  | { kind: 'field'; fields: Fields }
  | { kind: 'var'; name: string; fields: Fields }
  | { kind: 'ident'; name: string }
  | { kind: 'literal'; value: unknown }
  | { kind: 'pipe'; pipe: Pipeline; fields: Fields };
interface Pipeline {
  decl: string[];
  assign: boolean;
  cmds: Operand[][];
}
interface Branch {
  kind: 'if' | 'with' | 'range';
  pipe: Pipeline;
  list: Node[];
  elseList: Node[] | null;
  where: string;
}
type Node =
  | { kind: 'text'; text: string }
  | { kind: 'action'; pipe: Pipeline; where: string }
  | Branch
  | { kind: 'template'; name: string; pipe: Pipeline | null; where: string };

interface Segment {
  text?: string;
  action?: string;
  where: string;
}

// ---- lexing ---------------------------------------------------------------

function splitSegments(src: string, file: string): Segment[] {
  const out: Segment[] = [];
  let i = 0;
  let trimNext = false;
  const lineAt = (pos: number) => `${file}:${src.slice(0, pos).split('\n').length}`;
  for (;;) {
    const start = src.indexOf('{{', i);
    let text = src.slice(i, start < 0 ? src.length : start);
    if (trimNext) text = text.replace(/^[ \t\r\n]+/, '');
    trimNext = false;
    let j = start + 2;
    const trimLeft = start >= 0 && src[j] === '-' && /[ \t\r\n]/.test(src[j + 1] ?? '');
    if (trimLeft) {
      text = text.replace(/[ \t\r\n]+$/, '');
      j += 2;
    }
    if (text !== '') out.push({ text, where: lineAt(i) });
    if (start < 0) return out;
    let end: number;
    if (src.startsWith('/*', j)) {
      const close = src.indexOf('*/', j);
      if (close < 0) throw new TemplateError(`${lineAt(start)}: unclosed comment`);
      end = src.indexOf('}}', close);
      if (!/^\*\/(\s+-)?\s*$/.test(src.slice(close, end))) {
        throw new TemplateError(`${lineAt(start)}: comment ends before closing delimiter`);
      }
      trimNext = /\s-$/.test(src.slice(close + 2, end));
    } else {
      end = findActionEnd(src, j, lineAt(start));
      let body = src.slice(j, end);
      if (/[ \t\r\n]-$/.test(body)) {
        trimNext = true;
        body = body.slice(0, -1);
      }
      out.push({ action: body, where: lineAt(start) });
    }
    i = end + 2;
  }
}

function findActionEnd(src: string, from: number, where: string): number {
  for (let p = from; p < src.length; p++) {
    const c = src[p];
    if (c === '"' || c === '`') {
      const close = c === '`' ? src.indexOf('`', p + 1) : findQuoteEnd(src, p);
      if (close < 0) throw new TemplateError(`${where}: unterminated string`);
      p = close;
    } else if (c === '}' && src[p + 1] === '}') {
      return p;
    }
  }
  throw new TemplateError(`${where}: unclosed action`);
}

function findQuoteEnd(src: string, open: number): number {
  for (let p = open + 1; p < src.length; p++) {
    if (src[p] === '\\') p++;
    else if (src[p] === '"') return p;
    else if (src[p] === '\n') return -1;
  }
  return -1;
}

type Token =
  | { t: 'field'; fields: Fields; spaced: boolean }
  | { t: 'var'; name: string; fields: Fields; spaced: boolean }
  | { t: 'ident' | 'punct'; v: string; spaced: boolean }
  | { t: 'literal'; value: unknown; spaced: boolean };

const NUMBER = /^[+-]?(?:0[xX][0-9a-fA-F_]+|(?:\d[\d_]*)?\.?\d[\d_]*(?:[eE][+-]?\d+)?)/;

function tokenize(body: string, where: string): Token[] {
  const tokens: Token[] = [];
  let p = 0;
  const chain = (): Fields => {
    const fields: Fields = [];
    let m: RegExpExecArray | null;
    while ((m = /^\.([A-Za-z_][A-Za-z0-9_]*)/.exec(body.slice(p))) !== null) {
      fields.push(m[1] ?? '');
      p += m[0].length;
    }
    return fields;
  };
  while (p < body.length) {
    const ws = /^[ \t\r\n]+/.exec(body.slice(p));
    const spaced = ws !== null || p === 0;
    if (ws) p += ws[0].length;
    if (p >= body.length) break;
    const rest = body.slice(p);
    const c = rest[0] ?? '';
    if (rest.startsWith(':=')) {
      tokens.push({ t: 'punct', v: ':=', spaced });
      p += 2;
    } else if ('|(),='.includes(c)) {
      tokens.push({ t: 'punct', v: c, spaced });
      p += 1;
    } else if (c === '"') {
      const close = findQuoteEnd(body, p);
      tokens.push({ t: 'literal', value: JSON.parse(body.slice(p, close + 1)) as string, spaced });
      p = close + 1;
    } else if (c === '`') {
      const close = body.indexOf('`', p + 1);
      tokens.push({ t: 'literal', value: body.slice(p + 1, close), spaced });
      p = close + 1;
    } else if (c === '$') {
      const m = /^\$[A-Za-z0-9_]*/.exec(rest);
      p += m?.[0].length ?? 1;
      tokens.push({ t: 'var', name: m?.[0] ?? '$', fields: chain(), spaced });
    } else if (c === '.' && /^\.[A-Za-z_]/.test(rest)) {
      tokens.push({ t: 'field', fields: chain(), spaced });
    } else if (NUMBER.test(rest) && /^[+-]?\.?\d/.test(rest)) {
      const text = NUMBER.exec(rest)?.[0] ?? '';
      p += text.length;
      const clean = text.replaceAll('_', '');
      const isInt = /^[+-]?(0[xX][0-9a-fA-F]+|\d+)$/.test(clean);
      tokens.push({ t: 'literal', value: isInt ? BigInt(clean) : Number(clean), spaced });
    } else if (c === '.') {
      tokens.push({ t: 'punct', v: '.', spaced });
      p += 1;
    } else if (/^[A-Za-z_]/.test(rest)) {
      const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(rest)?.[0] ?? '';
      p += name.length;
      if (name === 'true' || name === 'false') tokens.push({ t: 'literal', value: name === 'true', spaced });
      else if (name === 'nil') tokens.push({ t: 'literal', value: null, spaced });
      else tokens.push({ t: 'ident', v: name, spaced });
    } else {
      throw new TemplateError(`${where}: unexpected ${JSON.stringify(c)} in action`);
    }
  }
  return tokens;
}

// ---- parsing --------------------------------------------------------------

class ActionParser {
  private p = 0;
  constructor(
    private readonly tokens: Token[],
    private readonly where: string,
  ) {}

  done(): boolean {
    return this.p >= this.tokens.length;
  }

  peek(): Token | undefined {
    return this.tokens[this.p];
  }

  next(): Token {
    const t = this.tokens[this.p++];
    if (!t) throw new TemplateError(`${this.where}: unexpected end of action`);
    return t;
  }

  keyword(): string | null {
    const t = this.peek();
    return t?.t === 'ident' && CONTROL.has(t.v) ? t.v : null;
  }

  pipeline(allowDecl: boolean, closing?: string): Pipeline {
    const pipe: Pipeline = { decl: [], assign: false, cmds: [] };
    if (allowDecl) this.declarations(pipe);
    let cmd: Operand[] = [];
    for (;;) {
      const t = this.peek();
      if (!t || (closing && t.t === 'punct' && t.v === closing)) break;
      if (t.t === 'punct' && t.v === '|') {
        this.next();
        if (cmd.length === 0) throw new TemplateError(`${this.where}: missing command before |`);
        pipe.cmds.push(cmd);
        cmd = [];
        continue;
      }
      cmd.push(this.operand());
    }
    if (cmd.length === 0) throw new TemplateError(`${this.where}: missing value in pipeline`);
    pipe.cmds.push(cmd);
    return pipe;
  }

  private declarations(pipe: Pipeline): void {
    const save = this.p;
    const names: string[] = [];
    for (;;) {
      const t = this.peek();
      if (t?.t !== 'var' || t.fields.length > 0) break;
      names.push(t.name);
      this.next();
      const sep = this.peek();
      if (sep?.t === 'punct' && sep.v === ',') {
        this.next();
        continue;
      }
      if (sep?.t === 'punct' && (sep.v === ':=' || sep.v === '=')) {
        this.next();
        pipe.decl = names;
        pipe.assign = sep.v === '=';
        return;
      }
      break;
    }
    this.p = save;
  }

  private operand(): Operand {
    const t = this.next();
    switch (t.t) {
      case 'field':
        return { kind: 'field', fields: t.fields };
      case 'var':
        return { kind: 'var', name: t.name, fields: t.fields };
      case 'literal':
        return { kind: 'literal', value: t.value };
      case 'ident':
        return { kind: 'ident', name: t.v };
      case 'punct':
        if (t.v === '.') return { kind: 'dot' };
        if (t.v === '(') {
          const pipe = this.pipeline(true, ')');
          this.next();
          const after = this.peek();
          const fields = after?.t === 'field' && !after.spaced ? (this.next(), after.fields) : [];
          return { kind: 'pipe', pipe, fields };
        }
    }
    throw new TemplateError(`${this.where}: unexpected token in action`);
  }
}

const CONTROL = new Set([
  'if',
  'else',
  'end',
  'range',
  'with',
  'define',
  'template',
  'block',
  'break',
  'continue',
]);

interface Parsed {
  top: Node[];
  defines: Map<string, Node[]>;
}

function parse(src: string, file: string): Parsed {
  const segments = splitSegments(src, file);
  const defines = new Map<string, Node[]>();
  let i = 0;
  type Stop = { kind: 'eof' } | { kind: 'end' } | { kind: 'else'; chain: ActionParser | null; where: string };

  const parseList = (): { nodes: Node[]; stop: Stop } => {
    const nodes: Node[] = [];
    while (i < segments.length) {
      const seg = segments[i++];
      if (!seg) break;
      if (seg.text !== undefined) {
        nodes.push({ kind: 'text', text: seg.text });
        continue;
      }
      const ap = new ActionParser(tokenize(seg.action ?? '', seg.where), seg.where);
      if (ap.done()) throw new TemplateError(`${seg.where}: missing value for command`);
      const kw = ap.keyword();
      if (kw === 'end') return { nodes, stop: { kind: 'end' } };
      if (kw === 'else') {
        ap.next();
        return { nodes, stop: { kind: 'else', chain: ap.done() ? null : ap, where: seg.where } };
      }
      if (kw === 'if' || kw === 'with' || kw === 'range') {
        ap.next();
        nodes.push(parseBranch(kw, ap, seg.where));
      } else if (kw === 'define') {
        ap.next();
        const name = ap.next();
        if (name.t !== 'literal' || typeof name.value !== 'string') {
          throw new TemplateError(`${seg.where}: define needs a name`);
        }
        const body = parseList();
        if (body.stop.kind !== 'end') throw new TemplateError(`${seg.where}: define without end`);
        defines.set(name.value, body.nodes);
      } else if (kw === 'template') {
        ap.next();
        const name = ap.next();
        if (name.t !== 'literal' || typeof name.value !== 'string') {
          throw new TemplateError(`${seg.where}: template needs a name`);
        }
        nodes.push({
          kind: 'template',
          name: name.value,
          pipe: ap.done() ? null : ap.pipeline(false),
          where: seg.where,
        });
      } else if (kw !== null) {
        throw new TemplateError(`${seg.where}: {{${kw}}} is not supported here`);
      } else {
        nodes.push({ kind: 'action', pipe: ap.pipeline(true), where: seg.where });
      }
    }
    return { nodes, stop: { kind: 'eof' } };
  };

  const parseBranch = (kind: 'if' | 'with' | 'range', ap: ActionParser, where: string): Node => {
    const pipe = ap.pipeline(true);
    const body = parseList();
    let elseList: Node[] | null = null;
    if (body.stop.kind === 'else') {
      const chain = body.stop.chain;
      const kw = chain?.keyword();
      if (chain && (kw === 'if' || kw === 'with') && kind !== 'range') {
        chain.next();
        // `else if` / `else with`: the nested branch consumes the shared {{end}}.
        elseList = [parseBranch(kw, chain, body.stop.where)];
      } else if (chain) {
        throw new TemplateError(`${body.stop.where}: unexpected tokens after else`);
      } else {
        const rest = parseList();
        if (rest.stop.kind !== 'end') throw new TemplateError(`${where}: ${kind} without end`);
        elseList = rest.nodes;
      }
    } else if (body.stop.kind !== 'end') {
      throw new TemplateError(`${where}: ${kind} without end`);
    }
    return { kind, pipe, list: body.nodes, elseList, where };
  };

  const result = parseList();
  if (result.stop.kind !== 'eof') throw new TemplateError(`${file}: unexpected {{${result.stop.kind}}}`);
  return { top: result.nodes, defines };
}

// ---- values ---------------------------------------------------------------

type Dict = Record<string, unknown>;

export function isDict(v: unknown): v is Dict {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Go's reflect kind names, as Sprig's kindIs/kindOf report them. */
export function kindOf(v: unknown): string {
  if (v === null || v === undefined) return 'invalid';
  if (typeof v === 'bigint') return 'int';
  if (typeof v === 'number') return 'float64';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'boolean') return 'bool';
  if (Array.isArray(v)) return 'slice';
  if (typeof v === 'function') return 'func';
  return 'map';
}

export function truth(v: unknown): boolean {
  if (v === null || v === undefined) return false;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string') return v.length > 0;
  if (typeof v === 'number') return v !== 0;
  if (typeof v === 'bigint') return v !== 0n;
  if (Array.isArray(v)) return v.length > 0;
  if (isDict(v)) return Object.keys(v).length > 0;
  return true;
}

/** fmt's %v of a float64: strconv 'g' with the shortest precision (so 1000000 prints 1e+06). */
export function formatFloat(x: number): string {
  if (!Number.isFinite(x)) return x > 0 ? '+Inf' : x < 0 ? '-Inf' : 'NaN';
  if (x === 0) return '0';
  const [mantissa = '', expText = '0'] = x.toExponential().split('e');
  const exp = Number(expText);
  if (exp < -4 || exp >= 6) {
    const sign = exp < 0 ? '-' : '+';
    return `${mantissa}e${sign}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  return String(x);
}

/** What {{ x }} prints (Helm removes Go's "<no value>" for missing keys). */
export function printValue(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'bigint' || typeof v === 'boolean') return String(v);
  if (typeof v === 'number') return formatFloat(v);
  if (Array.isArray(v)) return `[${v.map(printValue).join(' ')}]`;
  if (isDict(v)) {
    const entries = Object.keys(v)
      .sort()
      .map((k) => `${k}:${printValue(v[k])}`);
    return `map[${entries.join(' ')}]`;
  }
  throw new TemplateError(`cannot print a ${kindOf(v)}`);
}

/** Sprig's strval. */
function strval(v: unknown): string {
  if (v === null || v === undefined) return '<nil>';
  return printValue(v);
}

function toInt64(v: unknown): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') return BigInt(Math.trunc(v));
  if (typeof v === 'boolean') return v ? 1n : 0n;
  if (typeof v === 'string' && /^[+-]?\d+$/.test(v.trim())) return BigInt(v.trim());
  return 0n;
}

function toFloat64(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'string' && v.trim() !== '' && !Number.isNaN(Number(v))) return Number(v);
  return 0;
}

function empty(v: unknown): boolean {
  return !truth(v);
}

function basicKind(v: unknown): string {
  const k = kindOf(v);
  return k === 'float64' ? 'float' : k;
}

function compare(op: string, a: unknown, b: unknown): number {
  const ka = basicKind(a);
  const kb = basicKind(b);
  if (!['int', 'float', 'string', 'bool'].includes(ka) || !['int', 'float', 'string', 'bool'].includes(kb)) {
    throw new TemplateError(`error calling ${op}: invalid type for comparison (${kindOf(a)}, ${kindOf(b)})`);
  }
  if (ka !== kb) throw new TemplateError(`error calling ${op}: incompatible types for comparison`);
  if (ka === 'bool' && op !== 'eq' && op !== 'ne') {
    throw new TemplateError(`error calling ${op}: invalid type for comparison`);
  }
  const x = a as string | number | bigint | boolean;
  const y = b as string | number | bigint | boolean;
  return x === y ? 0 : x < y ? -1 : 1;
}

function eq(a: unknown, ...others: unknown[]): boolean {
  if (others.length === 0) throw new TemplateError('error calling eq: missing argument for comparison');
  return others.some((b) => {
    if ((a === null || a === undefined) && (b === null || b === undefined)) return true;
    if (a === null || a === undefined || b === null || b === undefined) return false;
    return compare('eq', a, b) === 0;
  });
}

function str(fn: string, v: unknown): string {
  if (typeof v !== 'string')
    throw new TemplateError(`error calling ${fn}: expected a string, got ${kindOf(v)}`);
  return v;
}

/** An RE2 pattern as a JS RegExp: Go's leading (?flags) become RegExp flags. */
function goRegExp(pattern: string): RegExp {
  const m = /^\(\?([imsU]+)\)/.exec(pattern);
  if (m?.[1]?.includes('U')) throw new TemplateError('regexp flag U is not supported');
  return new RegExp(pattern.slice(m?.[0].length ?? 0), m?.[1] ?? '');
}

function goQuote(s: string): string {
  return JSON.stringify(s);
}

function sprintf(format: string, args: unknown[]): string {
  let n = 0;
  return format.replace(/%([-+# 0]*\d*(?:\.\d+)?)([a-zA-Z%])/g, (_all, _flags: string, verb: string) => {
    if (verb === '%') return '%';
    const arg = args[n++];
    switch (verb) {
      case 's':
      case 'v':
        return typeof arg === 'string' ? arg : arg === null || arg === undefined ? '<nil>' : printValue(arg);
      case 'q':
        return goQuote(typeof arg === 'string' ? arg : printValue(arg));
      case 'd':
        return typeof arg === 'bigint' ? String(arg) : `%!d(${kindOf(arg)}=${printValue(arg)})`;
      default:
        throw new TemplateError(`printf: verb %${verb} is not supported`);
    }
  });
}

function goPrint(args: unknown[]): string {
  let out = '';
  args.forEach((a, idx) => {
    const prev = args[idx - 1];
    if (idx > 0 && typeof a !== 'string' && typeof prev !== 'string') out += ' ';
    out += typeof a === 'string' ? a : strval(a);
  });
  return out;
}

function deepCopy(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(deepCopy);
  if (isDict(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, deepCopy(x)]));
  return v;
}

/** mergo.Merge: fills what dst lacks (override=false) or replaces it (override=true), recursively for maps. */
function mergeInto(dst: Dict, src: unknown, override: boolean): void {
  if (!isDict(src)) return;
  for (const [k, v] of Object.entries(src)) {
    const cur = dst[k];
    if (isDict(cur) && isDict(v)) mergeInto(cur, v, override);
    else if (override ? !empty(v) : empty(cur)) dst[k] = deepCopy(v);
  }
}

/** JSON-compatible data, as Go's encoders see it: bigint becomes a number. */
function plain(v: unknown): unknown {
  if (typeof v === 'bigint') return Number(v);
  if (Array.isArray(v)) return v.map(plain);
  if (isDict(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  return v;
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (isDict(v)) {
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, sortKeys(v[k])]),
    );
  }
  return v;
}

const PLAIN_SAFE = /^[A-Za-z_/][A-Za-z0-9_ ./@-]*$/;
const YAML11_SPECIAL = /^(y|n|yes|no|on|off|true|false|null|~)$/i;

function yamlScalar(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string') {
    return PLAIN_SAFE.test(v) && !YAML11_SPECIAL.test(v) && !v.endsWith(' ') ? v : JSON.stringify(v);
  }
  if (typeof v === 'number' || typeof v === 'boolean') return JSON.stringify(v);
  throw new TemplateError(`toYaml: cannot encode a ${kindOf(v)}`);
}

/** sigs.k8s.io/yaml's Marshal as Helm's toYaml uses it: sorted keys, sequences not indented under keys. */
export function toYaml(v: unknown): string {
  const lines: string[] = [];
  const emit = (x: unknown, indent: string): void => {
    if (isDict(x)) {
      for (const k of Object.keys(x).sort()) {
        const val = x[k];
        const key = yamlScalar(k);
        if (isDict(val) && Object.keys(val).length > 0) {
          lines.push(`${indent}${key}:`);
          emit(val, indent + '  ');
        } else if (Array.isArray(val) && val.length > 0) {
          lines.push(`${indent}${key}:`);
          emit(val, indent);
        } else {
          lines.push(`${indent}${key}: ${inline(val)}`);
        }
      }
    } else if (Array.isArray(x)) {
      for (const item of x) {
        const start = lines.length;
        if ((isDict(item) && Object.keys(item).length > 0) || (Array.isArray(item) && item.length > 0)) {
          emit(item, indent + '  ');
          const first = lines[start] ?? '';
          lines[start] = `${indent}- ${first.slice(indent.length + 2)}`;
        } else {
          lines.push(`${indent}- ${inline(item)}`);
        }
      }
    } else {
      lines.push(indent + inline(x));
    }
  };
  const inline = (x: unknown): string => (isDict(x) ? '{}' : Array.isArray(x) ? '[]' : yamlScalar(x));
  emit(plain(v), '');
  return lines.join('\n');
}

// ---- execution ------------------------------------------------------------

type Fn = (...args: unknown[]) => unknown;
interface Scope {
  dot: unknown;
  vars: { name: string; value: unknown }[];
}

export class Engine {
  private readonly templates = new Map<string, Node[]>();
  private readonly funcs: Record<string, Fn>;
  private depth = 0;

  constructor(extra: Record<string, Fn> = {}) {
    this.funcs = { ...this.builtins(), ...extra };
  }

  /** Parses a file: its {{define}}s become named templates, the rest is the template `name`. */
  addFile(name: string, src: string): void {
    const parsed = parse(src, name);
    for (const [n, nodes] of parsed.defines) this.templates.set(n, nodes);
    this.templates.set(name, parsed.top);
  }

  execute(name: string, data: unknown): string {
    const nodes = this.templates.get(name);
    if (!nodes) throw new TemplateError(`no template ${JSON.stringify(name)}`);
    if (++this.depth > 100) throw new TemplateError(`template ${name}: too deep`);
    try {
      const out: string[] = [];
      this.run(nodes, { dot: data, vars: [{ name: '$', value: data }] }, out);
      return out.join('');
    } finally {
      this.depth--;
    }
  }

  /** Helm's tpl: a string rendered as a template that sees this engine's named templates. */
  renderString(src: string, data: unknown): string {
    const name = `tpl:${String(this.templates.size)}`;
    this.addFile(name, src);
    return this.execute(name, data);
  }

  private run(nodes: Node[], scope: Scope, out: string[]): void {
    for (const node of nodes) {
      switch (node.kind) {
        case 'text':
          out.push(node.text);
          break;
        case 'action': {
          const v = this.pipeline(node.pipe, scope, node.where);
          if (node.pipe.decl.length === 0) out.push(printValue(v));
          break;
        }
        case 'template':
          out.push(this.execute(node.name, node.pipe ? this.pipeline(node.pipe, scope, node.where) : null));
          break;
        case 'if':
        case 'with': {
          const mark = scope.vars.length;
          const v = this.pipeline(node.pipe, scope, node.where);
          if (truth(v)) this.run(node.list, node.kind === 'with' ? { ...scope, dot: v } : scope, out);
          else if (node.elseList) this.run(node.elseList, scope, out);
          scope.vars.length = mark;
          break;
        }
        case 'range':
          this.range(node, scope, out);
          break;
      }
    }
  }

  private range(node: Branch, scope: Scope, out: string[]): void {
    const mark = scope.vars.length;
    const decl = node.pipe.decl;
    const v = this.pipeline({ ...node.pipe, decl: [] }, scope, node.where);
    let entries: [unknown, unknown][];
    if (Array.isArray(v)) entries = v.map((x, i) => [BigInt(i), x]);
    else if (isDict(v))
      entries = Object.keys(v)
        .sort()
        .map((k) => [k, v[k]]);
    else if (v === null || v === undefined) entries = [];
    else if (typeof v === 'bigint')
      entries = Array.from({ length: Number(v) }, (_x, i) => [BigInt(i), BigInt(i)]);
    else throw new TemplateError(`${node.where}: range can't iterate over ${printValue(v)}`);
    if (entries.length === 0) {
      if (node.elseList) this.run(node.elseList, scope, out);
      return;
    }
    for (const [key, value] of entries) {
      scope.vars.length = mark;
      if (decl.length === 1) scope.vars.push({ name: decl[0] ?? '', value });
      if (decl.length === 2)
        scope.vars.push({ name: decl[0] ?? '', value: key }, { name: decl[1] ?? '', value });
      this.run(node.list, { ...scope, dot: value }, out);
    }
    scope.vars.length = mark;
  }

  private pipeline(pipe: Pipeline, scope: Scope, where: string): unknown {
    let value: unknown;
    let hasFinal = false;
    try {
      for (const cmd of pipe.cmds) {
        value = this.command(cmd, scope, hasFinal, value, where);
        hasFinal = true;
      }
    } catch (e) {
      if (e instanceof TemplateError && !e.message.startsWith(where)) {
        throw new TemplateError(`${where}: ${e.message}`);
      }
      throw e;
    }
    if (pipe.decl.length > 0) {
      const name = pipe.decl[0] ?? '';
      if (pipe.assign) {
        const slot = [...scope.vars].reverse().find((x) => x.name === name);
        if (!slot) throw new TemplateError(`${where}: undefined variable ${name}`);
        slot.value = value;
      } else {
        scope.vars.push({ name, value });
      }
    }
    return value;
  }

  private command(cmd: Operand[], scope: Scope, hasFinal: boolean, final: unknown, where: string): unknown {
    const [head, ...rest] = cmd;
    if (!head) throw new TemplateError(`${where}: empty command`);
    if (head.kind === 'ident') {
      if (head.name === 'and' || head.name === 'or') {
        const thunks = rest.map((a) => () => this.operand(a, scope, where));
        if (hasFinal) thunks.push(() => final);
        let v: unknown;
        for (const t of thunks) {
          v = t();
          if (truth(v) === (head.name === 'or')) return v;
        }
        return v;
      }
      const fn = this.funcs[head.name];
      if (!fn) throw new TemplateError(`${where}: function ${JSON.stringify(head.name)} not defined`);
      const args = rest.map((a) => this.operand(a, scope, where));
      if (hasFinal) args.push(final);
      return fn(...args);
    }
    if (rest.length > 0 || hasFinal) {
      const target = this.operand(head, scope, where);
      if (typeof target !== 'function')
        throw new TemplateError(`${where}: can't give argument to non-function`);
      const args = rest.map((a) => this.operand(a, scope, where));
      if (hasFinal) args.push(final);
      return (target as Fn)(...args);
    }
    return this.operand(head, scope, where);
  }

  private operand(op: Operand, scope: Scope, where: string): unknown {
    switch (op.kind) {
      case 'dot':
        return scope.dot;
      case 'literal':
        return op.value;
      case 'field':
        return walk(scope.dot, op.fields);
      case 'var': {
        const slot = [...scope.vars].reverse().find((x) => x.name === op.name);
        if (!slot) throw new TemplateError(`${where}: undefined variable: ${op.name}`);
        return walk(slot.value, op.fields);
      }
      case 'pipe':
        return walk(this.pipeline(op.pipe, scope, where), op.fields);
      case 'ident': {
        const fn = this.funcs[op.name];
        if (!fn) throw new TemplateError(`${where}: function ${JSON.stringify(op.name)} not defined`);
        return fn();
      }
    }
  }

  private builtins(): Record<string, Fn> {
    const n = (fn: string, v: unknown) => {
      if (typeof v !== 'bigint' && typeof v !== 'number') {
        throw new TemplateError(`error calling ${fn}: expected a number, got ${kindOf(v)}`);
      }
      return Number(v);
    };
    return {
      // Go's own
      not: (v) => !truth(v),
      eq: (a, ...b) => eq(a, ...b),
      ne: (a, b) => !eq(a, b),
      lt: (a, b) => compare('lt', a, b) < 0,
      le: (a, b) => compare('le', a, b) <= 0,
      gt: (a, b) => compare('gt', a, b) > 0,
      ge: (a, b) => compare('ge', a, b) >= 0,
      len: (v) => {
        if (typeof v === 'string') return BigInt(Buffer.byteLength(v));
        if (Array.isArray(v)) return BigInt(v.length);
        if (isDict(v)) return BigInt(Object.keys(v).length);
        throw new TemplateError(`error calling len: len of ${kindOf(v)}`);
      },
      index: (coll, ...keys) => {
        let v = coll;
        for (const k of keys) {
          if (Array.isArray(v)) {
            const i = Number(toInt64(k));
            if (i < 0 || i >= v.length)
              throw new TemplateError(`error calling index: index out of range: ${i}`);
            v = v[i];
          } else if (isDict(v)) {
            v = v[str('index', k)];
          } else {
            throw new TemplateError(`error calling index: cannot index ${kindOf(v)}`);
          }
        }
        return v;
      },
      print: (...args) => goPrint(args),
      printf: (format, ...args) => sprintf(str('printf', format), args),
      // Sprig
      default: (d, ...given) => (given.length === 0 || empty(given[0]) ? d : given[0]),
      empty: (v) => empty(v),
      coalesce: (...args) => args.find((a) => !empty(a)),
      ternary: (a, b, cond) => (truth(cond) ? a : b),
      quote: (...args) =>
        args
          .filter((a) => a !== null && a !== undefined)
          .map((a) => goQuote(strval(a)))
          .join(' '),
      squote: (...args) =>
        args
          .filter((a) => a !== null && a !== undefined)
          .map((a) => `'${strval(a)}'`)
          .join(' '),
      toString: (v: unknown) => strval(v),
      int: (v) => toInt64(v),
      int64: (v) => toInt64(v),
      float64: (v) => toFloat64(v),
      add: (...args) => args.reduce<bigint>((s, a) => s + toInt64(a), 0n),
      sub: (a, b) => toInt64(a) - toInt64(b),
      mul: (...args) => args.reduce<bigint>((s, a) => s * toInt64(a), 1n),
      div: (a, b) => {
        const d = toInt64(b);
        if (d === 0n) throw new TemplateError('error calling div: integer divide by zero');
        return toInt64(a) / d;
      },
      max: (...args) => args.map(toInt64).reduce((m, a) => (a > m ? a : m)),
      min: (...args) => args.map(toInt64).reduce((m, a) => (a < m ? a : m)),
      trim: (s) => str('trim', s).trim(),
      trimSuffix: (suffix, s) => {
        const v = str('trimSuffix', s);
        const x = str('trimSuffix', suffix);
        return x !== '' && v.endsWith(x) ? v.slice(0, -x.length) : v;
      },
      trimPrefix: (prefix, s) => {
        const v = str('trimPrefix', s);
        const x = str('trimPrefix', prefix);
        return v.startsWith(x) ? v.slice(x.length) : v;
      },
      trunc: (c, s) => {
        const v = str('trunc', s);
        const k = Number(toInt64(c));
        if (k < 0 && v.length + k > 0) return v.slice(v.length + k);
        return k >= 0 && v.length > k ? v.slice(0, k) : v;
      },
      replace: (o, nw, s) => str('replace', s).replaceAll(str('replace', o), str('replace', nw)),
      contains: (sub, s) => str('contains', s).includes(str('contains', sub)),
      hasPrefix: (p, s) => str('hasPrefix', s).startsWith(str('hasPrefix', p)),
      hasSuffix: (p, s) => str('hasSuffix', s).endsWith(str('hasSuffix', p)),
      upper: (s) => str('upper', s).toUpperCase(),
      lower: (s) => str('lower', s).toLowerCase(),
      regexMatch: (re, s) => goRegExp(str('regexMatch', re)).test(str('regexMatch', s)),
      indent: (w, s) => {
        const pad = ' '.repeat(n('indent', w));
        return pad + str('indent', s).replaceAll('\n', '\n' + pad);
      },
      nindent: (w, s) => {
        const pad = ' '.repeat(n('nindent', w));
        return '\n' + pad + str('nindent', s).replaceAll('\n', '\n' + pad);
      },
      join: (sep, list) => {
        if (!Array.isArray(list)) return strval(list);
        return list.map(strval).join(str('join', sep));
      },
      sha256sum: (s) => createHash('sha256').update(str('sha256sum', s)).digest('hex'),
      b64enc: (s) => Buffer.from(str('b64enc', s)).toString('base64'),
      kindIs: (kind, v) => kindOf(v) === kind,
      kindOf: (v) => kindOf(v),
      list: (...args) => args,
      first: (l) => (Array.isArray(l) ? (l as unknown[])[0] : null),
      last: (l) => (Array.isArray(l) ? (l as unknown[])[l.length - 1] : null),
      has: (needle, l) => Array.isArray(l) && l.some((x) => x === needle),
      concat: (...lists) => lists.flatMap((l) => (Array.isArray(l) ? (l as unknown[]) : [])),
      dict: (...kv) => {
        const d: Dict = {};
        for (let i = 0; i < kv.length; i += 2) d[strval(kv[i])] = i + 1 < kv.length ? kv[i + 1] : '';
        return d;
      },
      set: (d, k, v) => {
        if (!isDict(d)) throw new TemplateError('error calling set: not a dict');
        d[str('set', k)] = v;
        return d;
      },
      unset: (d, k) => {
        if (!isDict(d)) throw new TemplateError('error calling unset: not a dict');
        Reflect.deleteProperty(d, str('unset', k));
        return d;
      },
      hasKey: (d, k) => isDict(d) && Object.hasOwn(d, str('hasKey', k)),
      get: (d, k) => (isDict(d) && Object.hasOwn(d, str('get', k)) ? d[str('get', k)] : ''),
      keys: (...ds) => ds.flatMap((d) => (isDict(d) ? Object.keys(d) : [])).sort(),
      sortAlpha: (l) => (Array.isArray(l) ? l.map(strval).sort() : [strval(l)]),
      deepCopy: (v) => deepCopy(v),
      merge: (dst, ...srcs) => {
        if (!isDict(dst)) throw new TemplateError('error calling merge: not a dict');
        for (const s of srcs) mergeInto(dst, s, false);
        return dst;
      },
      mergeOverwrite: (dst, ...srcs) => {
        if (!isDict(dst)) throw new TemplateError('error calling mergeOverwrite: not a dict');
        for (const s of srcs) mergeInto(dst, s, true);
        return dst;
      },
      toYaml: (v) => toYaml(v),
      toJson: (v) => JSON.stringify(sortKeys(plain(v))),
      // Helm
      include: (name, data) => this.execute(str('include', name), data),
      tpl: (src, data) => this.renderString(str('tpl', src), data),
      required: (msg, v) => {
        if (v === null || v === undefined || v === '')
          throw new TemplateError(`execution error: ${strval(msg)}`);
        return v;
      },
      fail: (msg) => {
        throw new TemplateError(`execution error: ${strval(msg)}`);
      },
      lookup: () => ({}),
    };
  }
}

function walk(value: unknown, fields: Fields): unknown {
  let v = value;
  for (const f of fields) {
    if (v === null || v === undefined) throw new TemplateError(`nil pointer evaluating interface {}.${f}`);
    if (!isDict(v)) throw new TemplateError(`can't evaluate field ${f} in type ${kindOf(v)}`);
    v = v[f];
  }
  return v;
}
