// The defaults every spec is resolved against, read off the schema's declarations (compiler/schema/settings.ts):
// no value is spelled here except the compiler's own limits. The IR marks these values' origin "default".
import type { Dataset, DropoutIR, RegularizeIR } from "./schema/ir.js";
import {
  BPTT_POLICIES,
  DATASET_FACTS,
  defaultOf,
  DIVERGENCE_RULES,
  OPTIMIZERS,
  SCHEDULES,
  setting,
  type BlockName,
  type DefaultContext,
  type Variants,
} from "./schema/index.js";

export { DATASET_FACTS, type DatasetFacts } from "./schema/datasets.js";

const num = (block: BlockName, key: string, c?: DefaultContext): number => defaultOf(setting(block, key), c) as number;
const bool = (block: BlockName, key: string): boolean => defaultOf(setting(block, key)) as boolean;
/** The default arguments of a call variant, by name. */
const args = (v: Variants, callee: string): Record<string, number> =>
  Object.fromEntries(v[callee]!.filter((p) => p.default !== undefined).map((p) => [p.name, p.default!]));

const O = <K extends string>(callee: K, names: readonly string[]): Record<string, number> => {
  const a = args(OPTIMIZERS, callee);
  return Object.fromEntries(names.map((n) => [n, a[n]!]));
};

export const DEFAULTS = {
  data: {
    batch: num("data", "batch"),
    bptt: num("data", "bptt"),
    evalBatch: num("data", "eval_batch"),
    testBatch: num("data", "test_batch"),
    stateful: defaultOf(setting("data", "stateful"), { facts: DATASET_FACTS.ptb }) as boolean,
    randomCrop: bool("data", "random_crop"),
    shuffle: bool("data", "shuffle"),
  },
  synthetic: {
    vocab: num("data", "vocab"),
    order: num("data", "order"),
    tokens: num("data", "tokens"),
    seed: num("data", "seed"),
  },
  task: defaultOf(setting("experiment", "task")) as "lm",
  model: {
    init: defaultOf(setting("model", "init")) as { readonly kind: "uniform"; readonly scale: number },
    forgetBias: num("model", "forget_bias"),
    tie: bool("model", "tie"),
    initialStateNoise: num("model", "initial_state_noise"),
  },
  norm: {
    batch: {
      gamma: num("norm", "gamma", { norm: "batch" }),
      momentum: num("norm", "momentum", { norm: "batch" }),
      epsilon: num("norm", "epsilon", { norm: "batch" }),
    },
    layer: {
      gamma: num("norm", "gamma", { norm: "layer" }),
      momentum: num("norm", "momentum", { norm: "layer" }),
      epsilon: num("norm", "epsilon", { norm: "layer" }),
    },
  },
  dropout: {
    input: { p: num("dropout", "input"), mask: "per_step" },
    between: { p: num("dropout", "between"), mask: "per_step" },
    output: { p: num("dropout", "output"), mask: "per_step" },
    embedding: { p: num("dropout", "embedding") },
    recurrent: { p: num("dropout", "recurrent"), mode: "variational" },
    weight: { p: num("dropout", "weight") },
    zoneout: { cell: num("dropout", "zoneout"), hidden: num("dropout", "zoneout") },
  } satisfies DropoutIR as DropoutIR,
  regularize: {
    ar: { alpha: num("regularize", "ar"), on: "dropped" }, // Merity et al. 2017: AR on the dropped output …
    tar: { beta: num("regularize", "tar"), on: "raw" }, // … TAR on the raw output
    weightDecay: num("regularize", "weight_decay"),
  } satisfies RegularizeIR as RegularizeIR,
  train: {
    epochs: num("train", "epochs"),
    optimizer: defaultOf(setting("train", "optimizer")) as {
      readonly kind: "sgd";
      readonly lr: number;
      readonly momentum: number;
    },
    clip: defaultOf(setting("train", "clip")) as number | null,
    seed: num("train", "seed"),
    loss: defaultOf(setting("train", "loss")) as "mean" | "sum_steps",
  },
  optimizers: {
    sgd: O("sgd", ["momentum"]),
    adam: O("adam", ["lr", "beta1", "beta2", "epsilon"]),
    rmsprop: O("rmsprop", ["lr", "decay", "momentum", "epsilon"]),
    ntasgd: O("ntasgd", ["nonmono"]),
  },
  variableBptt: args(BPTT_POLICIES, "variable") as { readonly p: number; readonly std: number },
  /** Divergence stop: margin in nats over ln V and consecutive windows; measured to spare healthy runs (specs/language.md). */
  divergence: { kind: "above_uniform", ...args(DIVERGENCE_RULES, "above_uniform") } as {
    readonly kind: "above_uniform";
    readonly margin: number;
    readonly windows: number;
  },
  plateauPatience: args(SCHEDULES, "plateau")["patience"]!,
  /** Refuse models whose estimated training memory exceeds this (about half of a 24 GiB machine). */
  maxMemoryBytes: 12 * 2 ** 30,
  maxSweepVariants: 64,
} as const;

/** The data sets, for callers that list them. */
export type { Dataset };
