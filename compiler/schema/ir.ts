// The IR: one fully resolved experiment, as plain JSON. It is the only input of code generation and of
// `rnnc diff`. Every field is set (defaults included); `origins` says where each leaf value came from.
// Documented in specs/ir.md. Bump IR_VERSION on any change of shape or meaning. A setting declared in settings.ts
// names its field here by a typed path (`IRPath`, at the end of this file), so a field renamed here breaks every declaration that uses it.

export const IR_VERSION = 3;

export interface IRDocument {
  readonly irVersion: typeof IR_VERSION;
  readonly experiments: readonly ExperimentIR[];
}

export type Dataset = "ptb" | "ptb_char" | "wikitext2" | "text8" | "mnist" | "pmnist" | "synthetic" | "text";
export const DATASETS: readonly Dataset[] = [
  "ptb",
  "ptb_char",
  "wikitext2",
  "text8",
  "mnist",
  "pmnist",
  "synthetic",
  "text",
];

export interface DataIR {
  readonly dataset: Dataset;
  /** Directory of train/valid/test files, for `text` only. Relative to the spec that names it. */
  readonly path: string | null;
  /** Tokens are words or characters. */
  readonly level: "word" | "char" | "pixel";
  /** Vocabulary size when the data set fixes it (PTB 10 000, PTB-char 50, …); null when only loading tells. */
  readonly vocab: number | null;
  readonly batch: number;
  readonly evalBatch: number;
  readonly testBatch: number;
  /** BPTT window for language modelling; the fixed sequence length (784) for pixel-by-pixel MNIST. */
  readonly bptt: number;
  /** Carry the hidden state across consecutive batches (truncated BPTT). */
  readonly stateful: boolean;
  /** Start each epoch at a random offset (Cooijmans et al. 2017 on PTB-char). */
  readonly randomCrop: boolean;
  /**
   * Train on independent examples of bptt + 1 tokens cut from the stream, batched in a random order each epoch
   * (Cooijmans et al. 2017, §5.2). Needs `stateful false` and a fixed BPTT length.
   */
  readonly shuffle: boolean;
  /** pMNIST: the seed of the fixed pixel permutation. */
  readonly permutationSeed: number | null;
  readonly synthetic: { readonly order: number; readonly tokens: number; readonly seed: number } | null;
}

export interface TaskIR {
  readonly kind: "lm" | "classify";
  /** Number of classes for `classify`; null for `lm`. */
  readonly classes: number | null;
}

export type CellKind = "lstm" | "gru" | "rnn";

/** A layer as the spec declares it. */
export interface LayerSpecIR {
  readonly cell: CellKind;
  readonly hidden: number;
  /** The nonlinearity of a plain `rnn` cell; null for gated cells. */
  readonly activation: "tanh" | "relu" | null;
}

/** A layer of the IR: as declared, with the sites it really has (decided once, in compiler/layer-plan.ts). */
export interface LayerIR extends LayerSpecIR {
  readonly sites: LayerSitesIR;
}

/**
 * What one layer applies, derived from `dropout`, `model.norm` and the cell: a consumer (code generation) reads it
 * and decides nothing. Each vertical mask belongs to exactly one layer: `input` before the first, `between` before
 * each of the others, `output` after the last (Zaremba et al. 2014, §3.2). null: the layer has no such site.
 */
export interface LayerSitesIR {
  /** Dropout of the layer's input sequence x_t: `input` (embedding or pixels → layer 1) or `between` (layer k−1 → k). */
  readonly dropoutBefore: { readonly site: "input" | "between"; readonly p: number; readonly mask: MaskMode } | null;
  /** Dropout of the last layer's output y_t, before the softmax or read-out; null on every other layer. */
  readonly dropoutAfter: { readonly site: "output"; readonly p: number; readonly mask: MaskMode } | null;
  /** Dropout of h_{t-1} where it enters U (Gal & Ghahramani 2016 when variational). */
  readonly recurrentDropout: { readonly p: number; readonly mode: "variational" | "per_step" } | null;
  /** DropConnect on U, one mask per window (Merity et al. 2018). */
  readonly weightDrop: { readonly p: number } | null;
  /** Zoneout of h, and of c on an LSTM (the only cell with a c_t; 0 on the others) (Krueger et al. 2017). */
  readonly zoneout: { readonly hidden: number; readonly cell: number } | null;
  /**
   * The normalized sites this cell has (`cell` only on an LSTM), and the statistics slots: 1 for layer norm or
   * statistics shared across time, else T_max (`maxSteps`, or the BPTT length when null; Cooijmans et al. 2017 §4).
   * Kind, γ, ε and momentum are `model.norm`'s.
   */
  readonly norm: { readonly sites: readonly NormSite[]; readonly slots: number } | null;
}

