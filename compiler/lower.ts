// Phase 3: check a resolved experiment and lower it to the IR. Each block has one lowering function that
// reads its statements through read.ts, fills what is unset from defaults.ts, and records origins.
import { own, type Call, type Value } from "../grammar/index.js";
import { DATASET_FACTS, DEFAULTS } from "./defaults.js";
import { Diag, type ArgumentHome, type Loc, type NoEffectReason } from "./diagnostics.js";
import { printValue } from "./fmt.js";
import type * as ir from "./ir.js";
import { DATASETS } from "./ir.js";
import { checks as c, LowerContext, readCall, readKey, readNumberKey, StatementReader, type Check, type Param, type Placed } from "./read.js";
import type { RBlock, REntry, ResolvedExperiment } from "./resolve.js";
import type { SourceText } from "./source.js";

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export interface Lowered {
  readonly experiment?: ir.ExperimentIR;
  readonly context: LowerContext;
}

const reader = (cx: LowerContext, e: REntry, shape: string) => new StatementReader(cx, e, shape);

// ── data ────────────────────────────────────────────────────────────────────────────────────────────────────

function lowerData(cx: LowerContext, entry: REntry | undefined, expLoc: Loc): ir.DataIR | undefined {
  if (!entry) {
    cx.report(Diag.missingSetting(expLoc, "data set", "data ptb { batch 20  bptt 35 }"));
    return undefined;
  }
  const head = reader(cx, entry, 'data NAME ["path"] { … }');
  const dataset = head.word("data.dataset", "data set", DATASETS);
  let path: string | null = null;
  if (dataset === "text") {
    const v = head.take();
    if (v?.kind === "String") {
      path = v.value;
      cx.origin("data.path", head.at(v.span));
    } else cx.report(Diag.missingValue(head.keyLoc, "data text", 'data text "path/to/dir" { … }'));
  }
  head.done();
  if (!dataset) return undefined;
  const facts = DATASET_FACTS[dataset];
  const b = entry.block ?? new Map<string, REntry>();
  const num = (key: string, path: string, what: string, check: Check, fallback: number): number => readNumberKey(cx, b, key, path, what, check, fallback);
  const flag = (key: string, path: string, fallback: boolean): boolean => readKey(cx, b, key, `${key} [true | false]`, (r) => r.flag(path)) ?? fallback;
  const only = (key: string, applies: boolean, why: NoEffectReason): void => {
    const e = b.get(key);
    if (e && !applies) cx.report(Diag.noEffect({ file: e.file, span: e.stmt.span }, key, why));
  };

  const batch = num("batch", "data.batch", "the batch size", c.positiveInt("the batch size"), DEFAULTS.data.batch);
  const evalBatch = num("eval_batch", "data.evalBatch", "the evaluation batch size", c.positiveInt("the evaluation batch size"), DEFAULTS.data.evalBatch);
  const testBatch = num("test_batch", "data.testBatch", "the test batch size", c.positiveInt("the test batch size"), DEFAULTS.data.testBatch);
  let bptt = num("bptt", "data.bptt", "the BPTT length", c.positiveInt("the BPTT length"), DEFAULTS.data.bptt);
  if (facts.length !== null) {
    only("bptt", false, { kind: "fixedLength", dataset, length: facts.length });
    bptt = facts.length;
  }
  const stateful = flag("stateful", "data.stateful", facts.task === "lm" && DEFAULTS.data.stateful);
  only("stateful", facts.task === "lm", { kind: "independentSequences" });
  const randomCrop = flag("random_crop", "data.randomCrop", DEFAULTS.data.randomCrop);
  only("random_crop", facts.task === "lm", { kind: "languageModelStreams" });

  let level = facts.level;
  const levelEntry = b.get("level");
  if (levelEntry) {
    const r = reader(cx, levelEntry, "level word | char");
    level = r.word("data.level", "text level", ["word", "char"] as const) ?? level;
    r.done();
    only("level", dataset === "text", { kind: "fixedLevel", dataset });
    if (dataset !== "text") level = facts.level;
  }
  const isSynthetic = dataset === "synthetic";
  for (const k of ["vocab", "order", "tokens"]) only(k, isSynthetic, { kind: "syntheticCorpus" });
  only("seed", isSynthetic, { kind: "syntheticSeed" });
  only("permutation_seed", dataset === "pmnist", { kind: "pmnistOnly" });
  const synthetic = isSynthetic
    ? {
        order: num("order", "data.synthetic.order", "the Markov order", c.positiveInt("the Markov order"), DEFAULTS.synthetic.order),
        tokens: num("tokens", "data.synthetic.tokens", "the corpus size", c.positiveInt("the corpus size"), DEFAULTS.synthetic.tokens),
        seed: num("seed", "data.synthetic.seed", "the corpus seed", c.nonNegativeInt("the corpus seed"), DEFAULTS.synthetic.seed),
      }
    : null;
  const vocab = isSynthetic
    ? num("vocab", "data.vocab", "the vocabulary size", c.atLeast("the vocabulary size", 2), DEFAULTS.synthetic.vocab)
    : facts.vocab;
  const permutationSeed = dataset === "pmnist" ? num("permutation_seed", "data.permutationSeed", "the permutation seed", c.nonNegativeInt("the permutation seed"), 0) : null;
  return { dataset, path, level, vocab, batch, evalBatch, testBatch, bptt, stateful, randomCrop, permutationSeed, synthetic };
}

