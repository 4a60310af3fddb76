import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { Engine, isDict } from './gotemplate.js';

/**
 * `helm template` for this repository's chart, on the Go-template engine next to it:
 * Chart.yaml and values.yaml loaded as Helm loads them (YAML 1.1, numbers as float64),
 * user values merged over the defaults (null deletes a default), every template rendered
 * with .Values/.Release/.Chart/.Capabilities/.Template, and the output split into documents.
 */

type Dict = Record<string, unknown>;

export interface Chart {
  dir: string;
  name: string;
  meta: Dict;
  defaults: Dict;
  schema: Dict;
  files: Map<string, string>;
}

export interface Manifest {
  template: string;
  doc: Dict;
}

export interface Release {
  manifests: Manifest[];
  notes: string;
  values: Dict;
}

export interface RenderOptions {
  values?: Dict;
  releaseName?: string;
  namespace?: string;
  kubeVersion?: string;
}

/** Helm reads YAML through sigs.k8s.io/yaml: YAML 1.1 scalars, every number a float64. */
export function readYaml(text: string): unknown {
  return parseYaml(text, { version: '1.1', intAsBigInt: false, uniqueKeys: true });
}

export function loadChart(dir: string): Chart {
  const meta = readYaml(readFileSync(path.join(dir, 'Chart.yaml'), 'utf8')) as Dict;
  const defaults = readYaml(readFileSync(path.join(dir, 'values.yaml'), 'utf8')) as Dict;
  const schema = JSON.parse(readFileSync(path.join(dir, 'values.schema.json'), 'utf8')) as Dict;
  const name = String(meta.name);
  const files = new Map<string, string>();
  const templates = path.join(dir, 'templates');
  for (const file of readdirSync(templates, { recursive: true, encoding: 'utf8' }).sort()) {
    const full = path.join(templates, file);
    if (statSync(full).isFile()) files.set(`${name}/templates/${file}`, readFileSync(full, 'utf8'));
  }
  return { dir, name, meta, defaults, schema, files };
}

/** Helm's coalescing of user values over chart defaults: maps merge, a null removes the default. */
export function mergeValues(defaults: unknown, overrides: unknown): unknown {
  if (!isDict(defaults) || !isDict(overrides)) return structuredClone(overrides);
  const out: Dict = structuredClone(defaults);
  for (const [k, v] of Object.entries(overrides)) {
    if (v === null) Reflect.deleteProperty(out, k);
    else out[k] = isDict(out[k]) && isDict(v) ? mergeValues(out[k], v) : structuredClone(v);
  }
  return out;
}

export function coalescedValues(chart: Chart, overrides: Dict = {}): Dict {
  // Helm keeps a default's own null (a "set me" marker) but drops keys a user nulls.
  return mergeValues(chart.defaults, overrides) as Dict;
}

export function renderChart(chart: Chart, options: RenderOptions = {}): Release {
  const values = coalescedValues(chart, options.values);
  const [major = '1', minor = '31'] = (options.kubeVersion ?? '1.31.0').split('.');
  const engine = new Engine();
  for (const [name, src] of chart.files) {
    if (name.endsWith('.yaml') || name.endsWith('.tpl') || name.endsWith('.txt')) engine.addFile(name, src);
  }
  const top = (templateName: string) => ({
    Values: values,
    Release: {
      Name: options.releaseName ?? 'rkms',
      Namespace: options.namespace ?? 'rkms',
      Service: 'Helm',
      IsInstall: true,
      IsUpgrade: false,
      Revision: 1,
    },
    Chart: {
      Name: chart.meta.name,
      Version: chart.meta.version,
      AppVersion: chart.meta.appVersion,
      Description: chart.meta.description,
      Type: chart.meta.type,
      KubeVersion: chart.meta.kubeVersion,
    },
    Capabilities: {
      KubeVersion: {
        Version: `v${major}.${minor}.0`,
        Major: major,
        Minor: minor,
        GitVersion: `v${major}.${minor}.0`,
      },
      APIVersions: { Has: () => true },
    },
    Template: { Name: templateName, BasePath: `${chart.name}/templates` },
  });

  const manifests: Manifest[] = [];
  let notes = '';
  for (const name of chart.files.keys()) {
    const base = path.basename(name);
    if (base.startsWith('_')) continue;
    const out = engine.execute(name, top(name));
    if (base === 'NOTES.txt') {
      notes = out;
      continue;
    }
    for (const document of parseAllDocuments(out, { version: '1.1', uniqueKeys: true })) {
      if (document.errors.length > 0) {
        throw new Error(
          `${name} renders invalid YAML: ${document.errors.map((e) => e.message).join('; ')}\n${out}`,
        );
      }
      const doc: unknown = document.toJS();
      if (doc === null || doc === undefined) continue;
      if (!isDict(doc)) throw new Error(`${name} renders a document that is not a mapping:\n${out}`);
      manifests.push({ template: name, doc });
    }
  }
  return { manifests, notes, values };
}