export type InitIR =
  | { readonly kind: "uniform"; readonly scale: number }
  | { readonly kind: "uniform_inv_sqrt_hidden" } // U(±1/√H), PyTorch's default for recurrent layers
  | { readonly kind: "normal"; readonly std: number }
  | { readonly kind: "orthogonal"; readonly gain: number }
  | { readonly kind: "identity"; readonly scale: number }
  | { readonly kind: "xavier_uniform" };

export type NormSite = "input" | "recurrent" | "cell";

export interface NormIR {
  readonly kind: "batch" | "layer";
  /** input = on W_x·x, recurrent = on W_h·h, cell = on c_t before tanh (Cooijmans et al. 2017, eq. 6–8). */
  readonly sites: readonly NormSite[];
  /** Initial γ; Cooijmans et al. 2017 §4 use 0.1 to keep tanh/σ out of saturation. */
  readonly gamma: number;
  /** Batch norm only: statistics per time step (the paper) or one set shared across time. */
  readonly stats: "per_step" | "shared";
  /** Batch norm only: T_max; steps beyond it reuse its statistics. */
  readonly maxSteps: number | null;
  /** Batch norm only: the moving-average rate of the population statistics. */
  readonly momentum: number;
  readonly epsilon: number;
}

export interface ModelIR {
  /** Embedding width; null when the input is not tokens (pixel MNIST). */
  readonly embed: number | null;
  readonly layers: readonly LayerIR[];
  readonly init: InitIR;
  readonly recurrentInit: InitIR;
  readonly embedInit: InitIR;
  readonly forgetBias: number;
  /** Share the embedding matrix with the softmax weights (Press & Wolf 2017; Inan et al. 2017). */
  readonly tie: boolean;
  readonly norm: NormIR | null;
  /** Std of Gaussian noise added to h_0 (Cooijmans et al. 2017 on in-order MNIST); 0 = none. */
  readonly initialStateNoise: number;
  /** zero, or learned: h_0 (and c_0) of every layer are parameters (Cooijmans et al. 2017, §2.1). */
  readonly initialState: "zero" | "learned";
}

export type MaskMode = "per_step" | "locked";

export interface VerticalSiteIR {
  readonly p: number;
  /** per_step: a fresh mask at every step (Zaremba 2014); locked: one per sequence (Gal 2016, AWD-LSTM). */
  readonly mask: MaskMode;
}

export interface DropoutIR {
  readonly input: VerticalSiteIR;
  readonly between: VerticalSiteIR;
  readonly output: VerticalSiteIR;
  /** Drops whole word types: rows of the embedding matrix (Gal & Ghahramani 2016). */
  readonly embedding: { readonly p: number };
  /** On h_{t-1}. variational: one mask shared across time; per_step: fresh each step (destructive). */
  readonly recurrent: { readonly p: number; readonly mode: "variational" | "per_step" };
  /** DropConnect on W_hh, one mask per batch (Merity et al. 2018, AWD-LSTM). */
  readonly weight: { readonly p: number };
  /** Zoneout: keep units of c and h at their previous values (Krueger et al. 2017). */
  readonly zoneout: { readonly cell: number; readonly hidden: number };
}

export interface RegularizeIR {
  /** AR = α·mean((m ⊙ h_t)²) on the last layer (Merity et al. 2017, eq. 1). */
  readonly ar: { readonly alpha: number; readonly on: "dropped" | "raw" };
  /** TAR = β·mean((h_t − h_{t+1})²) on the last layer (Merity et al. 2017, eq. 2). */
  readonly tar: { readonly beta: number; readonly on: "dropped" | "raw" };
  readonly weightDecay: number;
}

export type OptimizerIR =
  | { readonly kind: "sgd"; readonly lr: number; readonly momentum: number }
  | {
      readonly kind: "adam";
      readonly lr: number;
      readonly beta1: number;
      readonly beta2: number;
      readonly epsilon: number;
    }
  | {
      readonly kind: "rmsprop";
      readonly lr: number;
      readonly decay: number;
      readonly momentum: number;
      readonly epsilon: number;
    }
  /** Non-monotonically triggered ASGD (Merity et al. 2018): SGD, then averaging once validation stalls. */
  | { readonly kind: "ntasgd"; readonly lr: number; readonly nonmono: number };

