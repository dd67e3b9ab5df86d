// `rnnc run SPEC` and `rnnc run --resume RUN_DIR`: build, write the run directory, and train by importing the
// generated module (which imports the runtime; the compiler itself never does).
//
// runs/<experiment>/<timestamp>/ holds spec.rnn (the spec as given), ir.json, model.ts, model.mjs (its
// JavaScript), env.json, metrics.jsonl, last.ckpt and best.ckpt. `node_modules/rnnc` there links back to this
// package, so the module's `import "rnnc/runtime"` resolves wherever the run directory lives.
import { createHash } from "node:crypto";
import { existsSync, lstatSync, mkdirSync, rmdirSync, statSync, symlinkSync, unlinkSync } from "node:fs";
import { homedir } from "node:os";
import { join, relative, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { PACKAGE_ROOT, transpile } from "./module-files.js";
import { runRow, type RunRow } from "./runs.js";
import type { CompileOptions, CompileResult } from "../compile.js";
import type { ExperimentIR } from "../ir.js";
import { VERSION } from "../version.js";
import { EXIT, type Outcome, type Workspace } from "./commands.js";
import { compileSpec, dirNameOf, experimentsIn, fileOf, isOutcome, prepare } from "./prepare.js";
import { InputError, makeDir, readBounded, realPath, reasonOf, removeQuietly, writeFile } from "./fs.js";
import { terminalLines, terminalText } from "../terminal-text.js";
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

function timestamp(d = new Date()): string {
  const p = (n: number): string => String(n).padStart(2, "0");
  return `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
}

/** A new run folder, and the folders made for it (the outermost first), for removal should training never begin. */
function newRunDir(runs: string, experiment: string): { dir: string; made: string[] } {
  const parent = join(runs, dirNameOf(experiment));
  const top = makeDir(parent);
  const made: string[] = [];
  if (top !== null)
    for (let p = resolve(parent); ; p = resolve(p, "..")) {
      made.unshift(p);
      if (p === top || p === resolve(p, "..")) break;
    }
  const base = join(parent, timestamp());
  for (let k = 1; ; k++) {
    const dir = k === 1 ? base : `${base}-${k}`;
    try {
      mkdirSync(dir); // not recursive: EEXIST tells that another run took this name in the same second
      return { dir, made: [...made, resolve(dir)] };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST")
        throw new InputError(`cannot create the run folder ${dir}: ${reasonOf(e)}`);
    }
  }
}

/**
 * Whether training began in a run folder: the runtime writes env.json once the backend runs and the data is loaded,
 * just before the first window, and metrics and checkpoints after it. A run that failed before (missing data, a
 * backend that is not installed) is removed; one that failed while training (a NaN) keeps its record.
 */
const trainingBegan = (dir: string): boolean =>
  ["env.json", "metrics.jsonl", "last.ckpt", "best.ckpt"].some((f) => existsSync(join(dir, f)));

/** Removes a run folder where training never began, and the folders made for it that are now empty. */
function removeRunDir(made: readonly string[]): void {
  removeQuietly(made[made.length - 1]!);
  for (const p of [...made].reverse().slice(1)) {
    try {
      rmdirSync(p); // only if empty: another run may have put its own folder there meanwhile
    } catch {
      return;
    }
  }
}

/**
 * The data folder a run reads, resolved as the runtime resolves it (runtime/data/locate.ts, dataRoot): --data, else
 * RNNC_DATA, else the per-user cache. Recorded in run.json so that `eval` and `--resume` find the same data.
 */
function dataFolder(explicit: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  if (explicit) return resolve(explicit);
  if (env["RNNC_DATA"]) return resolve(env["RNNC_DATA"]);
  return resolve(env["XDG_CACHE_HOME"] || join(homedir(), ".cache"), "rnnc", "data");
}

/** The data folder of a resume or an evaluation: --data, else RNNC_DATA (the runtime reads it), else the run's own. */
const dataFolderAgain = (explicit: string | undefined, recorded: string | undefined): string | undefined =>
  explicit ? resolve(explicit) : process.env["RNNC_DATA"] ? undefined : recorded;

/** A folder as run.json stores it: relative to the run directory (readRunSettings resolves it back). */
const fromRunDir = (runDir: string, folder: string): string => relative(resolve(runDir), folder) || ".";

const sha256 = (text: string | Buffer): string => createHash("sha256").update(text).digest("hex");

/** node_modules/rnnc in the run folder, linking back to this package (replaced if it points elsewhere). */
function linkRuntime(runDir: string): void {
  const link = join(runDir, "node_modules", "rnnc");
  const target = resolve(PACKAGE_ROOT);
  try {
    if (lstatSync(link).isSymbolicLink() && realPath(link) === realPath(target)) return;
    if (!lstatSync(link).isSymbolicLink()) return; // a real folder someone put there: theirs to keep
    unlinkSync(link); // dangling, or another install of rnnc: the run's code needs this one
  } catch {
    // not there yet
  }
  try {
    makeDir(join(runDir, "node_modules"));
    symlinkSync(target, link, "dir");
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError(`cannot link the runtime into ${link}: ${reasonOf(e)}`);
  }
}

/** The flags of a run directory that a resume or an evaluation reuses, from its run.json. */
interface RunSettings {
  readonly specDir?: string;
  readonly epochs?: number;
  readonly limitBatches?: number;
  readonly trainBatches?: number;
  readonly backend?: string;
  readonly threads?: number;
  /** The data folder the run read (resolved when it started). */
  readonly data?: string;
  /** The SHA-256 of model.mjs as rnnc run wrote it: a failure of a module edited since is not rnnc's bug. */
  readonly modelSha256?: string;
}

const BACKENDS = ["auto", "wasm", "cpu", "tensorflow", "webgpu"];

/**
 * run.json, checked field by field: it is a file on disk that anyone may have edited or truncated. Missing (a run
 * from before it existed): no settings. Anything else wrong is an InputError naming the file and the field.
 */
function readRunSettings(runDir: string): RunSettings {
  const file = join(runDir, "run.json");
  const read = readBounded(file, 2 ** 20);
  if (!read.ok) {
    if (read.missing) return {};
    throw new InputError(`cannot read ${file}: ${read.reason}`);
  }
  let v: unknown;
  try {
    v = JSON.parse(read.bytes.toString("utf8"));
  } catch (e) {
    throw new InputError(`${file} is damaged: it is not valid JSON (${(e as Error).message})`);
  }
  if (typeof v !== "object" || v === null || Array.isArray(v))
    throw new InputError(`${file} is damaged: it is not a JSON object`);
  const o = v as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  const field = (key: keyof RunSettings, ok: (x: unknown) => boolean, what: string): void => {
    const x = o[key];
    if (x === undefined || x === null) return;
    if (!ok(x)) throw new InputError(`${file} is damaged: "${key}" must be ${what}, not ${JSON.stringify(x)}`);
    out[key] = x;
  };
  const positiveInt = (x: unknown): boolean => Number.isInteger(x) && (x as number) > 0;
  const text = (x: unknown): boolean => typeof x === "string" && x !== "";
  field("specDir", text, "a folder");
  field("epochs", positiveInt, "a positive integer");
  field("limitBatches", positiveInt, "a positive integer");
  field("trainBatches", positiveInt, "a positive integer");
  field("threads", positiveInt, "a positive integer");
  field("backend", (x) => BACKENDS.includes(x as string), `one of ${BACKENDS.join(", ")}`);
  field("data", text, "a folder");
  field("modelSha256", (x) => typeof x === "string" && /^[0-9a-f]{64}$/.test(x), "a SHA-256 in hex");
  // Folders are stored relative to the run directory (a run directory moves with its repository, or to another
  // machine); an absolute one, as older runs wrote, resolves to itself.
  for (const key of ["specDir", "data"] as const)
    if (typeof out[key] === "string") out[key] = resolve(runDir, out[key] as string);
  return out as RunSettings;
}

/** How many epochs a run's metrics.jsonl records as finished (0 when it has none); damaged lines are skipped. */
function finishedEpochs(runDir: string): number {
  const read = readBounded(join(runDir, "metrics.jsonl"), 256 * 2 ** 20);
  if (!read.ok) return 0;
  let n = 0;
  for (const line of read.bytes.toString("utf8").split("\n")) {
    try {
      if ((JSON.parse(line) as { event?: unknown }).event === "epoch") n++;
    } catch {
      // a line cut by a kill
    }
  }
  return n;
}

/** A checkpoint is a regular file: a folder fails to read, and a device (/dev/zero) would be read forever. */
function requireCheckpointFile(file: string): void {
  let st;
  try {
    st = statSync(file);
  } catch (e) {
    throw new InputError(`cannot read the checkpoint ${file}: ${reasonOf(e)}`);
  }
  if (!st.isFile())
    throw new InputError(
      `${file} is not a checkpoint file: it is ${st.isDirectory() ? "a folder" : "not a regular file"}`,
    );
}

/** Why a named checkpoint (best/last) of a run directory is not there, naming the files that are missing. */
function missingCheckpoint(runDir: string, which: "best" | "last", command: string): string {
  const file = join(runDir, `${which}.ckpt`);
  const other = join(runDir, `${which === "best" ? "last" : "best"}.ckpt`);
  const epochs = finishedEpochs(runDir);
  if (epochs > 0) {
    const also = existsSync(other)
      ? which === "best"
        ? "; --checkpoint last evaluates the latest weights"
        : ""
      : `; ${other} is missing too`;
    return `${file} is missing, though ${join(runDir, "metrics.jsonl")} records ${epochs} finished epoch${epochs === 1 ? "" : "s"}: the checkpoint was removed${also}`;
  }
  if (which === "best" && existsSync(other))
    return `${file} does not exist (no epoch has finished yet; --checkpoint last evaluates the latest weights)`;
  if (existsSync(other)) return `${file} does not exist`;
  return `${runDir} holds no checkpoint: ${file} and ${other} are missing${command === "rnnc run" ? "; the run stopped before it saved one, so start it again from its spec" : ""}`;
}

export interface EvalFlags {
  /** best, last, or a checkpoint file. */
  readonly checkpoint: string;
  readonly limitBatches?: number;
  /** Evaluation windows of this many steps instead of the spec's bptt (language models). */
  readonly bptt?: number;
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
  if (!existsSync(join(runDir, "model.mjs")))
    return {
      stdout: "",
      stderr: `rnnc eval: ${terminalText(runDir)} is not a run directory (it has no model.mjs)\n`,
      exitCode: EXIT.inputError,
    };
  const named = flags.checkpoint === "best" || flags.checkpoint === "last";
  const file = named ? join(runDir, `${flags.checkpoint}.ckpt`) : flags.checkpoint;
  if (!existsSync(file)) {
    const why = named
      ? missingCheckpoint(runDir, flags.checkpoint as "best" | "last", "rnnc eval")
      : `${file} does not exist`;
    return { stdout: "", stderr: `rnnc eval: ${terminalText(why)}\n`, exitCode: EXIT.inputError };
  }
  requireCheckpointFile(file);
  const env = readRunSettings(runDir);
  return callModule(
    runDir,
    {
      runDir,
      evaluate: file,
      backend: flags.backend === "auto" && env.backend !== undefined ? env.backend : flags.backend,
      threads: flags.threads ?? env.threads,
      dataDir: dataFolderAgain(flags.data, env.data),
      specDir: env.specDir,
      // A run made with --limit-batches reported figures over that many batches: evaluate the same by default.
      limitBatches: flags.limitBatches ?? env.limitBatches,
      ...(flags.bptt !== undefined ? { evalBptt: flags.bptt } : {}),
    },
    "rnnc eval",
    env.modelSha256,
  );
}

/**
 * The prologue of `rnnc sample` and `rnnc export`: a run directory whose ir.json says it trained a language model,
 * and the checkpoint to read (best, last or a file), verified; an Outcome (exit 1, a message) when it is not one.
 */
function languageModelRun(
  runDir: string,
  checkpoint: string,
  command: string,
  classifierNote: string,
): { exp: ExperimentIR; file: string } | Outcome {
  const fail = (why: string): Outcome => ({
    stdout: "",
    stderr: `rnnc ${command}: ${terminalText(why)}\n`,
    exitCode: EXIT.inputError,
  });
  if (!existsSync(join(runDir, "model.mjs"))) return fail(`${runDir} is not a run directory (it has no model.mjs)`);
  const ir = readBounded(join(runDir, "ir.json"), 16 * 2 ** 20);
  let exp: ExperimentIR;
  try {
    if (!ir.ok) throw new Error(ir.reason);
    exp = JSON.parse(ir.bytes.toString("utf8")) as ExperimentIR;
    if (typeof exp !== "object" || exp === null || !exp.model || !Array.isArray(exp.model.layers))
      throw new Error("not an experiment's IR");
  } catch (e) {
    return fail(`cannot read ${join(runDir, "ir.json")}: ${reasonOf(e)}`);
  }
  if (exp.task?.kind !== "lm") return fail(`${runDir} trained a sequence classifier: ${classifierNote}`);
  const named = checkpoint === "best" || checkpoint === "last";
  const file = named ? join(runDir, `${checkpoint}.ckpt`) : checkpoint;
  if (!existsSync(file))
    return fail(
      named ? missingCheckpoint(runDir, checkpoint as "best" | "last", `rnnc ${command}`) : `${file} does not exist`,
    );
  requireCheckpointFile(file);
  return { exp, file };
}

export interface SampleFlags {
  readonly checkpoint: string;
  readonly tokens: number;
  readonly temperature: number;
  readonly prime?: string;
  readonly seed: number;
  readonly backend: string;
  readonly threads?: number;
  readonly data?: string;
}

/**
 * `rnnc sample RUN_DIR`: text from a language model's checkpoint, drawn by the run's own generated code (the
 * runtime's sample.ts). Nothing is written. The run's ir.json says whether it is a language model and whether its
 * batch norm keeps per-step statistics (which decides how the context is framed).
 */
export async function sampleRun(runDir: string, flags: SampleFlags): Promise<Outcome> {
  const opened = languageModelRun(runDir, flags.checkpoint, "sample", "only a language model generates text");
  if ("exitCode" in opened) return opened;
  const { exp, file } = opened;
  const env = readRunSettings(runDir);
  const norm = exp.model?.norm;
  const out = await callModule(
    runDir,
    {
      runDir,
      evaluate: file,
      sample: {
        tokens: flags.tokens,
        temperature: flags.temperature,
        prime: flags.prime ?? null,
        seed: flags.seed,
        perStepNorm: norm?.kind === "batch" && norm.stats === "per_step",
      },
      backend: flags.backend === "auto" && env.backend !== undefined ? env.backend : flags.backend,
      threads: flags.threads ?? env.threads,
      dataDir: dataFolderAgain(flags.data, env.data),
      specDir: env.specDir,
      progress: { write: () => {}, isTTY: false },
    },
    "rnnc sample",
    env.modelSha256,
  );
  return out;
}

/**
 * `rnnc export RUN_DIR -o DIR`: a language model's checkpoint as TensorFlow.js weights and a stand-alone inference
 * module (the runtime's export/), written by the run's own generated code. The architecture the inference module
 * needs comes from the run's ir.json; what that module cannot compute (normalized layers) is refused here.
 */
function zoneoutOf(exp: ExperimentIR): { hidden: number; cell: number } | null {
  const z = (exp.dropout as { zoneout?: { hidden?: number; cell?: number } } | undefined)?.zoneout;
  return z && (z.hidden || z.cell) ? { hidden: z.hidden ?? 0, cell: z.cell ?? 0 } : null;
}

export async function exportRun(
  runDir: string,
  flags: { checkpoint: string; out: string; data?: string },
): Promise<Outcome> {
  const opened = languageModelRun(runDir, flags.checkpoint, "export", "export writes language models");
  if ("exitCode" in opened) return opened;
  const { exp, file } = opened;
  if (exp.model.norm !== null)
    return {
      stdout: "",
      stderr: `rnnc export: ${terminalText(
        `${runDir} normalizes its layers (${exp.model.norm.kind} norm), which the exported inference module does not compute yet: only LSTM, GRU and tanh/ReLU RNN layers without normalization are exported`,
      )}\n`,
      exitCode: EXIT.inputError,
    };
  const env = readRunSettings(runDir);
  const architecture = {
    embed: exp.model.embed ?? exp.model.layers[0]!.hidden,
    layers: exp.model.layers.map((l) => ({
      cell: l.cell,
      hidden: l.hidden,
      activation: l.activation,
      // an ir.json from before layers carried their sites (irVersion < 3) has zoneout in `dropout` only
      zoneout: l.sites ? l.sites.zoneout : zoneoutOf(exp),
    })),
    tie: exp.model.tie,
    initialState: exp.model.initialState,
  };
  return callModule(
    runDir,
    {
      runDir,
      evaluate: file,
      export: { out: resolve(flags.out), architecture },
      backend: env.backend ?? "auto",
      dataDir: dataFolderAgain(flags.data, env.data),
      specDir: env.specDir,
      progress: { write: () => {}, isTTY: false },
    },
    "rnnc export",
    env.modelSha256,
  );
}

/**
 * Import a run directory's generated module and call its run() (training, or with `evaluate`, an evaluation).
 * A module that does not load, or is not rnnc's, is a damaged run directory (exit 1, naming the file); so is any
 * failure of a module edited since `rnnc run` wrote it (`sha`, from run.json, tells).
 */
async function callModule(
  runDir: string,
  options: Record<string, unknown>,
  command: string,
  sha?: string,
): Promise<Outcome> {
  linkRuntime(runDir);
  const file = join(runDir, "model.mjs");
  const read = readBounded(file, 64 * 2 ** 20);
  if (!read.ok) throw new InputError(`cannot read ${file}: ${read.reason}`);
  const edited = sha !== undefined && sha256(read.bytes) !== sha;
  const damaged = (e: unknown): InputError =>
    new InputError(
      `${file} ${edited ? "was changed after rnnc run wrote it, and" : "is damaged:"} it fails: ${String((e as Error)?.message ?? e).split("\n")[0]}`,
    );
  let mod: Partial<GeneratedModule>;
  try {
    mod = (await import(pathToFileURL(resolve(file)).href)) as Partial<GeneratedModule>;
  } catch (e) {
    throw damaged(e);
  }
  if (typeof mod.run !== "function")
    throw new InputError(`${file} is not a module rnnc generated: it exports no run()`);
  try {
    const result = await mod.run(options);
    return { stdout: result.summary + "\n", stderr: "", exitCode: result.status === "interrupted" ? 130 : EXIT.ok };
  } catch (e) {
    // The runtime marks errors whose message is for the user (missing data, a NaN loss, a bad checkpoint).
    if ((e as { userFacing?: boolean }).userFacing)
      return { stdout: "", stderr: `${command}: ${terminalLines((e as Error).message)}\n`, exitCode: EXIT.inputError };
    if (edited) throw damaged(e);
    throw e;
  }
}

export async function run(
  ws: Workspace,
  spec: string | undefined,
  flags: RunFlags,
  render: RenderOptions,
  options: CompileOptions,
): Promise<Outcome> {
  // The spec file's one compile, shared by every experiment trained from it (a resume compiles nothing: it runs the
  // run directory's own code).
  if (spec !== undefined && flags.resume === undefined) {
    const compiled = compileSpec(ws, spec, options);
    const several = flags.set.length ? null : experimentsIn(compiled, spec);
    if (several) return runEach(ws, fileOf(spec), several, flags, render, options, compiled);
    return runOne(ws, spec, flags, render, options, compiled);
  }
  return runOne(ws, spec, flags, render, options);
}

/** One experiment: `compiled` is its spec file's compile result (absent for --resume, which compiles nothing). */
async function runOne(
  ws: Workspace,
  spec: string | undefined,
  flags: RunFlags,
  render: RenderOptions,
  options: CompileOptions,
  compiled?: CompileResult,
): Promise<Outcome & { runDir?: string }> {
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
  let sha: string | undefined;
  /** What the generated module is run with, from the settings as they stand when it is called (new run or resume). */
  const moduleOptions = () => ({
    runDir,
    backend,
    threads,
    dataDir,
    specDir,
    epochs,
    limitBatches,
    trainBatches,
    resume,
    record: { rnnc: VERSION, argv: process.argv.slice(2) },
  });
  if (flags.resume !== undefined) {
    if (spec !== undefined || flags.set.length)
      return {
        stdout: "",
        stderr: "rnnc run: --resume continues a run with its own generated code; give no SPEC or --set with it\n",
        exitCode: EXIT.usage,
      };
    runDir = flags.resume;
    resume = join(runDir, "last.ckpt");
    if (!existsSync(join(runDir, "model.mjs")))
      return {
        stdout: "",
        stderr: `rnnc run: ${terminalText(runDir)} is not a run directory with a checkpoint (it needs model.mjs and last.ckpt)\n`,
        exitCode: EXIT.inputError,
      };
    if (!existsSync(resume))
      return {
        stdout: "",
        stderr: `rnnc run: cannot resume: ${terminalText(missingCheckpoint(runDir, "last", "rnnc run"))}\n`,
        exitCode: EXIT.inputError,
      };
    requireCheckpointFile(resume);
    const env = readRunSettings(runDir);
    specDir = env.specDir;
    epochs ??= env.epochs;
    limitBatches ??= env.limitBatches;
    trainBatches ??= env.trainBatches;
    if (backend === "auto" && env.backend !== undefined) backend = env.backend;
    threads ??= env.threads;
    dataDir = dataFolderAgain(flags.data, env.data);
    sha = env.modelSha256;
  } else {
    if (spec === undefined)
      return { stdout: "", stderr: "rnnc run: give a SPEC, or --resume RUN_DIR\n", exitCode: EXIT.usage };
    const p = await prepare(ws, spec, flags.set, render, options, "run", compiled);
    if (isOutcome(p)) return p;
    warnings = p.warnings;
    if (warnings) process.stderr.write(warnings);
    // The guard checked the model against the backend auto picks here (tfjs-node, when installed). If only that
    // backend can hold it, it is named: auto would otherwise fall back to wasm, should tfjs-node fail to load, and
    // allocate towards a 4 GiB heap that cannot hold the model.
    const wasm = options.memory?.others.find((o) => o.backend === "wasm");
    if (
      backend === "auto" &&
      options.memory?.backend === "tensorflow" &&
      wasm &&
      p.exp.resources.trainingBytes > wasm.limitBytes
    )
      backend = "tensorflow";
    const made = newRunDir(flags.runs, p.exp.name);
    runDir = made.dir;
    // A spec linked in from elsewhere reads its `text "path"` beside its real file, as its `extends` do.
    specDir = resolve(realPath(p.specFile) ?? p.specFile, "..");
    try {
      // The spec as compiled, not read again: spec.rnn is the text this run's code came from.
      const text = p.result.sources.get(p.specFile)?.text ?? "";
      const mjs = transpile(p.code);
      writeFile(join(runDir, "spec.rnn"), text);
      writeFile(join(runDir, "ir.json"), JSON.stringify(p.exp, null, 2) + "\n");
      writeFile(join(runDir, "model.ts"), p.code);
      writeFile(join(runDir, "model.mjs"), mjs);
      const settings = {
        spec: p.specFile,
        experiment: p.exp.name,
        specDir: fromRunDir(runDir, specDir),
        set: flags.set,
        epochs,
        limitBatches,
        trainBatches,
        backend,
        threads,
        data: fromRunDir(runDir, dataFolder(flags.data)),
        modelSha256: sha256(mjs),
      };
      writeFile(join(runDir, "run.json"), JSON.stringify(settings, null, 2) + "\n");
      process.stderr.write(`run directory: ${terminalText(runDir)}\n`);
      const outcome = await callModule(runDir, moduleOptions(), "rnnc run");
      if (outcome.exitCode === EXIT.ok || trainingBegan(runDir)) return { ...outcome, runDir };
      removeRunDir(made.made);
      return {
        ...outcome,
        stderr: `${outcome.stderr}rnnc run: removed ${terminalText(runDir)}: the run stopped before training began\n`,
      };
    } catch (e) {
      // Failed before training began (the module, the backend, the data): leave no empty run behind.
      if (!trainingBegan(runDir)) removeRunDir(made.made);
      throw e;
    }
  }
  return callModule(runDir, moduleOptions(), "rnnc run", sha);
}

/**
 * A file of several experiments (a sweep): train each in turn, each in its own run directory, and print one
 * summary line per experiment. A failed experiment stops the sweep (its error is the outcome); an interrupt too.
 */
async function runEach(
  ws: Workspace,
  file: string,
  names: readonly string[],
  flags: RunFlags,
  render: RenderOptions,
  options: CompileOptions,
  compiled: CompileResult,
): Promise<Outcome> {
  process.stderr.write(`${terminalText(file)}: ${names.length} experiments, trained in turn\n`);
  let stdout = "";
  const dirs: string[] = [];
  for (const name of names) {
    process.stderr.write(`\n== ${name}\n`);
    const r = await runOne(ws, `${file}#${name}`, flags, render, options, compiled);
    if (r.runDir !== undefined) dirs.push(r.runDir);
    stdout += r.stdout
      .split("\n")
      .filter((l) => l !== "")
      .map((l) => `${name}: ${l}\n`)
      .join("");
    if (r.exitCode !== EXIT.ok) return { stdout, stderr: r.stderr, exitCode: r.exitCode };
  }
  return { stdout: stdout + pointsTable(dirs), stderr: "", exitCode: EXIT.ok };
}