// ── model ───────────────────────────────────────────────────────────────────────────────────────────────────

const CELLS: Readonly<Record<string, readonly Param[]>> = {
  lstm: [{ name: "hidden", check: c.positiveInt("the hidden size") }],
  gru: [{ name: "hidden", check: c.positiveInt("the hidden size") }],
  rnn: [{ name: "hidden", check: c.positiveInt("the hidden size") }],
};

const INITS: Readonly<Record<string, readonly Param[]>> = {
  uniform: [{ name: "scale", check: c.positive("the init scale") }],
  inv_sqrt_hidden: [],
  normal: [{ name: "std", check: c.positive("the init std") }],
  orthogonal: [{ name: "gain", check: c.positive("the orthogonal gain"), default: 1 }],
  identity: [{ name: "scale", check: c.positive("the identity scale"), default: 1 }],
  xavier: [],
};

function lowerCell(cx: LowerContext, file: string, v: Value, path: string): ir.LayerSpecIR | undefined {
  // rnn(H, tanh): the activation is a word, so it is read here rather than as a numeric parameter.
  const val = cx.value(v);
  let activation: "tanh" | "relu" | null = null;
  let call = val;
  if (val.kind === "Call" && val.callee.name === "rnn") {
    const act = val.args.find((a, i) => a.name?.name === "activation" || (!a.name && i === 1));
    activation = "tanh";
    if (act) {
      const w = cx.value(act.value);
      if (w.kind === "Name" && (w.name === "tanh" || w.name === "relu")) {
        activation = w.name;
        cx.origin(`${path}.activation`, { file, span: w.span });
      } else {
        cx.report(Diag.unknownName({ file, span: w.span }, "activation", w.kind === "Name" ? w.name : "?", ["tanh", "relu"]));
        return undefined;
      }
      call = { ...val, args: val.args.filter((a) => a !== act) };
    }
  }
  const shape = readCall(cx, file, call, path, "cell", CELLS);
  if (!shape) return undefined;
  const cell = shape.callee as ir.CellKind;
  return { cell, hidden: shape.args["hidden"] as number, activation: cell === "rnn" ? activation ?? "tanh" : null };
}

function lowerLayers(cx: LowerContext, entry: REntry | undefined, expLoc: Loc): ir.LayerSpecIR[] | undefined {
  if (!entry) {
    cx.report(Diag.missingSetting(expLoc, "layers", "model { layers 2 lstm(650) }"));
    return undefined;
  }
  const r = reader(cx, entry, "layers N CELL  or  layers [CELL, CELL, …]");
  const first = r.peek();
  if (!first) {
    cx.report(Diag.missingValue(r.keyLoc, "layers", "layers 2 lstm(650)"));
    return undefined;
  }
  let cells: Value[];
  if (first.kind === "Number") {
    const count = r.number("model.layers.length", "the number of layers", c.positiveInt("the number of layers"));
    const cell = r.take();
    if (!cell) {
      cx.report(Diag.missingValue(r.keyLoc, "layers", "layers 2 lstm(650)"));
      return undefined;
    }
    r.done();
    if (count === undefined) return undefined;
    if (count > 64) {
      cx.report(Diag.valueOutOfRange(r.at(first.span), "the number of layers", count, { kind: "atMost", max: 64 }));
      return undefined;
    }
    cells = Array<Value>(count).fill(cell);
  } else if (first.kind === "List") {
    r.take();
    r.done();
    cells = [...first.items];
    if (cells.length === 0 || cells.length > 64) {
      cx.report(Diag.valueOutOfRange(r.at(first.span), "the number of layers", cells.length, { kind: "between", min: 1, max: 64 }));
      return undefined;
    }
  } else {
    cells = [r.take()!];
    r.done();
  }
  const layers = cells.map((v, i) => lowerCell(cx, entry.file, v, `model.layers.${i}`));
  return layers.every((l) => l !== undefined) ? (layers as ir.LayerSpecIR[]) : undefined;
}

function lowerInit(cx: LowerContext, entry: REntry | undefined, path: string, fallback: ir.InitIR): ir.InitIR {
  if (!entry) return fallback;
  const r = reader(cx, entry, `${entry.key} uniform(0.1) | inv_sqrt_hidden | normal(0.01) | orthogonal | identity | xavier`);
  const v = r.take();
  r.done();
  if (!v) {
    cx.report(Diag.missingValue(r.keyLoc, entry.key, `${entry.key} uniform(0.1)`));
    return fallback;
  }
  const shape = readCall(cx, entry.file, v, path, "initializer", INITS);
  if (!shape) return fallback;
  const a = shape.args as Record<string, number>;
  switch (shape.callee) {
    case "uniform":
      return { kind: "uniform", scale: a["scale"]! };
    case "inv_sqrt_hidden":
      return { kind: "uniform_inv_sqrt_hidden" };
    case "normal":
      return { kind: "normal", std: a["std"]! };
    case "orthogonal":
      return { kind: "orthogonal", gain: a["gain"]! };
    case "identity":
      return { kind: "identity", scale: a["scale"]! };
    default:
      return { kind: "xavier_uniform" };
  }
}

