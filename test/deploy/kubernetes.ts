import path from 'node:path';
import ts from 'typescript';

/**
 * Checks rendered manifests against the Kubernetes API schemas that the kubernetes-models
 * package ships (generated from the Kubernetes OpenAPI document), in two passes:
 *  - its JSON-schema validators: types, required fields, enums, formats;
 *  - its TypeScript types, through the compiler's excess-property check: a field the API
 *    does not have (a misspelt `imagePulPolicy`) fails, as `kubeconform -strict` would.
 */

type Dict = Record<string, unknown>;

type ModelClass = new (data: unknown) => { validate(): void };

/** The kubernetes-models module of an object: `apps/v1` + `Deployment` → kubernetes-models/apps/v1/Deployment. */
function modelPath(doc: Dict): string {
  const { apiVersion, kind } = doc;
  if (typeof apiVersion !== 'string' || typeof kind !== 'string') {
    throw new Error(`a manifest without apiVersion/kind: ${JSON.stringify(doc).slice(0, 200)}`);
  }
  return `kubernetes-models/${apiVersion}/${kind}`;
}

export async function validateSchema(doc: Dict): Promise<void> {
  const spec = modelPath(doc);
  let mod: Record<string, unknown>;
  try {
    mod = (await import(spec)) as Record<string, unknown>;
  } catch {
    throw new Error(`no Kubernetes schema for ${String(doc.apiVersion)} ${String(doc.kind)}`);
  }
  const Model = mod[String(doc.kind)] as ModelClass | undefined;
  if (!Model) throw new Error(`no model ${String(doc.kind)} in ${spec}`);
  new Model(doc).validate();
}

/** Every field of every manifest must exist in the API; returns one message per unknown or mistyped field. */
export function checkFields(docs: Dict[]): string[] {
  const here = path.dirname(new URL(import.meta.url).pathname);
  const file = path.join(here, '__rendered_manifests__.ts');
  const lines: string[] = [];
  docs.forEach((doc, i) => {
    const kind = String(doc.kind);
    lines.push(`import type { I${kind} as T${i} } from '${modelPath(doc)}';`);
    lines.push(`export const m${i}: T${i} = ${JSON.stringify(doc)};`);
  });
  const source = lines.join('\n');
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: [],
  };
  const host = ts.createCompilerHost(options);
  const readFile = host.readFile.bind(host);
  const getSourceFile = host.getSourceFile.bind(host);
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (f) => f === file || fileExists(f);
  host.readFile = (f) => (f === file ? source : readFile(f));
  host.getSourceFile = (f, lang, ...rest) =>
    f === file ? ts.createSourceFile(f, source, lang, true) : getSourceFile(f, lang, ...rest);
  const program = ts.createProgram([file], options, host);
  const sourceFile = program.getSourceFile(file);
  return ts.getPreEmitDiagnostics(program, sourceFile).map((d) => {
    const text = ts.flattenDiagnosticMessageText(d.messageText, '\n');
    if (d.file && d.start !== undefined) {
      const { line } = d.file.getLineAndCharacterOfPosition(d.start);
      const doc = docs[Math.floor(line / 2)];
      return `${String(doc?.kind)}/${String((doc?.metadata as Dict | undefined)?.name)}: ${text}`;
    }
    return text;
  });
}
