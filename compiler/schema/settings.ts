// Every block and every setting of the language, declared once: its key, the block it stands in, the shape of its
// value, its default, its range, what it means, the paper that motivates it and the IR path it lowers to. From this
// table come the parser's keyword vocabulary, the resolver's nesting table, the generic reading and range checks of
// simple settings (compiler/lower.ts), the defaults (compiler/defaults.ts), `rnnc diff`'s list of settings, the
// `--set` blocks and "did you mean" suggestions, and the settings reference in specs/language.md (reference.ts).
//
// Adding a simple setting (a number, a flag or a word) is one declaration here, the IR field it fills (ir.ts) and the
// runtime piece that uses it; `emit` names the RecurrentLayer option codegen passes it to.
import type { DatasetFacts } from "./datasets.js";
import { DATASETS } from "./ir.js";
import type { IRPath } from "./ir.js";
import { range, type Range } from "./ranges.js";

/** The block of an experiment's body; nested blocks are named by the key that opens them. */
export const EXPERIMENT_BLOCK = "experiment";

export type BlockName = "experiment" | "data" | "model" | "norm" | "dropout" | "regularize" | "train";

/** One parameter of a call-shaped value such as `sgd(lr = 1, momentum = 0.9)`. */
export interface ParamDecl {
  readonly name: string;
  readonly range: Range;
  /** The value's name in diagnostics ("the decay divisor"). */
  readonly what: string;
  /** Absent: the argument is required. */
  readonly default?: number;
  /** Accepts a list of numbers rather than one number. */
  readonly list?: boolean;
}

/** The calls a call-shaped setting accepts, by callee. */
export type Variants = Readonly<Record<string, readonly ParamDecl[]>>;

/** What the value of a setting looks like, which decides how it is read. */
export type Shape =
  /** `key N`, in a range. */
  | { readonly kind: "number"; readonly range: Range }
  /** `key`, `key true` or `key false`. */
  | { readonly kind: "flag" }
  /** `key WORD`, one of `options`. */
  | { readonly kind: "word"; readonly options: readonly string[] }
  /** `key NAME(args)` or a bare `key NAME`, one of `variants`. */
  | { readonly kind: "call"; readonly variants: Variants; readonly example: string }
  /** `key { … }`: a block of settings of its own. */
  | { readonly kind: "block" }
  /** A value with a grammar of its own (`zoneout cell P hidden P`), read by its block's assembly in lower.ts. */
  | { readonly kind: "custom"; readonly variants?: Variants };

/** What decides a default that is not one value: the data set, and for normalization settings the kind of norm. */
export interface DefaultContext {
  readonly facts?: DatasetFacts;
  readonly norm?: "batch" | "layer";
}

export type DefaultValue = number | boolean | string | null | { readonly [k: string]: unknown };

export interface Setting {
  readonly block: BlockName;
  readonly key: string;
  readonly shape: Shape;
  /** The statement's shape in hints and in the reference: `ar α [dropped | raw]`. */
  readonly syntax: string;
  /** The value's name in diagnostics ("the batch size"). */
  readonly what: string;
  /** The default, or a function of the data set or norm kind; "required" when a spec must write it. */
  readonly default: DefaultValue | ((c: DefaultContext) => DefaultValue) | "required";
  /** The value column of the reference, where the shape alone would not say it. */
  readonly valueText?: string;
  /** The default as the reference writes it, where the value alone would not say it. */
  readonly defaultText?: string;
  /** The value at which the setting does nothing (`tie false`, `weight_decay 0`): `rnnc diff` shows it as absent. */
  readonly neutral?: DefaultValue;
  /** One line: what the setting does. */
  readonly meaning: string;
  /** The paper (name, year, section) that motivates it. */
  readonly paper?: string;
  /** Where it applies when not everywhere (`pmnist only`); elsewhere it is warned as having no effect. */
  readonly only?: string;
  /** The IR path it lowers to (for a call or a composite value, its head: `train.optimizer.kind`). */
  readonly path: IRPath | null;
  /** The block this statement opens (`model { … }`), when it opens one. */
  readonly opens?: BlockName;
  /**
   * For codegen: the RecurrentLayer option a simple per-layer setting (a number, flag or word) is passed to. Codegen's
   * recurrent-layer emitter passes every such setting that is not at its default, with a comment made of its `key`,
   * `meaning` and `paper`, so adding one needs no emitter code. Settings whose values have structure of their own
   * (forget_bias only on LSTMs, the dropout sites, norm) are written by their own emitters and carry no `emit`.
   */
  readonly emit?: { readonly piece: "RecurrentLayer"; readonly option: string };
}

