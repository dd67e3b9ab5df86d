// The language-model task (task.ts) of the training driver: stateful truncated BPTT over [T, B] token windows
// (Zaremba et al. 2014; Mikolov's setup), fixed, randomly cropped or shuffled as independent examples (Cooijmans et al. 2017, §5.2) or of variable
// length (Merity et al. 2018, §4.1); the papers' evaluation, with the state carried across a whole split; perplexity
// (words) or bits per character, lower is better.
import * as tf from "@tensorflow/tfjs";
import { join } from "node:path";
import { Rng } from "../base/rng.js";
import { scoped } from "../base/scoped.js";
import {
  batchify,
  exampleRows,
  lmWindows,
  shuffledExamples,
  sliceRows,
  windowCount,
  type Batched,
  type LmWindow,
} from "../data/batching.js";
import { dataRoot } from "../data/locate.js";
import { makeSyntheticCorpus } from "../data/synthetic-corpus.js";
import { loadTextCorpus, type TextDataset } from "../data/text-corpus.js";
import { StepContext, type LanguageModel, type ModelOutput, type ModelSetup } from "../model/language-model.js";
import type { LayerState } from "../model/recurrent-layer.js";
import { lossScale } from "../model/softmax-loss.js";
import type { StoredTensor } from "./checkpoint.js";
import { perTokenLoss } from "./divergence.js";
import { assertDeviceHealthy } from "./errors.js";
import { Optimizer } from "./optimizers.js";
import { EvalProgress, formatDuration, type ProgressSink } from "./progress.js";
import { stored } from "./run-state.js";
import { applyUpdate, gradientsOf, presentGradients } from "./step.js";
import type { RunOptions, Task, TaskData, TrainingSpec } from "./task.js";

export interface DataSpec {
  readonly dataset: TextDataset | "synthetic";
  /** `text` only: the folder with train/valid/test.txt, relative to the spec's folder. */
  readonly path: string | null;
  /** `text` only: "char" makes every character a token (the spec's `level char`). Absent: words. */
  readonly level?: "word" | "char";
  readonly batch: number;
  readonly evalBatch: number;
  readonly testBatch: number;
  readonly bptt: number;
  /** Carry the state across consecutive windows; false resets it to zero for every window. */
  readonly stateful: boolean;
  /**
   * Start each training epoch at a random row offset in [0, bptt), so window boundaries move from epoch to epoch
   * (Cooijmans et al. 2017, §5.2: "a random crop of the training set"). Drawn from (seed, epoch): a resumed run
   * gets the same crop. Absent: false.
   */
  readonly randomCrop?: boolean;
  /**
   * Train on independent examples of bptt + 1 tokens in a random order drawn from (seed, epoch), each from the
   * initial state (Cooijmans et al. 2017, §5.2; needs stateful false). Absent: false.
   */
  readonly shuffle?: boolean;
  readonly synthetic: {
    readonly vocab: number;
    readonly order: number;
    readonly tokens: number;
    readonly seed: number;
  } | null;
}

/** What a generated module exports. */
export interface Experiment {
  readonly name: string;
  /** The spec's path as given to the compiler, and the SHA-256 of its resolved IR. */
  readonly spec: { readonly file: string; readonly hash: string };
  readonly data: DataSpec;
  readonly training: TrainingSpec;
  createModel(setup: ModelSetup): LanguageModel;
}

export interface EvalResult {
  /** Mean NLL per token, in nats. */
  readonly loss: number;
  readonly tokens: number;
}

export interface EpochRecord {
  readonly epoch: number;
  readonly lr: number;
  readonly trainLoss: number;
  readonly validLoss: number;
  readonly tokPerSec: number;
  readonly seconds: number;
}

/** A training window; `starts`: under `shuffle`, the token position of each of its examples (runtime/data/batching.ts). */
type TrainWindow = LmWindow & { readonly starts?: Int32Array };

const epochSeed = (seed: number, epoch: number): number =>
  (Math.imul(seed, 0x9e3779b1) ^ Math.imul(epoch, 0x85ebca6b)) >>> 0;

/** The random crop of an epoch: a row offset in [0, bptt), a function of the seed and the epoch only. */
export function cropOffset(seed: number, epoch: number, bptt: number): number {
  return new Rng(epochSeed(seed, epoch)).int(bptt);
}

