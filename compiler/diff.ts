// `rnnc diff`: the semantic difference of two resolved experiments. It compares meaning, not text: each
// experiment is read as a set of named settings (a dropout site, a regularizer, the optimizer), and a setting
// with no effect (a site at p = 0, a regularizer at 0) counts as absent. Formatting, comments and the
// `extends` path that produced a value never show up; where each value came from does.
import type * as ir from "./ir.js";

export interface Setting {
  readonly value: string;
  readonly origin: ir.Origin;
}

export interface DiffEntry {
  /** `dropout.input`, `train.optimizer`, … */
  readonly setting: string;
  readonly kind: "added" | "removed" | "changed";
  readonly before: Setting | null;
  readonly after: Setting | null;
}

const fmtNum = (n: number): string => (Math.abs(n) > 0 && (Math.abs(n) < 1e-3 || Math.abs(n) >= 1e6) ? n.toExponential().replace("e+", "e") : String(n));

const call = (name: string, args: Record<string, unknown>): string =>
  `${name}(${Object.entries(args).map(([k, v]) => `${k} = ${Array.isArray(v) ? `[${v.join(", ")}]` : typeof v === "number" ? fmtNum(v) : String(v)}`).join(", ")})`;

function initText(i: ir.InitIR): string {
  const { kind, ...rest } = i;
  return Object.keys(rest).length ? call(kind, rest) : kind;
}

function layersText(layers: readonly ir.LayerIR[]): string {
  const one = (l: ir.LayerIR): string => (l.cell === "rnn" ? `rnn(${l.hidden}, ${l.activation})` : `${l.cell}(${l.hidden})`);
  const texts = layers.map(one);
  return texts.every((t) => t === texts[0]) ? `${layers.length} × ${texts[0]}` : `[${texts.join(", ")}]`;
}

/** The settings of an experiment, each with the origin of the leaf that decides it. Absent = no effect. */
export function settingsOf(e: ir.ExperimentIR): Map<string, Setting | null> {
  const out = new Map<string, Setting | null>(); // every name, in one fixed order; null = absent
  const o = (...paths: string[]): ir.Origin => paths.map((p) => e.origins[p]).find((x) => x !== undefined && x !== "default") ?? "default";
  const put = (name: string, value: string | null, ...paths: string[]): void => {
    out.set(name, value === null ? null : { value, origin: o(...paths) });
  };
  const d = e.data;
  put("data.dataset", d.dataset, "data.dataset");
  put("data.path", d.path, "data.path");
  put("data.level", d.dataset === "text" ? d.level : null, "data.level");
  put("data.vocab", d.dataset === "synthetic" && d.vocab !== null ? String(d.vocab) : null, "data.vocab");
  put("data.synthetic", d.synthetic ? call("markov", d.synthetic) : null, "data.synthetic.order", "data.synthetic.tokens", "data.synthetic.seed");
  put("data.batch", String(d.batch), "data.batch");
  put("data.eval_batch", String(d.evalBatch), "data.evalBatch");
  put("data.test_batch", String(d.testBatch), "data.testBatch");
  put("data.bptt", String(d.bptt), "data.bptt");
  put("data.stateful", e.task.kind === "lm" ? String(d.stateful) : null, "data.stateful");
  put("data.random_crop", d.randomCrop ? "true" : null, "data.randomCrop");
  put("data.permutation_seed", d.permutationSeed === null ? null : String(d.permutationSeed), "data.permutationSeed");
  put("task", e.task.kind, "task.kind");

  const m = e.model;
  put("model.embed", m.embed === null ? null : String(m.embed), "model.embed");
  put("model.layers", layersText(m.layers), ...m.layers.flatMap((_, i) => [`model.layers.${i}.hidden`, `model.layers.${i}.cell`]), "model.layers.length");
  put("model.init", initText(m.init), "model.init.kind");
  // Listed only where they differ from `init`: otherwise they are `init`, and a change of it shows once.
  const sameAsInit = (i: ir.InitIR): boolean => initText(i) === initText(m.init);
  put("model.recurrent_init", sameAsInit(m.recurrentInit) ? null : initText(m.recurrentInit), "model.recurrentInit.kind");
  put("model.embed_init", m.embed === null || sameAsInit(m.embedInit) ? null : initText(m.embedInit), "model.embedInit.kind");
  put("model.forget_bias", m.layers.some((l) => l.cell === "lstm") ? fmtNum(m.forgetBias) : null, "model.forgetBias");
  put("model.tie", m.tie ? "true" : null, "model.tie");
  put("model.initial_state_noise", m.initialStateNoise > 0 ? fmtNum(m.initialStateNoise) : null, "model.initialStateNoise");
  put("model.norm", null);
  if (m.norm) {
    const n = m.norm;
    const extra = n.kind === "batch" ? `, stats = ${n.stats}${n.maxSteps ? `(${n.maxSteps})` : ""}, momentum = ${fmtNum(n.momentum)}` : "";
    put("model.norm", `${n.kind}(on = [${n.sites.join(", ")}], gamma = ${fmtNum(n.gamma)}${extra}, epsilon = ${fmtNum(n.epsilon)})`, "model.norm.kind", "model.norm.gamma", "model.norm.sites");
  }

  const dr = e.dropout;
  for (const site of ["input", "between", "output"] as const) {
    const applies = dr[site].p > 0 && (site !== "between" || m.layers.length > 1);
    put(`dropout.${site}`, applies ? `${fmtNum(dr[site].p)} ${dr[site].mask}` : null, `dropout.${site}.p`, `dropout.${site}.mask`);
  }
  put("dropout.embedding", dr.embedding.p > 0 && m.embed !== null ? fmtNum(dr.embedding.p) : null, "dropout.embedding.p");
  put("dropout.recurrent", dr.recurrent.p > 0 ? `${fmtNum(dr.recurrent.p)} ${dr.recurrent.mode}` : null, "dropout.recurrent.p", "dropout.recurrent.mode");
  put("dropout.weight", dr.weight.p > 0 ? fmtNum(dr.weight.p) : null, "dropout.weight.p");
  put("dropout.zoneout.cell", dr.zoneout.cell > 0 ? fmtNum(dr.zoneout.cell) : null, "dropout.zoneout.cell");
  put("dropout.zoneout.hidden", dr.zoneout.hidden > 0 ? fmtNum(dr.zoneout.hidden) : null, "dropout.zoneout.hidden");

  const r = e.regularize;
  put("regularize.ar", r.ar.alpha > 0 ? `α = ${fmtNum(r.ar.alpha)} on ${r.ar.on}` : null, "regularize.ar.alpha", "regularize.ar.on");
  put("regularize.tar", r.tar.beta > 0 ? `β = ${fmtNum(r.tar.beta)} on ${r.tar.on}` : null, "regularize.tar.beta", "regularize.tar.on");
  put("regularize.weight_decay", r.weightDecay > 0 ? fmtNum(r.weightDecay) : null, "regularize.weightDecay");

  const t = e.train;
  put("train.epochs", String(t.epochs), "train.epochs");
  const { kind: opt, ...optArgs } = t.optimizer;
  put("train.optimizer", call(opt, optArgs), "train.optimizer.kind", "train.optimizer.lr");
  const { kind: sched, ...schedArgs } = t.schedule;
  put("train.schedule", sched === "constant" ? "constant" : call(sched, schedArgs), "train.schedule.kind");
  put("train.clip", t.clip === null ? "none" : fmtNum(t.clip), "train.clip");
  put("train.seed", String(t.seed), "train.seed");
  put("train.loss", t.loss, "train.loss");
  const { kind: bk, ...bArgs } = t.bptt;
  put("train.bptt", bk === "fixed" ? "fixed" : call(bk, bArgs), "train.bptt.kind");
  // A run directory's ir.json from before the rule existed has no field: such runs stopped only on NaN, i.e. off.
  const { kind: dk, ...dArgs } = t.divergence ?? ({ kind: "off" } as const);
  put("train.divergence", dk === "off" ? "off" : call(dk, dArgs), "train.divergence.kind", "train.divergence.margin", "train.divergence.windows");
  return out;
}

