// The training driver, written once for every task (task.ts): the run directory and env.json, resume, the epochs
// of steps with progress and metrics.jsonl, mid-epoch and end-of-epoch checkpoints that a kill cannot corrupt
// (checkpoint.ts), Ctrl-C, the one stop path for NaN and divergence (divergence.ts), NT-ASGD's non-monotone
// trigger and its averaged weights for validation and best.ckpt (Merity et al. 2018, §3), and the final
// evaluation of the best checkpoint, as the papers report it. The task decides only what is task-specific.
import * as tf from "@tensorflow/tfjs";
import { appendFileSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";
import { selectBackend } from "../accel/backend.js";
import { Rng } from "../base/rng.js";
import { ParameterStore } from "../model/parameters.js";
import { RunCheckpoints, type Checkpoint, type LoadedCheckpoint } from "./checkpoint.js";
import { DivergenceDetector, reportable, type DivergenceVerdict } from "./divergence.js";
import { stopRun, TrainingError } from "./errors.js";
import { Optimizer } from "./optimizers.js";
import { EpochProgress, runEta, type ProgressSink } from "./progress.js";
import {
  openForEvaluation,
  resumeRun,
  restoreOptimizer,
  restoreParams,
  storeTensors,
  type Owned,
} from "./run-state.js";
import { advanceSchedule, firstLr, type ScheduleState } from "./schedules.js";
import { writeStatus } from "./status.js";
import type { CommonTraining, EpochBase, EvalBase, ExperimentId, RunOptions, TaskData } from "./task.js";

/** A checkpoint's meta, for every task; the position of the next step is named by the task (nextWindow, nextBatch). */
export interface DriverMeta<E extends EpochBase> {
  readonly version: 1;
  readonly experiment: string;
  readonly specHash: string;
  /** The epoch in progress (1-based); the index of its next step is under the task's positionKey. */
  readonly epoch: number;
  readonly nextWindow?: number;
  readonly nextBatch?: number;
  readonly schedule: ScheduleState;
  readonly maskRng: number[];
  readonly optimizerStep: number;
  /** NT-ASGD: the optimizer step at which averaging started; null before (absent in older checkpoints). */
  readonly averagingSince?: number | null;
  readonly epochs: E[];
  readonly bestEpoch: number | null;
  /** Partial sums of the epoch in progress, so its summary is the same whether or not it was interrupted. */
  readonly partial: Readonly<Record<string, number>> & { readonly seconds: number };
  /** Steps trained by the run so far (absent in older classifier checkpoints). */
  readonly windowsDone?: number;
}

/** What a training run ends with, for every task; the task's entry point adds its metric and summary. */
export interface DriverResult<E extends EpochBase, V extends EvalBase> {
  readonly status: "done" | "interrupted";
  readonly epochs: readonly E[];
  readonly bestEpoch: number | null;
  readonly valid: V | null;
  readonly test: V | null;
  readonly lastCheckpoint: string;
  readonly runDir: string;
  readonly backend: string;
  /** Wall time of this invocation, training and evaluation. */
  readonly seconds: number;
  /** Epochs finished before this invocation: non-zero for a resumed run. */
  readonly epochsBefore: number;
}

/** One seed, two streams: weights are drawn first from their own stream, so adding a dropout site never changes
 *  the initial weights, and the mask stream is the part of the state a checkpoint must carry. */
const maskStream = (seed: number): Rng => new Rng(seed ^ 0x5bd1e995);

/** The best of some epochs by the task's criterion (the first of equals). */
function bestOf<E extends EpochBase>(records: readonly E[], better: (a: E, b: E) => boolean): E {
  return records.reduce((best, r) => (better(r, best) ? r : best));
}

/**
 * Trains a task, keeping the run directory's status.json (status.ts) in step: "running" once a resume's checkpoints
 * are verified, then how it ended. The error, if any, still reaches the caller.
 */
export async function trainTask<E extends EpochBase, V extends EvalBase>(
  exp: ExperimentId,
  training: CommonTraining,
  load: () => Promise<TaskData<E, V>>,
  opts: RunOptions,
  owned: Owned,
): Promise<DriverResult<E, V>> {
  const since = new Date().toISOString();
  let began = false;
  const begin = (): void => {
    began = true;
    writeStatus(opts.runDir, "running", since);
  };
  try {
    const r = await train(exp, training, load, opts, owned, begin);
    writeStatus(opts.runDir, r.status === "done" ? "finished" : "stopped", since);
    return r;
  } catch (e) {
    if (began) {
      const diverged = e instanceof TrainingError && e.kind === "diverged";
      writeStatus(opts.runDir, diverged ? "diverged" : "failed", since, e instanceof Error ? e.message : String(e));
    }
    throw e;
  }
}

async function train<E extends EpochBase, V extends EvalBase>(
  exp: ExperimentId,
  training: CommonTraining,
  load: () => Promise<TaskData<E, V>>,
  opts: RunOptions,
  owned: Owned,
  begin: () => void,
): Promise<DriverResult<E, V>> {
  const sink: ProgressSink = opts.progress ?? { write: (s) => process.stderr.write(s), isTTY: process.stderr.isTTY };
  const say = (line: string): void => sink.write(`${line}\n`);
  const started = performance.now();
  mkdirSync(opts.runDir, { recursive: true });
  const ckpts = new RunCheckpoints(opts.runDir);
  // A resume's checkpoints are verified before anything (env.json, a checkpoint) is written.
  const resumed = opts.resume ? resumeRun<DriverMeta<E>>(ckpts, opts.resume, exp.name, say) : null;
  begin();
  const backend = await selectBackend(opts.backend ?? "auto", { threads: opts.threads });
  say(`backend: ${backend.description}`);

  const data = await load();
  const epochs = opts.epochs ?? training.epochs;
  const lastPath = ckpts.last;
  const metricsPath = join(opts.runDir, "metrics.jsonl");
  const params = new ParameterStore(new Rng(training.seed));
  owned.params = params;
  const model = data.createModel(params);
  owned.model = model;
  const maskRng = maskStream(training.seed);
  const optimizer = new Optimizer(training.optimizer);
  const vars = params.list.map((p) => p.variable);
  writeFileSync(
    join(opts.runDir, "env.json"),
    JSON.stringify(
      {
        ...opts.record,
        tfjs: tf.version.tfjs,
        node: process.version,
        backend: backend.name,
        backendDescription: backend.description,
        cpu: cpus()[0]?.model ?? "unknown",
        cores: cpus().length,
        seed: training.seed,
        parameters: params.count(),
        ...data.env,
        resumedFrom: opts.resume ?? null,
        started: new Date().toISOString(),
      },
      null,
      2,
    ) + "\n",
  );
  const task = data.bind(model, { maskRng, optimizer });
  const { unit } = task;

  let epoch = 1;
  let next = 0; // the next step of the epoch
  let schedule: ScheduleState = { lr: firstLr(training.schedule, training.optimizer.lr), best: Infinity, badEpochs: 0 };
  let history: E[] = [];
  let epochsBefore = 0;
  let bestEpoch: number | null = null;
  let seconds = 0; // the epoch's training time so far
  let windowsDone = 0;
  let lastValidSeconds: number | null = null; // for the run's ETA (progress.ts, runEta)
  let perEpoch = task.stepsIn(1);

  if (opts.resume && resumed) {
    const { ck } = resumed;
    restoreParams(params, ck.tensors, opts.resume);
    restoreOptimizer(optimizer, ck.tensors, ck.meta);
    task.restoreState(ck.tensors);
    maskRng.setState(ck.meta.maskRng);
    ({ epoch, schedule } = ck.meta);
    next = ck.meta[task.positionKey] ?? 0;
    task.restorePartial(ck.meta.partial);
    seconds = ck.meta.partial.seconds;
    windowsDone = ck.meta.windowsDone ?? 0;
    bestEpoch = resumed.bestEpoch; // the epoch best.ckpt holds (checkpoint.ts: they always agree)
    perEpoch = task.stepsIn(epoch);
    history = [...ck.meta.epochs];
    epochsBefore = history.length;
    say(`resumed ${opts.resume}: epoch ${epoch}, ${unit} ${next}/${perEpoch}`);
  }

  const checkpoint = async (atEpoch: number, atStep: number): Promise<Checkpoint<DriverMeta<E>>> => ({
    meta: {
      version: 1,
      experiment: exp.name,
      specHash: exp.spec.hash,
      epoch: atEpoch,
      [task.positionKey]: atStep,
      schedule,
      maskRng: maskRng.getState(),
      optimizerStep: optimizer.state().step,
      averagingSince: optimizer.state().averagingSince ?? null,
      epochs: history,
      bestEpoch,
      partial: { ...task.partial(), seconds },
      windowsDone,
    },
    tensors: [...(await storeTensors(params, optimizer)), ...(await task.stateTensors())],
  });
  /** Mid-epoch and on Ctrl-C: last.ckpt alone. */
  const saveLast = async (): Promise<void> => ckpts.saveLast(await checkpoint(epoch, next));
  /**
   * The end of an epoch; its checkpoints point at the start of the next one. A new best is saved with last.ckpt
   * as one commit (NT-ASGD: best.ckpt holds the averaged weights, as they were validated).
   */
  const saveEpochEnd = async (improved: boolean): Promise<void> => {
    const last = await checkpoint(epoch + 1, 0);
    if (!improved) return ckpts.saveLast(last);
    const best = await optimizer.withAveraged(vars, () => checkpoint(epoch + 1, 0));
    ckpts.saveLastAndBest(last, best);
  };

  // The divergence stop: ln V + margin over consecutive steps (a resumed run starts counting afresh).
  const divergence = new DivergenceDetector(training.divergence ?? null, data.outputs);
  const stop = (v: DivergenceVerdict, step?: number): TrainingError =>
    stopRun(
      v,
      divergence,
      { epoch, window: step, windows: perEpoch, unit },
      { metrics: metricsPath, last: lastPath },
      task.measure,
    );
  // A step's loss is measured before its update, so the weights a mid-epoch checkpoint would hold have not been
  // judged yet: the task's probe measures them (where it has one), and the last good checkpoint is kept when they
  // are above the limit.
  const healthyNow = async (): Promise<boolean> =>
    divergence.calm && (!task.probe || divergence.healthy(await task.probe()));
  let interrupted = false;
  const onSigint = (): void => {
    if (interrupted) process.exit(130); // a second Ctrl-C: leave now (the last checkpoint is intact)
    interrupted = true;
    sink.write("\ninterrupt: finishing this step, then saving a checkpoint (Ctrl-C again to quit at once)\n");
  };
  process.on("SIGINT", onSigint);
  const everyMs = (opts.checkpointEverySeconds ?? 600) * 1000;
  let lastSave = performance.now();
  const result = (status: "done" | "interrupted", valid: V | null, test: V | null): DriverResult<E, V> => ({
    status,
    epochs: history,
    bestEpoch,
    valid,
    test,
    lastCheckpoint: lastPath,
    runDir: opts.runDir,
    backend: backend.name,
    seconds: (performance.now() - started) / 1000,
    epochsBefore,
  });

  try {
    for (; epoch <= epochs; epoch++, next = 0) {
      perEpoch = task.stepsIn(epoch);
      const epochNow = epoch;
      const progress = new EpochProgress(sink, `epoch ${epoch}/${epochs}`, perEpoch, (done, secondsPerStep) =>
        runEta({
          secondsPerStep,
          stepsLeftThisEpoch: perEpoch - done,
          stepsPerLaterEpoch: perEpoch,
          epochsAfter: epochs - epochNow,
          validSeconds: lastValidSeconds,
        }),
      );
      let t0 = performance.now() - seconds * 1000;
      for (; next < perEpoch;) {
        const outcome = await task.step(epoch, next, schedule.lr);
        const verdict = divergence.window(outcome.judged);
        if (verdict) {
          outcome.discard();
          throw stop(verdict, next + 1);
        }
        await outcome.commit();
        seconds = (performance.now() - t0) / 1000;
        next++;
        windowsDone++;
        progress.update(next, task.progress(seconds));
        if (next % task.metricsEvery === 0 || next === perEpoch)
          appendFileSync(
            metricsPath,
            JSON.stringify(task.trainLine(epoch, next, perEpoch, schedule.lr, seconds)) + "\n",
          );
        // A turn of the event loop, so that a pending Ctrl-C reaches onSigint: the steps are synchronous, and without
        // it a SIGINT waited until training ended (and was then dropped), so Ctrl-C did nothing.
        await new Promise<void>((resolve) => setImmediate(resolve));
        if (opts.stopAfterWindows !== undefined && windowsDone >= opts.stopAfterWindows) interrupted = true;
        if (interrupted) {
          // As for a mid-epoch save: weights above the divergence limit never replace the last good checkpoint.
          if (await healthyNow()) {
            await saveLast();
            say(
              `saved ${lastPath} at epoch ${epoch}, ${unit} ${next}/${perEpoch}; continue with: rnnc run --resume ${opts.runDir}`,
            );
          } else
            say(
              `not saved: the training loss is above the divergence limit at epoch ${epoch}, ${unit} ${next}/${perEpoch}; ${existsSync(lastPath) ? `${lastPath} is kept as it was` : "no checkpoint had been written yet"}`,
            );
          return result("interrupted", null, null);
        }
        // Not while steps run above the divergence limit, nor of weights above it: those may be the diverged ones.
        if (performance.now() - lastSave > everyMs && next < perEpoch && (await healthyNow())) {
          await saveLast();
          lastSave = performance.now();
          t0 = performance.now() - seconds * 1000;
        }
      }

      const v0 = performance.now();
      const validEnd = (): number => (lastValidSeconds = (performance.now() - v0) / 1000);
      // NT-ASGD, once averaging: validate (and keep as best) the averaged weights, as awd-lstm-lm does
      const valid = await optimizer.withAveraged(vars, () => task.validate());
      // Finite training losses can still leave weights whose validation loss overflows: stop before such an
      // epoch is checkpointed (or marked best), so the last checkpoint stays the last good one.
      const validVerdict = divergence.validation(valid.loss);
      if (validVerdict) throw stop(validVerdict);
      // Weights that validate above the divergence limit are neither saved nor best; the next steps decide (a
      // healthy one resets the count, the last one stops the run).
      const suspect = divergence.suspect(valid.loss);
      const record = task.record(epoch, schedule.lr, valid, seconds);
      // NT-ASGD's non-monotone trigger on the task's own criterion: worse than the best before the last nonmono.
      const triggered = optimizer.maybeStartAveragingWhen(history.length, (k) =>
        task.better(bestOf(history.slice(0, k), task.better), record),
      );
      history.push(record);
      // A loss that overflows to Infinity (divergence off) is never the best.
      const improved =
        !suspect &&
        reportable(valid.loss) &&
        (bestEpoch === null ||
          task.better(
            record,
            history.find((h) => h.epoch === bestEpoch)!,
          ));
      if (improved) bestEpoch = epoch;
      appendFileSync(
        metricsPath,
        JSON.stringify({ event: "epoch", ...record, validSeconds: validEnd(), best: improved }) + "\n",
      );
      progress.finish(
        `epoch ${epoch}/${epochs}  lr ${schedule.lr.toPrecision(4)}  ${task.epochLine(record, improved)}`,
      );
      if (triggered) {
        say(
          `NT-ASGD: this epoch's validation is worse than the best before the last ${(training.optimizer as { nonmono: number }).nonmono} epoch(s); averaging the weights from now on`,
        );
        appendFileSync(metricsPath, JSON.stringify({ event: "ntasgd", epoch, step: optimizer.state().step }) + "\n");
      }
      schedule = advanceSchedule(training.schedule, training.optimizer.lr, schedule, epoch + 1, valid.loss);
      seconds = 0;
      task.endEpoch();
      // These checkpoints point at the start of the next epoch: resuming from one continues there. Not of weights
      // whose validation loss is above the divergence limit (a suspect epoch is never the best either).
      if (!suspect) await saveEpochEnd(improved);
      lastSave = performance.now();
    }
  } finally {
    process.off("SIGINT", onSigint);
  }

  try {
    // Report the best-validation checkpoint's numbers, as the papers do (NT-ASGD: its averaged weights).
    if (bestEpoch !== null) restoreParams(params, ckpts.readBest<DriverMeta<E>>().tensors, ckpts.best);
    const valid = await task.validate();
    const test = await task.test();
    appendFileSync(metricsPath, JSON.stringify({ event: "final", bestEpoch, ...task.finalLine(valid, test) }) + "\n");
    return result("done", valid, test);
  } finally {
    task.dispose();
    optimizer.dispose();
  }
}

/**
 * `rnnc eval`: one checkpoint's validation and test results, computed as the end of a run computes them (NT-ASGD
 * checkpoints with their averaged weights, as training validates them). Nothing is trained or written.
 */
export async function evaluateTaskCheckpoint<E extends EpochBase, V extends EvalBase>(
  exp: ExperimentId,
  training: CommonTraining,
  load: () => Promise<TaskData<E, V>>,
  file: string,
  opts: RunOptions,
  owned: Owned,
): Promise<{
  ck: LoadedCheckpoint<DriverMeta<E>>;
  valid: V;
  test: V;
  backend: string;
  seconds: number;
  next: number;
  unit: "window" | "batch";
}> {
  const { ck, backend, started } = await openForEvaluation<DriverMeta<E>>(exp.name, file, opts);
  const data = await load();
  const params = new ParameterStore(new Rng(training.seed));
  owned.params = params;
  const model = data.createModel(params);
  owned.model = model;
  restoreParams(params, ck.tensors, file);
  const optimizer = new Optimizer(training.optimizer);
  const task = data.bind(model, { maskRng: maskStream(training.seed), optimizer });
  try {
    restoreOptimizer(optimizer, ck.tensors, ck.meta);
    const [valid, test] = await optimizer.withAveraged(
      params.list.map((p) => p.variable),
      async () => [await task.validate(), await task.test()] as const,
    );
    return {
      ck: ck as LoadedCheckpoint<DriverMeta<E>>,
      valid,
      test,
      backend,
      seconds: (performance.now() - started) / 1000,
      next: ck.meta[task.positionKey] ?? 0,
      unit: task.unit,
    };
  } finally {
    task.dispose();
    optimizer.dispose();
  }
}
