// The training loop for language models: stateful truncated BPTT (Zaremba et al. 2014; Mikolov's setup), the
// papers' evaluation, checkpoints that a kill cannot corrupt, exact resume, and a NaN stop that keeps the last
// good checkpoint. Generated code supplies the model and the settings; everything here is experiment-agnostic.
import * as tf from "@tensorflow/tfjs";
import { appendFileSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { join, resolve } from "node:path";
import { selectBackend, type BackendChoice } from "../accel/backend.js";
import { CheckpointError, formatNote, readCheckpoint, removeStaleTempFiles, RunCheckpoints, type Checkpoint, type Resumed, type StoredTensor } from "./checkpoint.js";
import { clipByGlobalNorm } from "./clip.js";
import { describeVerdict, DivergenceDetector, perTokenLoss, reportable, verdictRecord, type DivergenceSpec, type DivergenceVerdict } from "./divergence.js";
import { batchify, lmWindows, sliceRows, type Batched, type LmWindow } from "../data/batching.js";
import { dataRoot } from "../data/locate.js";
import { loadTextCorpus, type TextDataset } from "../data/text-corpus.js";
import { StepContext, type LanguageModel, type ModelOutput, type ModelSetup } from "../model/language-model.js";
import { Optimizer, type OptimizerSpec } from "./optimizers.js";
import { ParameterStore } from "../model/parameters.js";
import { EpochProgress, formatDuration, type ProgressSink } from "./progress.js";
import { RecurrentLayer, type LayerState } from "../model/recurrent-layer.js";
import { Rng } from "../base/rng.js";
import { scoped } from "../base/scoped.js";
import { summarize } from "./summary.js";
import { advanceSchedule, firstLr, type ScheduleSpec, type ScheduleState } from "./schedules.js";
import { lossScale, type LossScale } from "../model/softmax-loss.js";
import { makeSyntheticCorpus } from "../data/synthetic-corpus.js";
import { takeHeapExhaustion, WasmHeapExhausted } from "../accel/kernels/wasm-heap.js";
import { deviceError } from "../accel/webgpu.js";

export interface DataSpec {
  readonly dataset: TextDataset | "synthetic";
  /** `text` only: the folder with train/valid/test.txt, relative to the spec's folder. */
  readonly path: string | null;
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
  readonly synthetic: { readonly vocab: number; readonly order: number; readonly tokens: number; readonly seed: number } | null;
}

export interface TrainingSpec {
  readonly epochs: number;
  readonly optimizer: OptimizerSpec;
  readonly schedule: ScheduleSpec;
  /** Global gradient-norm bound; null: no clipping. */
  readonly clip: number | null;
  /** L2 penalty λ·w added to the gradient after clipping, as torch.optim's weight_decay (awd-lstm-lm). */
  readonly weightDecay: number;
  readonly loss: LossScale;
  readonly seed: number;
  /**
   * Variable BPTT (Merity et al. 2018, §4.1): each window's length is N(bptt, std) with probability p, else
   * N(bptt/2, std), at least 5, and its learning rate is scaled by length/bptt. Drawn from (seed, epoch), so a
   * resumed run sees the same windows. Absent or null: every window is bptt long.
   */
  readonly variableBptt?: { readonly p: number; readonly std: number } | null;
  /**
   * Stop once the training loss per token stays above ln V + margin for `windows` consecutive windows
   * (divergence.ts; specs/language.md, "Divergence"). Null or absent: off, and only a NaN or infinite loss stops.
   */
  readonly divergence?: DivergenceSpec | null;
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

export interface RunOptions {
  /** Where metrics.jsonl, env.json and the checkpoints go (created if missing). */
  readonly runDir: string;
  readonly backend?: BackendChoice;
  /** wasm: XNNPACK threads (default: one per core). */
  readonly threads?: number;
  /** The data folder (--data); else RNNC_DATA; else the cache. */
  readonly dataDir?: string;
  /** The spec's folder, for `text "path"`. */
  readonly specDir?: string;
  /** Override the spec's epoch count. */
  readonly epochs?: number;
  /** Stop each epoch (and each evaluation) after N windows: quick runs. */
  readonly limitBatches?: number;
  /** Stop each training epoch after N windows but evaluate on the whole sets: reduced-budget experiments
   *  (examples/RESULTS.md), whose figures must be comparable with full-data evaluation. Wins over limitBatches
   *  for training. */
  readonly trainBatches?: number;
  /** A checkpoint file to continue from. */
  readonly resume?: string;
  /**
   * Evaluate this checkpoint file on the validation and test sets, as a finished run reports them, and return:
   * nothing is trained and nothing in runDir is written (`rnnc eval`). NT-ASGD checkpoints are evaluated with
   * their averaged weights, as training validates them.
   */
  readonly evaluate?: string;
  /** Write a mid-epoch checkpoint this often (seconds); end-of-epoch checkpoints are always written. */
  readonly checkpointEverySeconds?: number;
  /** Where progress goes (stderr by default). */
  readonly progress?: ProgressSink;
  /** Versions etc. for env.json. */
  readonly record?: Readonly<Record<string, unknown>>;
  /** Abort after this many training windows in total (tests of interruption); behaves like Ctrl-C. */
  readonly stopAfterWindows?: number;
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

export class TrainingError extends Error {
  override readonly name = "TrainingError";
  /** Its message is for the user as it stands: the CLI prints it without a stack trace. */
  readonly userFacing = true;
}

/**
 * The one way a run stops on a NaN, an infinite or a diverged loss (both training loops): the reason goes to
 * metrics.jsonl, and the error says what was seen, where, against which limit, and what to try. Nothing is saved on
 * the way out, so the last checkpoint on disk stays the last good one.
 */
export function stopRun(v: DivergenceVerdict, det: DivergenceDetector, at: { readonly epoch: number; readonly window?: number; readonly windows?: number; readonly unit: "window" | "batch" }, files: { readonly metrics: string; readonly last: string }, measure: "token" | "image"): TrainingError {
  const where = at.window === undefined ? `after epoch ${at.epoch}` : `at epoch ${at.epoch}, ${at.unit} ${at.window}/${at.windows}`;
  const position: Record<string, number> = at.window === undefined ? { epoch: at.epoch } : { epoch: at.epoch, [at.unit]: at.window };
  appendFileSync(files.metrics, JSON.stringify(verdictRecord(v, position)) + "\n");
  const off = v.kind === "above_uniform" ? " To let such a run go on regardless, set `divergence off` in its train block." : "";
  return new TrainingError(`${describeVerdict(v, where, det, measure, at.unit)} ${keptNote(files.last)}${off}`);
}

/** Where the last good checkpoint is, after a stop. --resume reruns the run's own code and settings, so it would
 *  diverge again: the way on is a new run. */
export function keptNote(lastPath: string): string {
  return existsSync(lastPath)
    ? `The last good checkpoint is ${lastPath} (not overwritten). Lower the learning rate or add clipping in the spec (or with --set) and start a new run.`
    : "No checkpoint had been written yet. Lower the learning rate or add clipping in the spec (or with --set).";
}

/** Stops a run whose GPU rejected a kernel (accel/webgpu.ts: such a kernel's output is garbage, and nothing throws). */
export function assertDeviceHealthy(): void {
  const e = deviceError();
  if (e)
    throw new TrainingError(
      `the webgpu device rejected a kernel, so its results are wrong and the run stopped before they reached the weights: ${e}\n` +
        "  This is a limit of tfjs's webgpu backend on this adapter; train with --backend wasm, and please report it with the spec.",
    );
}

interface CheckpointMeta {
  readonly version: 1;
  readonly experiment: string;
  readonly specHash: string;
  /** The epoch in progress (1-based) and the index of the next window in it. */
  readonly epoch: number;
  readonly nextWindow: number;
  readonly schedule: ScheduleState;
  readonly maskRng: number[];
  readonly optimizerStep: number;
  /** NT-ASGD: the optimizer step at which averaging started; null before (absent in older checkpoints). */
  readonly averagingSince?: number | null;
  readonly epochs: EpochRecord[];
  readonly bestEpoch: number | null;
  /** Partial sums of the epoch in progress, so its summary is the same whether or not it was interrupted. */
  readonly partial: { readonly nll: number; readonly tokens: number; readonly seconds: number };
  readonly windowsDone: number;
}

const epochSeed = (seed: number, epoch: number): number => (Math.imul(seed, 0x9e3779b1) ^ Math.imul(epoch, 0x85ebca6b)) >>> 0;

/** The random crop of an epoch: a row offset in [0, bptt), a function of the seed and the epoch only. */
export function cropOffset(seed: number, epoch: number, bptt: number): number {
  return new Rng(epochSeed(seed, epoch)).int(bptt);
}

/**
 * Variable-length BPTT windows over `steps` rows (awd-lstm-lm's train loop): length = max(5, ⌊N(b, std)⌋) with
 * b = bptt w.p. p, else bptt/2; the last window stops at the data.
 */
export function variableWindows(steps: number, bptt: number, v: { p: number; std: number }, offset: number, rng: Rng): LmWindow[] {
  const out: LmWindow[] = [];
  for (let start = offset; start < steps - 1; ) {
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
  readonly train: Int32Array;
  readonly valid: Int32Array;
  readonly test: Int32Array;
  readonly optimalPerplexity: number | null;
}

async function loadCorpus(data: DataSpec, opts: RunOptions): Promise<Corpus> {
  if (data.dataset === "synthetic") {
    const s = data.synthetic!;
    const c = makeSyntheticCorpus(s);
    return { level: "word", vocab: s.vocab, train: c.train, valid: c.valid, test: c.test, optimalPerplexity: c.optimalPerplexity };
  }
  const path = data.dataset === "text" ? join(opts.specDir ?? ".", data.path ?? ".") : undefined;
  const c = await loadTextCorpus(data.dataset, { root: dataRoot(opts.dataDir), path });
  return { level: c.level, vocab: c.vocab.tokens.length, train: c.train, valid: c.valid, test: c.test, optimalPerplexity: null };
}

/** Read a [T, B] window of token ids and the next-token targets as tensors. */
function windowTensors(b: Batched, start: number, length: number): { x: tf.Tensor2D; y: tf.Tensor1D } {
  return {
    x: tf.tensor2d(sliceRows(b, start, length), [length, b.batch], "int32"),
    y: tf.tensor1d(sliceRows(b, start + 1, length), "int32"),
  };
}

const stateTensors = (state: readonly LayerState[]): (tf.Tensor | null)[] => state.flatMap((s) => [s.h, s.c]);

function disposeState(state: readonly LayerState[]): void {
  for (const s of state) {
    s.h.dispose();
    s.c?.dispose();
  }
}

/**
 * Mean NLL over a split with state carried across windows, as the papers evaluate (specs/language.md,
 * "From spec to training code"): every token is predicted once, in order.
 */
export async function evaluate(model: LanguageModel, ids: Int32Array, batch: number, bptt: number, stateful: boolean, limit?: number): Promise<EvalResult> {
  const b = batchify(ids, batch);
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
    if (stateful) {
      disposeState(state);
      state = next;
    } else disposeState(next);
  }
  disposeState(state);
  return { loss: nll / Math.max(tokens, 1), tokens };
}

async function snapshot(model: LanguageModel, opt: Optimizer, state: readonly LayerState[]): Promise<StoredTensor[]> {
  const out = await storeTensors(model.params, opt);
  for (const [l, s] of state.entries()) {
    out.push(await stored(`state/${l}/h`, s.h));
    if (s.c) out.push(await stored(`state/${l}/c`, s.c));
  }
  return out;
}

/** A tensor read back from the device (asynchronously: the only way the webgpu backend can, in Node). */
async function stored(name: string, t: tf.Tensor): Promise<StoredTensor> {
  return { name, shape: t.shape, data: (await t.data()) as Float32Array };
}

/** A checkpoint's tensors: the parameters, the buffers (population statistics) and the optimizer's slots. */
export async function storeTensors(params: ParameterStore, opt: Optimizer): Promise<StoredTensor[]> {
  const out: StoredTensor[] = [];
  for (const p of params.list) out.push(await stored(`param/${p.name}`, p.variable));
  for (const p of params.buffers) out.push(await stored(`buffer/${p.name}`, p.variable));
  for (const [k, t] of opt.state().slots) out.push(await stored(`opt/${k}`, t));
  return out;
}

/** Load parameters and buffers by name, refusing a checkpoint of another model. */
export function restoreParams(params: ParameterStore, tensors: readonly StoredTensor[], file: string): void {
  const byName = new Map(tensors.map((t) => [t.name, t]));
  const entries = [...params.list.map((p) => ({ key: `param/${p.name}`, ...p })), ...params.buffers.map((p) => ({ key: `buffer/${p.name}`, ...p }))];
  for (const p of entries) {
    const t = byName.get(p.key);
    if (!t || t.shape.join() !== p.variable.shape.join())
      throw new TrainingError(`checkpoint ${file} does not match this model: ${p.key.split("/")[0]} ${p.name} ${t ? `has shape [${t.shape}], expected [${p.variable.shape}]` : "is missing"}`);
    p.variable.assign(tf.tensor(t.data, [...t.shape]));
  }
}

/** Restore the optimizer's step, averaging point and slots from a checkpoint. */
export function restoreOptimizer(optimizer: Optimizer, tensors: readonly StoredTensor[], meta: { optimizerStep: number; averagingSince?: number | null }): void {
  optimizer.load({
    step: meta.optimizerStep,
    averagingSince: meta.averagingSince ?? null,
    slots: tensors.filter((t) => t.name.startsWith("opt/")).map((t) => [t.name.slice(4), tf.tensor(t.data, [...t.shape])] as [string, tf.Tensor]),
  });
}

export interface Trainer {
  /**
   * One window of truncated BPTT from `state` (which the caller still owns): forward, backward, global-norm
   * clipping, weight decay, and the optimizer's update at rate `lr`. xs and ys are the [T, B] inputs and targets,
   * row-major. Returns the cross-entropy as the spec scales it (divide by `scale` for the summed NLL; regularizers
   * are trained on but not reported) and the final state,
   * detached. A non-finite loss leaves the weights untouched and returns a zero state.
   */
  step(xs: Int32Array, ys: Int32Array, T: number, state: readonly LayerState[], scale: number, lr?: number): Promise<{ loss: number; next: LayerState[] }>;
  disposeState(state: readonly LayerState[]): void;
}

/** The training step `runExperiment` uses, on its own: the benchmark times exactly this. */
export function createTrainer(model: LanguageModel, training: TrainingSpec, maskRng: Rng, optimizer = new Optimizer(training.optimizer)): Trainer {
  const vars = model.params.list.map((p) => p.variable);
  const decayed = model.params.list.map((p) => p.decay);
  const ctx = new StepContext(true, maskRng);
  return {
    disposeState,
    async step(xs, ys, T, state, scale, lr = training.optimizer.lr) {
      const B = xs.length / T;
      const { value, ce, grads, next } = scoped(() => {
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
        return { value: g.value, ce: ce as unknown as tf.Scalar, grads: vars.map((v) => g.grads[v.name]!), next: o.state };
      }, (r) => [r.value, r.ce, ...r.grads, ...stateTensors(r.next)]);
      // The losses' read-back (asynchronous, for webgpu; both at once): to report the loss and to stop on NaN.
      const [total, loss] = await Promise.all([value.data().then((d) => d[0]!), ce.data().then((d) => d[0]!)]);
      tf.dispose(ce === value ? [value] : [value, ce]);
      if (!Number.isFinite(total)) {
        grads.forEach((g) => g.dispose());
        disposeState(next);
        return { loss: total, next: model.initialState(B) }; // non-finite: the caller stops the run
      }
      await applyUpdate(optimizer, vars, decayed, grads, training, lr);
      return { loss, next };
    },
  };
}

/**
 * The update from raw gradients (which it disposes): global-norm clipping, then L2 weight decay added to the
 * clipped gradient, as torch.optim's weight_decay after clip_grad_norm_ (awd-lstm-lm), then the optimizer at `lr`.
 */
export async function applyUpdate(optimizer: Optimizer, vars: readonly tf.Variable[], decayed: readonly boolean[], grads: tf.Tensor[], training: Pick<TrainingSpec, "clip" | "weightDecay">, lr: number): Promise<void> {
  let g = grads;
  try {
    assertDeviceHealthy(); // gradients from a rejected kernel must not reach the weights
    if (training.clip !== null) g = (await clipByGlobalNorm(g, training.clip)).grads;
    assertDeviceHealthy(); // nor a norm from one
  } catch (e) {
    g.forEach((gi) => gi.dispose());
    throw e;
  }
  if (training.weightDecay > 0) {
    // tidy: λθ is an intermediate; left alive it leaked one tensor per decayed weight per step (the wasm heap of a
    // Merity run grew ~0.5 GB a minute until the module trapped).
    const wd = g.map((gi, k) => (decayed[k] ? tf.tidy(() => tf.add(gi, tf.mul(vars[k]!, training.weightDecay))) : gi));
    g.forEach((gi, k) => decayed[k] && gi.dispose());
    g = wd;
  }
  optimizer.apply(vars, g, lr);
  g.forEach((gi) => gi.dispose());
}

export async function runExperiment(exp: Experiment, opts: RunOptions): Promise<RunResult> {
  const owned: Owned = {};
  try {
    if (opts.evaluate !== undefined) return await evaluateCheckpoint(exp, opts.evaluate, opts, owned);
    const result = await train(exp, opts, owned);
    return { ...result, summary: summarize(result) };
  } catch (e) {
    throw explainWasmAbort(e, { batch: exp.data.batch, steps: `bptt ${exp.data.bptt}` }, owned, opts.runDir);
  } finally {
    releaseOwned(owned);
  }
}

/**
 * The wasm backend's module aborts (an emscripten `Aborted()` RuntimeError) when its allocator cannot grow the heap,
 * which wasm32 caps at 4 GiB: a training window keeps the gates and states of every step for the backward. Nothing
 * else in rnnc's use of it aborts, so the user is told it is memory, with the sizes that matter and the ways out.
 * rnnc's own kernels throw WasmHeapExhausted where they see it first (an output past 4 GiB); a trap after one
 * (tfjs's cleanup freeing on the exhausted heap) is that same failure.
 * Any other error is returned as it is.
 */
export function explainWasmAbort(e: unknown, window: { batch: number; steps: string }, owned: Owned, runDir: string): unknown {
  const exhausted = takeHeapExhaustion();
  const trap = e instanceof Error && e.name === "RuntimeError";
  const aborted = trap && /^Aborted\(/.test(e.message);
  if (!aborted && !(e instanceof WasmHeapExhausted) && !(trap && exhausted)) return e;
  const layers = owned.model ? Object.values(owned.model).filter((v): v is RecurrentLayer => v instanceof RecurrentLayer) : [];
  const through = layers.length ? ` through ${layers.map((l) => `${l.cell}(${l.hidden})`).join(", ")}` : "";
  return new TrainingError(
    `the wasm backend ran out of memory (its heap is at most 4 GiB). This experiment trains on windows of batch ${window.batch} × ${window.steps}${through}.\n` +
      "  To fix: lower data.batch or data.bptt (for example --set data.batch=32), or train on a backend without that\n" +
      `  limit (--backend tensorflow, with @tensorflow/tfjs-node installed). Checkpoints already saved in ${runDir} are intact.`,
  );
}

/** Dispose what a run owns. After a wasm abort (heap exhausted) every call into the module traps: the release then
 *  fails, and must not replace the error that explains why the run ended. */
export function releaseOwned(owned: Owned): void {
  try {
    owned.params?.dispose();
  } catch {
    // the backend is gone with the process; nothing to release
  }
}

/**
 * What a run allocates and must release when it ends, however it ends: its weights are named tf.Variables, and a
 * second run in the same process (the points of a sweep) registers the same names.
 */
export interface Owned {
  params?: ParameterStore;
  /** The model, to name its layers should the run end in a wasm abort. */
  model?: object;
}

/** Where a checkpoint stands, for the user: "after epoch 13" or "epoch 11, window 1150". */
export function checkpointPosition(epoch: number, next: number, unit = "window"): string {
  return next === 0 ? `after epoch ${epoch - 1}` : `epoch ${epoch}, ${unit} ${next}`;
}

/** The start of an evaluation (`rnnc eval`): the backend, announced, and the checkpoint, if it is this experiment's. */
export async function openForEvaluation<M extends { experiment: string; bestEpoch: number | null }>(experiment: string, file: string, opts: RunOptions): Promise<{ ck: Checkpoint<M>; backend: string; started: number }> {
  const started = performance.now();
  const sink = opts.progress ?? process.stderr;
  // Temp files of a write that a kill interrupted: cheap to remove, and safe (only those whose writer is gone).
  removeStaleTempFiles(opts.runDir);
  // The checkpoint first, verified: a wrong or damaged file is reported before a backend is started.
  const ck = readCheckpoint<M>(file);
  if (ck.meta.experiment !== experiment) throw new TrainingError(`checkpoint ${file} is from experiment ${ck.meta.experiment}, not ${experiment}`);
  const note = formatNote(file, ck);
  if (note) sink.write(`${note}\n`);
  const ckpts = new RunCheckpoints(opts.runDir);
  // A kill between the two renames of a save leaves best.ckpt one best behind: say so (finishing that save is
  // the next resume's work; eval never changes a run directory).
  const pending = resolve(file) === resolve(ckpts.best) ? ckpts.pendingBest<M>() : null;
  if (pending)
    sink.write(`note: the run stopped while saving a newer best checkpoint (epoch ${pending.meta.bestEpoch}); this evaluates ${file} as it is (epoch ${ck.meta.bestEpoch}). rnnc run --resume ${opts.runDir} puts the newer one in place.\n`);
  const backend = await selectBackend(opts.backend ?? "auto", { threads: opts.threads });
  sink.write(`backend: ${backend.description}\n`);
  return { ck, backend: backend.name, started };
}

/**
 * The start of a resumed run, before anything is written: `file` and the run's best checkpoint verified (a damaged
 * one is refused, and nothing in the run directory changes), an interrupted save finished or dropped, the
 * notes for the user printed. Shared by both training loops.
 */
export function resumeRun<M extends { experiment: string; bestEpoch: number | null }>(ckpts: RunCheckpoints, file: string, experiment: string, say: (line: string) => void): Resumed<M> {
  let r: Resumed<M>;
  try {
    r = ckpts.resume<M>(file, (meta) => {
      if (meta.experiment !== experiment) throw new TrainingError(`checkpoint ${file} is from experiment ${meta.experiment}, not ${experiment}`);
    });
  } catch (e) {
    if (e instanceof CheckpointError) throw new CheckpointError(`${e.message}. Nothing was trained, and no checkpoint was changed.`);
    throw e;
  }
  for (const n of r.notes) say(n);
  return r;
}

/** `rnnc eval`: one checkpoint's validation and test metric, computed as the end of a run computes them. */
async function evaluateCheckpoint(exp: Experiment, file: string, opts: RunOptions, owned: Owned): Promise<RunResult> {
  const { ck, backend, started } = await openForEvaluation<CheckpointMeta>(exp.name, file, opts);
  const corpus = await loadCorpus(exp.data, opts);
  const params = new ParameterStore(new Rng(exp.training.seed));
  owned.params = params;
  const model = exp.createModel({ vocab: corpus.vocab, params });
  owned.model = model;
  restoreParams(params, ck.tensors, file);
  const optimizer = new Optimizer(exp.training.optimizer);
  try {
    restoreOptimizer(optimizer, ck.tensors, ck.meta);
    const { data } = exp;
    const [valid, test] = await optimizer.withAveraged(params.list.map((p) => p.variable), async () => [
      await evaluate(model, corpus.valid, data.evalBatch, data.bptt, data.stateful, opts.limitBatches),
      await evaluate(model, corpus.test, data.testBatch, data.bptt, data.stateful, opts.limitBatches),
    ]);
    const metric = corpus.level === "char" ? "bpc" : "perplexity";
    const seconds = (performance.now() - started) / 1000;
    const result = { status: "done", epochs: ck.meta.epochs, bestEpoch: ck.meta.bestEpoch, valid, test, metric, optimalPerplexity: corpus.optimalPerplexity, lastCheckpoint: file, runDir: opts.runDir, backend, seconds, epochsBefore: ck.meta.epochs.length } as const;
    const lines = summarize(result).split("\n");
    // The run's own summary, with its first line saying which weights these are instead of how training went.
    lines[0] = `${file}: ${checkpointPosition(ck.meta.epoch, ck.meta.nextWindow)}; evaluated in ${formatDuration(seconds)} on ${backend}`;
    return { ...result, summary: lines.join("\n") };
  } finally {
    optimizer.dispose();
  }
}

async function train(exp: Experiment, opts: RunOptions, owned: Owned): Promise<Omit<RunResult, "summary">> {
  const sink: ProgressSink = opts.progress ?? { write: (s) => process.stderr.write(s), isTTY: process.stderr.isTTY };
  const say = (line: string): void => sink.write(`${line}\n`);
  const started = performance.now();
  mkdirSync(opts.runDir, { recursive: true });
  const ckpts = new RunCheckpoints(opts.runDir);
  // A resume's checkpoints are verified before anything (env.json, a checkpoint) is written.
  const resumed = opts.resume ? resumeRun<CheckpointMeta>(ckpts, opts.resume, exp.name, say) : null;
  const backend = await selectBackend(opts.backend ?? "auto", { threads: opts.threads });
  say(`backend: ${backend.description}`);

  const corpus = await loadCorpus(exp.data, opts);
  const { data, training } = exp;
  const epochs = opts.epochs ?? training.epochs;
  const lastPath = ckpts.last;
  const metricsPath = join(opts.runDir, "metrics.jsonl");
  const metric = corpus.level === "char" ? "bpc" : "perplexity";
  const fmt = (loss: number): string => (corpus.level === "char" ? `${metricOf(loss, "char").toFixed(3)} bpc` : `ppl ${metricOf(loss, "word").toFixed(2)}`);

  // One seed, two streams: weights are drawn first from their own stream, so adding a dropout site never
  // changes the initial weights, and the mask stream is the part of the state a checkpoint must carry.
  const params = new ParameterStore(new Rng(training.seed));
  owned.params = params;
  const model = exp.createModel({ vocab: corpus.vocab, params });
  owned.model = model;
  const maskRng = new Rng(training.seed ^ 0x5bd1e995);
  const optimizer = new Optimizer(training.optimizer);

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
        vocab: corpus.vocab,
        trainTokens: corpus.train.length,
        resumedFrom: opts.resume ?? null,
        started: new Date().toISOString(),
      },
      null,
      2,
    ) + "\n",
  );

  const train = batchify(corpus.train, data.batch);
  const vars = model.params.list.map((p) => p.variable);
  /** An epoch's windows: fixed, cropped (random_crop) or of variable length (variable BPTT), as the spec says. */
  const windowsOf = (epoch: number): LmWindow[] => {
    const offset = data.randomCrop ? cropOffset(training.seed, epoch, data.bptt) : 0;
    if (training.variableBptt) return variableWindows(train.steps, data.bptt, training.variableBptt, offset, new Rng(epochSeed(training.seed ^ 0x2545f491, epoch)));
    return [...lmWindows(train, data.bptt, { offset })];
  };
  const fixedWindows = data.randomCrop || training.variableBptt ? null : windowsOf(0);
  // An epoch's windows, drawn once per epoch (the resume message and the loop ask for the same epoch).
  let windows: LmWindow[] = [];
  let windowsEpoch = -1;
  const windowsFor = (e: number): LmWindow[] => {
    if (e !== windowsEpoch) [windows, windowsEpoch] = [fixedWindows ?? windowsOf(e), e];
    return windows;
  };
  const trainLimit = opts.trainBatches ?? opts.limitBatches;
  const countOf = (ws: readonly LmWindow[]): number => (trainLimit !== undefined ? Math.min(trainLimit, ws.length) : ws.length);
  let perEpoch = countOf(windowsFor(1));

  let epoch = 1;
  let nextWindow = 0;
  let schedule: ScheduleState = { lr: firstLr(training.schedule, training.optimizer.lr), best: Infinity, badEpochs: 0 };
  let history: EpochRecord[] = [];
  let epochsBefore = 0;
  let bestEpoch: number | null = null;
  let partial = { nll: 0, tokens: 0, seconds: 0 };
  let windowsDone = 0;
  let state = model.initialState(data.batch);

  if (opts.resume && resumed) {
    const { ck } = resumed;
    restoreParams(model.params, ck.tensors, opts.resume);
    restoreOptimizer(optimizer, ck.tensors, ck.meta);
    disposeState(state);
    const get = (n: string): tf.Tensor2D | null => {
      const t = ck.tensors.find((x) => x.name === n);
      return t ? tf.tensor2d(t.data, [t.shape[0]!, t.shape[1]!]) : null;
    };
    state = model.initialState(data.batch).map((s, l) => {
      const h = get(`state/${l}/h`) ?? s.h;
      const c = s.c ? (get(`state/${l}/c`) ?? s.c) : null;
      if (h !== s.h) s.h.dispose();
      if (c !== s.c) s.c?.dispose();
      return { h, c };
    });
    maskRng.setState(ck.meta.maskRng);
    ({ epoch, nextWindow, schedule, partial, windowsDone } = ck.meta);
    bestEpoch = resumed.bestEpoch; // the epoch best.ckpt holds (checkpoint.ts: they always agree)
    perEpoch = countOf(windowsFor(epoch));
    history = [...ck.meta.epochs];
    epochsBefore = history.length;
    say(`resumed ${opts.resume}: epoch ${epoch}, window ${nextWindow}/${perEpoch}`);
  }

  const checkpoint = async (atEpoch: number, atWindow: number): Promise<Checkpoint<CheckpointMeta>> => ({
    meta: { version: 1, experiment: exp.name, specHash: exp.spec.hash, epoch: atEpoch, nextWindow: atWindow, schedule, maskRng: maskRng.getState(), optimizerStep: optimizer.state().step, averagingSince: optimizer.state().averagingSince ?? null, epochs: history, bestEpoch, partial, windowsDone },
    tensors: await snapshot(model, optimizer, state),
  });
  /** Mid-epoch and on Ctrl-C: last.ckpt alone. */
  const saveLast = async (): Promise<void> => ckpts.saveLast(await checkpoint(epoch, nextWindow));
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

  // The divergence stop: ln V + margin over consecutive windows (a resumed run starts counting afresh).
  const divergence = new DivergenceDetector(training.divergence ?? null, corpus.vocab);
  const stop = (v: DivergenceVerdict, window?: number): TrainingError =>
    stopRun(v, divergence, { epoch, window, windows: perEpoch, unit: "window" }, { metrics: metricsPath, last: lastPath }, "token");
  // A window's loss is measured before its update, so the weights a mid-epoch checkpoint would hold have not been
  // judged yet: probe them first, on the split's first window in evaluation mode (no dropout, no draw from the mask
  // stream, so the run goes on exactly as without the probe; one forward pass per checkpoint), and keep the last good
  // checkpoint when they are above the limit.
  const probeIds = corpus.train.subarray(0, Math.min(corpus.train.length, data.batch * (data.bptt + 1)));
  const healthyNow = async (): Promise<boolean> => divergence.calm && divergence.healthy((await evaluate(model, probeIds, data.batch, data.bptt, false)).loss);
  let interrupted = false;
  const onSigint = (): void => {
    if (interrupted) process.exit(130); // a second Ctrl-C: leave now (the last checkpoint is intact)
    interrupted = true;
    sink.write("\ninterrupt: finishing this step, then saving a checkpoint (Ctrl-C again to quit at once)\n");
  };
  process.on("SIGINT", onSigint);
  const trainer = createTrainer(model, training, maskRng, optimizer);
  const everyMs = (opts.checkpointEverySeconds ?? 600) * 1000;
  let lastSave = performance.now();

  try {
    for (; epoch <= epochs; epoch++, nextWindow = 0) {
      perEpoch = countOf(windowsFor(epoch));
      const progress = new EpochProgress(sink, `epoch ${epoch}/${epochs}`, perEpoch);
      let t0 = performance.now() - partial.seconds * 1000;
      for (; nextWindow < perEpoch; ) {
        const w = windows[nextWindow]!;
        const scale = lossScale(training.loss, w.length, data.batch);
        // variable BPTT: a window's step is scaled by its length, so short and long windows weigh alike (awd-lstm-lm)
        const lr = training.variableBptt ? (schedule.lr * w.length) / data.bptt : schedule.lr;
        const { loss, next } = await trainer.step(sliceRows(train, w.start, w.length), sliceRows(train, w.start + 1, w.length), w.length, state, scale, lr);
        const verdict = divergence.window(perTokenLoss(loss, scale, w.length * data.batch));
        if (verdict) {
          disposeState(next);
          throw stop(verdict, nextWindow + 1);
        }
        if (data.stateful) {
          disposeState(state);
          state = next;
        } else disposeState(next);

        partial = { nll: partial.nll + loss / scale, tokens: partial.tokens + w.length * data.batch, seconds: (performance.now() - t0) / 1000 };
        nextWindow++;
        windowsDone++;
        const mean = partial.nll / partial.tokens;
        progress.update(nextWindow, { loss: mean, ppl: Math.exp(mean), tokPerSec: partial.tokens / partial.seconds });
        if (nextWindow % 100 === 0 || nextWindow === perEpoch)
          appendFileSync(metricsPath, JSON.stringify({ event: "train", epoch, window: nextWindow, windows: perEpoch, loss: mean, lr: schedule.lr, tokPerSec: partial.tokens / partial.seconds }) + "\n");
        // A turn of the event loop, so that a pending Ctrl-C reaches onSigint: the steps are synchronous, and without
        // it a SIGINT waited until training ended (and was then dropped), so Ctrl-C did nothing.
        await new Promise<void>((resolve) => setImmediate(resolve));
        if (opts.stopAfterWindows !== undefined && windowsDone >= opts.stopAfterWindows) interrupted = true;
        if (interrupted) {
          // As for a mid-epoch save: weights above the divergence limit never replace the last good checkpoint.
          if (await healthyNow()) {
            await saveLast();
            say(`saved ${lastPath} at epoch ${epoch}, window ${nextWindow}/${perEpoch}; continue with: rnnc run --resume ${opts.runDir}`);
          } else say(`not saved: the training loss is above the divergence limit at epoch ${epoch}, window ${nextWindow}/${perEpoch}; ${existsSync(lastPath) ? `${lastPath} is kept as it was` : "no checkpoint had been written yet"}`);
          return { status: "interrupted", epochs: history, bestEpoch, valid: null, test: null, metric, optimalPerplexity: corpus.optimalPerplexity, lastCheckpoint: lastPath, runDir: opts.runDir, backend: backend.name, seconds: (performance.now() - started) / 1000, epochsBefore };
        }
        // Not while windows run above the divergence limit, nor of weights above it: those may be the diverged ones.
        if (performance.now() - lastSave > everyMs && nextWindow < perEpoch && (await healthyNow())) {
          await saveLast();
          lastSave = performance.now();
          t0 = performance.now() - partial.seconds * 1000;
        }
      }

      const trainLoss = partial.nll / partial.tokens;
      const tokPerSec = partial.tokens / partial.seconds;
      const v0 = performance.now();
      // NT-ASGD, once averaging: validate (and keep as best) the averaged weights, as awd-lstm-lm does
      const valid = await optimizer.withAveraged(vars, () => evaluate(model, corpus.valid, data.evalBatch, data.bptt, data.stateful, opts.limitBatches));
      // Finite training losses can still leave weights whose validation loss overflows: stop before such an
      // epoch is checkpointed (or marked best), so the last checkpoint stays the last good one.
      const validVerdict = divergence.validation(valid.loss);
      if (validVerdict) throw stop(validVerdict);
      // Weights that validate above the divergence limit are neither saved nor best; the next windows decide (a
      // healthy one resets the count, the last one stops the run).
      const suspect = divergence.suspect(valid.loss);
      const record: EpochRecord = { epoch, lr: schedule.lr, trainLoss, validLoss: valid.loss, tokPerSec, seconds: partial.seconds };
      const triggered = optimizer.maybeStartAveraging(valid.loss, history.map((h) => h.validLoss));
      history.push(record);
      // A perplexity that overflows to Infinity (divergence off) is never the best.
      const improved = !suspect && reportable(valid.loss) && (bestEpoch === null || valid.loss < history.find((h) => h.epoch === bestEpoch)!.validLoss);
      if (improved) bestEpoch = epoch;
      appendFileSync(metricsPath, JSON.stringify({ event: "epoch", ...record, validSeconds: (performance.now() - v0) / 1000, best: improved }) + "\n");
      progress.finish(
        `epoch ${epoch}/${epochs}  lr ${schedule.lr.toPrecision(4)}  train ${fmt(trainLoss)}  valid ${fmt(valid.loss)}${improved ? " *" : ""}  ${Math.round(tokPerSec)} tok/s  ${formatDuration(partial.seconds)}`,
      );
      if (triggered) {
        say(`NT-ASGD: this validation loss is worse than the best before the last ${(training.optimizer as { nonmono: number }).nonmono} epoch(s); averaging the weights from now on`);
        appendFileSync(metricsPath, JSON.stringify({ event: "ntasgd", epoch, step: optimizer.state().step }) + "\n");
      }
      schedule = advanceSchedule(training.schedule, training.optimizer.lr, schedule, epoch + 1, valid.loss);
      partial = { nll: 0, tokens: 0, seconds: 0 };
      disposeState(state);
      state = model.initialState(data.batch); // every epoch starts from a zero state, as Zaremba's reader does
      // These checkpoints point at the start of the next epoch: resuming from one continues there. Not of weights
      // whose validation loss is above the divergence limit (a suspect epoch is never the best either).
      if (!suspect) await saveEpochEnd(improved);
      lastSave = performance.now();
    }
  } finally {
    process.off("SIGINT", onSigint);
  }

  // Report the best-validation checkpoint's numbers, as the papers do.
  if (bestEpoch !== null) restoreParams(model.params, ckpts.readBest<CheckpointMeta>().tensors, ckpts.best);
  const valid = await evaluate(model, corpus.valid, data.evalBatch, data.bptt, data.stateful, opts.limitBatches);
  const test = await evaluate(model, corpus.test, data.testBatch, data.bptt, data.stateful, opts.limitBatches);
  appendFileSync(metricsPath, JSON.stringify({ event: "final", bestEpoch, validLoss: valid.loss, testLoss: test.loss, metric, valid: metricOf(valid.loss, corpus.level), test: metricOf(test.loss, corpus.level), validTokens: valid.tokens, testTokens: test.tokens }) + "\n");
  disposeState(state);
  return { status: "done", epochs: history, bestEpoch, valid, test, metric, optimalPerplexity: corpus.optimalPerplexity, lastCheckpoint: lastPath, runDir: opts.runDir, backend: backend.name, seconds: (performance.now() - started) / 1000, epochsBefore };
}