export function diffExperiments(a: ir.ExperimentIR, b: ir.ExperimentIR): DiffEntry[] {
  const sa = settingsOf(a);
  const sb = settingsOf(b);
  const out: DiffEntry[] = [];
  for (const setting of sa.keys()) {
    const before = sa.get(setting) ?? null;
    const after = sb.get(setting) ?? null;
    if (before?.value === after?.value) continue;
    out.push({ setting, kind: before === null ? "added" : after === null ? "removed" : "changed", before, after });
  }
  return out;
}

const where = (o: ir.Origin | undefined): string => (o === undefined ? "" : o === "default" ? "default" : `${o.file}:${o.line}`);

/** Plain text, one line per difference, grouped by block. */
export function renderDiff(a: ir.ExperimentIR, b: ir.ExperimentIR, entries: readonly DiffEntry[], labels = [a.source.file, b.source.file]): string {
  const lines = [`--- ${labels[0]}  ${a.name}`, `+++ ${labels[1]}  ${b.name}`];
  if (entries.length === 0) return [...lines, "no semantic difference"].join("\n") + "\n";
  let group = "";
  const width = Math.max(...entries.map((e) => e.setting.length - e.setting.indexOf(".") - 1)) + 2;
  for (const e of entries) {
    const [g, ...rest] = e.setting.split(".");
    if (g !== group) lines.push((group = g!));
    const name = rest.length ? rest.join(".") : g!;
    const sign = { added: "+", removed: "-", changed: "~" }[e.kind];
    const value = e.kind === "added" ? e.after!.value : e.kind === "removed" ? e.before!.value : `${e.before!.value} → ${e.after!.value}`;
    const from = e.kind === "changed" ? `${where(e.before?.origin)} → ${where(e.after?.origin)}` : where((e.after ?? e.before)?.origin);
    lines.push(`  ${sign} ${name.padEnd(width)}${value}    (${from})`);
  }
  lines.push(`${entries.length} difference${entries.length === 1 ? "" : "s"}`);
  return lines.join("\n") + "\n";
}
