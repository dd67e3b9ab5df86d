// The entry point of `task classify` (sequential MNIST and pMNIST, Cooijmans et al. 2017, §5.1): runClassifier and
// the types generated code names. The loop is the driver's (driver.ts), the task's specifics classifier-task.ts's.
import { TrainingError } from "./errors.js";
import {
  classifierData,
  mnistSequences,
  resultLine,
  type ClassifierEpoch,
  type ClassifierEval,
  type ClassifierExperiment,
  type LabelledSequences,
} from "./classifier-task.js";
import { MNIST_PIXELS } from "../data/mnist.js";
import { evaluateTaskCheckpoint, trainTask } from "./driver.js";
import { explainWasmAbort } from "./errors.js";
import { formatDuration } from "./progress.js";
import { checkpointPosition, releaseOwned, type Owned } from "./run-state.js";
import { runLine } from "./summary.js";
import type { RunOptions } from "./task.js";

export type {
  ClassifierDataSpec,
  ClassifierEpoch,
  ClassifierEval,
  ClassifierExperiment,
  LabelledSequences,
} from "./classifier-task.js";
export { evaluateClassifier } from "./classifier-task.js";

export interface ClassifierRunResult {
  readonly status: "done" | "interrupted";
  readonly epochs: readonly ClassifierEpoch[];
  readonly bestEpoch: number | null;
  readonly valid: ClassifierEval | null;
  readonly test: ClassifierEval | null;
  readonly metric: "accuracy";
  readonly lastCheckpoint: string;
  readonly runDir: string;
  readonly backend: string;
  readonly seconds: number;
  readonly summary: string;
}

export function runClassifier(exp: ClassifierExperiment, opts: RunOptions): Promise<ClassifierRunResult> {
  return runClassifierOn(exp, opts, () => mnistSequences(exp, opts));
}

/** runClassifier on the sequences `load` gives (MNIST for a generated experiment; a small set in tests). */
export async function runClassifierOn(
  exp: ClassifierExperiment,
  opts: RunOptions,
  sequences: () => Promise<LabelledSequences>,
): Promise<ClassifierRunResult> {
  if (opts.evalBptt !== undefined)
    throw new TrainingError(
      `a classifier reads each image as one sequence of ${MNIST_PIXELS} pixels, so it has no evaluation window to set: --bptt applies to language models`,
    );
  const owned: Owned = {};
  let pixels = MNIST_PIXELS; // what a wasm heap exhaustion is explained with
  const load = async () => {
    const sets = await sequences();
    pixels = sets.pixels;
    return classifierData(exp, sets, opts);
  };
  try {
    if (opts.evaluate !== undefined) {
      // `rnnc eval`: one checkpoint's validation and test accuracy, computed as the end of a run computes them.
      const file = opts.evaluate;
      const e = await evaluateTaskCheckpoint(exp, exp.training, load, file, opts, owned);
      const summary = [
        `${file}: ${checkpointPosition(e.ck.meta.epoch, e.next, "batch")}; evaluated in ${formatDuration(e.seconds)} on ${e.backend}`,
        resultLine(e.valid, e.test),
      ].join("\n");
      return {
        status: "done",
        epochs: e.ck.meta.epochs,
        bestEpoch: e.ck.meta.bestEpoch,
        valid: e.valid,
        test: e.test,
        metric: "accuracy",
        lastCheckpoint: file,
        runDir: opts.runDir,
        backend: e.backend,
        seconds: e.seconds,
        summary,
      };
    }
    const r = await trainTask(exp, exp.training, load, opts, owned);
    const summary =
      r.status === "interrupted"
        ? `interrupted; the run continues with: rnnc run --resume ${opts.runDir}`
        : [runLine(r), resultLine(r.valid!, r.test!)].join("\n");
    return {
      status: r.status,
      epochs: r.epochs,
      bestEpoch: r.bestEpoch,
      valid: r.valid,
      test: r.test,
      metric: "accuracy",
      lastCheckpoint: r.lastCheckpoint,
      runDir: r.runDir,
      backend: r.backend,
      seconds: r.seconds,
      summary,
    };
  } catch (e) {
    throw explainWasmAbort(e, { batch: exp.data.batch, steps: `${pixels} pixels` }, owned, opts.runDir);
  } finally {
    releaseOwned(owned);
  }
}
