// `rnnc run SPEC` and `rnnc run --resume RUN_DIR`: build, write the run directory, and train by importing the
// generated module (which imports the runtime; the compiler itself never does).
//
// runs/<experiment>/<timestamp>/ holds spec.rnn (the spec as given), ir.json, model.ts, model.mjs (its
// JavaScript), env.json, metrics.jsonl, last.ckpt and best.ckpt. `node_modules/rnnc` there links back to this
// package, so the module's `import "rnnc/runtime"` resolves wherever the run directory lives.
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { createRequire } from "node:module";
import type * as TsMorph from "ts-morph";
import type { CompileOptions } from "../compile.js";
import { VERSION } from "../version.js";
import { EXIT, type Outcome, type Workspace } from "./commands.js";
import { dirNameOf, experimentsToRun, isOutcome, prepare } from "./prepare.js";
import type { RenderOptions } from "./render.js";

export interface RunFlags {
  readonly resume?: string;
  readonly set: readonly string[];
  readonly epochs?: number;
  readonly limitBatches?: number;
  readonly trainBatches?: number;
  readonly backend: string;
  readonly threads?: number;
  readonly data?: string;
  readonly runs: string;
}

/** What the generated module exports (the runtime's types, restated: the compiler does not import the runtime). */
interface GeneratedModule {
  run(options: Record<string, unknown>): Promise<{ status: string; summary: string }>;
}

// require(), not import: see codegen/generate.ts. main.ts installs the code cache (code-cache.ts) before this loads.
const { ts } = createRequire(import.meta.url)("ts-morph") as typeof TsMorph;

const PACKAGE_ROOT = fileURLToPath(new URL("../../../", import.meta.url));

