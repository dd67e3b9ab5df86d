// The training loop for `task classify`: sequential MNIST and pMNIST (Cooijmans et al. 2017, §5.1). Every image is
// one sequence of 784 pixels from a fresh state; the loss is the cross-entropy of its label, averaged over the
// batch. The last 5 000 training images are the validation set (55 000 train), as is usual for MNIST; the best
// validation accuracy picks the checkpoint whose test accuracy is reported. Checkpoints, exact resume (the epoch's
// shuffle is a function of the seed and the epoch) and the NaN stop behave as in the language-model loop (train.ts).
import * as tf from "@tensorflow/tfjs";
import { appendFileSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { selectBackend } from "../accel/backend.js";
import { RunCheckpoints, type Checkpoint } from "./checkpoint.js";
import type { ClassifierSetup, SequenceClassifier } from "../model/classifier.js";
import { pixelBatch, pixelPermutation } from "../data/pixel-sequences.js";
import { loadMnist, MNIST_CLASSES, MNIST_PIXELS, type MnistSplit } from "../data/mnist.js";
import { dataRoot } from "../data/locate.js";
import { StepContext } from "../model/language-model.js";
import { Optimizer } from "./optimizers.js";
import { ParameterStore } from "../model/parameters.js";
import { EpochProgress, formatDuration, type ProgressSink } from "./progress.js";
import { Rng } from "../base/rng.js";
import { scoped } from "../base/scoped.js";
import { runLine } from "./summary.js";
import { advanceSchedule, firstLr, type ScheduleState } from "./schedules.js";
import { DivergenceDetector, reportable, type DivergenceVerdict } from "./divergence.js";
import { applyUpdate, assertDeviceHealthy, checkpointPosition, openForEvaluation, restoreOptimizer, restoreParams, resumeRun, stopRun, storeTensors, TrainingError, explainWasmAbort, releaseOwned, type Owned, type RunOptions, type TrainingSpec } from "./train.js";

export interface ClassifierDataSpec {
  readonly dataset: "mnist" | "pmnist";
  readonly batch: number;
  readonly evalBatch: number;
  readonly testBatch: number;
  /** pMNIST: the seed of its fixed pixel permutation; null for in-order MNIST. */
  readonly permutationSeed: number | null;
}

/** What a generated module exports for `task classify`. */
export interface ClassifierExperiment {
  readonly task: "classify";
  readonly name: string;
  readonly spec: { readonly file: string; readonly hash: string };
  readonly data: ClassifierDataSpec;
  readonly training: Omit<TrainingSpec, "loss" | "variableBptt">;
  createModel(setup: ClassifierSetup): SequenceClassifier;
}

export interface ClassifierEval {
  /** Mean cross-entropy per sequence, in nats. */
  readonly loss: number;
  readonly accuracy: number;
  readonly count: number;
}

export interface ClassifierEpoch {
  readonly epoch: number;
  readonly lr: number;
  readonly trainLoss: number;
  readonly trainAccuracy: number;
  readonly validLoss: number;
  readonly validAccuracy: number;
  readonly seconds: number;
}

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

interface ClassifierMeta {
  readonly version: 1;
  readonly experiment: string;
  readonly specHash: string;
  readonly epoch: number;
  readonly nextBatch: number;
  readonly schedule: ScheduleState;
  readonly maskRng: number[];
  readonly optimizerStep: number;
  readonly epochs: ClassifierEpoch[];
  readonly bestEpoch: number | null;
  readonly partial: { readonly nll: number; readonly correct: number; readonly count: number; readonly seconds: number };
}

const VALID_SIZE = 5_000;
/**
 * Evaluation runs in chunks of at most this many sequences, whatever eval_batch says: the fused op keeps every
 * step's activations, and 1 000 sequences × 784 steps of a 100-unit BN-LSTM exhaust the 4 GiB wasm heap.
 */
const EVAL_CHUNK = 250;

const epochSeed = (seed: number, epoch: number): number => (Math.imul(seed ^ 0x3c6ef372, 0x9e3779b1) ^ Math.imul(epoch, 0x85ebca6b)) >>> 0;

/** Loss and accuracy over `indices` of `split`, in chunks; `limit` batches of `batch` at most. */
export async function evaluateClassifier(model: SequenceClassifier, split: MnistSplit, indices: Int32Array, batch: number, perm: Int32Array | null, limit?: number): Promise<ClassifierEval> {
  const n = limit !== undefined ? Math.min(indices.length, limit * batch) : indices.length;
  const ctx = new StepContext(false, new Rng(0));
  let nll = 0, correct = 0;
  for (let start = 0; start < n; start += EVAL_CHUNK) {
    const idx = indices.subarray(start, Math.min(n, start + EVAL_CHUNK));
    const both = tf.tidy(() => {
      const { pixels, labels } = pixelBatch(split, idx, perm);
      const h = model.forward(pixels, ctx);
      const logits = model.output.logits(h.reshape([1, idx.length, -1]) as tf.Tensor3D).reshape([idx.length, -1]);
      const l = model.output.loss(h.reshape([1, idx.length, -1]) as tf.Tensor3D, labels, 1);
      const ok = tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), labels), "float32"));
      return tf.stack([tf.reshape(l, []), ok]);
    });
    const [loss, right] = await both.data(); // asynchronous: the webgpu backend cannot read synchronously in Node
    both.dispose();
    assertDeviceHealthy();
    nll += loss!;
    correct += right!;
  }
  return { loss: nll / Math.max(n, 1), accuracy: correct / Math.max(n, 1), count: n };
}

