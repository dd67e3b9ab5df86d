// Checks that relate several settings, each a small named function over the lowered experiment.
// They report at the span of the setting that must change, with the other one as related information.
import { DATASET_FACTS } from "./defaults.js";
import { Diag, type Loc, type MemoryAdvice, type MemoryLimitSource } from "./diagnostics.js";
import type * as ir from "./ir.js";
import type { LowerContext } from "./read.js";
import type { ResolvedExperiment } from "./resolve.js";

type Check = (cx: LowerContext, e: ir.ExperimentIR, where: (path: string) => Loc | undefined, fallback: Loc) => void;

/** Weight tying shares one matrix, so the last layer must be as wide as the embedding (Press & Wolf 2017). */
const tieSizes: Check = (cx, e, where, fallback) => {
  if (!e.model.tie) return;
  const at = where("model.tie") ?? fallback;
  if (e.task.kind !== "lm") return cx.report(Diag.incompatibleSettings(at, "`tie`", "only a language model has an embedding to share with its softmax"));
  const last = e.model.layers[e.model.layers.length - 1]!.hidden;
  if (e.model.embed !== null && e.model.embed !== last) cx.report(Diag.tieSizeMismatch(at, e.model.embed, last, where("model.embed")));
};

/** Zoneout of c and batch norm of c need a cell state; only the LSTM has one. */
const cellStateSites: Check = (cx, e, where, fallback) => {
  const noCell = e.model.layers.find((l) => l.cell !== "lstm");
  if (!noCell) return;
  const name = { lstm: "an LSTM", gru: "a GRU", rnn: "an RNN" }[noCell.cell];
  const why = `${name} has no cell state c_t`;
  if (e.dropout.zoneout.cell > 0) cx.report(Diag.siteIncompatibleWithCell(where("dropout.zoneout.cell") ?? fallback, "zoneout of `cell`", noCell.cell, why));
  if (e.model.norm?.sites.includes("cell")) cx.report(Diag.siteIncompatibleWithCell(where("model.norm.sites") ?? where("model.norm.kind") ?? fallback, "normalization of `cell`", noCell.cell, why + "; write `on [input, recurrent]`"));
  const fb = where("model.forgetBias");
  if (fb && e.model.layers.every((l) => l.cell === "rnn")) cx.report(Diag.noEffect(fb, "`forget_bias`", "a tanh RNN has no forget gate"));
};

/** Per-step statistics are indexed by time step, so T_max must be known (Cooijmans et al. 2017 §4). */
const normLength: Check = (cx, e, where, fallback) => {
  const n = e.model.norm;
  if (n?.kind !== "batch" || n.stats !== "per_step" || n.maxSteps !== null) return;
  if (e.train.bptt.kind === "variable") cx.report(Diag.perStepNormNeedsFixedLength(where("model.norm.kind") ?? fallback));
};

/**
 * Batch norm needs a batch to take statistics over. With 1 example x̂ ≡ 0. With 2, each unit's x̂ is ±|d|/√(d² + 4ε)
 * (d the two values' difference): nearly ±1, with a derivative that is ~0 except where d ≈ 0, there up to 1/√ε.
 * Through h_{t-1} U and c_t that factor compounds over the steps. Measured on the recurrent and cell sites, 100 steps,
 * H 100, at init: max |dL/dU| NaN at B = 2, 3e14 at B = 3, 2e5 at B = 4, 73 at B = 8; a ptb-char BN-LSTM at B = 2
 * went to NaN at its second window, at B = 3 it trained (clipped). The warning stops at 4, the first batch whose
 * gradients stay within a few orders of magnitude that clipping absorbs.
 */
const BATCH_NORM_MIN_BATCH = 4;
const batchNormBatch: Check = (cx, e, where, fallback) => {
  const n = e.model.norm;
  if (n?.kind !== "batch") return;
  const at = where("data.batch") ?? fallback;
  const norm = where("model.norm.kind");
  if (e.data.batch === 1) cx.report(Diag.batchNormOfOne(at, norm));
  else if (e.data.batch < BATCH_NORM_MIN_BATCH && (n.sites.includes("recurrent") || n.sites.includes("cell"))) cx.report(Diag.batchNormSmallBatch(at, e.data.batch, BATCH_NORM_MIN_BATCH, norm));
};

/** The task must fit the data: classification needs labels, language modelling needs token streams. */
const taskFitsData: Check = (cx, e, where, fallback) => {
  const facts = DATASET_FACTS[e.data.dataset];
  if (facts.task === e.task.kind) return;
  const why = e.task.kind === "classify" ? `${e.data.dataset} has no labels to classify` : `${e.data.dataset} is a labelled classification set`;
  cx.report(Diag.taskDataMismatch(where("task.kind") ?? where("data.dataset") ?? fallback, e.task.kind, e.data.dataset, why));
};