// ── call variants ───────────────────────────────────────────────────────────────────────────────────────────

export const CELLS: Variants = {
  lstm: [{ name: "hidden", range: range.positiveInt, what: "the hidden size" }],
  gru: [{ name: "hidden", range: range.positiveInt, what: "the hidden size" }],
  rnn: [{ name: "hidden", range: range.positiveInt, what: "the hidden size" }],
};

export const INITS: Variants = {
  uniform: [{ name: "scale", range: range.positive, what: "the init scale" }],
  inv_sqrt_hidden: [],
  normal: [{ name: "std", range: range.positive, what: "the init std" }],
  orthogonal: [{ name: "gain", range: range.positive, what: "the orthogonal gain", default: 1 }],
  identity: [{ name: "scale", range: range.positive, what: "the identity scale", default: 1 }],
  xavier: [],
};

export const NORM_STATS: Variants = {
  per_step: [{ name: "max_steps", range: range.positiveInt, what: "max_steps", default: 0 }],
  shared: [],
};

export const OPTIMIZERS: Variants = {
  sgd: [
    { name: "lr", range: range.learningRate, what: "lr" },
    { name: "momentum", range: range.probability, what: "momentum", default: 0 },
  ],
  adam: [
    { name: "lr", range: range.learningRate, what: "lr", default: 0.001 },
    { name: "beta1", range: range.probability, what: "beta1", default: 0.9 },
    { name: "beta2", range: range.probability, what: "beta2", default: 0.999 },
    { name: "epsilon", range: range.positive, what: "epsilon", default: 1e-8 },
  ],
  rmsprop: [
    { name: "lr", range: range.learningRate, what: "lr", default: 0.001 },
    { name: "momentum", range: range.probability, what: "momentum", default: 0 },
    { name: "decay", range: range.probability, what: "decay", default: 0.9 },
    { name: "epsilon", range: range.positive, what: "epsilon", default: 1e-8 },
  ],
  // awd-lstm-lm's default non-monotone interval
  ntasgd: [
    { name: "lr", range: range.learningRate, what: "lr" },
    { name: "nonmono", range: range.positiveInt, what: "nonmono", default: 5 },
  ],
};

export const SCHEDULES: Variants = {
  constant: [],
  decay: [
    { name: "by", range: range.greaterThan(1), what: "the decay divisor" },
    { name: "after", range: range.nonNegativeInt, what: "the epoch to start after" },
  ],
  plateau: [
    { name: "divide", range: range.greaterThan(1), what: "the plateau divisor" },
    { name: "patience", range: range.nonNegativeInt, what: "patience", default: 0 },
  ],
  at_epochs: [
    { name: "epochs", range: range.positiveInt, what: "an epoch", list: true },
    { name: "by", range: range.greaterThan(1), what: "the divisor" },
  ],
};

/** awd-lstm-lm's defaults. */
export const BPTT_POLICIES: Variants = {
  fixed: [],
  variable: [
    { name: "p", range: range.probability, what: "p", default: 0.95 },
    { name: "std", range: range.nonNegative, what: "std", default: 5 },
  ],
};

/** Margin in nats over ln V and consecutive windows; measured to spare healthy runs (specs/language.md, "Divergence"). */
export const DIVERGENCE_RULES: Variants = {
  above_uniform: [
    { name: "margin", range: range.positive, what: "the divergence margin", default: 1 },
    { name: "windows", range: range.positiveInt, what: "the number of windows", default: 20 },
  ],
  off: [],
};

// ── the settings ────────────────────────────────────────────────────────────────────────────────────────────

const num = (r: Range): Shape => ({ kind: "number", range: r });
const FLAG: Shape = { kind: "flag" };
const word = (...options: string[]): Shape => ({ kind: "word", options });
const call = (variants: Variants, example: string): Shape => ({ kind: "call", variants, example });
const BLOCK: Shape = { kind: "block" };
const CUSTOM: Shape = { kind: "custom" };