export async function runClassifier(exp: ClassifierExperiment, opts: RunOptions): Promise<ClassifierRunResult> {
  const owned: Owned = {};
  try {
    if (opts.evaluate !== undefined) return await evaluateCheckpoint(exp, opts.evaluate, opts, owned);
    return await trainClassifier(exp, opts, owned);
  } catch (e) {
    throw explainWasmAbort(e, { batch: exp.data.batch, steps: `${MNIST_PIXELS} pixels` }, owned, opts.runDir);
  } finally {
    releaseOwned(owned);
  }
}

/** The validation and test images, and the pixel order, of an experiment (the training loop's split). */
async function classifierData(exp: ClassifierExperiment, opts: RunOptions) {
  const mnist = await loadMnist(dataRoot(opts.dataDir));
  const perm = exp.data.dataset === "pmnist" ? pixelPermutation(exp.data.permutationSeed ?? 0) : null;
  const nTrain = mnist.train.count - VALID_SIZE;
  const validIdx = Int32Array.from({ length: VALID_SIZE }, (_, i) => nTrain + i);
  const testIdx = Int32Array.from({ length: mnist.test.count }, (_, i) => i);
  return { mnist, perm, nTrain, validIdx, testIdx };
}

const pct = (a: number): string => `${(100 * a).toFixed(2)} %`;
const resultLine = (valid: ClassifierEval, test: ClassifierEval): string => `valid accuracy ${pct(valid.accuracy)}  test accuracy ${pct(test.accuracy)} (${test.count} images)`;

/** `rnnc eval`: one checkpoint's validation and test accuracy, computed as the end of a run computes them. */
async function evaluateCheckpoint(exp: ClassifierExperiment, file: string, opts: RunOptions, owned: Owned): Promise<ClassifierRunResult> {
  const { ck, backend, started } = await openForEvaluation<ClassifierMeta>(exp.name, file, opts);
  const { mnist, perm, validIdx, testIdx } = await classifierData(exp, opts);
  const params = new ParameterStore(new Rng(exp.training.seed));
  owned.params = params;
  const model = exp.createModel({ classes: MNIST_CLASSES, params });
  owned.model = model;
  restoreParams(params, ck.tensors, file);
  const valid = await evaluateClassifier(model, mnist.train, validIdx, exp.data.evalBatch, perm, opts.limitBatches);
  const test = await evaluateClassifier(model, mnist.test, testIdx, exp.data.testBatch, perm, opts.limitBatches);
  const seconds = (performance.now() - started) / 1000;
  const summary = [`${file}: ${checkpointPosition(ck.meta.epoch, ck.meta.nextBatch, "batch")}; evaluated in ${formatDuration(seconds)} on ${backend}`, resultLine(valid, test)].join("\n");
  return { status: "done", epochs: ck.meta.epochs, bestEpoch: ck.meta.bestEpoch, valid, test, metric: "accuracy", lastCheckpoint: file, runDir: opts.runDir, backend, seconds, summary };
}