const NORM_SITES = ["input", "recurrent", "cell"] as const;

const STATS: Readonly<Record<string, readonly Param[]>> = {
  per_step: [{ name: "max_steps", check: c.positiveInt("max_steps"), default: 0 }],
  shared: [],
};

function lowerNorm(cx: LowerContext, entry: REntry | undefined): ir.NormIR | null {
  if (!entry) return null;
  const head = reader(cx, entry, "norm batch | layer | none { … }");
  const kind = head.word("model.norm.kind", "normalization", ["batch", "layer", "none"] as const);
  head.done();
  if (!kind || kind === "none") return null;
  const b = entry.block ?? new Map<string, REntry>();
  const d = DEFAULTS.norm[kind];
  let sites: ir.NormSite[] = [...NORM_SITES];
  const on = b.get("on");
  if (on) {
    const r = reader(cx, on, "on [input, recurrent, cell]");
    const v = r.take();
    r.done();
    const items = v?.kind === "List" ? v.items : v ? [v] : [];
    const read = items.map((it, i) => (it.kind === "Name" && (NORM_SITES as readonly string[]).includes(it.name) ? it.name : (cx.report(Diag.unknownName(r.at(it.span), "normalization site", it.kind === "Name" ? it.name : "?", NORM_SITES)), undefined)) as ir.NormSite | undefined);
    if (items.length === 0) cx.report(Diag.missingValue(r.keyLoc, "on", "on [input, recurrent, cell]"));
    if (read.every((s) => s !== undefined) && items.length > 0) {
      sites = NORM_SITES.filter((s) => read.includes(s));
      cx.origin("model.norm.sites", r.at(v!.span));
    }
  }
  const num = (key: string, what: string, check: Check, fallback: number): number => readNumberKey(cx, b, key, `model.norm.${key}`, what, check, fallback);
  const gamma = num("gamma", "the initial γ", c.positive("the initial γ"), d.gamma);
  const epsilon = num("epsilon", "ε", c.positive("ε"), d.epsilon);
  const momentum = num("momentum", "the population-statistics rate", c.probability("the population-statistics rate"), d.momentum);
  let stats: ir.NormIR["stats"] = "per_step";
  let maxSteps: number | null = null;
  const st = b.get("stats");
  if (st) {
    const r = reader(cx, st, "stats per_step | per_step(max_steps = N) | shared");
    const v = r.take();
    r.done();
    if (!v) cx.report(Diag.missingValue(r.keyLoc, "stats", "stats per_step"));
    else {
      const shape = readCall(cx, st.file, v, "model.norm.stats", "statistics mode", STATS);
      if (shape) {
        stats = shape.callee as ir.NormIR["stats"];
        maxSteps = shape.args["max_steps"] ? (shape.args["max_steps"] as number) : null;
        if (stats === "shared" && kind === "batch") cx.report(Diag.sharedNormStatistics(r.at(v.span)));
      }
    }
  }
  if (kind === "layer") {
    for (const k of ["stats", "momentum"]) {
      const e = b.get(k);
      if (e) cx.report(Diag.noEffect({ file: e.file, span: e.stmt.span }, k, { kind: "layerNormStatistics" }));
    }
  }
  return { kind, sites, gamma, stats, maxSteps, momentum: kind === "batch" ? momentum : 0, epsilon };
}

function lowerModel(cx: LowerContext, entry: REntry | undefined, expLoc: Loc, data: ir.DataIR | undefined): Omit<ir.ModelIR, "embed" | "layers"> & { embed: number | null | undefined; layers: readonly ir.LayerSpecIR[] } | undefined {
  const b = entry?.block ?? new Map<string, REntry>();
  const layers = lowerLayers(cx, b.get("layers"), entry ? { file: entry.file, span: entry.stmt.key.span } : expLoc);
  let embed: number | null | undefined = undefined; // undefined: not written, decided once the task is known
  const em = b.get("embed");
  if (em) {
    const r = reader(cx, em, "embed N | none");
    const v = r.peek();
    if (v?.kind === "Name" && v.name === "none") {
      r.take();
      embed = null;
      cx.origin("model.embed", r.at(v.span));
    } else embed = r.number("model.embed", "the embedding size", c.positiveInt("the embedding size")) ?? undefined;
    r.done();
  }
  const init = lowerInit(cx, b.get("init"), "model.init", DEFAULTS.model.init);
  const recurrentInit = lowerInit(cx, b.get("recurrent_init"), "model.recurrentInit", init);
  const embedInit = lowerInit(cx, b.get("embed_init"), "model.embedInit", init);
  const num = (key: string, path: string, what: string, check: Check, fallback: number): number => readNumberKey(cx, b, key, path, what, check, fallback);
  const forgetBias = num("forget_bias", "model.forgetBias", "the forget-gate bias", c.any(), DEFAULTS.model.forgetBias);
  const initialStateNoise = num("initial_state_noise", "model.initialStateNoise", "the initial-state noise", c.nonNegative("the initial-state noise"), DEFAULTS.model.initialStateNoise);
  const tie = readKey(cx, b, "tie", "tie [true | false]", (r) => r.flag("model.tie")) ?? DEFAULTS.model.tie;
  const norm = lowerNorm(cx, b.get("norm"));
  void data;
  if (!layers) return undefined;
  return { embed, layers, init, recurrentInit, embedInit, forgetBias, tie, norm, initialStateNoise };
}