/** Settings that cannot matter for this model, written anyway. */
const noEffect: Check = (cx, e, where) => {
  const between = where("dropout.between.p");
  if (between && e.model.layers.length === 1 && e.dropout.between.p > 0) cx.report(Diag.betweenWithOneLayer(between));
  if (e.model.embed === null) {
    for (const p of ["dropout.embedding.p", "model.embedInit.kind"]) {
      const at = where(p);
      if (at) cx.report(Diag.noEffect(at, `\`${p.split(".")[1]}\``, "this model has no embedding"));
    }
  }
  const embedAt = where("model.embed");
  if (embedAt && e.data.level === "pixel") cx.report(Diag.noEffect(embedAt, "`embed`", "pixel inputs are fed to the first layer directly"));
};

/** Tokens must be embedded; only pixel inputs go to the first layer directly. */
const tokensNeedEmbedding: Check = (cx, e, where) => {
  const at = where("model.embed");
  if (at && e.model.embed === null && e.data.level !== "pixel") cx.report(Diag.incompatibleSettings(at, "`embed none`", `${e.data.dataset} is made of tokens, which need an embedding`));
};

const CHECKS: readonly Check[] = [tokensNeedEmbedding, tieSizes, cellStateSites, normLength, batchNormBatch, taskFitsData, noEffect];

/**
 * The memory of the backend that will train, as the CLI finds it on this machine (cli/memory.ts): the compiler
 * itself does no I/O. `limitBytes` null: not known before the backend starts (webgpu: the adapter's memory).
 */
export interface MemoryBudget {
  /** wasm, cpu, tensorflow or webgpu: the one `--backend` names, or the one `auto` picks here. */
  readonly backend: string;
  readonly limitBytes: number | null;
  /** Whether `auto` chose it (the message then says so). */
  readonly auto: boolean;
  /** Other backends and what they could hold, for the advice; `installed` false: it needs a package first. */
  readonly others: readonly { readonly backend: string; readonly limitBytes: number; readonly installed: boolean }[];
}

export interface CheckOptions {
  readonly maxMemoryBytes: number;
  /** --max-memory was given: the user's figure replaces the backend's limit as well (an estimate can be wrong). */
  readonly maxMemoryExplicit?: boolean;
  readonly memory?: MemoryBudget;
}

export function checkExperiment(cx: LowerContext, e: ir.ExperimentIR, exp: ResolvedExperiment, options: CheckOptions): void {
  const fallback: Loc = { file: exp.file, span: exp.node.name.span };
  const where = (path: string): Loc | undefined => cx.locs.get(path);
  for (const check of CHECKS) check(cx, e, where, fallback);
  memoryGuard(cx, e, where, fallback, options);
}

/**
 * The memory guard: the training estimate against the limit that binds (the backend's, unless --max-memory is given;
 * never above the default). Its advice is computed from the same estimate: the widest layer that fits, SGD instead
 * of an optimizer that keeps copies of the weights, a smaller batch only when the weights themselves fit, and a
 * backend with room for it.
 */
