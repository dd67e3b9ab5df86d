// Phase 3: lower a resolved experiment to the IR. Simple settings are read, range-checked and defaulted by their
// declarations in the schema (compiler/schema/settings.ts); what is left here is per-block assembly: the values with
// a grammar of their own (`layers 2 lstm(650)`, `zoneout cell P hidden P`) and the IR objects built from calls. What
// settings may not go together, or have no effect where they are written, the rules decide (compiler/checks/).
import type { Call, Value } from "../grammar/index.js";
import { DATASET_FACTS, DEFAULTS } from "./defaults.js";
import { argumentHome } from "./argument-home.js";
import { Diag, type Loc } from "./diagnostics.js";
import type * as ir from "./ir.js";
import { checks as c, LowerContext, readCall, readCallSetting, readSetting, StatementReader } from "./read.js";
import type { RBlock, REntry, ResolvedExperiment } from "./resolve.js";
import {
  CELLS,
  DATASETS,
  defaultOf,
  setting,
  settingsOf,
  type BlockName,
  type DefaultContext,
  type IRPath,
} from "./schema/index.js";
import type { SourceText } from "./source.js";

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export interface Lowered {
  readonly experiment?: ir.ExperimentIR;
  readonly context: LowerContext;
}

const reader = (cx: LowerContext, e: REntry, shape: string) => new StatementReader(cx, e, shape);

/**
 * A block's simple settings, read by their declarations: `get(key)` is the value written, or the declared default
 * (in context `dc`: the data set, the kind of norm) when it is unset or was refused (reported).
 */
function simpleSettings(cx: LowerContext, block: BlockName, b: RBlock, dc: DefaultContext = {}) {
  return <T extends number | boolean | string>(key: string, context: DefaultContext = dc): T => {
    const s = setting(block, key);
    return (readSetting(cx, b, s) ?? defaultOf(s, context)) as T;
  };
}

/**
 * Every simple setting of `block` that fills a field of the IR object at `prefix` directly (`model.forgetBias` for
 * `model`), read by its declaration and defaulted: the fields a block's assembly need not name one by one, so a new
 * simple setting reaches the IR from its declaration alone (new fields come after the ones the assembly places).
 */
function simpleFields(
  cx: LowerContext,
  block: BlockName,
  prefix: string,
  b: RBlock,
  dc: DefaultContext = {},
): Record<string, unknown> {
  const get = simpleSettings(cx, block, b, dc);
  const out: Record<string, unknown> = {};
  for (const s of settingsOf(block)) {
    const field = s.path?.startsWith(`${prefix}.`) ? s.path.slice(prefix.length + 1) : undefined;
    if (
      field &&
      !field.includes(".") &&
      (s.shape.kind === "number" || s.shape.kind === "flag" || s.shape.kind === "word")
    )
      out[field] = get(s.key);
  }
  return out;
}

// ── data ────────────────────────────────────────────────────────────────────────────────────────────────────

function lowerData(cx: LowerContext, entry: REntry | undefined, expLoc: Loc): ir.DataIR | undefined {
  const decl = setting("experiment", "data");
  if (!entry) {
    cx.report(Diag.missingSetting(expLoc, decl.what, "data ptb { batch 20  bptt 35 }"));
    return undefined;
  }
  const head = reader(cx, entry, decl.syntax);
  const dataset = head.word("data.dataset", decl.what, DATASETS);
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
  const get = simpleSettings(cx, "data", b, { facts });

  const batch = get<number>("batch");
  const evalBatch = get<number>("eval_batch");
  const testBatch = get<number>("test_batch");
  // A setting written where it cannot matter (bptt on MNIST, vocab on PTB) is warned by a rule
  // (checks/no-effect.ts), which finds the statement through the context's record of every statement written.
  let bptt = get<number>("bptt", {});
  if (facts.length !== null) bptt = facts.length;
  const stateful = get<boolean>("stateful");
  const randomCrop = get<boolean>("random_crop");
  const shuffle = get<boolean>("shuffle");
  let level = facts.level;
  if (b.has("level")) {
    level = get<"word" | "char">("level");
    if (dataset !== "text") level = facts.level;
  }
  const isSynthetic = dataset === "synthetic";
  // The settings of one data set are read only for it: a synthetic corpus's `seed` is no error on PTB, only a note.
  const synthetic = isSynthetic
    ? { order: get<number>("order"), tokens: get<number>("tokens"), seed: get<number>("seed") }
    : null;
  const vocab = isSynthetic ? get<number>("vocab") : facts.vocab;
  const permutationSeed = dataset === "pmnist" ? get<number>("permutation_seed") : null;
  return {
    dataset,
    path,
    level,
    vocab,
    batch,
    evalBatch,
    testBatch,
    bptt,
    stateful,
    randomCrop,
    shuffle,
    permutationSeed,
    synthetic,
  };
}