// ── dropout ─────────────────────────────────────────────────────────────────────────────────────────────────

function lowerDropout(cx: LowerContext, entry: REntry | undefined): ir.DropoutIR {
  const b = entry?.block ?? new Map<string, REntry>();
  const out: Mutable<ir.DropoutIR> = { ...DEFAULTS.dropout };
  const prob = (r: StatementReader, path: string, what: string): number => r.number(path, what, c.probability(what)) ?? 0;
  for (const site of ["input", "between", "output"] as const) {
    const e = b.get(site);
    if (!e) continue;
    const r = reader(cx, e, `${site} P [per_step | locked]`);
    const p = prob(r, `dropout.${site}.p`, `${site} dropout`);
    const mask = r.optionalWord(`dropout.${site}.mask`, "mask mode", ["per_step", "locked"] as const, "per_step");
    r.done();
    out[site] = { p, mask };
  }
  out.embedding = { p: readKey(cx, b, "embedding", "embedding P", (r) => prob(r, "dropout.embedding.p", "embedding dropout")) ?? 0 };
  const rec = b.get("recurrent");
  if (rec) {
    const r = reader(cx, rec, "recurrent P [variational | per_step]");
    const p = prob(r, "dropout.recurrent.p", "recurrent dropout");
    const mode = r.optionalWord("dropout.recurrent.mode", "recurrent dropout mode", ["variational", "per_step"] as const, "variational");
    r.done();
    out.recurrent = { p, mode };
    if (mode === "per_step" && p > 0) cx.report(Diag.perStepRecurrentDropout(r.loc));
  }
  out.weight = { p: readKey(cx, b, "weight", "weight P", (r) => prob(r, "dropout.weight.p", "weight dropout")) ?? 0 };
  const z = b.get("zoneout");
  if (z) {
    // zoneout P  |  zoneout cell P hidden P  (either part may be left out)
    const r = reader(cx, z, "zoneout [cell P] [hidden P]");
    const zo = { cell: 0, hidden: 0 };
    if (r.peek()?.kind === "Number") {
      const p = prob(r, "dropout.zoneout.cell", "zoneout");
      zo.cell = zo.hidden = p;
      cx.origin("dropout.zoneout.hidden", r.at(r.values[0]!.span));
    } else {
      while (r.peek()?.kind === "Name") {
        const part = r.word("dropout.zoneout.part", "zoneout part", ["cell", "hidden"] as const);
        if (!part) break;
        zo[part] = prob(r, `dropout.zoneout.${part}`, `zoneout of ${part}`);
      }
      if (r.values.length === 0) cx.report(Diag.missingValue(r.keyLoc, "zoneout", "zoneout cell 0.5 hidden 0.05"));
      delete cx.origins["dropout.zoneout.part"];
    }
    r.done();
    out.zoneout = zo;
  }
  return out;
}

// ── regularize ──────────────────────────────────────────────────────────────────────────────────────────────

function lowerRegularize(cx: LowerContext, entry: REntry | undefined): ir.RegularizeIR {
  const b = entry?.block ?? new Map<string, REntry>();
  const out: Mutable<ir.RegularizeIR> = { ...DEFAULTS.regularize };
  const zeroWarn = (r: StatementReader, value: number, name: string): void => {
    const raw = r.stmt.values[0];
    if (value === 0 && raw && !cx.fromSweep(raw)) cx.report(Diag.regularizerAtZero(r.loc, name));
  };
  for (const [key, coef, fallbackOn] of [["ar", "alpha", "dropped"], ["tar", "beta", "raw"]] as const) {
    const e = b.get(key);
    if (!e) continue;
    const r = reader(cx, e, `${key} ${coef === "alpha" ? "α" : "β"} [dropped | raw]`);
    const v = r.number(`regularize.${key}.${coef}`, `the ${key.toUpperCase()} coefficient`, c.nonNegative(`the ${key.toUpperCase()} coefficient`)) ?? 0;
    const on = r.optionalWord(`regularize.${key}.on`, "regularized output", ["dropped", "raw"] as const, fallbackOn);
    r.done();
    zeroWarn(r, v, key);
    out[key] = (key === "ar" ? { alpha: v, on } : { beta: v, on }) as never;
  }
  const wd = b.get("weight_decay");
  if (wd) {
    const r = reader(cx, wd, "weight_decay λ");
    out.weightDecay = r.number("regularize.weightDecay", "the weight decay", c.nonNegative("the weight decay")) ?? 0;
    r.done();
    zeroWarn(r, out.weightDecay, "weight_decay");
  }
  return out;
}

