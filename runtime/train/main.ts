// A generated module run directly (`node model.js …`) trains itself with the same options `rnnc run` takes.
import { realpathSync } from "node:fs";
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
        "run-dir": { type: "string", default: `runs/${experiment.name}` },
        resume: { type: "string" },
        evaluate: { type: "string" },
        "eval-bptt": { type: "string" },
      },
    });
    if (!BACKEND_CHOICES.includes(values.backend as BackendChoice))
      throw new Error(`--backend must be one of ${BACKEND_CHOICES.join(", ")}`);
    const run = (o: RunOptions): Promise<{ status: string; summary: string }> =>
      "task" in experiment ? runClassifier(experiment, o) : runExperiment(experiment, o);
    const result = await run({
      runDir: values["run-dir"]!,
      backend: values.backend as BackendChoice,
      threads: int(values.threads),
      dataDir: values.data,
      epochs: int(values.epochs),
      limitBatches: int(values["limit-batches"]),
      trainBatches: int(values["train-batches"]),
      resume: values.resume,
      evaluate: values.evaluate,
      evalBptt: int(values["eval-bptt"]),
    });
    process.stdout.write(result.summary + "\n");
    process.exitCode = result.status === "interrupted" ? 130 : 0;
  } catch (e) {
    const err = e as Error;
    process.stderr.write(`${(err as { userFacing?: boolean }).userFacing ? "" : "error: "}${err.message}\n`);
    process.exitCode = 1;
  }
}