/**
 * Variable-length BPTT windows over `steps` rows (awd-lstm-lm's train loop): length = max(5, ⌊N(b, std)⌋) with
 * b = bptt w.p. p, else bptt/2; the last window stops at the data.
 */
export function variableWindows(
  steps: number,
  bptt: number,
  v: { p: number; std: number },
  offset: number,
  rng: Rng,
): LmWindow[] {
  const out: LmWindow[] = [];
  for (let start = offset; start < steps - 1;) {
    const base = rng.uniform() < v.p ? bptt : bptt / 2;
    const length = Math.min(Math.max(5, Math.floor(base + v.std * rng.normal())), steps - 1 - start);
    out.push({ start, length });
    start += length;
  }
  return out;
}

export function metricOf(loss: number, level: "word" | "char"): number {
  return level === "char" ? loss / Math.LN2 : Math.exp(loss);
}

interface Corpus {
  readonly level: "word" | "char";
  readonly vocab: number;
  /** Each id's token (its symbol for characters); the synthetic corpus's are its ids. */
  readonly tokens: readonly string[];
  readonly dataset: DataSpec["dataset"];
  readonly train: Int32Array;
  readonly valid: Int32Array;
  readonly test: Int32Array;
  readonly optimalPerplexity: number | null;
}

async function loadCorpus(data: DataSpec, opts: RunOptions): Promise<Corpus> {
  if (data.dataset === "synthetic") {
    const s = data.synthetic!;
    const c = makeSyntheticCorpus(s);
    return {
      level: "word",
      vocab: s.vocab,
      tokens: Array.from({ length: s.vocab }, (_, i) => String(i)),
      dataset: "synthetic",
      train: c.train,
      valid: c.valid,
      test: c.test,
      optimalPerplexity: c.optimalPerplexity,
    };
  }
  const path = data.dataset === "text" ? join(opts.specDir ?? ".", data.path ?? ".") : undefined;
  const c = await loadTextCorpus(data.dataset, { root: dataRoot(opts.dataDir), path, level: data.level });
  return {
    level: c.level,
    vocab: c.vocab.tokens.length,
    tokens: c.vocab.tokens,
    dataset: data.dataset,
    train: c.train,
    valid: c.valid,
    test: c.test,
    optimalPerplexity: null,
  };
}

/** Read a [T, B] window of token ids and the next-token targets as tensors. */
function windowTensors(b: Batched, start: number, length: number): { x: tf.Tensor2D; y: tf.Tensor1D } {
  return {
    x: tf.tensor2d(sliceRows(b, start, length), [length, b.batch], "int32"),
    y: tf.tensor1d(sliceRows(b, start + 1, length), "int32"),
  };
}

const stateTensors = (state: readonly LayerState[]): (tf.Tensor | null)[] => state.flatMap((s) => [s.h, s.c]);

/** Frees a model state's tensors (each layer's h and, for an LSTM, c). */
export function disposeState(state: readonly LayerState[]): void {
  for (const s of state) {
    s.h.dispose();
    s.c?.dispose();
  }
}

/**
 * Mean NLL over a split with state carried across windows, as the papers evaluate (specs/language.md,
 * "From spec to training code"): every token is predicted once, in order.
 */
export async function evaluate(
  model: LanguageModel,
  ids: Int32Array,
  batch: number,
  bptt: number,
  stateful: boolean,
  limit?: number,
  progress?: (total: number) => EvalProgress,
): Promise<EvalResult> {
  const b = batchify(ids, batch);
  const total = Math.min(windowCount(b, bptt), limit ?? Infinity);
  const live = progress?.(total);
  let done = 0;
  const ctx = new StepContext(false, new Rng(0));
  let state = model.initialState(batch);
  let nll = 0;
  let tokens = 0;
  let n = 0;
  for (const w of lmWindows(b, bptt)) {
    if (limit !== undefined && n++ >= limit) break;
    const { loss, next } = scoped(
      () => {
        const { x, y } = windowTensors(b, w.start, w.length);
        const out = model.forward(x, state, ctx);
        return { loss: model.output.loss(out.hidden, y, 1), next: out.state };
      },
      (r) => [r.loss, ...stateTensors(r.next)],
    );
    nll += (await loss.data())[0]!; // asynchronous: the webgpu backend cannot read synchronously in Node
    loss.dispose();
    assertDeviceHealthy();
    tokens += w.length * batch;
    live?.update(++done);
    if (stateful) {
      disposeState(state);
      state = next;
    } else disposeState(next);
  }
  disposeState(state);
  live?.end();
  return { loss: nll / Math.max(tokens, 1), tokens };
}