// ── train ───────────────────────────────────────────────────────────────────────────────────────────────────

const O = DEFAULTS.optimizers;
const OPTIMIZERS: Readonly<Record<string, readonly Param[]>> = {
  sgd: [{ name: "lr", check: c.learningRate() }, { name: "momentum", check: c.probability("momentum"), default: O.sgd.momentum }],
  adam: [
    { name: "lr", check: c.learningRate(), default: O.adam.lr },
    { name: "beta1", check: c.probability("beta1"), default: O.adam.beta1 },
    { name: "beta2", check: c.probability("beta2"), default: O.adam.beta2 },
    { name: "epsilon", check: c.positive("epsilon"), default: O.adam.epsilon },
  ],
  rmsprop: [
    { name: "lr", check: c.learningRate(), default: O.rmsprop.lr },
    { name: "momentum", check: c.probability("momentum"), default: O.rmsprop.momentum },
    { name: "decay", check: c.probability("decay"), default: O.rmsprop.decay },
    { name: "epsilon", check: c.positive("epsilon"), default: O.rmsprop.epsilon },
  ],
  ntasgd: [{ name: "lr", check: c.learningRate() }, { name: "nonmono", check: c.positiveInt("nonmono"), default: O.ntasgd.nonmono }],
};

const SCHEDULES: Readonly<Record<string, readonly Param[]>> = {
  constant: [],
  decay: [{ name: "by", check: c.greaterThan("the decay divisor", 1) }, { name: "after", check: c.nonNegativeInt("the epoch to start after") }],
  plateau: [{ name: "divide", check: c.greaterThan("the plateau divisor", 1) }, { name: "patience", check: c.nonNegativeInt("patience"), default: DEFAULTS.plateauPatience }],
  at_epochs: [{ name: "epochs", check: c.positiveInt("an epoch"), list: true }, { name: "by", check: c.greaterThan("the divisor", 1) }],
};

const BPTT_POLICIES: Readonly<Record<string, readonly Param[]>> = {
  fixed: [],
  variable: [
    { name: "p", check: c.probability("p"), default: DEFAULTS.variableBptt.p },
    { name: "std", check: c.nonNegative("std"), default: DEFAULTS.variableBptt.std },
  ],
};

function lowerTrain(cx: LowerContext, entry: REntry | undefined): ir.TrainIR {
  const b = entry?.block ?? new Map<string, REntry>();
  const d = DEFAULTS.train;
  const single = (key: string, shape: string, read: (r: StatementReader) => void): void => void readKey(cx, b, key, shape, read);
  let epochs: number = d.epochs;
  single("epochs", "epochs N", (r) => (epochs = r.number("train.epochs", "the number of epochs", c.positiveInt("the number of epochs")) ?? epochs));
  let seed: number = d.seed;
  single("seed", "seed N", (r) => (seed = r.number("train.seed", "the seed", c.nonNegativeInt("the seed")) ?? seed));
  let clip: number | null = d.clip;
  single("clip", "clip N | none", (r) => {
    const v = r.peek();
    if (v?.kind === "Name" && v.name === "none") {
      r.take();
      cx.origin("train.clip", r.at(v.span));
      clip = null;
    } else clip = r.number("train.clip", "the clipping norm", c.positive("the clipping norm")) ?? clip;
  });
  let loss: ir.TrainIR["loss"] = d.loss;
  single("loss", "loss mean | sum_steps", (r) => (loss = r.word("train.loss", "loss convention", ["mean", "sum_steps"] as const) ?? loss));

  let optimizer: ir.OptimizerIR = d.optimizer;
  single("optimizer", "optimizer sgd(lr = 1) | adam(…) | rmsprop(…) | ntasgd(…)", (r) => {
    const v = r.take();
    if (!v) return cx.report(Diag.missingValue(r.keyLoc, "optimizer", "optimizer sgd(lr = 1)"));
    const s = readCall(cx, r.entry.file, v, "train.optimizer", "optimizer", OPTIMIZERS);
    if (s) optimizer = { kind: s.callee, ...s.args } as ir.OptimizerIR;
  });
  let schedule: ir.ScheduleIR = { kind: "constant" };
  single("schedule", "schedule decay(by, after) | plateau(divide) | at_epochs([…], by) | constant", (r) => {
    const v = r.take();
    if (!v) return cx.report(Diag.missingValue(r.keyLoc, "schedule", "schedule decay(by = 2, after = 4)"));
    const s = readCall(cx, r.entry.file, v, "train.schedule", "schedule", SCHEDULES);
    if (s) schedule = { kind: s.callee, ...s.args } as ir.ScheduleIR;
  });
  let bptt: ir.TrainIR["bptt"] = { kind: "fixed" };
  single("bptt", "bptt fixed | variable(p = 0.95, std = 5)", (r) => {
    const v = r.take();
    if (!v) return cx.report(Diag.missingValue(r.keyLoc, "bptt", "bptt variable(p = 0.95, std = 5)"));
    const s = readCall(cx, r.entry.file, v, "train.bptt", "BPTT policy", BPTT_POLICIES);
    if (s) bptt = { kind: s.callee, ...s.args } as ir.TrainIR["bptt"];
  });
  const divergence = lowerDivergence(cx, b.get("divergence"));
  return { epochs, optimizer, schedule, clip, seed, loss, bptt, divergence };
}

