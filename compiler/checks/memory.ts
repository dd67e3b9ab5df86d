// The memory guard (E0311) and the estimate it judges: parameters and the float32 memory of training.
import { Diag, type MemoryAdvice, type MemoryLimitSource } from "../diagnostics.js";
import type * as ir from "../ir.js";
import { rule } from "./rule.js";

/**
 * The memory guard: the training estimate against the limit that binds (the backend's, unless --max-memory is given;
 * never above the default). Its advice is computed from the same estimate: the widest layer that fits, SGD instead
 * of an optimizer that keeps copies of the weights, a smaller batch only when the weights themselves fit, and a
 * backend with room for it.
 */
export const memoryGuard = rule({
  name: "memoryGuard",
  codes: ["E0311"],
  run(e, where, report, options) {
    const budget = options.memory;
    const backendLimit = budget?.limitBytes ?? Infinity;
    const limit = options.maxMemoryExplicit ? options.maxMemoryBytes : Math.min(options.maxMemoryBytes, backendLimit);
    const need = e.resources.trainingBytes;
    if (need <= limit) return;
    const by: MemoryLimitSource = options.maxMemoryExplicit
      ? { kind: "flag" }
      : backendLimit < options.maxMemoryBytes
        ? { kind: "backend", backend: budget!.backend, auto: budget!.auto }
        : { kind: "default" };
    const fits = (x: ir.ExperimentIR): boolean =>
      estimateResources(x.data, x.task, x.model, x.train).trainingBytes <= limit;
    const weights = weightBytes(e);
    const advice: MemoryAdvice[] = [];

    // The widest layers narrowed to the largest size that fits, with the embedding when it follows them: tied to the
    // last layer, or not written (it is then as wide as the first layer).
    const widest = Math.max(...e.model.layers.map((l) => l.hidden));
    const embedFollows =
      e.model.embed === widest &&
      ((e.model.tie && e.model.layers[e.model.layers.length - 1]!.hidden === widest) ||
        (where.at("model.embed") === undefined && e.model.layers[0]!.hidden === widest));
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
      const sgd: ir.ExperimentIR = {
        ...e,
        train: { ...e.train, optimizer: { kind: "sgd", lr: e.train.optimizer.lr, momentum: 0 } },
      };
      if (fits(sgd))
        advice.push({
          kind: "optimizer",
          optimizer: e.train.optimizer.kind,
          copies,
          saves: formatBytes(copies * 4 * e.resources.parameters),
        });
    }

    // A smaller batch shrinks only the activations: advised only when the weights fit with room for some.
    if (weights < limit) {
      const batch = largest(e.data.batch - 1, (b) => fits({ ...e, data: { ...e.data, batch: b } }));
      if (batch !== null) advice.push({ kind: "batch", to: batch });
    }

    // Another backend, where its limit (under the default) would hold the model.
    if (!options.maxMemoryExplicit)
      for (const o of budget?.others ?? [])
        if (Math.min(o.limitBytes, options.maxMemoryBytes) >= need)
          advice.push({
            kind: "backend",
            backend: o.backend,
            limit: formatBytes(o.limitBytes),
            installed: o.installed,
          });

    const widestAt = e.model.layers.findIndex((l) => l.hidden === widest);
    const at = where.at(`model.layers.${widestAt}.hidden`) ?? where.at("model.layers.0.hidden") ?? where.experiment;
    report(
      Diag.parameterMemoryExceeded(
        at,
        formatBytes(need),
        formatBytes(limit),
        by,
        weights > limit ? formatBytes(weights) : null,
        advice,
      ),
    );
  },
});

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
export function estimateResources(
  data: ir.DataIR,
  task: ir.TaskIR,
  model: Pick<ir.ModelIR, "embed" | "norm" | "tie"> & { readonly layers: readonly ir.LayerSpecIR[] },
  train: ir.TrainIR,
): ir.ResourcesIR {
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
  while (v >= 1024 && i < units.length - 1) ((v /= 1024), i++);
  return `${v < 10 && i > 0 ? v.toFixed(1) : Math.round(v)} ${units[i]}`;
}