async function trainClassifier(exp: ClassifierExperiment, opts: RunOptions, owned: Owned): Promise<ClassifierRunResult> {
  const sink: ProgressSink = opts.progress ?? { write: (s) => process.stderr.write(s), isTTY: process.stderr.isTTY };
  const say = (line: string): void => sink.write(`${line}\n`);
  const started = performance.now();
  mkdirSync(opts.runDir, { recursive: true });
  const ckpts = new RunCheckpoints(opts.runDir);
  // A resume's checkpoints are verified before anything (env.json, a checkpoint) is written.
  const resumed = opts.resume ? resumeRun<ClassifierMeta>(ckpts, opts.resume, exp.name, say) : null;
  const backend = await selectBackend(opts.backend ?? "auto", { threads: opts.threads });
  say(`backend: ${backend.description}`);
  const { data, training } = exp;
  const { mnist, perm, nTrain, validIdx, testIdx } = await classifierData(exp, opts);
  const epochs = opts.epochs ?? training.epochs;
  const lastPath = ckpts.last;
  const metricsPath = join(opts.runDir, "metrics.jsonl");

  const params = new ParameterStore(new Rng(training.seed));
  owned.params = params;
  const model = exp.createModel({ classes: MNIST_CLASSES, params });
  owned.model = model;
  const maskRng = new Rng(training.seed ^ 0x5bd1e995);
  const optimizer = new Optimizer(training.optimizer);
  const vars = params.list.map((p) => p.variable);
  const decayed = params.list.map((p) => p.decay);
  writeFileSync(join(opts.runDir, "env.json"), JSON.stringify({ ...opts.record, tfjs: tf.version.tfjs, node: process.version, backend: backend.name, backendDescription: backend.description, seed: training.seed, parameters: params.count(), trainSequences: nTrain, resumedFrom: opts.resume ?? null, started: new Date().toISOString() }, null, 2) + "\n");

  /** The epoch's shuffled order of the training images: a function of (seed, epoch), so a resume sees the same. */
  const orderOf = (epoch: number): Int32Array => new Rng(epochSeed(training.seed, epoch)).permutation(nTrain);
  const full = Math.floor(nTrain / data.batch); // full batches only: batch statistics of a 4-image tail are noise
  const trainLimit = opts.trainBatches ?? opts.limitBatches;
  const perEpoch = trainLimit !== undefined ? Math.min(trainLimit, full) : full;

  let epoch = 1, nextBatch = 0;
  let schedule: ScheduleState = { lr: firstLr(training.schedule, training.optimizer.lr), best: Infinity, badEpochs: 0 };
  let history: ClassifierEpoch[] = [];
  let epochsBefore = 0;
  let bestEpoch: number | null = null;
  let partial = { nll: 0, correct: 0, count: 0, seconds: 0 };
  if (opts.resume && resumed) {
    const { ck } = resumed;
    restoreParams(params, ck.tensors, opts.resume);
    restoreOptimizer(optimizer, ck.tensors, ck.meta);
    maskRng.setState(ck.meta.maskRng);
    ({ epoch, nextBatch, schedule, partial } = ck.meta);
    bestEpoch = resumed.bestEpoch; // the epoch best.ckpt holds (checkpoint.ts: they always agree)
    history = [...ck.meta.epochs];
    epochsBefore = history.length;
    say(`resumed ${opts.resume}: epoch ${epoch}, batch ${nextBatch}/${perEpoch}`);
  }
  const checkpoint = async (atEpoch: number, atBatch: number): Promise<Checkpoint<ClassifierMeta>> => ({
    meta: { version: 1, experiment: exp.name, specHash: exp.spec.hash, epoch: atEpoch, nextBatch: atBatch, schedule, maskRng: maskRng.getState(), optimizerStep: optimizer.state().step, epochs: history, bestEpoch, partial },
    tensors: await storeTensors(params, optimizer),
  });
  // The divergence stop, as in the language-model loop: here the uniform guess is ln 10 nats per image.
  const divergence = new DivergenceDetector(training.divergence ?? null, MNIST_CLASSES);
  const stop = (v: DivergenceVerdict, batch?: number): TrainingError =>
    stopRun(v, divergence, { epoch, window: batch, windows: perEpoch, unit: "batch" }, { metrics: metricsPath, last: lastPath }, "image");

  let interrupted = false;
  const onSigint = (): void => {
    if (interrupted) process.exit(130);
    interrupted = true;
    sink.write("\ninterrupt: finishing this step, then saving a checkpoint (Ctrl-C again to quit at once)\n");
  };
  process.on("SIGINT", onSigint);
  const ctx = new StepContext(true, maskRng);
  let windowsDone = 0;
  try {
    for (; epoch <= epochs; epoch++, nextBatch = 0) {
      const order = orderOf(epoch);
      const progress = new EpochProgress(sink, `epoch ${epoch}/${epochs}`, perEpoch);
      const t0 = performance.now() - partial.seconds * 1000;
      for (; nextBatch < perEpoch; ) {
        const idx = order.subarray(nextBatch * data.batch, (nextBatch + 1) * data.batch);
        const B = idx.length;
        const { loss, right, grads } = scoped(() => {
          const { pixels, labels } = pixelBatch(mnist.train, idx, perm);
          let logits: tf.Tensor | null = null;
          const g = tf.variableGrads(() => {
            const h = model.forward(pixels, ctx).reshape([1, B, -1]) as tf.Tensor3D;
            logits = tf.keep(model.output.logits(h));
            return model.output.loss(h, labels, 1 / B); // mean cross-entropy over the batch's sequences
          }, vars);
          const right = tf.sum(tf.cast(tf.equal(tf.argMax((logits as unknown as tf.Tensor).reshape([B, -1]), 1), labels), "float32"));
          return { loss: g.value, right, grads: vars.map((v) => g.grads[v.name]!) };
        }, (r) => [r.loss, r.right, ...r.grads]);
        const [l, ok] = await Promise.all([loss.data().then((d) => d[0]!), right.data().then((d) => d[0]!)]);
        tf.dispose([loss, right]);
        const verdict = divergence.window(l); // l: the mean cross-entropy per image
        if (verdict) {
          grads.forEach((g) => g.dispose());
          throw stop(verdict, nextBatch + 1);
        }
        await applyUpdate(optimizer, vars, decayed, grads, training, schedule.lr);
        partial = { nll: partial.nll + l * B, correct: partial.correct + ok, count: partial.count + B, seconds: (performance.now() - t0) / 1000 };
        nextBatch++;
        windowsDone++;
        progress.update(nextBatch, { loss: partial.nll / partial.count, accuracy: partial.correct / partial.count, tokPerSec: (partial.count * 784) / partial.seconds });
        if (nextBatch % 50 === 0 || nextBatch === perEpoch) appendFileSync(metricsPath, JSON.stringify({ event: "train", epoch, batch: nextBatch, batches: perEpoch, loss: partial.nll / partial.count, accuracy: partial.correct / partial.count, lr: schedule.lr }) + "\n");
        await new Promise<void>((resolve) => setImmediate(resolve)); // let a pending Ctrl-C reach onSigint
        if (opts.stopAfterWindows !== undefined && windowsDone >= opts.stopAfterWindows) interrupted = true;
        if (interrupted) {
          // Not while batches run above the divergence limit: those weights may be the diverged ones (train.ts).
          if (divergence.calm) {
            ckpts.saveLast(await checkpoint(epoch, nextBatch));
            say(`saved ${lastPath} at epoch ${epoch}, batch ${nextBatch}/${perEpoch}; continue with: rnnc run --resume ${opts.runDir}`);
          } else say(`not saved: the training loss is above the divergence limit at epoch ${epoch}, batch ${nextBatch}/${perEpoch}; the last good checkpoint is kept as it was`);
          const summary = `interrupted; the run continues with: rnnc run --resume ${opts.runDir}`;
          return { status: "interrupted", epochs: history, bestEpoch, valid: null, test: null, metric: "accuracy", lastCheckpoint: lastPath, runDir: opts.runDir, backend: backend.name, seconds: (performance.now() - started) / 1000, summary };
        }
      }
      const valid = await evaluateClassifier(model, mnist.train, validIdx, data.evalBatch, perm, opts.limitBatches);
      const validVerdict = divergence.validation(valid.loss);
      if (validVerdict) throw stop(validVerdict);
      const suspect = divergence.suspect(valid.loss); // weights of a diverging epoch: neither saved nor best (divergence.ts)
      const record: ClassifierEpoch = { epoch, lr: schedule.lr, trainLoss: partial.nll / partial.count, trainAccuracy: partial.correct / partial.count, validLoss: valid.loss, validAccuracy: valid.accuracy, seconds: partial.seconds };
      history.push(record);
      const best = bestEpoch === null ? null : history.find((h) => h.epoch === bestEpoch)!;
      const improved = !suspect && reportable(valid.loss) && (!best || valid.accuracy > best.validAccuracy || (valid.accuracy === best.validAccuracy && valid.loss < best.validLoss));
      if (improved) bestEpoch = epoch;
      appendFileSync(metricsPath, JSON.stringify({ event: "epoch", ...record, best: improved }) + "\n");
      progress.finish(`epoch ${epoch}/${epochs}  lr ${schedule.lr.toPrecision(4)}  train ${pct(record.trainAccuracy)}  valid ${pct(valid.accuracy)} (loss ${valid.loss.toFixed(4)})${improved ? " *" : ""}  ${formatDuration(partial.seconds)}`);
      schedule = advanceSchedule(training.schedule, training.optimizer.lr, schedule, epoch + 1, valid.loss);
      partial = { nll: 0, correct: 0, count: 0, seconds: 0 };
      // Pointing at the start of the next epoch; a new best is saved with last.ckpt as one commit (checkpoint.ts).
      // Not of weights whose validation loss is above the divergence limit (such an epoch is never the best either).
      if (!suspect) {
        const last = await checkpoint(epoch + 1, 0);
        if (improved) ckpts.saveLastAndBest(last, last);
        else ckpts.saveLast(last);
      }
    }
  } finally {
    process.off("SIGINT", onSigint);
  }
  if (bestEpoch !== null) restoreParams(params, ckpts.readBest<ClassifierMeta>().tensors, ckpts.best);
  const valid = await evaluateClassifier(model, mnist.train, validIdx, data.evalBatch, perm, opts.limitBatches);
  const test = await evaluateClassifier(model, mnist.test, testIdx, data.testBatch, perm, opts.limitBatches);
  appendFileSync(metricsPath, JSON.stringify({ event: "final", bestEpoch, validLoss: valid.loss, testLoss: test.loss, metric: "accuracy", valid: valid.accuracy, test: test.accuracy, validCount: valid.count, testCount: test.count }) + "\n");
  const seconds = (performance.now() - started) / 1000;
  const summary = [runLine({ epochs: history, epochsBefore, seconds, backend: backend.name, bestEpoch }), resultLine(valid, test)].join("\n");
  return { status: "done", epochs: history, bestEpoch, valid, test, metric: "accuracy", lastCheckpoint: lastPath, runDir: opts.runDir, backend: backend.name, seconds, summary };
}