/** `divergence above_uniform(margin = 1, windows = 20) | off` (specs/language.md, "Divergence"). */
function lowerDivergence(cx: LowerContext, entry: REntry | undefined): ir.DivergenceIR {
  const d = DEFAULTS.divergence;
  if (!entry) return d;
  const r = reader(cx, entry, "divergence above_uniform(margin = 1, windows = 20) | off");
  const v = r.take();
  r.done();
  if (!v) {
    cx.report(Diag.missingValue(r.keyLoc, "divergence", "divergence above_uniform(margin = 1, windows = 20)"));
    return d;
  }
  const s = readCall(cx, entry.file, v, "train.divergence", "divergence rule", {
    above_uniform: [
      { name: "margin", check: c.positive("the divergence margin"), default: d.margin },
      { name: "windows", check: c.positiveInt("the number of windows"), default: d.windows },
    ],
    off: [],
  });
  if (!s) return d;
  if (s.callee === "off") return { kind: "off" };
  const windows = s.args["windows"] as number;
  // Healthy runs have single windows far above ln V early on (specs/language.md, "Divergence"): one is not enough.
  if (windows === 1) cx.report(Diag.divergenceOnOneWindow(cx.locs.get("train.divergence.windows") ?? s.loc));
  return { kind: "above_uniform", margin: s.args["margin"] as number, windows };
}

// ── where a stray argument belongs ──────────────────────────────────────────────────────────────────────────

/** The call-shaped statements of each block and the calls they take: the tables the lowering reads them with. */
const CALL_STATEMENTS: Readonly<Record<string, Readonly<Record<string, Readonly<Record<string, readonly Param[]>>>>>> = {
  model: { layers: CELLS, init: INITS, recurrent_init: INITS, embed_init: INITS },
  norm: { stats: STATS },
  train: { optimizer: OPTIMIZERS, schedule: SCHEDULES, bptt: BPTT_POLICIES },
};


/**
 * A key that is no statement of its block but an argument of one of its calls (`lr 0.5` in `train`): the statement
 * that takes it, written with it, using the call the block already has when that call takes it
 * (`optimizer adam` + `lr 0.5` → `optimizer adam(lr = 0.5)`).
 */
export function argumentHome(block: string, name: string, value: Value | undefined, siblings: readonly Placed[]): ArgumentHome | undefined {
  for (const [statement, calls] of Object.entries(own(CALL_STATEMENTS, block) ?? {})) {
    const takers = Object.keys(calls).filter((callee) => calls[callee]!.some((p) => p.name === name));
    if (takers.length === 0) continue;
    const written = siblings.find((s) => s.stmt.key.name === statement);
    const head = written?.stmt.values[0];
    const callee = head?.kind === "Call" ? head.callee.name : head?.kind === "Name" ? head.name : undefined;
    const use = callee !== undefined && takers.includes(callee) ? callee : takers[0]!;
    // The call as written, or else with its required arguments as placeholders, so the example is a whole call.
    const args =
      head?.kind === "Call" && callee === use
        ? head.args.filter((a) => a.name?.name !== name).map((a) => (a.name ? `${a.name.name} = ` : "") + printValue(a.value))
        : calls[use]!.filter((p) => p.default === undefined && p.name !== name).map((p) => `${p.name} = …`);
    const given = value ? printValue(value) : "…";
    return { statement, example: `${statement} ${use}(${[...args, `${name} = ${given}`].join(", ")})`, at: written ? { file: written.file, span: written.stmt.span } : undefined };
  }
  return undefined;
}

// ── task ────────────────────────────────────────────────────────────────────────────────────────────────────

function lowerTask(cx: LowerContext, entry: REntry | undefined, data: ir.DataIR | undefined): ir.TaskIR {
  let kind: ir.TaskIR["kind"] = DEFAULTS.task;
  if (entry) {
    const r = reader(cx, entry, "task lm | classify");
    kind = r.word("task.kind", "task", ["lm", "classify"] as const) ?? kind;
    r.done();
  } else if (data) {
    kind = DATASET_FACTS[data.dataset].task; // MNIST needs no `task classify` line: nothing else fits it
  }
  return { kind, classes: kind === "classify" && data ? DATASET_FACTS[data.dataset].classes : null };
}

// ── the experiment ──────────────────────────────────────────────────────────────────────────────────────────