function memoryGuard(cx: LowerContext, e: ir.ExperimentIR, where: (path: string) => Loc | undefined, fallback: Loc, options: CheckOptions): void {
  const budget = options.memory;
  const backendLimit = budget?.limitBytes ?? Infinity;
  const limit = options.maxMemoryExplicit ? options.maxMemoryBytes : Math.min(options.maxMemoryBytes, backendLimit);
  const need = e.resources.trainingBytes;
  if (need <= limit) return;
  const by: MemoryLimitSource = options.maxMemoryExplicit ? { kind: "flag" } : backendLimit < options.maxMemoryBytes ? { kind: "backend", backend: budget!.backend, auto: budget!.auto } : { kind: "default" };
  const fits = (x: ir.ExperimentIR): boolean => estimateResources(x.data, x.task, x.model, x.train).trainingBytes <= limit;
  const weights = weightBytes(e);
  const advice: MemoryAdvice[] = [];

  // The widest layers narrowed to the largest size that fits, with the embedding when it follows them: tied to the
  // last layer, or not written (it is then as wide as the first layer).
  const widest = Math.max(...e.model.layers.map((l) => l.hidden));
  const embedFollows = e.model.embed === widest && ((e.model.tie && e.model.layers[e.model.layers.length - 1]!.hidden === widest) || (where("model.embed") === undefined && e.model.layers[0]!.hidden === widest));
  const narrowed = (h: number): ir.ExperimentIR => {
    const layers = e.model.layers.map((l) => (l.hidden === widest ? { ...l, hidden: h } : l));
    const embed = embedFollows ? h : e.model.embed;
    return { ...e, model: { ...e.model, layers, embed } };
  };
  const hidden = largest(widest - 1, (h) => fits(narrowed(h)));
  const cell = e.model.layers.find((l) => l.hidden === widest)!.cell;
  if (hidden !== null) advice.push({ kind: "hidden", cell, from: widest, to: hidden });

  // SGD keeps no copy of the weights; Adam and RMSProp keep two (their moment estimates), momentum one.
  const copies = optimizerCopies(e.train.optimizer);
  if (copies > 0 && e.train.optimizer.kind !== "ntasgd") {
    const sgd: ir.ExperimentIR = { ...e, train: { ...e.train, optimizer: { kind: "sgd", lr: e.train.optimizer.lr, momentum: 0 } } };
    if (fits(sgd)) advice.push({ kind: "optimizer", optimizer: e.train.optimizer.kind, copies, saves: formatBytes(copies * 4 * e.resources.parameters) });
  }

  // A smaller batch shrinks only the activations: advised only when the weights fit with room for some.
  if (weights < limit) {
    const batch = largest(e.data.batch - 1, (b) => fits({ ...e, data: { ...e.data, batch: b } }));
    if (batch !== null) advice.push({ kind: "batch", to: batch });
  }

  // Another backend, where its limit (under the default) would hold the model.
  if (!options.maxMemoryExplicit) for (const o of budget?.others ?? []) if (Math.min(o.limitBytes, options.maxMemoryBytes) >= need) advice.push({ kind: "backend", backend: o.backend, limit: formatBytes(o.limitBytes), installed: o.installed });

  const widestAt = e.model.layers.findIndex((l) => l.hidden === widest);
  const at = where(`model.layers.${widestAt}.hidden`) ?? where("model.layers.0.hidden") ?? fallback;
  cx.report(Diag.parameterMemoryExceeded(at, formatBytes(need), formatBytes(limit), by, weights > limit ? formatBytes(weights) : null, advice));
}

/** The largest n in [1, hi] with ok(n), for ok monotone (true up to some n, false after); null if none. */
function largest(hi: number, ok: (n: number) => boolean): number | null {
  if (hi < 1 || !ok(1)) return null;
  let lo = 1; // ok(lo) holds
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (ok(mid)) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** Copies of the weights an optimizer keeps beside them (PyTorch's state: Adam's m and v, RMSProp's square average and
 *  momentum buffer, SGD's momentum buffer, NT-ASGD's average). */
function optimizerCopies(o: ir.OptimizerIR): number {
  return { sgd: o.kind === "sgd" && o.momentum > 0 ? 1 : 0, adam: 2, rmsprop: 2, ntasgd: 1 }[o.kind];
}

/** The bytes of the weights with their gradients and optimizer state: what no batch size changes. */
function weightBytes(e: ir.ExperimentIR): number {
  return 4 * e.resources.parameters * (2 + optimizerCopies(e.train.optimizer));
}

const GATES: Readonly<Record<ir.CellKind, number>> = { lstm: 4, gru: 3, rnn: 1 };

/**
 * Parameters, and the float32 memory of training: parameters, gradients, optimizer state, and the activations
 * one BPTT window keeps for the backward pass (gates, states and logits per step). Decided before allocation.
 */
export function estimateResources(data: ir.DataIR, task: ir.TaskIR, model: ir.ModelIR, train: ir.TrainIR): ir.ResourcesIR {
  const vocab = data.vocab ?? 0;
  let params = 0;
  let input = model.embed ?? 1;
  if (model.embed !== null) params += vocab * model.embed;
  let perStep = 0; // floats kept per example per step
  for (const l of model.layers) {
    const g = GATES[l.cell];
    params += g * l.hidden * (input + l.hidden) + g * l.hidden;
    perStep += (g + 3) * l.hidden;
    input = l.hidden;
  }
  if (model.norm) {
    const h = model.layers.reduce((s, l) => s + l.hidden, 0);
    params += 2 * 9 * h; // γ and β of the three sites, at most 4H + 4H + H per layer
  }
  const outputs = task.kind === "lm" ? vocab : (task.classes ?? 0);
  params += (model.tie ? 0 : input * outputs) + outputs;
  const stepsKept = data.bptt;
  const activations = data.batch * stepsKept * (perStep + (task.kind === "lm" ? 2 * outputs : 0));
  return { parameters: params, trainingBytes: 4 * (params * (2 + optimizerCopies(train.optimizer)) + activations) };
}

export function formatBytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) (v /= 1024), i++;
  return `${v < 10 && i > 0 ? v.toFixed(1) : Math.round(v)} ${units[i]}`;
}
