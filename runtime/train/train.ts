// Language models' entry points: runExperiment (train, resume or evaluate a generated experiment) and the types
// generated code names. The loop itself is the driver's (driver.ts), the language-model specifics lm-task.ts's.
import { exportCheckpoint } from "../export/write.js";
import { sampleFromCheckpoint } from "./sample.js";
import { evaluateTaskCheckpoint, trainTask } from "./driver.js";
import { explainWasmAbort } from "./errors.js";
import {
  languageModelData,
  type EpochRecord,
  type EvalResult,
  type Experiment,
  type LanguageModelData,
} from "./lm-task.js";
import { formatDuration } from "./progress.js";
import { checkpointPosition, releaseOwned, type Owned } from "./run-state.js";
import { summarize } from "./summary.js";
import type { RunOptions } from "./task.js";

export type { DataSpec, EpochRecord, EvalResult, Experiment, Trainer } from "./lm-task.js";
export { createTrainer, cropOffset, evaluate, metricOf, variableWindows } from "./lm-task.js";
export type { RunOptions, TrainingSpec } from "./task.js";
export { assertDeviceHealthy, explainWasmAbort, keptNote, stopRun, TrainingError } from "./errors.js";
export { applyUpdate } from "./step.js";
export {
  checkpointPosition,
  openForEvaluation,
  releaseOwned,
  restoreOptimizer,
  restoreParams,
  resumeRun,
  storeTensors,
  type Owned,
} from "./run-state.js";

export interface RunResult {
  readonly status: "done" | "interrupted";
  readonly epochs: readonly EpochRecord[];
  readonly bestEpoch: number | null;
  readonly valid: EvalResult | null;
  readonly test: EvalResult | null;
  /** "perplexity" for words, "bpc" for characters. */
  readonly metric: "perplexity" | "bpc";
  /** The best achievable perplexity, when the data is synthetic. */
  readonly optimalPerplexity: number | null;
  readonly lastCheckpoint: string;
  readonly runDir: string;
  readonly backend: string;
  /** Wall time of this invocation, training and evaluation. */
  readonly seconds: number;
  /** Epochs finished before this invocation: non-zero for a resumed run. */
  readonly epochsBefore: number;
  /** The closing lines to print: final valid and test metric. */
  readonly summary: string;
}

export async function runExperiment(exp: Experiment, opts: RunOptions): Promise<RunResult> {
  const owned: Owned = {};
  let data: LanguageModelData | null = null;
  const load = async (): Promise<LanguageModelData> => (data = await languageModelData(exp, opts));
  try {
    if (opts.evaluate !== undefined && opts.export !== undefined) {
      const line = await exportCheckpoint(exp, load, opts.evaluate, opts, opts.export);
      return { status: "done", summary: line } as unknown as RunResult;
    }
    if (opts.evaluate !== undefined && opts.sample !== undefined) {
      const text = await sampleFromCheckpoint(exp, load, opts.evaluate, opts, opts.sample);
      return { status: "done", summary: text } as unknown as RunResult;
    }
    if (opts.evaluate !== undefined) {
      // `rnnc eval`: the run's own summary, with its first line saying which weights these are instead of how
      // training went.
      const file = opts.evaluate;
      const e = await evaluateTaskCheckpoint(exp, exp.training, load, file, opts, owned);
      const d = data as unknown as LanguageModelData;
      const result = {
        status: "done",
        epochs: e.ck.meta.epochs,
        bestEpoch: e.ck.meta.bestEpoch,
        valid: e.valid,
        test: e.test,
        metric: d.level === "char" ? "bpc" : "perplexity",
        optimalPerplexity: d.optimalPerplexity,
        lastCheckpoint: file,
        runDir: opts.runDir,
        backend: e.backend,
        seconds: e.seconds,
        epochsBefore: e.ck.meta.epochs.length,
      } as const;
      const lines = summarize(result).split("\n");
      const windows =
        opts.evalBptt === undefined ? "" : `, windows of ${opts.evalBptt} steps (trained with ${exp.data.bptt})`;
      lines[0] = `${file}: ${checkpointPosition(e.ck.meta.epoch, e.next)}; evaluated in ${formatDuration(e.seconds)} on ${e.backend}${windows}`;
      return { ...result, summary: lines.join("\n") };
    }
    const r = await trainTask(exp, exp.training, load, opts, owned);
    const d = data as unknown as LanguageModelData;
    const result = {
      status: r.status,
      epochs: r.epochs,
      bestEpoch: r.bestEpoch,
      valid: r.valid,
      test: r.test,
      metric: d.level === "char" ? "bpc" : "perplexity",
      optimalPerplexity: d.optimalPerplexity,
      lastCheckpoint: r.lastCheckpoint,
      runDir: r.runDir,
      backend: r.backend,
      seconds: r.seconds,
      epochsBefore: r.epochsBefore,
    } as const;
    return { ...result, summary: summarize(result) };
  } catch (e) {
    throw explainWasmAbort(e, { batch: exp.data.batch, steps: `bptt ${exp.data.bptt}` }, owned, opts.runDir);
  } finally {
    releaseOwned(owned);
  }
}