export function lowerExperiment(
  exp: ResolvedExperiment,
  sources: ReadonlyMap<string, SourceText>,
  sweepChoice: ReadonlyMap<Call, Value>,
  variant: Record<string, number | string> | null,
  options: { maxMemoryBytes: number },
): Lowered {
  const cx = new LowerContext(sources, sweepChoice, argumentHome);
  cx.indexBlocks(exp.body);
  const expLoc: Loc = { file: exp.file, span: exp.node.name.span };
  const get = (k: string): REntry | undefined => {
    const e = exp.body.get(k);
    if (e && e.stmt.block === undefined && e.block === undefined && k !== "task" && k !== "data") {
      cx.report(Diag.missingValue({ file: e.file, span: e.stmt.span }, k, `${k} { … }`));
      return undefined;
    }
    if (e && k !== "task" && k !== "data" && e.stmt.values.length > 0) cx.report(Diag.unexpectedValue({ file: e.file, span: e.stmt.values[0]!.span }, k, `${k} { … }`));
    return e;
  };
  const data = lowerData(cx, exp.body.get("data"), expLoc);
  const task = lowerTask(cx, get("task"), data);
  const model = lowerModel(cx, get("model"), expLoc, data);
  const dropout = lowerDropout(cx, get("dropout"));
  const regularize = lowerRegularize(cx, get("regularize"));
  const train = lowerTrain(cx, get("train"));
  if (!data || !model) return { context: cx };

  // An LM embeds tokens (by default as wide as the first layer); pixel classification feeds raw values.
  const tokenInput = data.level !== "pixel";
  const embed = model.embed === undefined ? (tokenInput ? model.layers[0]!.hidden : null) : model.embed;
  const full = { ...model, embed: tokenInput ? embed : null };
  const resources = estimateResources(data, task, full, train);
  const pos = sources.get(exp.file)?.position(exp.node.span.start) ?? { line: 1 };
  const experiment = planLayers({
    name: variant ? `${exp.name}[${Object.entries(variant).map(([k, v]) => `${k.split(".").pop()}=${v}`).join(",")}]` : exp.name,
    variant,
    source: { file: exp.file, line: pos.line },
    extends: exp.chain,
    data,
    task,
    model: full,
    dropout,
    regularize,
    train,
    resources,
    origins: {},
  });
  runRules(experiment, cx.locs, { file: exp.file, span: exp.node.name.span }, options, (d) => cx.report(d));
  // Each layer's sites, decided again on the canonical form (a T_max at the BPTT length is null there).
  const canon = planLayers(canonical(experiment, cx.origins));
  return { experiment: { ...canon, origins: completeOrigins(canon, cx.origins) }, context: cx };
}

// ── one meaning, one IR ─────────────────────────────────────────────────────────────────────────────────────

/**
 * Puts settings that cannot change what is trained in one form, so that two specs that mean the same give the same
 * IR, the same irHash and no `rnnc diff` line: `stats per_step` and `per_step(max_steps = 35)` at bptt 35, a mask
 * mode of a dropout site at p = 0, `between` with one layer, AR on the raw or the dropped output when nothing drops
 * it, a cell-only setting on a model without LSTM cells, the order of `at_epochs`, a classifier's LM-only settings.
 * Runs after the checks, which must still see what was written (W0400 needs `between`'s p).
 * Leaves out on purpose what depends on the epoch count (a `decay` that starts after the last epoch): `rnnc run
 * --epochs N` changes that count after compilation. A value put in its default form loses the origin of what was
 * written, which no longer decides it; `origins` is updated in place.
 */
