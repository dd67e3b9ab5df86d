// The sequence-classification task (task.ts) of the training driver: sequential MNIST and pMNIST (Cooijmans et al.
// 2017, §5.1). Every image is one sequence of pixels from a fresh state; the loss is the cross-entropy of its label,
// averaged over the batch. The last 10 000 training images are the validation set (50 000 train): the paper does
// not say, and the authors' code validates on MNIST's training images 50 000 onward; a higher validation accuracy (then a lower validation loss) is better. The epoch's shuffle is a function
// of the seed and the epoch, so a resumed run sees the same batches.
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../base/rng.js";
import { scoped } from "../base/scoped.js";
import { dataRoot } from "../data/locate.js";
import { loadMnist, MNIST_CLASSES, MNIST_PIXELS, type MnistSplit } from "../data/mnist.js";
import { pixelBatch, pixelPermutation } from "../data/pixel-sequences.js";
import type { ClassifierSetup, SequenceClassifier } from "../model/classifier.js";
import { StepContext } from "../model/step-context.js";
import { assertDeviceHealthy } from "./errors.js";
import type { Optimizer } from "./optimizers.js";
import { formatDuration } from "./progress.js";
import { applyUpdate, gradientsOf, presentGradients } from "./step.js";
import type { CommonTraining, ExperimentId, RunOptions, Task, TaskData } from "./task.js";

export interface ClassifierDataSpec {
  readonly dataset: "mnist" | "pmnist";
  readonly batch: number;
  readonly evalBatch: number;
  readonly testBatch: number;
  /** pMNIST: the seed of its fixed pixel permutation; null for in-order MNIST. */
  readonly permutationSeed: number | null;
}

