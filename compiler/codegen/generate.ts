// IR → one TypeScript module of training code, built with ts-morph and formatted by prettier. The output reads
// like hand-written code for this one experiment: the model class shows, at the line, which tensor each
// dropout mask multiplies, and comments point back to the spec line that caused each part. Deterministic: the
// same IR gives the same bytes (no dates, no absolute paths, sorted nothing left to chance).
//
// This file only orchestrates: each construct has its emitter in emit/ (header, model class or classifier,
// embedding, recurrent layer with its sites and norm, vertical dropout, penalty, optimizer, schedule, experiment),
// and each emitter declares the runtime names it writes (EmitContext.use), from the typed table in
// runtime-exports.ts; the import lists exactly those. The generator never imports the runtime. Text from the user
// reaches the output only through emit-text.ts.
import { createHash } from "node:crypto";
import * as prettier from "prettier";
import type { ExperimentIR } from "../ir.js";
import { emitClassifier } from "./emit/classifier.js";
import { EmitContext } from "./emit/context.js";
import { emitExperiment, emitRun } from "./emit/experiment.js";
import { emitHeader } from "./emit/header.js";
import { emitImports } from "./emit/imports.js";
import { emitLanguageModel } from "./emit/language-model.js";
import { Project } from "./emit/ts-morph.js";

export { RUNTIME_MODULE } from "./runtime-exports.js";

export interface GenerateOptions {
  /** The spec's path as the user gave it (relative), for the header. */
  readonly specPath: string;
}

/** SHA-256 of the IR without origins: formatting, comments and inheritance paths do not change it. */
export function irHash(e: ExperimentIR): string {
  const { origins: _o, source: _s, extends: _x, ...semantic } = e;
  // Each layer's `sites` is derived from the rest (compiler/layer-plan.ts): it adds no meaning, so it stays out of
  // the hash, and runs recorded before the plan existed keep theirs.
  const model = { ...semantic.model, layers: semantic.model.layers.map(({ sites: _p, ...layer }) => layer) };
  return createHash("sha256")
    .update(JSON.stringify({ ...semantic, model }))
    .digest("hex");
}

export async function generate(e: ExperimentIR, opts: GenerateOptions): Promise<string> {
  const x = new EmitContext(e);
  const project = new Project({ useInMemoryFileSystem: true, skipLoadingLibFiles: true });
  const sf = project.createSourceFile("model.ts", "", { overwrite: true });
  const hash = irHash(e);
  if (e.task.kind === "classify") emitClassifier(x, sf);
  else emitLanguageModel(x, sf);
  emitExperiment(x, sf, opts.specPath, hash);
  emitRun(x, sf);
  emitImports(x, sf);
  const body = x.resolveOrigins(sf.getFullText(), opts.specPath);
  // babel-ts, not typescript: the same output for this code (the goldens agree), without loading prettier's copy of the TypeScript parser
  return prettier.format(`${emitHeader(e, opts.specPath, hash).join("\n")}\n\n${body}`, {
    parser: "babel-ts",
    printWidth: 120,
  });
}