export interface Trainer {
  /**
   * One window of truncated BPTT from `state` (which the caller still owns): forward, backward, global-norm
   * clipping, weight decay, and the optimizer's update at rate `lr`. xs and ys are the [T, B] inputs and targets,
   * row-major. Returns the cross-entropy as the spec scales it (divide by `scale` for the summed NLL; regularizers
   * are trained on but not reported) and the final state,
   * detached. A non-finite loss leaves the weights untouched and returns a zero state.
   */
  step(
    xs: Int32Array,
    ys: Int32Array,
    T: number,
    state: readonly LayerState[],
    scale: number,
    lr?: number,
  ): Promise<{ loss: number; next: LayerState[] }>;
  disposeState(state: readonly LayerState[]): void;
}

/** The training step `runExperiment` uses, on its own: the benchmark times exactly this. */
export function createTrainer(
  model: LanguageModel,
  training: TrainingSpec,
  maskRng: Rng,
  optimizer = new Optimizer(training.optimizer),
): Trainer {
  const vars = model.params.list.map((p) => p.variable);
  const decayed = model.params.list.map((p) => p.decay);
  const ctx = new StepContext(true, maskRng);
  return {
    disposeState,
    async step(xs, ys, T, state, scale, lr = training.optimizer.lr) {
      const B = xs.length / T;
      const { value, ce, grads, next } = scoped(
        () => {
          const x = tf.tensor2d(xs, [T, B], "int32");
          const y = tf.tensor1d(ys, "int32");
          let out: ModelOutput | null = null;
          let ce: tf.Scalar | null = null; // the cross-entropy alone: what the run reports
          const g = tf.variableGrads(() => {
            out = model.forward(x, state, ctx);
            ce = model.output.loss(out.hidden, y, scale);
            if (!model.penalty) return ce;
            tf.keep(ce); // the forward's tidy would dispose it: only the returned total survives
            return tf.add(ce, model.penalty(out)) as tf.Scalar; // AR/TAR join the training loss only
          }, vars);
          const o = out as unknown as ModelOutput;
          return {
            value: g.value,
            ce: ce as unknown as tf.Scalar,
            grads: gradientsOf(vars, g.grads), // a learned start is reached only by the first window of an epoch
            next: o.state,
          };
        },
        (r) => [r.value, r.ce, ...presentGradients(r.grads), ...stateTensors(r.next)],
      );
      // The losses' read-back (asynchronous, for webgpu; both at once): to report the loss and to stop on NaN.
      const [total, loss] = await Promise.all([value.data().then((d) => d[0]!), ce.data().then((d) => d[0]!)]);
      tf.dispose(ce === value ? [value] : [value, ce]);
      if (!Number.isFinite(total)) {
        tf.dispose(presentGradients(grads));
        disposeState(next);
        return { loss: total, next: model.initialState(B) }; // non-finite: the caller stops the run
      }
      await applyUpdate(optimizer, vars, decayed, grads, training, lr);
      return { loss, next };
    },
  };
}

/** A language model's data, loaded, with what its results are reported in. */
export interface LanguageModelData extends TaskData<EpochRecord, EvalResult> {
  readonly level: "word" | "char";
  /** Each id's token, and the data set (how text maps to tokens: sample.ts). */
  readonly tokens: readonly string[];
  readonly dataset: DataSpec["dataset"];
  /** The best achievable perplexity, when the data is synthetic. */
  readonly optimalPerplexity: number | null;
}

