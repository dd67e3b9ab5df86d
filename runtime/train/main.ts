// A generated module run directly (`node model.js …`) trains itself with the same options `rnnc run` takes.
import { existsSync, mkdirSync, realpathSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { BACKEND_CHOICES, type BackendChoice } from "../accel/backend.js";
import type { RunOptions } from "./train.js";
import { runExperiment, type Experiment } from "./train.js";
import { runClassifier, type ClassifierExperiment } from "./train-classifier.js";

const isMain = (url: string): boolean => {
  try {
    return process.argv[1] !== undefined && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(url));
  } catch {
    return false;
  }
};

const USAGE = (name: string): string => `Trains the experiment ${name}, as \`rnnc run\` does.

Usage: node model.mjs [options]

Options:
  --epochs N            train for N epochs instead of the spec's
  --limit-batches N     stop each epoch and each evaluation after N batches (quick runs)
  --train-batches N     stop each epoch after N training batches, but evaluate on the whole sets
  --backend B           ${BACKEND_CHOICES.join(", ")} (default: auto)
  --threads N           wasm: XNNPACK threads (default: one per core)
  --data DIR            the data folder (default: $RNNC_DATA, else ~/.cache/rnnc/data)
  --run-dir DIR         where this run's metrics and checkpoints go (default: runs/${name}/<timestamp>, new each run)
  --resume RUN          continue a run: its directory (or a checkpoint file in it), from its last.ckpt
  --evaluate FILE       evaluate a checkpoint on the validation and test sets; nothing is trained
  --eval-bptt N         language models: evaluate with windows of N steps
  -h, --help            show this help
`;

/** runs/<name>/<YYYYMMDD-HHMMSS>, with -2, -3… when another run took that second: never an earlier run's folder. */
function newRunDir(name: string): string {
  const d = new Date();
  const p = (n: number): string => String(n).padStart(2, "0");
  const base = join(
    "runs",
    name.replace(/[^A-Za-z0-9_.=-]/g, "_"),
    `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`,
  );
  mkdirSync(dirname(base), { recursive: true });
  for (let k = 1; ; k++) {
    const dir = k === 1 ? base : `${base}-${k}`;
    try {
      mkdirSync(dir);
      return dir;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    }
  }
}

/** --resume RUN: a run directory (its last.ckpt) or a checkpoint file; the run goes on in that checkpoint's folder. */
function resumeTarget(arg: string): { runDir: string; checkpoint: string } {
  const isDir = existsSync(arg) && statSync(arg).isDirectory();
  return isDir ? { runDir: arg, checkpoint: join(arg, "last.ckpt") } : { runDir: dirname(arg), checkpoint: arg };
}

export async function runIfMain(url: string, experiment: Experiment | ClassifierExperiment): Promise<void> {
  if (!isMain(url)) return;
  const int = (s: string | undefined): number | undefined => (s === undefined ? undefined : Number.parseInt(s, 10));
  try {
    const { values } = parseArgs({
      options: {
        epochs: { type: "string" },
        "limit-batches": { type: "string" },
        "train-batches": { type: "string" },
        backend: { type: "string", default: "auto" },
        threads: { type: "string" },
        data: { type: "string" },
        "run-dir": { type: "string" },
        resume: { type: "string" },
        evaluate: { type: "string" },
        "eval-bptt": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    });
    if (values.help) {
      process.stdout.write(USAGE(experiment.name));
      return;
    }
    if (!BACKEND_CHOICES.includes(values.backend as BackendChoice))
      throw new Error(`--backend must be one of ${BACKEND_CHOICES.join(", ")}`);
    const resume = values.resume === undefined ? undefined : resumeTarget(values.resume);
    // An evaluation writes nothing, so it needs no folder of its own.
    const runDir =
      values["run-dir"] ?? resume?.runDir ?? (values.evaluate ? dirname(values.evaluate) : newRunDir(experiment.name));
    const run = (o: RunOptions): Promise<{ status: string; summary: string }> =>
      "task" in experiment ? runClassifier(experiment, o) : runExperiment(experiment, o);
    if (!values.evaluate) process.stderr.write(`run directory: ${runDir}\n`);
    const result = await run({
      runDir,
      backend: values.backend as BackendChoice,
      threads: int(values.threads),
      dataDir: values.data,
      epochs: int(values.epochs),
      limitBatches: int(values["limit-batches"]),
      trainBatches: int(values["train-batches"]),
      resume: resume?.checkpoint,
      evaluate: values.evaluate,
      evalBptt: int(values["eval-bptt"]),
    });
    process.stdout.write(result.summary + "\n");
    process.exitCode = result.status === "interrupted" ? 130 : 0;
  } catch (e) {
    const err = e as Error;
    process.stderr.write(`${(err as { userFacing?: boolean }).userFacing ? "" : "error: "}${err.message}\n`);
    process.exitCode = (err as { code?: string }).code?.startsWith("ERR_PARSE_ARGS") ? 2 : 1;
  }
}
