// The CLI commands as functions: arguments in, text and an exit code out. Only main.ts prints or exits.
import { compile, type CompileOptions, type CompileResult } from "../compile.js";
import { hasErrors, sortDiagnostics, type Diagnostic } from "../diagnostics.js";
import { diffExperiments, renderDiff } from "../diff.js";
import { format } from "../fmt.js";
import type { CompilerHost } from "../host.js";
import type { ExperimentIR } from "../ir.js";
import { formatBytes } from "../checks/index.js";
import { SourceText } from "../source.js";
import { terminalText } from "../terminal-text.js";
import { readFailure } from "../resolve.js";
import { renderDiagnostics, type RenderOptions } from "./render.js";
import { readRun, renderResults, type RunRecord } from "./run-results.js";

export const EXIT = { ok: 0, inputError: 1, usage: 2 } as const;

export interface Outcome {
  readonly stdout: string;
  readonly stderr: string;
  readonly exitCode: number;
}

/** What commands may do to the outside world; main.ts gives the real file system, tests a fake one. */
export interface Workspace {
  readonly host: CompilerHost;
  /** Expands directories to the `.rnn` files under them (sorted); files pass through; missing paths are kept. */
  expand(paths: readonly string[]): string[];
  writeText(path: string, text: string): void;
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? "" : "s"}`;

function summary(ds: readonly Diagnostic[]): string {
  const e = ds.filter((d) => d.severity === "error").length;
  return `${plural(e, "error")}, ${plural(ds.length - e, "warning")}`;
}

const describe = (e: ExperimentIR): string => {
  const layers = e.model.layers;
  const cells = layers.every((l) => l.cell === layers[0]!.cell && l.hidden === layers[0]!.hidden)
    ? `${layers.length} × ${layers[0]!.cell}(${layers[0]!.hidden})`
    : layers.map((l) => `${l.cell}(${l.hidden})`).join(", ");
  const params =
    e.resources.parameters >= 1e6
      ? `${(e.resources.parameters / 1e6).toFixed(1)}M`
      : e.resources.parameters >= 1e3
        ? `${(e.resources.parameters / 1e3).toFixed(0)}k`
        : String(e.resources.parameters); // a small model is not "0k"
  return `${e.name}  ${e.data.dataset} · ${cells} · ${params} params · ~${formatBytes(e.resources.trainingBytes)} to train`;
};

export function check(
  ws: Workspace,
  paths: readonly string[],
  render: RenderOptions,
  options: CompileOptions = {},
): Outcome {
  const files = ws.expand(paths);
  if (files.length === 0) return { stdout: "", stderr: "rnnc check: no .rnn files found\n", exitCode: EXIT.inputError };
  const all: Diagnostic[] = [];
  const sources = new Map<string, SourceText>();
  const lines: string[] = [];
  let experiments = 0;
  for (const file of files) {
    const r = compile(file, ws.host, options);
    for (const [p, s] of r.sources) sources.set(p, s);
    all.push(...r.diagnostics);
    const own = r.diagnostics.filter((d) => d.severity === "error");
    if (r.document) {
      experiments += r.document.experiments.length;
      lines.push(`ok    ${terminalText(file)}`);
      for (const e of r.document.experiments) lines.push(`        ${describe(e)}`);
    } else lines.push(`FAIL  ${terminalText(file)}  (${plural(own.length, "error")})`);
  }
  const ds = sortDiagnostics(all);
  const rendered = ds.length ? renderDiagnostics(ds, sources, render) + "\n\n" : "";
  lines.push("", `checked ${plural(files.length, "file")}, ${plural(experiments, "experiment")}: ${summary(ds)}`);
  return { stdout: lines.join("\n") + "\n", stderr: rendered, exitCode: hasErrors(ds) ? EXIT.inputError : EXIT.ok };
}

export function fmt(ws: Workspace, paths: readonly string[], opts: { check: boolean }, render: RenderOptions): Outcome {
  const files = ws.expand(paths);
  if (files.length === 0) return { stdout: "", stderr: "rnnc fmt: no .rnn files found\n", exitCode: EXIT.inputError };
  const changed: string[] = [];
  const errs: Diagnostic[] = [];
  const sources = new Map<string, SourceText>();
  for (const file of files) {
    const read = ws.host.readFile(file);
    if (!read.ok) {
      const failed = readFailure(file, read);
      errs.push(failed.diagnostic);
      if (failed.source) sources.set(file, failed.source);
      continue;
    }
    sources.set(file, new SourceText(file, read.text));
    const r = format(read.text);
    if (!r.ok) {
      const parsed = compile(file, ws.host); // the same syntax diagnostics `check` gives
      errs.push(...parsed.diagnostics.filter((d) => d.file === file && d.code.startsWith("E01")));
      continue;
    }
    if (r.text !== read.text) {
      changed.push(file);
      if (!opts.check) ws.writeText(file, r.text);
    }
  }
  const ds = sortDiagnostics(errs);
  const stderr = ds.length ? renderDiagnostics(ds, sources, render) + "\n" : "";
  if (opts.check) {
    const out = changed.map((f) => `would reformat ${terminalText(f)}`).join("\n");
    const fine = files.length - changed.length - new Set(ds.map((d) => d.file)).size;
    return {
      stdout: (out ? out + "\n" : "") + (fine > 0 ? `${plural(fine, "file")} already formatted\n` : ""),
      stderr,
      exitCode: changed.length || ds.length ? EXIT.inputError : EXIT.ok,
    };
  }
  const out = changed.map((f) => `formatted ${terminalText(f)}`).join("\n");
  return {
    stdout:
      (out ? out + "\n" : "") +
      `${plural(changed.length, "file")} reformatted, ${plural(files.length - changed.length - new Set(ds.map((d) => d.file)).size, "file")} unchanged\n`,
    stderr,
    exitCode: ds.length ? EXIT.inputError : EXIT.ok,
  };
}

/** `cache`: the results a command has already, by file (diff's two sides may name one file: it is compiled once). */
function compileOrFail(
  ws: Workspace,
  file: string,
  render: RenderOptions,
  options: CompileOptions,
  cache?: Map<string, CompileResult>,
): { result: CompileResult; failure?: Outcome } {
  const result = cache?.get(file) ?? compile(file, ws.host, options);
  cache?.set(file, result);
  if (!result.document) {
    return {
      result,
      failure: {
        stdout: "",
        stderr: renderDiagnostics(result.diagnostics, result.sources, render) + "\n",
        exitCode: EXIT.inputError,
      },
    };
  }
  return { result };
}

export function irCommand(ws: Workspace, file: string, render: RenderOptions, options: CompileOptions = {}): Outcome {
  const { result, failure } = compileOrFail(ws, file, render, options);
  if (failure) return failure;
  const warnings = result.diagnostics.length
    ? renderDiagnostics(result.diagnostics, result.sources, render) + "\n"
    : "";
  return { stdout: JSON.stringify(result.document, null, 2) + "\n", stderr: warnings, exitCode: EXIT.ok };
}

/**
 * `file.rnn` (its only experiment), `file.rnn#name` (one of several, or one sweep variant), or a run directory
 * (the experiment as that run resolved it, and its results).
 */