function canonical(e: ir.ExperimentIR, origins: Record<string, ir.Origin>): ir.ExperimentIR {
  const unset = (path: string): void => {
    for (const k of Object.keys(origins)) if (k === path || k.startsWith(`${path}.`)) delete origins[k];
  };
  const classify = e.task.kind === "classify";
  const lstm = e.model.layers.some((l) => l.cell === "lstm");
  const D = DEFAULTS.dropout;

  // A site that drops nothing has no mask mode; `between` drops nothing in a single layer.
  const site = (name: "input" | "between" | "output"): ir.VerticalSiteIR => {
    const s = e.dropout[name];
    if (s.p > 0 && (name !== "between" || e.model.layers.length > 1)) return s;
    if (s.p > 0 || s.mask !== D[name].mask) unset(`dropout.${name}`);
    return D[name];
  };
  /** `value` where it applies; else `fallback`, without the origin of what was written when they differ. */
  const off = <T>(path: string, value: T, applies: boolean, fallback: T): T => {
    if (applies || JSON.stringify(value) === JSON.stringify(fallback)) return value;
    unset(path);
    return fallback;
  };
  const dropout: ir.DropoutIR = {
    ...e.dropout,
    input: site("input"),
    between: site("between"),
    output: site("output"),
    embedding: off("dropout.embedding", e.dropout.embedding, e.model.embed !== null, D.embedding),
    recurrent: off("dropout.recurrent", e.dropout.recurrent, e.dropout.recurrent.p > 0, D.recurrent),
  };
  // Without output dropout the dropped output is the raw one, so where AR or TAR reads it makes no difference.
  const R = DEFAULTS.regularize;
  const outputDropped = dropout.output.p > 0;
  const reads = <T extends { on: "dropped" | "raw" }>(path: string, r: T, on: "dropped" | "raw"): T => {
    if (outputDropped || r.on === on) return r;
    unset(`${path}.on`);
    return { ...r, on };
  };
  const regularize: ir.RegularizeIR = {
    ...e.regularize,
    ar: reads("regularize.ar", off("regularize.ar", e.regularize.ar, e.regularize.ar.alpha > 0, R.ar), R.ar.on),
    tar: reads("regularize.tar", off("regularize.tar", e.regularize.tar, e.regularize.tar.beta > 0, R.tar), R.tar.on),
  };

  const model: ir.ModelIR = {
    ...e.model,
    // The embedding's initializer means nothing without an embedding; the forget bias, without a forget gate.
    embedInit: off("model.embedInit", e.model.embedInit, e.model.embed !== null, e.model.init),
    forgetBias: off("model.forgetBias", e.model.forgetBias, lstm, DEFAULTS.model.forgetBias),
    norm: e.model.norm && canonicalNorm(e.model.norm, e, unset),
  };

  const t = e.train;
  let schedule = t.schedule;
  if (schedule.kind === "at_epochs") {
    // lr₀ / by^(number of listed epochs ≤ e) (runtime/train/schedules.ts): the order of the list does not matter.
    const path = "train.schedule.epochs";
    const sorted = schedule.epochs.map((epoch, i) => ({ epoch, origin: origins[`${path}.${i}`] })).sort((a, b) => a.epoch - b.epoch);
    sorted.forEach(({ origin }, i) => (origin ? (origins[`${path}.${i}`] = origin) : delete origins[`${path}.${i}`]));
    schedule = sorted.length === 0 ? { kind: "constant" } : { ...schedule, epochs: sorted.map((x) => x.epoch) };
    if (sorted.length === 0) unset("train.schedule");
  }
  // A classifier reads one label per sequence from a fresh state: no loss convention over steps, no variable BPTT,
  // no state carried across batches, no random crop of a stream (runtime/train/classifier-task.ts).
  const train: ir.TrainIR = {
    ...t,
    schedule,
    loss: off("train.loss", t.loss, !classify, DEFAULTS.train.loss),
    bptt: off("train.bptt", t.bptt, !classify, { kind: "fixed" }),
  };
  const data: ir.DataIR = {
    ...e.data,
    path: e.data.path === null ? null : normalizeDir(e.data.path),
    stateful: off("data.stateful", e.data.stateful, !classify, false),
    randomCrop: off("data.randomCrop", e.data.randomCrop, !classify, false),
  };
  return { ...e, data, model, dropout, regularize, train };
}

/**
 * Layer norm keeps no statistics. Per-step batch-norm statistics have T_max slots: `maxSteps`, or the BPTT length
 * when it is null (codegen). With a fixed BPTT length no step reaches past that length, so a T_max at or beyond it
 * is the BPTT length, in its default form: null.
 */
function canonicalNorm(n: ir.NormIR, e: ir.ExperimentIR, unset: (path: string) => void): ir.NormIR {
  if (n.kind === "layer") {
    for (const k of ["stats", "maxSteps", "momentum"]) unset(`model.norm.${k}`);
    return { ...n, stats: "per_step", maxSteps: null, momentum: 0 };
  }
  // `shared` takes no max_steps; a variable BPTT length needs the one written (E0309).
  if (n.stats === "shared" || e.train.bptt.kind !== "fixed" || n.maxSteps === null || n.maxSteps < e.data.bptt) return n;
  unset("model.norm.maxSteps");
  return { ...n, maxSteps: null };
}

/** `corpus`, `./corpus` and `corpus/` name one directory. (`..` is kept: through a symbolic link it means more.) */
function normalizeDir(path: string): string {
  const parts = path.split("/").filter((p) => p !== "" && p !== ".");
  const out = (path.startsWith("/") ? "/" : "") + parts.join("/");
  return out === "" ? "." : out;
}

/**
 * Every leaf path of the IR gets an origin: where the spec set it, or "default". A leaf inside a value written as
 * a whole (`layers 2 lstm(650)`, `init uniform(0.05)`) takes that value's origin, passed down the walk.
 * In IR order, so stable.
 */
function completeOrigins(e: ir.ExperimentIR, set: Record<string, ir.Origin>): Record<string, ir.Origin> {
  const out: Record<string, ir.Origin> = {};
  const walk = (v: unknown, path: string, inherited: ir.Origin | undefined): void => {
    if (v !== null && typeof v === "object") {
      const here = set[`${path}.kind`] ?? set[path] ?? (path === "model.layers" ? set["model.layers.length"] : undefined) ?? inherited;
      let any = false;
      for (const k in v) {
        if (k === "sites" && /^model\.layers\.\d+$/.test(path)) continue; // derived (layer-plan.ts): no origin of its own
        any = true;
        walk((v as Record<string, unknown>)[k], `${path}.${k}`, here);
      }
      if (any) return;
    }
    out[path] = set[path] ?? inherited ?? "default";
  };
  for (const k of ["data", "task", "model", "dropout", "regularize", "train"] as const) walk(e[k], k, undefined);
  return out;
}

// ── checks that relate several settings ─────────────────────────────────────────────────────────────────────

import { estimateResources, runRules } from "./checks/index.js";
import { planLayers } from "./layer-plan.js";