export type ScheduleIR =
  | { readonly kind: "constant" }
  /** lr ← lr / by at the end of every epoch after `after` (Zaremba et al. 2014). */
  | { readonly kind: "decay"; readonly by: number; readonly after: number }
  /** lr ← lr / divide when validation fails to improve for `patience` epochs (Merity et al. 2017). */
  | { readonly kind: "plateau"; readonly divide: number; readonly patience: number }
  | { readonly kind: "at_epochs"; readonly epochs: readonly number[]; readonly by: number };

export interface TrainIR {
  readonly epochs: number;
  readonly optimizer: OptimizerIR;
  readonly schedule: ScheduleIR;
  /** Global-norm gradient clipping; null = none. */
  readonly clip: number | null;
  readonly seed: number;
  /** sum_steps: cross-entropy summed over the window, averaged over the batch (Zaremba 2014); mean: over all tokens. */
  readonly loss: "sum_steps" | "mean";
  /** Variable BPTT (Merity et al. 2018): length ~ N(bptt, std) w.p. p else N(bptt/2, std); lr scaled by len/bptt. */
  readonly bptt: { readonly kind: "fixed" } | { readonly kind: "variable"; readonly p: number; readonly std: number };
  /** When a run counts as diverged and stops (specs/language.md, "Divergence"). */
  readonly divergence: DivergenceIR;
}

/**
 * above_uniform: stop once the training loss per token (per sequence for `classify`) exceeds ln V (ln classes), the
 * loss of a uniform guess, by more than `margin` nats for `windows` consecutive windows; off: only a NaN or infinite
 * loss stops the run.
 */
export type DivergenceIR =
  { readonly kind: "above_uniform"; readonly margin: number; readonly windows: number } | { readonly kind: "off" };

export interface ResourcesIR {
  readonly parameters: number;
  /** Parameters, gradients and optimizer state, in bytes of float32. */
  readonly trainingBytes: number;
}

/** Where a value came from: a place in a spec file, or the defaults table. */
export type Origin =
  | { readonly file: string; readonly line: number; readonly col: number; readonly start: number; readonly end: number }
  | "default";

export interface ExperimentIR {
  readonly name: string;
  /** For a sweep point, the values of the swept settings (`{"regularize.ar.alpha": 3}`); null otherwise. */
  readonly variant: Readonly<Record<string, number | string>> | null;
  readonly source: { readonly file: string; readonly line: number };
  /** `file:experiment` for each ancestor, nearest first. Informational: `diff` ignores it. */
  readonly extends: readonly string[];
  readonly data: DataIR;
  readonly task: TaskIR;
  readonly model: ModelIR;
  readonly dropout: DropoutIR;
  readonly regularize: RegularizeIR;
  readonly train: TrainIR;
  readonly resources: ResourcesIR;
  /** Dotted path of every leaf (e.g. `dropout.input.p`, `model.layers.0.hidden`) → where its value came from. */
  readonly origins: Readonly<Partial<Record<IRPath, Origin>>>;
}

// Typed IR paths: every dotted path into an experiment's settings (`model.norm.gamma`, `model.layers.0.hidden`) as a
// string-literal union, so that a misspelled path (`model.norm.gamme`) in a declaration, an origin or a diff setting
// is a compile error rather than a silently missing origin.
// (Here, beside the types they walk: `origins` is keyed by them.)

type Prev = [never, 0, 1, 2, 3, 4, 5, 6];

/**
 * The dotted paths of `T`: each field, and the paths below it. Unions distribute (an initializer's `scale` exists on
 * `uniform` only), `null` is looked through, and an array contributes its indices and its `length`.
 * `D` bounds the depth, so the type stays finite.
 */
export type Paths<T, D extends number = 6> = [D] extends [never]
  ? never
  : T extends readonly (infer U)[]
    ? "length" | `${number}` | `${number}.${Paths<NonNullable<U>, Prev[D]>}`
    : T extends object
      ? { [K in keyof T & string]: K | `${K}.${Paths<NonNullable<T[K]>, Prev[D]>}` }[keyof T & string]
      : never;

/** The blocks of an experiment that hold settings (not its name, source, resources or origins). */
export type SettingsIR = Pick<ExperimentIR, "data" | "task" | "model" | "dropout" | "regularize" | "train">;

/** A path to a setting of the IR, or to a value inside one. */
export type IRPath = Paths<SettingsIR>;

/** The IR value at a dotted path (`model.initialState`, `dropout.input.p`); undefined where the path stops. */
export function valueAt(e: ExperimentIR, path: IRPath): unknown {
  return path.split(".").reduce<unknown>((o, k) => (o as Record<string, unknown> | null | undefined)?.[k], e);
}