function pick(
  ws: Workspace,
  arg: string,
  render: RenderOptions,
  options: CompileOptions,
  cache: Map<string, CompileResult>,
): { exp?: ExperimentIR; run?: RunRecord; failure?: Outcome } {
  const run = arg.endsWith(".rnn") || arg.includes("#") ? null : readRun(ws.host, arg.replace(/\/+$/, ""));
  if (typeof run === "string")
    return { failure: { stdout: "", stderr: `rnnc diff: ${terminalText(run)}\n`, exitCode: EXIT.inputError } };
  if (run) return { exp: run.exp, run };
  const hash = arg.lastIndexOf("#");
  const [file, name] = hash > 0 ? [arg.slice(0, hash), arg.slice(hash + 1)] : [arg, undefined];
  const { result, failure } = compileOrFail(ws, file, render, options, cache);
  if (failure) return { failure };
  const exps = result.document!.experiments;
  const exp = name === undefined ? (exps.length === 1 ? exps[0] : undefined) : exps.find((e) => e.name === name);
  if (!exp) {
    const points = name === undefined ? 0 : exps.filter((e) => e.variant && e.name.startsWith(`${name}[`)).length;
    const why =
      name === undefined
        ? `${file} defines ${exps.length} experiments; name one as ${file}#NAME`
        : points
          ? `'${name}' is a sweep of ${points} experiments; diff compares one: name it as ${file}#NAME`
          : `${file} has no experiment '${name}'`;
    return {
      failure: {
        stdout: "",
        stderr: `rnnc diff: ${terminalText(why)}\n  experiments: ${exps.map((e) => e.name).join(", ")}\n`,
        exitCode: EXIT.usage,
      },
    };
  }
  return { exp };
}

export function diff(
  ws: Workspace,
  a: string,
  b: string,
  opts: { json: boolean },
  render: RenderOptions,
  options: CompileOptions = {},
): Outcome {
  const compiled = new Map<string, CompileResult>();
  const left = pick(ws, a, render, options, compiled);
  if (left.failure) return left.failure;
  const right = pick(ws, b, render, options, compiled);
  if (right.failure) return right.failure;
  const entries = diffExperiments(left.exp!, right.exp!);
  // Two runs: how each went, beside how they differ.
  const results = left.run && right.run ? { a: left.run.results, b: right.run.results } : undefined;
  if (opts.json) {
    const side = (e: ExperimentIR, r?: RunRecord) => ({
      file: e.source.file,
      experiment: e.name,
      ...(r ? { run: r.dir } : {}),
    });
    return {
      stdout:
        JSON.stringify(
          {
            a: side(left.exp!, left.run),
            b: side(right.exp!, right.run),
            equal: entries.length === 0,
            differences: entries,
            ...(results ? { results } : {}),
          },
          null,
          2,
        ) + "\n",
      stderr: "",
      exitCode: EXIT.ok,
    };
  }
  const label = (e: ExperimentIR, r?: RunRecord): string =>
    terminalText(r ? `${r.dir} (${e.source.file})` : e.source.file);
  const text = renderDiff(left.exp!, right.exp!, entries, [label(left.exp!, left.run), label(right.exp!, right.run)]);
  return { stdout: text + (results ? renderResults(results.a, results.b) : ""), stderr: "", exitCode: EXIT.ok };
}