export async function languageModelData(exp: Experiment, opts: RunOptions): Promise<LanguageModelData> {
  const corpus = await loadCorpus(exp.data, opts);
  return {
    outputs: corpus.vocab,
    level: corpus.level,
    tokens: corpus.tokens,
    dataset: corpus.dataset,
    optimalPerplexity: corpus.optimalPerplexity,
    env: { vocab: corpus.vocab, trainTokens: corpus.train.length },
    createModel: (params) => exp.createModel({ vocab: corpus.vocab, params }),
    bind: (model, run) => languageModelTask(exp, corpus, model as LanguageModel, run.maskRng, run.optimizer, opts),
  };
}

function languageModelTask(
  exp: Experiment,
  corpus: Corpus,
  model: LanguageModel,
  maskRng: Rng,
  optimizer: Optimizer,
  opts: RunOptions,
): Task<EpochRecord, EvalResult> {
  const { data, training } = exp;
  let batched: Batched | null = null;
  const train = (): Batched => (batched ??= batchify(corpus.train, data.batch));
  /**
   * An epoch's windows: fixed, cropped (random_crop), of variable length (variable BPTT) or shuffled examples
   * (shuffle: each window names its batch's example starts in the token stream), as the spec says.
   */
  const windowsOf = (epoch: number): TrainWindow[] => {
    const offset = data.randomCrop ? cropOffset(training.seed, epoch, data.bptt) : 0;
    if (data.shuffle)
      return shuffledExamples(
        corpus.train.length,
        data.bptt,
        data.batch,
        offset,
        new Rng(epochSeed(training.seed ^ 0x6a09e667, epoch)),
      ).map((starts) => ({ start: 0, length: data.bptt, starts }));
    if (training.variableBptt)
      return variableWindows(
        train().steps,
        data.bptt,
        training.variableBptt,
        offset,
        new Rng(epochSeed(training.seed ^ 0x2545f491, epoch)),
      );
    return [...lmWindows(train(), data.bptt, { offset })];
  };
  // An epoch's windows, drawn once per epoch (the resume message and the loop ask for the same epoch); fixed
  // windows once per run.
  const fixed = !(data.randomCrop || training.variableBptt || data.shuffle);
  let fixedWindows: TrainWindow[] | null = null;
  let windows: TrainWindow[] = [];
  let windowsEpoch = -1;
  const windowsFor = (e: number): TrainWindow[] => {
    if (fixed) return (fixedWindows ??= windowsOf(0));
    if (e !== windowsEpoch) [windows, windowsEpoch] = [windowsOf(e), e];
    return windows;
  };
  const trainLimit = opts.trainBatches ?? opts.limitBatches;
  let trainer: Trainer | null = null;
  let state = model.initialState(data.batch);
  // Whether `state` is still the start initialState() handed out (no window carried into it): a learned start is
  // then rebuilt from h_0 and c_0 at every forward (runtime/model/recurrent-layer.ts), so a checkpoint must not freeze a copy of it.
  let atStart = true;
  let partial = { nll: 0, tokens: 0 };
  const mean = (): number => partial.nll / partial.tokens;
  const fmt = (loss: number): string =>
    corpus.level === "char" ? `${metricOf(loss, "char").toFixed(3)} bpc` : `ppl ${metricOf(loss, "word").toFixed(2)}`;
  // The divergence probe: the split's first window in evaluation mode (no dropout, no draw from the mask stream,
  // so the run goes on exactly as without the probe; one forward pass per checkpoint).
  const probeIds = corpus.train.subarray(0, Math.min(corpus.train.length, data.batch * (data.bptt + 1)));
  const evalBptt = opts.evalBptt ?? data.bptt; // rnnc eval --bptt N: longer (or shorter) evaluation windows
  const sink: ProgressSink = opts.progress ?? { write: (t) => process.stderr.write(t), isTTY: process.stderr.isTTY };
  return {
    unit: "window",
    positionKey: "nextWindow",
    measure: "token",
    metricsEvery: 100,
    stepsIn: (epoch) => {
      const n = windowsFor(epoch).length;
      return trainLimit !== undefined ? Math.min(trainLimit, n) : n;
    },
    async step(epoch, index, scheduleLr) {
      const w = windowsFor(epoch)[index]!;
      const scale = lossScale(training.loss, w.length, data.batch);
      // variable BPTT: a window's step is scaled by its length, so short and long windows weigh alike (awd-lstm-lm)
      const lr = training.variableBptt ? (scheduleLr * w.length) / data.bptt : scheduleLr;
      trainer ??= createTrainer(model, training, maskRng, optimizer);
      const [xs, ys] = w.starts
        ? [exampleRows(corpus.train, w.starts, w.length, 0), exampleRows(corpus.train, w.starts, w.length, 1)]
        : [sliceRows(train(), w.start, w.length), sliceRows(train(), w.start + 1, w.length)];
      const { loss, next } = await trainer.step(xs, ys, w.length, state, scale, lr);
      return {
        judged: perTokenLoss(loss, scale, w.length * data.batch),
        commit: async () => {
          if (data.stateful) {
            disposeState(state);
            state = next;
            atStart = false;
          } else disposeState(next);
          partial = { nll: partial.nll + loss / scale, tokens: partial.tokens + w.length * data.batch };
        },
        discard: () => disposeState(next),
      };
    },
    partial: () => partial,
    restorePartial: (p) => {
      partial = { nll: p["nll"] ?? 0, tokens: p["tokens"] ?? 0 };
    },
    progress: (seconds) => ({ loss: mean(), ppl: Math.exp(mean()), tokPerSec: partial.tokens / seconds }),
    trainLine: (epoch, done, steps, lr, seconds) => ({
      event: "train",
      epoch,
      window: done,
      windows: steps,
      loss: mean(),
      lr,
      tokPerSec: partial.tokens / seconds,
    }),
    async stateTensors() {
      const out: StoredTensor[] = [];
      if (atStart) return out; // restoreState keeps the initial state: zeros, or the learned start, live
      for (const [l, s] of state.entries()) {
        out.push(await stored(`state/${l}/h`, s.h));
        if (s.c) out.push(await stored(`state/${l}/c`, s.c));
      }
      return out;
    },
    restoreState(tensors) {
      if (!tensors.some((t) => t.name.startsWith("state/"))) return; // at the start: initialState() as it is
      atStart = false;
      disposeState(state);
      const get = (n: string): tf.Tensor2D | null => {
        const t = tensors.find((x) => x.name === n);
        return t ? tf.tensor2d(t.data, [t.shape[0]!, t.shape[1]!]) : null;
      };
      state = model.initialState(data.batch).map((s, l) => {
        const h = get(`state/${l}/h`) ?? s.h;
        const c = s.c ? (get(`state/${l}/c`) ?? s.c) : null;
        if (h !== s.h) s.h.dispose();
        if (c !== s.c) s.c?.dispose();
        return { h, c };
      });
    },
    endEpoch() {
      partial = { nll: 0, tokens: 0 };
      disposeState(state);
      atStart = true;
      state = model.initialState(data.batch); // every epoch starts from a zero state, as Zaremba's reader does
    },
    dispose: () => disposeState(state),
    validate: () =>
      evaluate(
        model,
        corpus.valid,
        data.evalBatch,
        evalBptt,
        data.stateful,
        opts.limitBatches,
        (n) => new EvalProgress(sink, "validating", n),
      ),
    test: () =>
      evaluate(
        model,
        corpus.test,
        data.testBatch,
        evalBptt,
        data.stateful,
        opts.limitBatches,
        (n) => new EvalProgress(sink, "testing", n),
      ),
    probe: async () => (await evaluate(model, probeIds, data.batch, data.bptt, false)).loss,
    record: (epoch, lr, valid, seconds) => ({
      epoch,
      lr,
      trainLoss: mean(),
      validLoss: valid.loss,
      tokPerSec: partial.tokens / seconds,
      seconds,
    }),
    better: (a, b) => a.validLoss < b.validLoss,
    epochLine: (r, improved) =>
      `train ${fmt(r.trainLoss)}  valid ${fmt(r.validLoss)}${improved ? " *" : ""}  ${Math.round(r.tokPerSec)} tok/s  ${formatDuration(r.seconds)}`,
    finalLine: (valid, test) => ({
      validLoss: valid.loss,
      testLoss: test.loss,
      metric: corpus.level === "char" ? "bpc" : "perplexity",
      valid: metricOf(valid.loss, corpus.level),
      test: metricOf(test.loss, corpus.level),
      validTokens: valid.tokens,
      testTokens: test.tokens,
    }),
  };
}
