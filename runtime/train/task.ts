// What the training driver (driver.ts) is parameterised by: a task supplies its data, its batches and train step,
// its evaluation and which validation is better; the driver does everything else, once for every task. Two tasks
// exist: language modelling (lm-task.ts) and sequence classification (classifier-task.ts).
import type { ParameterStore } from "../model/parameters.js";
import type { Rng } from "../base/rng.js";
import type { StoredTensor } from "./checkpoint.js";
import type { DivergenceSpec } from "./divergence.js";
import type { Optimizer, OptimizerSpec } from "./optimizers.js";
import type { ProgressSink } from "./progress.js";
import type { ScheduleSpec } from "./schedules.js";
import type { LossScale } from "../model/softmax-loss.js";
import type { BackendChoice } from "../accel/backend.js";

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

/** The settings every task trains with (the language-model-only ones, the loss scale and variable BPTT, aside). */
export type CommonTraining = Omit<TrainingSpec, "loss" | "variableBptt">;

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
  /**
   * Language models: evaluate with windows of N steps instead of the spec's bptt, e.g. sequences longer than
   * training's. Batch norm then uses, for each step beyond its T_max, the population statistics of T_max (Cooijmans
   * et al. 2017, §3 and Figure 3b). A classifier's sequences have a fixed length: it refuses this.
   */
  readonly evalBptt?: number;
  /** `rnnc sample`: draw text from the checkpoint `evaluate` names instead of evaluating it (sample.ts). */
  readonly sample?: SampleOptions;
  /** `rnnc export`: write the checkpoint `evaluate` names as an exported model (runtime/export/) instead. */
  readonly export?: ExportOptions;
  /** Write a mid-epoch checkpoint this often (seconds); end-of-epoch checkpoints are always written. */
  readonly checkpointEverySeconds?: number;
  /** Where progress goes (stderr by default). */
  readonly progress?: ProgressSink;
  /** Versions etc. for env.json. */
  readonly record?: Readonly<Record<string, unknown>>;
  /** Abort after this many training windows in total (tests of interruption); behaves like Ctrl-C. */
  readonly stopAfterWindows?: number;
}

/** What every task's epoch record holds (metrics.jsonl's "epoch" lines and the checkpoints' history). */
export interface EpochBase {
  readonly epoch: number;
  readonly lr: number;
  readonly trainLoss: number;
  readonly validLoss: number;
  readonly seconds: number;
}

/** An evaluation of a split: at least its mean loss. */
export interface EvalBase {
  readonly loss: number;
}

/** One training step, judged by the driver before it is kept. */
export interface StepOutcome {
  /** The loss the divergence detector judges: per token (language model) or per image (classifier). */
  readonly judged: number;
  /** Keep the step: its update where the task applies it now, its state, its sums in the epoch's partial. */
  commit(): Promise<void>;
  /** Drop it (the run stops): release what it holds. */
  discard(): void;
}

/** The identity of an experiment, as checkpoints record it. */
export interface ExperimentId {
  readonly name: string;
  readonly spec: { readonly file: string; readonly hash: string };
}

/** A task with its data loaded: enough to create the model (whose parameters are drawn next) and then the task. */
export interface TaskData<E extends EpochBase, V extends EvalBase> {
  /** The classes of the output, the uniform guess's ln V for divergence: the vocabulary, or the labels. */
  readonly outputs: number;
  /** env.json's fields about the data. */
  readonly env: Readonly<Record<string, unknown>>;
  createModel(params: ParameterStore): object;
  /** The task for this model; `maskRng` is the training's mask stream, `optimizer` the one that updates it. */
  bind(model: object, run: { readonly maskRng: Rng; readonly optimizer: Optimizer }): Task<E, V>;
}

export interface Task<E extends EpochBase, V extends EvalBase> {
  /** What one step consumes, for messages ("window 3/30"), and the checkpoint meta's name for the next one. */
  readonly unit: "window" | "batch";
  readonly positionKey: "nextWindow" | "nextBatch";
  /** What the divergence limit is per: "token" or "image". */
  readonly measure: "token" | "image";
  /** A "train" line goes to metrics.jsonl every this many steps (and after the last of an epoch). */
  readonly metricsEvery: number;

  /** The steps of an epoch (after --limit-batches / --train-batches). */
  stepsIn(epoch: number): number;
  /** Step `index` of `epoch` at the schedule's learning rate. */
  step(epoch: number, index: number, lr: number): Promise<StepOutcome>;

  /** The epoch's running sums (a checkpoint carries them, so an interrupted epoch reports as a whole one). */
  partial(): Readonly<Record<string, number>>;
  restorePartial(p: Readonly<Record<string, number>>): void;
  /** The live progress line's figures and the metrics "train" line, from the sums and the epoch's seconds. */
  progress(seconds: number): { loss: number; ppl?: number; accuracy?: number; tokPerSec: number };
  trainLine(epoch: number, done: number, steps: number, lr: number, seconds: number): Record<string, unknown>;

  /** State carried between steps that a checkpoint must hold (a language model's hidden state), and its restore. */
  stateTensors(): Promise<StoredTensor[]>;
  restoreState(tensors: readonly StoredTensor[]): void;
  /** The end of an epoch, before its checkpoints: the sums start over, and the carried state too. */
  endEpoch(): void;
  dispose(): void;

  /** The validation and test sets, with the weights as they are (the driver swaps in NT-ASGD's average). */
  validate(): Promise<V>;
  test(): Promise<V>;
  /** A loss of the current weights in evaluation mode, without touching the mask stream: whether weights about to
   *  be saved mid-epoch are above the divergence limit. Absent: the detector's recent windows decide alone. */
  probe?(): Promise<number>;

  /** The epoch's record from its sums and its validation. */
  record(epoch: number, lr: number, valid: V, seconds: number): E;
  /** Whether validation `a` is better than `b`: the best checkpoint's criterion and NT-ASGD's. */
  better(a: E, b: E): boolean;
  /** The epoch's line after "epoch e/E  lr x  ". */
  epochLine(record: E, improved: boolean): string;
  /** metrics.jsonl's "final" line after its bestEpoch field. */
  finalLine(valid: V, test: V): Record<string, unknown>;
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

/** What `rnnc sample` asks of a language model (sample.ts). */
export interface SampleOptions {
  readonly tokens: number;
  readonly temperature: number;
  readonly prime: string | null;
  readonly seed: number;
  /** The model normalizes with per-step statistics (the CLI reads it from the run's IR). */
  readonly perStepNorm: boolean;
}

/** What `rnnc export` asks: where to write, and the architecture the inference module needs (from the run's IR). */
export interface ExportOptions {
  readonly out: string;
  readonly architecture: {
    readonly embed: number;
    readonly layers: readonly {
      readonly cell: "lstm" | "gru" | "rnn";
      readonly hidden: number;
      readonly activation: "tanh" | "relu" | null;
      readonly zoneout: { readonly hidden: number; readonly cell: number } | null;
    }[];
    readonly tie: boolean;
    readonly initialState: "zero" | "learned";
  };
}
