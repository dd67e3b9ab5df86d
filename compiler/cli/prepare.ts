// From a spec argument to generated code: compile (with `--set` overrides checked like the spec), pick the
// experiment, refuse what code generation cannot do yet, and generate. Shared by `rnnc build` and `rnnc run`.
import { generate } from "../codegen/generate.js";
import { buildDiagnostics } from "../codegen/support.js";
import { compile, type CompileOptions, type CompileResult } from "../compile.js";
import { hasErrors, sortDiagnostics } from "../diagnostics.js";
import { dirname, type CompilerHost } from "../host.js";
import type { ExperimentIR } from "../ir.js";
import { EXIT, type Outcome, type Workspace } from "./commands.js";
import { renderDiagnostics, type RenderOptions } from "./render.js";

export interface Prepared {
  readonly exp: ExperimentIR;
  readonly code: string;
  readonly result: CompileResult;
  /** The spec file (without `#name`), and the file that holds the `--set` overrides, if any. */
  readonly specFile: string;
  /** Warnings, rendered. */
  readonly warnings: string;
}

const BLOCKS = ["data", "task", "model", "dropout", "regularize", "train"];

/**
 * `--set block.key=value …` as a spec of its own that extends the experiment: `train.epochs=5` becomes
 * `train { epochs 5 }`. It is compiled like any spec, so a bad key or value gets the usual located diagnostic.
 */
function overrideSpec(base: string, name: string, sets: readonly string[]): { text: string } | { error: string } {
  const byBlock = new Map<string, string[]>();
  for (const s of sets) {
    const m = /^([a-z_]+)\.([a-z_]+)=(.*)$/s.exec(s.trim());
    if (!m || !BLOCKS.includes(m[1]!)) return { error: `--set ${JSON.stringify(s)}: expected BLOCK.KEY=VALUE with BLOCK one of ${BLOCKS.join(", ")} (e.g. train.epochs=5)` };
    if (m[1] === "task") byBlock.set("task", [m[3]!]);
    else byBlock.set(m[1]!, [...(byBlock.get(m[1]!) ?? []), `${m[2]} ${m[3]}`]);
  }
  const body = [...byBlock].map(([block, stmts]) => (block === "task" ? `  task ${stmts[0]}` : `  ${block} {\n${stmts.map((x) => `    ${x}`).join("\n")}\n  }`));
  return { text: `// rnnc --set overrides\nexperiment ${name} extends ${JSON.stringify(base.split("/").pop())} ${name} {\n${body.join("\n")}\n}\n` };
}

function overlay(host: CompilerHost, path: string, text: string): CompilerHost {
  return { resolve: host.resolve, readFile: (p) => (p === path ? { ok: true, text } : host.readFile(p)) };
}

function fail(result: Pick<CompileResult, "diagnostics" | "sources">, render: RenderOptions): Outcome {
  return { stdout: "", stderr: renderDiagnostics(sortDiagnostics(result.diagnostics), result.sources, render) + "\n", exitCode: EXIT.inputError };
}

export async function prepare(ws: Workspace, specArg: string, sets: readonly string[], render: RenderOptions, options: CompileOptions, command: string): Promise<Prepared | Outcome> {
  const hash = specArg.lastIndexOf("#");
  const [specFile, wanted] = hash > 0 ? [specArg.slice(0, hash), specArg.slice(hash + 1)] : [specArg, undefined];
  let result = compile(specFile, ws.host, options);
  if (!result.document) return fail(result, render);
  const exps = result.document.experiments;
  const exp0 = wanted === undefined ? (exps.length === 1 ? exps[0] : undefined) : exps.find((e) => e.name === wanted);
  if (!exp0) {
    const why = wanted === undefined ? `${specFile} defines ${exps.length} experiments; name one as ${specFile}#NAME` : `${specFile} has no experiment '${wanted}'`;
    return { stdout: "", stderr: `rnnc ${command}: ${why}\n  experiments: ${exps.map((e) => e.name).join(", ")}\n`, exitCode: EXIT.usage };
  }
  let exp = exp0;
  if (sets.length) {
    if (exp.variant) return { stdout: "", stderr: `rnnc ${command}: --set applies to a plain experiment, not to the sweep variant ${exp.name}\n`, exitCode: EXIT.usage };
    const spec = overrideSpec(specFile, exp.name, sets);
    if ("error" in spec) return { stdout: "", stderr: `rnnc ${command}: ${spec.error}\n`, exitCode: EXIT.usage };
    const setFile = `${dirname(specFile)}/--set.rnn`;
    result = compile(setFile, overlay(ws.host, setFile, spec.text), options);
    if (!result.document) return fail(result, render);
    exp = result.document.experiments[0]!;
  }
  const refused = buildDiagnostics(exp, result.sources);
  if (hasErrors(refused)) return fail({ diagnostics: [...result.diagnostics, ...refused], sources: result.sources }, render);
  const code = await generate(exp, { specPath: specFile });
  const warnings = result.diagnostics.length ? renderDiagnostics(result.diagnostics, result.sources, render) + "\n" : "";
  return { exp, code, result, specFile, warnings };
}

/**
 * The experiments of a file named without `#NAME` that defines several (a sweep, or a file of variants), for
 * `rnnc build` and `rnnc run` to take in turn; null for one experiment, a `#NAME`, or a file that does not compile
 * (prepare then reports it).
 */
export function experimentsToRun(ws: Workspace, specArg: string, options: CompileOptions): string[] | null {
  if (specArg.lastIndexOf("#") > 0) return null;
  const doc = compile(specArg, ws.host, options).document;
  return doc && doc.experiments.length > 1 ? doc.experiments.map((e) => e.name) : null;
}

/** A directory name for an experiment (sweep variants are named like `ar_sweep[ar=2]`). */
export const dirNameOf = (experiment: string): string =>
  experiment.replace(/\[/g, ".").replace(/\]/g, "").replace(/[^A-Za-z0-9_.=,-]+/g, "_"); // ar_sweep[ar=2] → ar_sweep.ar=2

export const isOutcome = (x: Prepared | Outcome): x is Outcome => "exitCode" in x;
