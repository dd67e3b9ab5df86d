// The one table of defaults. Every spec is resolved against it; the IR marks these values' origin "default".
// Data set facts (vocabulary, classes, sequence length) live here too, because checks and estimates need them.
import type { Dataset, DropoutIR, RegularizeIR } from "./ir.js";

export const DEFAULTS = {
  data: { batch: 20, bptt: 35, evalBatch: 10, testBatch: 1, stateful: true, randomCrop: false },
  synthetic: { vocab: 32, order: 2, tokens: 200_000, seed: 1 },
  task: "lm" as const,
  model: {
    init: { kind: "uniform", scale: 0.1 } as const,
    forgetBias: 0,
    tie: false,
    initialStateNoise: 0,
  },
  norm: {
    batch: { gamma: 0.1, momentum: 0.05, epsilon: 1e-5 }, // Cooijmans et al. 2017 §4: γ₀ = 0.1; population rate 0.05
    layer: { gamma: 1.0, momentum: 0, epsilon: 1e-5 }, // Ba et al. 2016
  },
  dropout: {
    input: { p: 0, mask: "per_step" },
    between: { p: 0, mask: "per_step" },
    output: { p: 0, mask: "per_step" },
    embedding: { p: 0 },
    recurrent: { p: 0, mode: "variational" },
    weight: { p: 0 },
    zoneout: { cell: 0, hidden: 0 },
  } satisfies DropoutIR,
  regularize: {
    ar: { alpha: 0, on: "dropped" }, // Merity et al. 2017: AR on the dropped output …
    tar: { beta: 0, on: "raw" }, // … TAR on the raw output
    weightDecay: 0,
  } satisfies RegularizeIR,
  train: {
    epochs: 10,
    optimizer: { kind: "sgd", lr: 1, momentum: 0 } as const,
    clip: null,
    seed: 0,
    loss: "mean" as const,
  },
  optimizers: {
    sgd: { momentum: 0 },
    adam: { lr: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 },
    rmsprop: { lr: 0.001, decay: 0.9, momentum: 0, epsilon: 1e-8 },
    ntasgd: { nonmono: 5 }, // awd-lstm-lm's default
  },
  variableBptt: { p: 0.95, std: 5 }, // awd-lstm-lm
  /** Divergence stop: margin in nats over ln V and consecutive windows; measured to spare healthy runs (specs/language.md). */
  divergence: { kind: "above_uniform", margin: 1, windows: 20 } as const,
  plateauPatience: 0,
  /** Refuse models whose estimated training memory exceeds this (about half of a 24 GiB machine). */
  maxMemoryBytes: 12 * 2 ** 30,
  maxSweepVariants: 64,
} as const;

export interface DatasetFacts {
  readonly level: "word" | "char" | "pixel";
  readonly vocab: number | null;
  readonly task: "lm" | "classify";
  readonly classes: number | null;
  /** Fixed sequence length (pixel MNIST: 28×28). */
  readonly length: number | null;
}

export const DATASET_FACTS: Readonly<Record<Dataset, DatasetFacts>> = {
  ptb: { level: "word", vocab: 10_000, task: "lm", classes: null, length: null },
  ptb_char: { level: "char", vocab: 50, task: "lm", classes: null, length: null },
  wikitext2: { level: "word", vocab: 33_278, task: "lm", classes: null, length: null },
  text8: { level: "char", vocab: 27, task: "lm", classes: null, length: null },
  mnist: { level: "pixel", vocab: null, task: "classify", classes: 10, length: 784 },
  pmnist: { level: "pixel", vocab: null, task: "classify", classes: 10, length: 784 },
  synthetic: { level: "word", vocab: null, task: "lm", classes: null, length: null },
  text: { level: "word", vocab: null, task: "lm", classes: null, length: null },
};