const V = "P [per_step | locked]";

/** In block order, and within a block in the order of the keyword vocabulary (suggestions break ties by it). */
export const SETTINGS: readonly Setting[] = [
  // experiment
  {
    block: "experiment",
    key: "data",
    shape: CUSTOM,
    syntax: 'data NAME ["path"] { … }',
    what: "data set",
    default: "required",
    meaning: "the data set and how it is batched",
    path: "data.dataset",
    opens: "data",
  },
  {
    block: "experiment",
    key: "task",
    shape: word("lm", "classify"),
    syntax: "task lm | classify",
    what: "task",
    default: (c) => c.facts?.task ?? "lm",
    defaultText: "what the data set is: `classify` for MNIST, `lm` otherwise",
    meaning: "`lm` predicts every next token; `classify` predicts a label from the last state",
    path: "task.kind",
  },
  {
    block: "experiment",
    key: "model",
    shape: BLOCK,
    syntax: "model { … }",
    what: "model",
    default: "required",
    meaning: "the layers, their initialization and normalization",
    path: null,
    opens: "model",
  },
  {
    block: "experiment",
    key: "dropout",
    shape: BLOCK,
    syntax: "dropout { … }",
    what: "dropout",
    default: null,
    defaultText: "no dropout",
    meaning: "where units are dropped",
    path: null,
    opens: "dropout",
  },
  {
    block: "experiment",
    key: "regularize",
    shape: BLOCK,
    syntax: "regularize { … }",
    what: "regularize",
    default: null,
    defaultText: "none",
    meaning: "penalties added to the loss",
    path: null,
    opens: "regularize",
  },
  {
    block: "experiment",
    key: "train",
    shape: BLOCK,
    syntax: "train { … }",
    what: "train",
    default: null,
    defaultText: "the defaults below",
    meaning: "optimization",
    path: null,
    opens: "train",
  },

  // data
  {
    block: "data",
    key: "batch",
    shape: num(range.positiveInt),
    syntax: "batch N",
    what: "the batch size",
    default: 20,
    meaning: "training batch size",
    path: "data.batch",
  },
  {
    block: "data",
    key: "bptt",
    shape: num(range.positiveInt),
    syntax: "bptt N",
    what: "the BPTT length",
    default: (c) => c.facts?.length ?? 35,
    defaultText: "35",
    meaning: "BPTT window (no effect on MNIST, whose length is 784)",
    path: "data.bptt",
  },
  {
    block: "data",
    key: "eval_batch",
    shape: num(range.positiveInt),
    syntax: "eval_batch N",
    what: "the evaluation batch size",
    default: 10,
    meaning: "validation batch size",
    path: "data.evalBatch",
  },
  {
    block: "data",
    key: "test_batch",
    shape: num(range.positiveInt),
    syntax: "test_batch N",
    what: "the test batch size",
    default: 1,
    meaning: "test batch size (1 in the papers' code)",
    path: "data.testBatch",
  },
  {
    block: "data",
    key: "stateful",
    shape: FLAG,
    syntax: "stateful [true | false]",
    what: "'stateful'",
    default: (c) => (c.facts?.task ?? "lm") === "lm",
    defaultText: "true for a language model",
    meaning: "carry the hidden state across batches (truncated BPTT)",
    only: "language models",
    path: "data.stateful",
  },
  {
    block: "data",
    key: "level",
    shape: word("word", "char"),
    syntax: "level word | char",
    what: "text level",
    default: (c) => c.facts?.level ?? "word",
    defaultText: "word",
    meaning: "whether the tokens of a `text` corpus are words or characters",
    only: "`text`",
    path: "data.level",
  },
  {
    block: "data",
    key: "vocab",
    shape: num(range.atLeast(2)),
    syntax: "vocab N",
    what: "the vocabulary size",
    default: 32,
    meaning: "vocabulary of the synthetic corpus",
    only: "`synthetic`",
    path: "data.vocab",
  },
  {
    block: "data",
    key: "order",
    shape: num(range.positiveInt),
    syntax: "order N",
    what: "the Markov order",
    default: 2,
    meaning: "Markov order of the synthetic corpus",
    only: "`synthetic`",
    path: "data.synthetic.order",
  },
  {
    block: "data",
    key: "tokens",
    shape: num(range.positiveInt),
    syntax: "tokens N",
    what: "the corpus size",
    default: 200_000,
    meaning: "size of the synthetic corpus in tokens",
    only: "`synthetic`",
    path: "data.synthetic.tokens",
  },
  {
    block: "data",
    key: "seed",
    shape: num(range.nonNegativeInt),
    syntax: "seed N",
    what: "the corpus seed",
    default: 1,
    meaning: "seed of the synthetic corpus (the training seed is `train { seed N }`)",
    only: "`synthetic`",
    path: "data.synthetic.seed",
  },
  {
    block: "data",
    key: "permutation_seed",
    shape: num(range.nonNegativeInt),
    syntax: "permutation_seed N",
    what: "the permutation seed",
    default: 0,
    meaning: "seed of the fixed pixel permutation",
    only: "`pmnist`",
    path: "data.permutationSeed",
  },
  {
    block: "data",
    key: "random_crop",
    shape: FLAG,
    neutral: false,
    syntax: "random_crop [true | false]",
    what: "'random_crop'",
    default: false,
    meaning: "start each epoch at a random offset",
    paper: "Cooijmans et al. 2017 §5.2 (PTB-char)",
    only: "language models",
    path: "data.randomCrop",
  },
  {
    block: "data",
    key: "shuffle",
    shape: FLAG,
    neutral: false,
    syntax: "shuffle [true | false]",
    what: "'shuffle'",
    default: false,
    meaning: "train on independent bptt-long examples, in a fresh random order every epoch",
    paper: "Cooijmans et al. 2017 §5.2, §5.3 (PTB-char, text8)",
    only: "language models",
    path: "data.shuffle",
  },

  // model
  {
    block: "model",
    key: "embed",
    shape: CUSTOM,
    syntax: "embed N | none",
    what: "the embedding size",
    default: null,
    defaultText: "first layer's width",
    meaning: "embedding size; `none` feeds raw values",
    path: "model.embed",
  },
  {
    block: "model",
    key: "layers",
    shape: { kind: "custom", variants: CELLS },
    syntax: "layers N CELL  or  layers [CELL, CELL, …]",
    what: "the number of layers",
    default: "required",
    meaning: "the stack; per-layer sizes with a list",
    path: "model.layers",
  },
  {
    block: "model",
    key: "init",
    shape: call(INITS, "init uniform(0.1)"),
    syntax: "init uniform(0.1) | inv_sqrt_hidden | normal(0.01) | orthogonal | identity | xavier",
    what: "initializer",
    default: { kind: "uniform", scale: 0.1 },
    defaultText: "`uniform(0.1)`",
    meaning: "all weights",
    path: "model.init.kind",
  },
  {
    block: "model",
    key: "recurrent_init",
    shape: call(INITS, "recurrent_init uniform(0.1)"),
    syntax: "recurrent_init uniform(0.1) | inv_sqrt_hidden | normal(0.01) | orthogonal | identity | xavier",
    what: "initializer",
    default: null,
    defaultText: "same as `init`",
    meaning: "W_hh",
    path: "model.recurrentInit.kind",
  },
  {
    block: "model",
    key: "embed_init",
    shape: call(INITS, "embed_init uniform(0.1)"),
    syntax: "embed_init uniform(0.1) | inv_sqrt_hidden | normal(0.01) | orthogonal | identity | xavier",
    what: "initializer",
    default: null,
    defaultText: "same as `init`",
    meaning: "the embedding",
    path: "model.embedInit.kind",
  },
  {
    block: "model",
    key: "forget_bias",
    shape: num(range.any),
    syntax: "forget_bias N",
    what: "the forget-gate bias",
    default: 0,
    meaning: "initial forget-gate bias of LSTMs",
    only: "LSTM layers",
    path: "model.forgetBias",
  },
  {
    block: "model",
    key: "tie",
    shape: FLAG,
    neutral: false,
    syntax: "tie [true | false]",
    what: "'tie'",
    default: false,
    meaning: "share the embedding with the softmax (needs `embed` = last layer's width)",
    paper: "Press & Wolf 2017; Inan et al. 2017",
    path: "model.tie",
  },
  {
    block: "model",
    key: "norm",
    shape: CUSTOM,
    syntax: "norm batch | layer | none { … }",
    what: "normalization",
    default: null,
    defaultText: "none",
    meaning: "recurrent batch or layer normalization (below)",
    paper: "Cooijmans et al. 2017; Ba et al. 2016",
    path: "model.norm.kind",
    opens: "norm",
  },
  {
    block: "model",
    key: "initial_state_noise",
    shape: num(range.nonNegative),
    neutral: 0,
    syntax: "initial_state_noise N",
    what: "the initial-state noise",
    default: 0,
    meaning: "std of Gaussian noise on h₀",
    paper: "Cooijmans et al. 2017 §5.1 (in-order MNIST)",
    path: "model.initialStateNoise",
  },
  {
    block: "model",
    key: "initial_state",
    shape: word("zero", "learned"),
    neutral: "zero",
    syntax: "initial_state zero | learned",
    what: "the initial state",
    default: "zero",
    meaning: "the state every sequence starts from: zeros, or h₀ (and c₀ for an LSTM) learned with the weights",
    // §2.1: "the initial states h0 ∈ R^dh, c0 ∈ R^dh are model parameters".
    paper: "Cooijmans et al. 2017 §2.1",
    path: "model.initialState",
    emit: { piece: "RecurrentLayer", option: "initialState" },
  },

  // norm
  {
    block: "norm",
    key: "on",
    shape: CUSTOM,
    syntax: "on [input, recurrent, cell]",
    what: "normalization site",
    default: ["input", "recurrent", "cell"] as unknown as DefaultValue,
    defaultText: "all three",
    meaning: "which sites: W_x·x, W_h·h, c_t before tanh",
    paper: "Cooijmans et al. 2017 eq. 6–8",
    path: "model.norm.sites",
  },
  {
    block: "norm",
    key: "gamma",
    shape: num(range.positive),
    syntax: "gamma N",
    what: "the initial γ",
    default: (c) => (c.norm === "layer" ? 1.0 : 0.1),
    defaultText: "batch 0.1, layer 1.0",
    meaning: "initial γ; 0.1 keeps the gates out of saturation",
    paper: "Cooijmans et al. 2017 §4",
    path: "model.norm.gamma",
  },
  {
    block: "norm",
    key: "stats",
    shape: call(NORM_STATS, "stats per_step"),
    syntax: "stats per_step | per_step(max_steps = N) | shared",
    valueText: "`per_step` | `per_step(max_steps = N)` | `shared`",
    what: "statistics mode",
    default: "per_step",
    meaning:
      "batch norm: statistics per time step; steps beyond T_max reuse T_max's. `shared` is the known bug of many ports, allowed for ablations with a warning",
    only: "batch norm",
    path: "model.norm.stats",
  },
  // Cooijmans et al. 2017 §4 keep population statistics as moving averages; 0.05 is this compiler's rate.
  {
    block: "norm",
    key: "momentum",
    shape: num(range.probability),
    syntax: "momentum N",
    what: "the population-statistics rate",
    default: (c) => (c.norm === "layer" ? 0 : 0.05),
    defaultText: "0.05",
    meaning: "batch norm: moving-average rate of the population statistics",
    only: "batch norm",
    path: "model.norm.momentum",
  },
  {
    block: "norm",
    key: "epsilon",
    shape: num(range.positive),
    syntax: "epsilon N",
    what: "ε",
    default: 1e-5,
    meaning: "added to the variance before its square root",
    path: "model.norm.epsilon",
  },

  // dropout
  {
    block: "dropout",
    key: "input",
    shape: CUSTOM,
    syntax: `input ${V}`,
    what: "input dropout",
    default: 0,
    meaning: "embedding → layer 1",
    paper: "Zaremba et al. 2014 §3",
    path: "dropout.input.p",
  },
  {
    block: "dropout",
    key: "between",
    shape: CUSTOM,
    syntax: `between ${V}`,
    what: "between dropout",
    default: 0,
    meaning: "layer l → layer l+1",
    paper: "Zaremba et al. 2014 §3",
    path: "dropout.between.p",
  },
  {
    block: "dropout",
    key: "output",
    shape: CUSTOM,
    syntax: `output ${V}`,
    what: "output dropout",
    default: 0,
    meaning: "last layer → softmax",
    paper: "Zaremba et al. 2014 §3",
    path: "dropout.output.p",
  },
  {
    block: "dropout",
    key: "embedding",
    shape: num(range.probability),
    neutral: 0,
    syntax: "embedding P",
    what: "embedding dropout",
    default: 0,
    meaning: "whole word types: rows of the embedding matrix",
    paper: "Gal & Ghahramani 2016 §4.2",
    path: "dropout.embedding.p",
  },
  {
    block: "dropout",
    key: "recurrent",
    shape: CUSTOM,
    syntax: "recurrent P [variational | per_step]",
    what: "recurrent dropout",
    default: 0,
    meaning:
      "a mask on h_{t-1}: one per sequence (`variational`, default) or a fresh one each step (`per_step`, warned)",
    paper: "Gal & Ghahramani 2016",
    path: "dropout.recurrent.p",
  },
  {
    block: "dropout",
    key: "weight",
    shape: num(range.probability),
    neutral: 0,
    syntax: "weight P",
    what: "weight dropout",
    default: 0,
    meaning: "DropConnect on W_hh, one mask per batch (AWD-LSTM weight drop)",
    paper: "Merity et al. 2018 §2",
    path: "dropout.weight.p",
  },
  {
    block: "dropout",
    key: "zoneout",
    shape: CUSTOM,
    syntax: "zoneout [cell P] [hidden P]",
    what: "zoneout",
    default: 0,
    meaning: "keep units of c and/or h at their previous values; `zoneout P` sets both",
    paper: "Krueger et al. 2017",
    path: "dropout.zoneout.cell",
  },

  // regularize
  {
    block: "regularize",
    key: "ar",
    shape: CUSTOM,
    syntax: "ar α [dropped | raw]",
    what: "the AR coefficient",
    default: 0,
    defaultText: "0, dropped",
    meaning: "α·mean((m ⊙ h_t)²) on the last layer's dropped output",
    paper: "Merity et al. 2017 eq. 1",
    path: "regularize.ar.alpha",
  },
  {
    block: "regularize",
    key: "tar",
    shape: CUSTOM,
    syntax: "tar β [dropped | raw]",
    what: "the TAR coefficient",
    default: 0,
    defaultText: "0, raw",
    meaning: "β·mean((h_t − h_{t+1})²) on the last layer's raw output",
    paper: "Merity et al. 2017 eq. 2",
    path: "regularize.tar.beta",
  },
  {
    block: "regularize",
    key: "weight_decay",
    shape: num(range.nonNegative),
    neutral: 0,
    syntax: "weight_decay λ",
    what: "the weight decay",
    default: 0,
    meaning: "L2 on the weights",
    path: "regularize.weightDecay",
  },

  // train
  {
    block: "train",
    key: "epochs",
    shape: num(range.positiveInt),
    syntax: "epochs N",
    what: "the number of epochs",
    default: 10,
    meaning: "passes over the training data",
    path: "train.epochs",
  },
  {
    block: "train",
    key: "optimizer",
    shape: call(OPTIMIZERS, "optimizer sgd(lr = 1)"),
    syntax: "optimizer sgd(lr = 1) | adam(…) | rmsprop(…) | ntasgd(…)",
    what: "optimizer",
    default: { kind: "sgd", lr: 1, momentum: 0 },
    defaultText: "`sgd(lr = 1)`",
    meaning: "`ntasgd`: SGD, then averaging once validation stalls",
    paper: "Merity et al. 2018 §3 (NT-ASGD)",
    path: "train.optimizer.kind",
  },
  {
    block: "train",
    key: "schedule",
    shape: call(SCHEDULES, "schedule decay(by = 2, after = 4)"),
    syntax: "schedule decay(by, after) | plateau(divide) | at_epochs([…], by) | constant",
    what: "schedule",
    default: { kind: "constant" },
    defaultText: "constant",
    meaning: "`decay`: lr ← lr/by every epoch after `after`; `plateau`: lr ← lr/divide when validation stops improving",
    paper: "Zaremba et al. 2014 §4.1; Merity et al. 2017",
    path: "train.schedule.kind",
  },
  {
    block: "train",
    key: "clip",
    shape: CUSTOM,
    syntax: "clip N | none",
    what: "the clipping norm",
    default: null,
    defaultText: "none",
    meaning: "global-norm gradient clipping (a number > 0)",
    path: "train.clip",
  },
  {
    block: "train",
    key: "seed",
    shape: num(range.nonNegativeInt),
    syntax: "seed N",
    what: "the seed",
    default: 0,
    meaning: "one seed, one loss trajectory",
    path: "train.seed",
  },
  {
    block: "train",
    key: "loss",
    shape: word("mean", "sum_steps"),
    syntax: "loss mean | sum_steps",
    what: "loss convention",
    default: "mean",
    meaning:
      "`sum_steps`: cross-entropy summed over the BPTT window and averaged over the batch, the convention of Zaremba et al. (their lr 1 and clip 5 apply to it); `mean`: over all tokens, as awd-lstm-lm",
    only: "language models",
    path: "train.loss",
  },
  {
    block: "train",
    key: "bptt",
    shape: call(BPTT_POLICIES, "bptt variable(p = 0.95, std = 5)"),
    syntax: "bptt fixed | variable(p = 0.95, std = 5)",
    what: "BPTT policy",
    default: { kind: "fixed" },
    defaultText: "fixed",
    meaning: "variable BPTT of AWD-LSTM, lr scaled by seq_len/bptt",
    paper: "Merity et al. 2018 §4.1",
    only: "language models",
    path: "train.bptt.kind",
  },
  {
    block: "train",
    key: "divergence",
    shape: call(DIVERGENCE_RULES, "divergence above_uniform(margin = 1, windows = 20)"),
    syntax: "divergence above_uniform(margin = 1, windows = 20) | off",
    what: "divergence rule",
    default: { kind: "above_uniform", margin: 1, windows: 20 },
    defaultText: "`above_uniform(margin = 1, windows = 20)`",
    meaning:
      "stop a run whose training loss per token stays above ln V + `margin` nats for `windows` consecutive windows (see *Divergence*); `off`: only a NaN or infinite loss stops it",
    path: "train.divergence.kind",
  },
];