// ── model ───────────────────────────────────────────────────────────────────────────────────────────────────

function lowerCell(
  cx: LowerContext,
  file: string,
  v: Value,
  path: `model.layers.${number}`,
): ir.LayerSpecIR | undefined {
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
        cx.report(
          Diag.unknownName({ file, span: w.span }, "activation", w.kind === "Name" ? w.name : "?", ["tanh", "relu"]),
        );
        return undefined;
      }
      call = { ...val, args: val.args.filter((a) => a !== act) };
    }
  }
  const shape = readCall(cx, file, call, path, "cell", CELLS);
  if (!shape) return undefined;
  const cell = shape.callee as ir.CellKind;
  return { cell, hidden: shape.args["hidden"] as number, activation: cell === "rnn" ? (activation ?? "tanh") : null };
}

function lowerLayers(cx: LowerContext, entry: REntry | undefined, expLoc: Loc): ir.LayerSpecIR[] | undefined {
  const decl = setting("model", "layers");
  if (!entry) {
    cx.report(Diag.missingSetting(expLoc, "layers", "model { layers 2 lstm(650) }"));
    return undefined;
  }
  const r = reader(cx, entry, decl.syntax);
  const first = r.peek();
  if (!first) {
    cx.report(Diag.missingValue(r.keyLoc, "layers", "layers 2 lstm(650)"));
    return undefined;
  }
  let cells: Value[];
  if (first.kind === "Number") {
    const count = r.number("model.layers.length", decl.what, c.positiveInt(decl.what));
    const cell = r.take();
    if (!cell) {
      cx.report(Diag.missingValue(r.keyLoc, "layers", "layers 2 lstm(650)"));
      return undefined;
    }
    r.done();
    if (count === undefined) return undefined;
    if (count > 64) {
      cx.report(Diag.valueOutOfRange(r.at(first.span), decl.what, count, { kind: "atMost", max: 64 }));
      return undefined;
    }
    cells = Array<Value>(count).fill(cell);
  } else if (first.kind === "List") {
    r.take();
    r.done();
    cells = [...first.items];
    if (cells.length === 0 || cells.length > 64) {
      cx.report(Diag.valueOutOfRange(r.at(first.span), decl.what, cells.length, { kind: "between", min: 1, max: 64 }));
      return undefined;
    }
  } else {
    cells = [r.take()!];
    r.done();
  }
  const layers = cells.map((v, i) => lowerCell(cx, entry.file, v, `model.layers.${i}`));
  return layers.every((l) => l !== undefined) ? (layers as ir.LayerSpecIR[]) : undefined;
}

