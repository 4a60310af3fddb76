import { describe, expect, it } from 'vitest';
import { Engine, formatFloat, TemplateError, toYaml } from './gotemplate.js';

/** The chart checks are only as good as the renderer: it must fail where Go and Helm fail. */

function render(src: string, data: unknown = {}): string {
  const engine = new Engine();
  engine.addFile('t', src);
  return engine.execute('t', data);
}

describe('the Go template engine', () => {
  it('trims whitespace at {{- and -}}, and drops comments', () => {
    expect(render('a  {{- "b" -}}  \n c {{/* x */}}d{{- /* y */ -}} e')).toBe('abc de');
  });

  it('prints float64 values as Go does, and ints as ints', () => {
    expect(
      render('{{ .a }} {{ .b }} {{ .c }} {{ int .a }} {{ 7 }}', { a: 1_000_000, b: 0.5, c: 123_456 }),
    ).toBe('1e+06 0.5 123456 1000000 7');
    expect(formatFloat(1_234_567)).toBe('1.234567e+06');
  });

  it('refuses to compare a float64 value with an int literal, as Go does', () => {
    expect(() => render('{{ if gt .n 0 }}x{{ end }}', { n: 3 })).toThrow(/incompatible types/);
    expect(render('{{ if gt (int .n) 0 }}x{{ end }}', { n: 3 })).toBe('x');
  });

  it('errors on a field of a missing value and on an unknown function', () => {
    expect(() => render('{{ .a.b }}', {})).toThrow(/nil pointer evaluating interface \{\}\.b/);
    expect(render('[{{ .a }}]', {})).toBe('[]');
    expect(() => render('{{ nope 1 }}')).toThrow(TemplateError);
  });

  it('treats 0 as empty for default, which is why the chart must not use it for counts', () => {
    expect(render('{{ .n | default 1 }}', { n: 0 })).toBe('1');
  });

  it('runs define/include, range with variables, with/else, and variable assignment', () => {
    const src = [
      '{{- define "x" }}<{{ . }}>{{ end -}}',
      '{{ range $i, $v := .l }}{{ $i }}={{ include "x" $v }};{{ end }}',
      '{{ with .m }}{{ .k }}{{ else }}none{{ end }}',
      '{{ $s := "a" }}{{ if true }}{{ $s = "b" }}{{ end }}{{ $s }}',
      '{{ range .e }}x{{ else }}empty{{ end }}',
    ].join('|');
    expect(render(src, { l: ['p', 'q'], m: { k: 'v' }, e: [] })).toBe('|0=<p>;1=<q>;|v|b|empty');
  });

  it('toYaml sorts keys and leaves sequences unindented, like sigs.k8s.io/yaml', () => {
    expect(toYaml({ b: [{ z: 1, x: 'on' }], a: {} })).toBe('a: {}\nb:\n- x: "on"\n  z: 1');
  });
});