function timestamp(d = new Date()): string {
  const p = (n: number): string => String(n).padStart(2, "0");
  return `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
}

function newRunDir(runs: string, experiment: string): string {
  const base = join(runs, dirNameOf(experiment), timestamp());
  let dir = base;
  for (let k = 2; existsSync(dir); k++) dir = `${base}-${k}`;
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** model.ts → model.mjs: types erased, nothing else changed (no bundling, no down-levelling). */
function transpile(code: string): string {
  return ts.transpileModule(code, { compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022, sourceMap: false } }).outputText;
}

function linkRuntime(runDir: string): void {
  const link = join(runDir, "node_modules", "rnnc");
  if (existsSync(link)) return;
  mkdirSync(join(runDir, "node_modules"), { recursive: true });
  symlinkSync(resolve(PACKAGE_ROOT), link, "dir");
}

/** The flags of a run directory that a resume or an evaluation reuses, from its run.json. */
interface RunSettings {
  readonly specDir?: string;
  readonly epochs?: number;
  readonly limitBatches?: number;
  readonly trainBatches?: number;
  readonly backend?: string;
  readonly threads?: number;
  readonly data?: string;
}

function readRunSettings(runDir: string): RunSettings {
  const file = join(runDir, "run.json");
  return existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as RunSettings) : {};
}

export interface EvalFlags {
  /** best, last, or a checkpoint file. */
  readonly checkpoint: string;
  readonly limitBatches?: number;
  readonly backend: string;
  readonly threads?: number;
  readonly data?: string;
}

/**
 * `rnnc eval RUN_DIR`: a checkpoint's validation and test metric, computed by the run's own generated code as the
 * end of `rnnc run` computes them (best.ckpt gives the run's reported figures; last.ckpt the latest weights).
 * Nothing is trained, and nothing in the run directory is written.
 */
export async function evaluateRun(runDir: string, flags: EvalFlags): Promise<Outcome> {
  if (!existsSync(join(runDir, "model.mjs"))) return { stdout: "", stderr: `rnnc eval: ${runDir} is not a run directory (it has no model.mjs)\n`, exitCode: EXIT.inputError };
  const named = flags.checkpoint === "best" || flags.checkpoint === "last";
  const file = named ? join(runDir, `${flags.checkpoint}.ckpt`) : flags.checkpoint;
  if (!existsSync(file)) {
    const why = flags.checkpoint === "best" ? " (no epoch has finished yet; --checkpoint last evaluates the latest weights)" : "";
    return { stdout: "", stderr: `rnnc eval: ${file} does not exist${why}\n`, exitCode: EXIT.inputError };
  }
  const env = readRunSettings(runDir);
  return callModule(runDir, {
    runDir,
    evaluate: file,
    backend: flags.backend === "auto" && env.backend !== undefined ? env.backend : flags.backend,
    threads: flags.threads ?? env.threads,
    dataDir: flags.data === undefined ? env.data : resolve(flags.data),
    specDir: env.specDir,
    // A run made with --limit-batches reported figures over that many batches: evaluate the same by default.
    limitBatches: flags.limitBatches ?? env.limitBatches,
  }, "rnnc eval");
}

/** Import a run directory's generated module and call its run() (training, or with `evaluate`, an evaluation). */
async function callModule(runDir: string, options: Record<string, unknown>, command: string): Promise<Outcome> {
  linkRuntime(runDir);
  const mod = (await import(pathToFileURL(resolve(runDir, "model.mjs")).href)) as GeneratedModule;
  try {
    const result = await mod.run(options);
    return { stdout: result.summary + "\n", stderr: "", exitCode: result.status === "interrupted" ? 130 : EXIT.ok };
  } catch (e) {
    // The runtime marks errors whose message is for the user (missing data, a NaN loss, a bad checkpoint).
    if ((e as { userFacing?: boolean }).userFacing) return { stdout: "", stderr: `${command}: ${(e as Error).message}\n`, exitCode: EXIT.inputError };
    throw e;
  }
}

export async function run(ws: Workspace, spec: string | undefined, flags: RunFlags, render: RenderOptions, options: CompileOptions): Promise<Outcome> {
  const several = spec === undefined || flags.resume !== undefined || flags.set.length ? null : experimentsToRun(ws, spec, options);
  if (several) return runEach(ws, spec!, several.names, flags, render, options);
  let runDir: string;
  let specDir: string | undefined;
  let resume: string | undefined;
  let warnings = "";
  // The flags that shape the run, kept in run.json: `--resume` alone (the command an interrupted run prints)
  // continues the same run; a flag given again with --resume wins.
  let epochs = flags.epochs;
  let limitBatches = flags.limitBatches;
  let trainBatches = flags.trainBatches;
  let backend = flags.backend;
  let threads = flags.threads;
  let dataDir = flags.data === undefined ? undefined : resolve(flags.data);
  if (flags.resume !== undefined) {
    if (spec !== undefined || flags.set.length) return { stdout: "", stderr: "rnnc run: --resume continues a run with its own generated code; give no SPEC or --set with it\n", exitCode: EXIT.usage };
    runDir = flags.resume;
    resume = join(runDir, "last.ckpt");
    if (!existsSync(join(runDir, "model.mjs")) || !existsSync(resume))
      return { stdout: "", stderr: `rnnc run: ${runDir} is not a run directory with a checkpoint (it needs model.mjs and last.ckpt)\n`, exitCode: EXIT.inputError };
    const env = readRunSettings(runDir);
    specDir = env.specDir;
    epochs ??= env.epochs;
    limitBatches ??= env.limitBatches;
    trainBatches ??= env.trainBatches;
    if (backend === "auto" && env.backend !== undefined) backend = env.backend;
    threads ??= env.threads;
    dataDir ??= env.data;
  } else {
    if (spec === undefined) return { stdout: "", stderr: "rnnc run: give a SPEC, or --resume RUN_DIR\n", exitCode: EXIT.usage };
    const p = await prepare(ws, spec, flags.set, render, options, "run");
    if (isOutcome(p)) return p;
    warnings = p.warnings;
    if (warnings) process.stderr.write(warnings);
    runDir = newRunDir(flags.runs, p.exp.name);
    specDir = resolve(p.specFile, "..");
    const text = ws.host.readFile(p.specFile);
    writeFileSync(join(runDir, "spec.rnn"), text.ok ? text.text : "");
    writeFileSync(join(runDir, "ir.json"), JSON.stringify(p.exp, null, 2) + "\n");
    writeFileSync(join(runDir, "model.ts"), p.code);
    writeFileSync(join(runDir, "model.mjs"), transpile(p.code));
    writeFileSync(join(runDir, "run.json"), JSON.stringify({ spec: p.specFile, experiment: p.exp.name, specDir, set: flags.set, epochs, limitBatches, trainBatches, backend, threads, data: dataDir }, null, 2) + "\n");
    process.stderr.write(`run directory: ${runDir}\n`);
  }
  return callModule(runDir, { runDir, backend, threads, dataDir, specDir, epochs, limitBatches, trainBatches, resume, record: { rnnc: VERSION, argv: process.argv.slice(2) } }, "rnnc run");
}

/**
 * A file of several experiments (a sweep): train each in turn, each in its own run directory, and print one
 * summary line per experiment. A failed experiment stops the sweep (its error is the outcome); an interrupt too.
 */
async function runEach(ws: Workspace, file: string, names: readonly string[], flags: RunFlags, render: RenderOptions, options: CompileOptions): Promise<Outcome> {
  process.stderr.write(`${file}: ${names.length} experiments, trained in turn\n`);
  let stdout = "";
  for (const name of names) {
    process.stderr.write(`\n== ${name}\n`);
    const r = await run(ws, `${file}#${name}`, flags, render, options);
    stdout += r.stdout.split("\n").filter((l) => l !== "").map((l) => `${name}: ${l}\n`).join("");
    if (r.exitCode !== EXIT.ok) return { stdout, stderr: r.stderr, exitCode: r.exitCode };
  }
  return { stdout, stderr: "", exitCode: EXIT.ok };
}