/** `init`, `recurrent_init` or `embed_init`: an initializer call, as the IR names it. */
function lowerInit(
  cx: LowerContext,
  b: RBlock,
  key: "init" | "recurrent_init" | "embed_init",
  fallback: ir.InitIR,
): ir.InitIR {
  const shape = readCallSetting(cx, b, setting("model", key));
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

function lowerNorm(cx: LowerContext, entry: REntry | undefined): ir.NormIR | null {
  if (!entry) return null;
  const decl = setting("model", "norm");
  const head = reader(cx, entry, decl.syntax);
  const kind = head.word("model.norm.kind", decl.what, ["batch", "layer", "none"] as const);
  head.done();
  if (!kind || kind === "none") return null;
  const b = entry.block ?? new Map<string, REntry>();
  let sites: ir.NormSite[] = [...NORM_SITES];
  const on = b.get("on");
  if (on) {
    const onDecl = setting("norm", "on");
    const r = reader(cx, on, onDecl.syntax);
    const v = r.take();
    r.done();
    const items = v?.kind === "List" ? v.items : v ? [v] : [];
    const read = items.map(
      (it, i) =>
        (it.kind === "Name" && (NORM_SITES as readonly string[]).includes(it.name)
          ? it.name
          : (cx.report(Diag.unknownName(r.at(it.span), onDecl.what, it.kind === "Name" ? it.name : "?", NORM_SITES)),
            undefined)) as ir.NormSite | undefined,
    );
    if (items.length === 0) cx.report(Diag.missingValue(r.keyLoc, "on", onDecl.syntax));
    if (read.every((s) => s !== undefined) && items.length > 0) {
      sites = NORM_SITES.filter((s) => read.includes(s));
      cx.origin("model.norm.sites", r.at(v!.span));
    }
  }
  const { gamma, momentum, epsilon, ...more } = simpleFields(cx, "norm", "model.norm", b, { norm: kind }) as Pick<
    ir.NormIR,
    "gamma" | "momentum" | "epsilon"
  >;
  let stats: ir.NormIR["stats"] = "per_step";
  let maxSteps: number | null = null;
  const shape = readCallSetting(cx, b, setting("norm", "stats"));
  if (shape) {
    stats = shape.callee as ir.NormIR["stats"];
    maxSteps = shape.args["max_steps"] ? (shape.args["max_steps"] as number) : null;
  }
  // `stats` and `momentum` under layer norm are read (range-checked) and warned by a rule (checks/no-effect.ts).
  return {
    kind,
    sites,
    gamma,
    stats,
    maxSteps,
    momentum: kind === "batch" ? momentum : 0,
    epsilon,
    ...(more as Omit<ir.NormIR, "kind" | "sites" | "gamma" | "stats" | "maxSteps" | "momentum" | "epsilon">),
  };
}

function lowerModel(
  cx: LowerContext,
  entry: REntry | undefined,
  expLoc: Loc,
):
  | (Omit<ir.ModelIR, "embed" | "layers"> & { embed: number | null | undefined; layers: readonly ir.LayerSpecIR[] })
  | undefined {
  const b = entry?.block ?? new Map<string, REntry>();
  const { forgetBias, tie, ...more } = simpleFields(cx, "model", "model", b) as Pick<ir.ModelIR, "forgetBias" | "tie">;
  const layers = lowerLayers(cx, b.get("layers"), entry ? { file: entry.file, span: entry.stmt.key.span } : expLoc);
  let embed: number | null | undefined = undefined; // undefined: not written, decided once the task is known
  const em = b.get("embed");
  if (em) {
    const decl = setting("model", "embed");
    const r = reader(cx, em, decl.syntax);
    const v = r.peek();
    if (v?.kind === "Name" && v.name === "none") {
      r.take();
      embed = null;
      cx.origin("model.embed", r.at(v.span));
    } else embed = r.number("model.embed", decl.what, c.positiveInt(decl.what)) ?? undefined;
    r.done();
  }
  const init = lowerInit(cx, b, "init", DEFAULTS.model.init);
  const recurrentInit = lowerInit(cx, b, "recurrent_init", init);
  const embedInit = lowerInit(cx, b, "embed_init", init);
  const norm = lowerNorm(cx, b.get("norm"));
  if (!layers) return undefined;
  return {
    embed,
    layers,
    init,
    recurrentInit,
    embedInit,
    forgetBias,
    tie,
    norm,
    ...(more as Omit<
      ir.ModelIR,
      "embed" | "layers" | "init" | "recurrentInit" | "embedInit" | "forgetBias" | "tie" | "norm"
    >),
  };
}

// ── dropout ─────────────────────────────────────────────────────────────────────────────────────────────────

function lowerDropout(cx: LowerContext, entry: REntry | undefined): ir.DropoutIR {
  const b = entry?.block ?? new Map<string, REntry>();
  const get = simpleSettings(cx, "dropout", b);
  const out: Mutable<ir.DropoutIR> = { ...DEFAULTS.dropout };
  const prob = (r: StatementReader, path: IRPath, what: string): number =>
    r.number(path, what, c.probability(what)) ?? 0;
  for (const site of ["input", "between", "output"] as const) {
    const e = b.get(site);
    if (!e) continue;
    const decl = setting("dropout", site);
    const r = reader(cx, e, decl.syntax);
    const p = prob(r, `dropout.${site}.p`, decl.what);
    const mask = r.optionalWord(`dropout.${site}.mask`, "mask mode", ["per_step", "locked"] as const, "per_step");
    r.done();
    out[site] = { p, mask };
  }
  out.embedding = { p: get<number>("embedding") };
  const rec = b.get("recurrent");
  if (rec) {
    const decl = setting("dropout", "recurrent");
    const r = reader(cx, rec, decl.syntax);
    const p = prob(r, "dropout.recurrent.p", decl.what);
    const mode = r.optionalWord(
      "dropout.recurrent.mode",
      "recurrent dropout mode",
      ["variational", "per_step"] as const,
      "variational",
    );
    r.done();
    out.recurrent = { p, mode };
  }
  out.weight = { p: get<number>("weight") };
  const z = b.get("zoneout");
  if (z) {
    // zoneout P  |  zoneout cell P hidden P  (either part may be left out)
    const r = reader(cx, z, setting("dropout", "zoneout").syntax);
    const zo = { cell: 0, hidden: 0 };
    if (r.peek()?.kind === "Number") {
      const p = prob(r, "dropout.zoneout.cell", "zoneout");
      zo.cell = zo.hidden = p;
      cx.origin("dropout.zoneout.hidden", r.at(r.values[0]!.span));
    } else {
      while (r.peek()?.kind === "Name") {
        // The part's word records no origin of its own: the origin of each part is its probability's.
        const part = r.word("dropout.zoneout.part" as IRPath, "zoneout part", ["cell", "hidden"] as const);
        if (!part) break;
        zo[part] = prob(r, `dropout.zoneout.${part}`, `zoneout of ${part}`);
      }
      if (r.values.length === 0) cx.report(Diag.missingValue(r.keyLoc, "zoneout", "zoneout cell 0.5 hidden 0.05"));
      delete cx.origins["dropout.zoneout.part"];
      cx.locs.delete("dropout.zoneout.part");
    }
    r.done();
    out.zoneout = zo;
  }
  return out;
}

// ── regularize ──────────────────────────────────────────────────────────────────────────────────────────────

function lowerRegularize(cx: LowerContext, entry: REntry | undefined): ir.RegularizeIR {
  const b = entry?.block ?? new Map<string, REntry>();
  const get = simpleSettings(cx, "regularize", b);
  const out: Mutable<ir.RegularizeIR> = { ...DEFAULTS.regularize };
  // A regularizer written at 0 (not a swept 0, which is a baseline) is warned by a rule (checks/no-effect.ts).
  for (const [key, coef, fallbackOn] of [
    ["ar", "alpha", "dropped"],
    ["tar", "beta", "raw"],
  ] as const) {
    const e = b.get(key);
    if (!e) continue;
    const decl = setting("regularize", key);
    const r = reader(cx, e, decl.syntax);
    const v = r.number(`regularize.${key}.${coef}` as IRPath, decl.what, c.nonNegative(decl.what)) ?? 0;
    const on = r.optionalWord(
      `regularize.${key}.on` as IRPath,
      "regularized output",
      ["dropped", "raw"] as const,
      fallbackOn,
    );
    r.done();
    out[key] = (key === "ar" ? { alpha: v, on } : { beta: v, on }) as never;
  }
  if (b.has("weight_decay")) out.weightDecay = get<number>("weight_decay");
  return out;
}

// ── train ───────────────────────────────────────────────────────────────────────────────────────────────────

function lowerTrain(cx: LowerContext, entry: REntry | undefined): ir.TrainIR {
  const b = entry?.block ?? new Map<string, REntry>();
  const { epochs, seed, loss, ...more } = simpleFields(cx, "train", "train", b) as Pick<
    ir.TrainIR,
    "epochs" | "seed" | "loss"
  >;
  let clip: number | null = DEFAULTS.train.clip;
  const ce = b.get("clip");
  if (ce) {
    const decl = setting("train", "clip");
    const r = reader(cx, ce, decl.syntax);
    const v = r.peek();
    if (v?.kind === "Name" && v.name === "none") {
      r.take();
      cx.origin("train.clip", r.at(v.span));
      clip = null;
    } else clip = r.number("train.clip", decl.what, c.positive(decl.what)) ?? clip;
    r.done();
  }
  // A call's IR object is its callee as `kind` and its arguments in parameter order.
  const asIR = <T>(key: string, fallback: T): T => {
    const s = readCallSetting(cx, b, setting("train", key));
    return s ? ({ kind: s.callee, ...s.args } as T) : fallback;
  };
  const optimizer = asIR<ir.OptimizerIR>("optimizer", DEFAULTS.train.optimizer);
  const schedule = asIR<ir.ScheduleIR>("schedule", { kind: "constant" });
  const bptt = asIR<ir.TrainIR["bptt"]>("bptt", { kind: "fixed" });
  const divergence = asIR<ir.DivergenceIR>("divergence", DEFAULTS.divergence);
  return {
    epochs,
    optimizer,
    schedule,
    clip,
    seed,
    loss,
    bptt,
    divergence,
    ...(more as Omit<
      ir.TrainIR,
      "epochs" | "optimizer" | "schedule" | "clip" | "seed" | "loss" | "bptt" | "divergence"
    >),
  };
}

// ── task ────────────────────────────────────────────────────────────────────────────────────────────────────

function lowerTask(cx: LowerContext, entry: REntry | undefined, data: ir.DataIR | undefined): ir.TaskIR {
  const facts = data ? DATASET_FACTS[data.dataset] : undefined;
  // Unwritten, the task is what the data set is (MNIST needs no `task classify` line); written but refused, `lm`.
  const decl = setting("experiment", "task");
  const kind = (
    entry ? (readSetting(cx, exp(entry), decl) ?? defaultOf(decl)) : defaultOf(decl, { facts })
  ) as ir.TaskIR["kind"];
  return { kind, classes: kind === "classify" && facts ? facts.classes : null };
}

/** A one-statement block holding `entry`, to read a statement of the experiment block by its declaration. */
const exp = (entry: REntry): RBlock => new Map([[entry.key, entry]]);

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
  /** A statement of the experiment; one declared as a block (`model { … }`) must be written as one. */
  const get = (k: string): REntry | undefined => {
    const e = exp.body.get(k);
    const isBlock = setting("experiment", k).shape.kind === "block";
    if (e && e.stmt.block === undefined && e.block === undefined && isBlock) {
      cx.report(Diag.missingValue({ file: e.file, span: e.stmt.span }, k, `${k} { … }`));
      return undefined;
    }
    if (e && isBlock && e.stmt.values.length > 0)
      cx.report(Diag.unexpectedValue({ file: e.file, span: e.stmt.values[0]!.span }, k, `${k} { … }`));
    return e;
  };
  const data = lowerData(cx, exp.body.get("data"), expLoc);
  const task = lowerTask(cx, get("task"), data);
  const model = lowerModel(cx, get("model"), expLoc);
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
    name: variant
      ? `${exp.name}[${Object.entries(variant)
          .map(([k, v]) => `${k.split(".").pop()}=${v}`)
          .join(",")}]`
      : exp.name,
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
  const where: Where = {
    at: (path) => cx.locs.get(path),
    written: (block, key) => cx.written(block, key),
    swept: (path) => cx.swept.has(path),
    experiment: { file: exp.file, span: exp.node.name.span },
  };
  runRules(experiment, where, options, (d) => cx.report(d));
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
    const sorted = schedule.epochs
      .map((epoch, i) => ({ epoch, origin: origins[`${path}.${i}`] }))
      .sort((a, b) => a.epoch - b.epoch);
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
    shuffle: off("data.shuffle", e.data.shuffle, !classify, false),
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
  if (n.stats === "shared" || e.train.bptt.kind !== "fixed" || n.maxSteps === null || n.maxSteps < e.data.bptt)
    return n;
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
      const here =
        set[`${path}.kind`] ??
        set[path] ??
        (path === "model.layers" ? set["model.layers.length"] : undefined) ??
        inherited;
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

import { estimateResources, runRules, type Where } from "./checks/index.js";
import { planLayers } from "./layer-plan.js";