// ── derived tables ──────────────────────────────────────────────────────────────────────────────────────────

const BY_BLOCK = new Map<BlockName, Setting[]>();
const BY_ID = new Map<string, Setting>();
for (const s of SETTINGS) {
  BY_BLOCK.set(s.block, [...(BY_BLOCK.get(s.block) ?? []), s]);
  BY_ID.set(`${s.block}.${s.key}`, s);
}

/** The settings of one block, in declaration order. */
export function settingsOf(block: BlockName): readonly Setting[] {
  return BY_BLOCK.get(block) ?? [];
}

/** The setting `key` of `block` (looked up once per statement of every experiment: a map). A typo here is a bug. */
export function setting(block: BlockName, key: string): Setting {
  const s = BY_ID.get(`${block}.${key}`);
  if (!s) throw new Error(`no setting ${block}.${key} in the schema`);
  return s;
}

/** The blocks, in declaration order. */
export const BLOCKS: readonly BlockName[] = [...new Set(SETTINGS.map((s) => s.block))];

/** Block → the keys that may start a statement in it: the parser's vocabulary and the unknown-key check's list. */
export const STATEMENT_KEYWORDS: Readonly<Record<BlockName, readonly string[]>> = Object.fromEntries(
  BLOCKS.map((b) => [b, settingsOf(b).map((s) => s.key)]),
) as unknown as Record<BlockName, readonly string[]>;

/** `owner block/key` → the block that key opens (`model/norm` → `norm`). */
export const NESTED_BLOCKS: Readonly<Record<string, BlockName>> = Object.fromEntries(
  SETTINGS.filter((s) => s.opens).map((s) => [`${s.block}/${s.key}`, s.opens!]),
);

/** What `parse` is given. */
export const VOCABULARY = { root: EXPERIMENT_BLOCK, keywords: STATEMENT_KEYWORDS } as const;

/** A setting's default in a context; undefined for a required one. */
export function defaultOf(s: Setting, c: DefaultContext = {}): DefaultValue | undefined {
  if (s.default === "required") return undefined;
  return typeof s.default === "function" ? s.default(c) : s.default;
}

/** The data sets `data NAME` accepts (for the reference). */
export const DATASET_NAMES = DATASETS;