/**
 * The end of a sweep (or of a file of several experiments): every point in one table, best validation figure
 * first, with only the settings that vary (a sweep's `variant`), then its figures and run directory.
 */
function pointsTable(dirs: readonly string[]): string {
  const rows = dirs.map((d) => ({ row: runRow(d), exp: readRunIr(d) })).filter((r) => typeof r.row !== "string");
  if (rows.length < 2) return "";
  const metric = (rows[0]!.row as RunRow).metric;
  const better = (a: number | null, b: number | null): number =>
    a === null ? 1 : b === null ? -1 : metric === "accuracy" ? b - a : a - b;
  rows.sort((a, b) => better((a.row as RunRow).valid, (b.row as RunRow).valid));
  const keys = [...new Set(rows.flatMap((r) => Object.keys(r.exp?.variant ?? {})))].sort();
  const show = (v: number | null): string =>
    v === null ? "—" : metric === "accuracy" ? `${(100 * v).toFixed(2)} %` : v.toFixed(metric === "bpc" ? 3 : 2);
  const head = [...(keys.length ? keys : ["experiment"]), `valid ${metric}`, `test ${metric}`, "run"];
  const body = rows.map(({ row, exp }) => {
    const r = row as RunRow;
    const settings = keys.length ? keys.map((k) => JSON.stringify(exp?.variant?.[k] ?? null)) : [r.experiment];
    return [...settings, show(r.valid), show(r.test), r.dir].map(terminalText);
  });
  const widths = head.map((_, k) => Math.max(head[k]!.length, ...body.map((b) => b[k]!.length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, k) => c.padEnd(widths[k]!))
      .join("  ")
      .trimEnd();
  return `\n${[line(head), ...body.map(line)].join("\n")}\n`;
}

function readRunIr(dir: string): ExperimentIR | null {
  const ir = readBounded(join(dir, "ir.json"), 16 * 2 ** 20);
  try {
    return ir.ok ? (JSON.parse(ir.bytes.toString("utf8")) as ExperimentIR) : null;
  } catch {
    return null;
  }
}