/** What a generated module exports for `task classify`. */
export interface ClassifierExperiment extends ExperimentId {
  readonly task: "classify";
  readonly data: ClassifierDataSpec;
  readonly training: CommonTraining;
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

/** The labelled sequences a classifier trains and is evaluated on. */
export interface LabelledSequences {
  /** Training uses images [0, trainCount) of `train`. */
  readonly train: MnistSplit;
  readonly trainCount: number;
  readonly valid: { readonly split: MnistSplit; readonly indices: Int32Array };
  readonly test: { readonly split: MnistSplit; readonly indices: Int32Array };
  /** The pixel order (pMNIST); null: scanline order. */
  readonly perm: Int32Array | null;
  /** Steps per sequence: pixels per image. */
  readonly pixels: number;
  readonly classes: number;
}

const VALID_SIZE = 10_000; // the authors' code (Cooijmans et al. 2017): train on 50 000, validate on 10 000
/**
 * Evaluation runs in chunks of at most this many sequences, whatever eval_batch says: the fused op keeps every
 * step's activations, and 1 000 sequences × 784 steps of a 100-unit BN-LSTM exhaust the 4 GiB wasm heap.
 */
const EVAL_CHUNK = 250;

const epochSeed = (seed: number, epoch: number): number =>
  (Math.imul(seed ^ 0x3c6ef372, 0x9e3779b1) ^ Math.imul(epoch, 0x85ebca6b)) >>> 0;
const pct = (a: number): string => `${(100 * a).toFixed(2)} %`;

/** MNIST (or pMNIST) as labelled sequences: the validation and test images, and the pixel order. */
export async function mnistSequences(exp: ClassifierExperiment, opts: RunOptions): Promise<LabelledSequences> {
  const mnist = await loadMnist(dataRoot(opts.dataDir));
  const perm = exp.data.dataset === "pmnist" ? pixelPermutation(exp.data.permutationSeed ?? 0) : null;
  const nTrain = mnist.train.count - VALID_SIZE;
  return {
    train: mnist.train,
    trainCount: nTrain,
    valid: { split: mnist.train, indices: Int32Array.from({ length: VALID_SIZE }, (_, i) => nTrain + i) },
    test: { split: mnist.test, indices: Int32Array.from({ length: mnist.test.count }, (_, i) => i) },
    perm,
    pixels: MNIST_PIXELS,
    classes: MNIST_CLASSES,
  };
}

/** Loss and accuracy over `indices` of `split`, in chunks; `limit` batches of `batch` at most. */
export async function evaluateClassifier(
  model: SequenceClassifier,
  split: MnistSplit,
  indices: Int32Array,
  batch: number,
  perm: Int32Array | null,
  limit?: number,
  pixels = MNIST_PIXELS,
): Promise<ClassifierEval> {
  const n = limit !== undefined ? Math.min(indices.length, limit * batch) : indices.length;
  const ctx = new StepContext(false, new Rng(0));
  let nll = 0,
    correct = 0;
  for (let start = 0; start < n; start += EVAL_CHUNK) {
    const idx = indices.subarray(start, Math.min(n, start + EVAL_CHUNK));
    const both = tf.tidy(() => {
      const { pixels: x, labels } = pixelBatch(split, idx, perm, pixels);
      const h = model.forward(x, ctx);
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

export function classifierData(
  exp: ClassifierExperiment,
  sets: LabelledSequences,
  opts: RunOptions,
): TaskData<ClassifierEpoch, ClassifierEval> {
  return {
    outputs: sets.classes,
    env: { trainSequences: sets.trainCount },
    createModel: (params) => exp.createModel({ classes: sets.classes, params }),
    bind: (model, run) => classifierTask(exp, sets, model as SequenceClassifier, run.maskRng, run.optimizer, opts),
  };
}

function classifierTask(
  exp: ClassifierExperiment,
  sets: LabelledSequences,
  model: SequenceClassifier,
  maskRng: Rng,
  optimizer: Optimizer,
  opts: RunOptions,
): Task<ClassifierEpoch, ClassifierEval> {
  const { data, training } = exp;
  const vars = model.params.list.map((p) => p.variable);
  const decayed = model.params.list.map((p) => p.decay);
  const ctx = new StepContext(true, maskRng);
  /** The epoch's shuffled order of the training images: a function of (seed, epoch), so a resume sees the same. */
  let order: Int32Array | null = null;
  let orderEpoch = -1;
  const orderOf = (epoch: number): Int32Array => {
    if (epoch !== orderEpoch)
      [order, orderEpoch] = [new Rng(epochSeed(training.seed, epoch)).permutation(sets.trainCount), epoch];
    return order!;
  };
  const full = Math.floor(sets.trainCount / data.batch); // full batches only: batch statistics of a 4-image tail are noise
  const trainLimit = opts.trainBatches ?? opts.limitBatches;
  const perEpoch = trainLimit !== undefined ? Math.min(trainLimit, full) : full;
  let partial = { nll: 0, correct: 0, count: 0 };
  const evaluateOn = (s: LabelledSequences["valid"], batch: number): Promise<ClassifierEval> =>
    evaluateClassifier(model, s.split, s.indices, batch, sets.perm, opts.limitBatches, sets.pixels);
  // The divergence probe: the first training batch's images in evaluation mode (no dropout, no noise on h_0, no draw
  // from the mask stream, population statistics), so the run goes on exactly as without it.
  const probeIdx = Int32Array.from({ length: Math.min(data.batch, sets.trainCount) }, (_, i) => i);
  return {
    unit: "batch",
    positionKey: "nextBatch",
    measure: "image",
    metricsEvery: 50,
    stepsIn: () => perEpoch,
    async step(epoch, index, lr) {
      const idx = orderOf(epoch).subarray(index * data.batch, (index + 1) * data.batch);
      const B = idx.length;
      const { loss, right, grads } = scoped(
        () => {
          const { pixels, labels } = pixelBatch(sets.train, idx, sets.perm, sets.pixels);
          let logits: tf.Tensor | null = null;
          const g = tf.variableGrads(() => {
            const h = model.forward(pixels, ctx).reshape([1, B, -1]) as tf.Tensor3D;
            logits = tf.keep(model.output.logits(h));
            return model.output.loss(h, labels, 1 / B); // mean cross-entropy over the batch's sequences
          }, vars);
          const right = tf.sum(
            tf.cast(tf.equal(tf.argMax((logits as unknown as tf.Tensor).reshape([B, -1]), 1), labels), "float32"),
          );
          return { loss: g.value, right, grads: gradientsOf(vars, g.grads) };
        },
        (r) => [r.loss, r.right, ...presentGradients(r.grads)],
      );
      const [l, ok] = await Promise.all([loss.data().then((d) => d[0]!), right.data().then((d) => d[0]!)]);
      tf.dispose([loss, right]);
      return {
        judged: l, // the mean cross-entropy per image
        commit: async () => {
          await applyUpdate(optimizer, vars, decayed, grads, training, lr);
          partial = { nll: partial.nll + l * B, correct: partial.correct + ok, count: partial.count + B };
        },
        discard: () => tf.dispose(presentGradients(grads)),
      };
    },
    partial: () => partial,
    restorePartial: (p) => {
      partial = { nll: p["nll"] ?? 0, correct: p["correct"] ?? 0, count: p["count"] ?? 0 };
    },
    progress: (seconds) => ({
      loss: partial.nll / partial.count,
      accuracy: partial.correct / partial.count,
      tokPerSec: (partial.count * sets.pixels) / seconds,
    }),
    trainLine: (epoch, done, steps, lr) => ({
      event: "train",
      epoch,
      batch: done,
      batches: steps,
      loss: partial.nll / partial.count,
      accuracy: partial.correct / partial.count,
      lr,
    }),
    stateTensors: async () => [], // every sequence starts from its own initial state: nothing is carried
    restoreState: () => {},
    endEpoch() {
      partial = { nll: 0, correct: 0, count: 0 };
    },
    dispose: () => {},
    validate: () => evaluateOn(sets.valid, data.evalBatch),
    test: () => evaluateOn(sets.test, data.testBatch),
    probe: async () =>
      (await evaluateClassifier(model, sets.train, probeIdx, data.batch, sets.perm, undefined, sets.pixels)).loss,
    record: (epoch, lr, valid, seconds) => ({
      epoch,
      lr,
      trainLoss: partial.nll / partial.count,
      trainAccuracy: partial.correct / partial.count,
      validLoss: valid.loss,
      validAccuracy: valid.accuracy,
      seconds,
    }),
    better: (a, b) =>
      a.validAccuracy > b.validAccuracy || (a.validAccuracy === b.validAccuracy && a.validLoss < b.validLoss),
    epochLine: (r, improved) =>
      `train ${pct(r.trainAccuracy)}  valid ${pct(r.validAccuracy)} (loss ${r.validLoss.toFixed(4)})${improved ? " *" : ""}  ${formatDuration(r.seconds)}`,
    finalLine: (valid, test) => ({
      validLoss: valid.loss,
      testLoss: test.loss,
      metric: "accuracy",
      valid: valid.accuracy,
      test: test.accuracy,
      validCount: valid.count,
      testCount: test.count,
    }),
  };
}

export const resultLine = (valid: ClassifierEval, test: ClassifierEval): string =>
  `valid accuracy ${pct(valid.accuracy)}  test accuracy ${pct(test.accuracy)} (${test.count} images)`;
