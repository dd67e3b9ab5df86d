// `rnnc diff`: the semantic difference of two resolved experiments. It compares meaning, not text: each
// experiment is read as a set of named settings (a dropout site, a regularizer, the optimizer), and a setting
// with no effect (a site at p = 0, a regularizer at 0) counts as absent. Formatting, comments and the
// `extends` path that produced a value never show up; where each value came from does.
import type * as ir from "./ir.js";
import {
  EXPERIMENT_BLOCK,
  settingsOf as settingsOfBlock,
  valueAt,
  type BlockName,
  type IRPath,
  type Setting as Declared,
} from "./schema/index.js";

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

const fmtNum = (n: number): string =>
  Math.abs(n) > 0 && (Math.abs(n) < 1e-3 || Math.abs(n) >= 1e6) ? n.toExponential().replace("e+", "e") : String(n);

const call = (name: string, args: Record<string, unknown>): string =>
  `${name}(${Object.entries(args)
    .map(([k, v]) => `${k} = ${Array.isArray(v) ? `[${v.join(", ")}]` : typeof v === "number" ? fmtNum(v) : String(v)}`)
    .join(", ")})`;

function initText(i: ir.InitIR): string {
  const { kind, ...rest } = i;
  return Object.keys(rest).length ? call(kind, rest) : kind;
}

function layersText(layers: readonly ir.LayerIR[]): string {
  const one = (l: ir.LayerIR): string =>
    l.cell === "rnn" ? `rnn(${l.hidden}, ${l.activation})` : `${l.cell}(${l.hidden})`;
  const texts = layers.map(one);
  return texts.every((t) => t === texts[0]) ? `${layers.length} × ${texts[0]}` : `[${texts.join(", ")}]`;
}

/** One line of `rnnc diff`: its name, its value (null: absent, no effect) and the IR paths whose origin it shows. */
interface Line {
  readonly name: string;
  readonly value: string | null;
  readonly paths: readonly IRPath[];
}

type SettingId = `${BlockName}.${string}`;

const line = (name: string, value: string | null, ...paths: IRPath[]): Line => ({ name, value, paths });
const vertical = (e: ir.ExperimentIR, site: "input" | "between" | "output"): Line => {
  const d = e.dropout[site];
  const applies = d.p > 0 && (site !== "between" || e.model.layers.length > 1);
  return line(
    `dropout.${site}`,
    applies ? `${fmtNum(d.p)} ${d.mask}` : null,
    `dropout.${site}.p`,
    `dropout.${site}.mask`,
  );
};
const callText = (v: { readonly kind: string }, bare: string): string => {
  const { kind, ...args } = v;
  return kind === bare ? bare : call(kind, args);
};
/** `recurrent_init` and `embed_init` are listed only where they differ from `init`: a change of it shows once. */
const initUnlessSame = (e: ir.ExperimentIR, name: string, i: ir.InitIR, path: IRPath, applies = true): Line =>
  line(name, !applies || initText(i) === initText(e.model.init) ? null : initText(i), path);

/**
 * The settings whose diff line is not their plain value: composite values, settings shown together (the synthetic
 * corpus, the norm), and the lines of the data head. A setting mapped to [] shows within another's line.
 */
const SPECIAL: Readonly<Partial<Record<SettingId, (e: ir.ExperimentIR) => readonly Line[]>>> = {
  "experiment.data": (e) => [
    line("data.dataset", e.data.dataset, "data.dataset"),
    line("data.path", e.data.path, "data.path"),
  ],
  "experiment.task": (e) => [line("task", e.task.kind, "task.kind")],
  "data.order": (e) => [
    line(
      "data.synthetic",
      e.data.synthetic ? call("markov", e.data.synthetic) : null,
      "data.synthetic.order",
      "data.synthetic.tokens",
      "data.synthetic.seed",
    ),
  ],
  "data.tokens": () => [],
  "data.seed": () => [],
  "model.embed": (e) => [line("model.embed", e.model.embed === null ? null : String(e.model.embed), "model.embed")],
  "model.layers": (e) => [
    line(
      "model.layers",
      layersText(e.model.layers),
      ...e.model.layers.flatMap((_, i) => [`model.layers.${i}.hidden`, `model.layers.${i}.cell`] as const),
      "model.layers.length",
    ),
  ],
  "model.init": (e) => [line("model.init", initText(e.model.init), "model.init.kind")],
  "model.recurrent_init": (e) => [
    initUnlessSame(e, "model.recurrent_init", e.model.recurrentInit, "model.recurrentInit.kind"),
  ],
  "model.embed_init": (e) => [
    initUnlessSame(e, "model.embed_init", e.model.embedInit, "model.embedInit.kind", e.model.embed !== null),
  ],
  "model.norm": (e) => {
    const n = e.model.norm;
    if (!n) return [line("model.norm", null)];
    const extra =
      n.kind === "batch"
        ? `, stats = ${n.stats}${n.maxSteps ? `(${n.maxSteps})` : ""}, momentum = ${fmtNum(n.momentum)}`
        : "";
    return [
      line(
        "model.norm",
        `${n.kind}(on = [${n.sites.join(", ")}], gamma = ${fmtNum(n.gamma)}${extra}, epsilon = ${fmtNum(n.epsilon)})`,
        "model.norm.kind",
        "model.norm.gamma",
        "model.norm.sites",
      ),
    ];
  },
  "dropout.input": (e) => [vertical(e, "input")],
  "dropout.between": (e) => [vertical(e, "between")],
  "dropout.output": (e) => [vertical(e, "output")],
  "dropout.recurrent": (e) => [
    line(
      "dropout.recurrent",
      e.dropout.recurrent.p > 0 ? `${fmtNum(e.dropout.recurrent.p)} ${e.dropout.recurrent.mode}` : null,
      "dropout.recurrent.p",
      "dropout.recurrent.mode",
    ),
  ],
  "dropout.zoneout": (e) =>
    (["cell", "hidden"] as const).map((part) =>
      line(
        `dropout.zoneout.${part}`,
        e.dropout.zoneout[part] > 0 ? fmtNum(e.dropout.zoneout[part]) : null,
        `dropout.zoneout.${part}`,
      ),
    ),
  "regularize.ar": (e) => [
    line(
      "regularize.ar",
      e.regularize.ar.alpha > 0 ? `α = ${fmtNum(e.regularize.ar.alpha)} on ${e.regularize.ar.on}` : null,
      "regularize.ar.alpha",
      "regularize.ar.on",
    ),
  ],
  "regularize.tar": (e) => [
    line(
      "regularize.tar",
      e.regularize.tar.beta > 0 ? `β = ${fmtNum(e.regularize.tar.beta)} on ${e.regularize.tar.on}` : null,
      "regularize.tar.beta",
      "regularize.tar.on",
    ),
  ],
  "train.optimizer": (e) => [
    line("train.optimizer", callText(e.train.optimizer, ""), "train.optimizer.kind", "train.optimizer.lr"),
  ],
  "train.schedule": (e) => [line("train.schedule", callText(e.train.schedule, "constant"), "train.schedule.kind")],
  "train.clip": (e) => [line("train.clip", e.train.clip === null ? "none" : fmtNum(e.train.clip), "train.clip")],
  "train.bptt": (e) => [line("train.bptt", callText(e.train.bptt, "fixed"), "train.bptt.kind")],
  // A run directory's ir.json from before the rule existed has no field: such runs stopped only on NaN, i.e. off.
  "train.divergence": (e) => [
    line(
      "train.divergence",
      callText(e.train.divergence ?? { kind: "off" }, "off"),
      "train.divergence.kind",
      "train.divergence.margin",
      "train.divergence.windows",
    ),
  ],
};

/** Where a plain setting applies at all; elsewhere its line is absent (the IR keeps its default there). */
const APPLIES: Readonly<Partial<Record<SettingId, (e: ir.ExperimentIR) => boolean>>> = {
  "data.level": (e) => e.data.dataset === "text",
  "data.vocab": (e) => e.data.dataset === "synthetic",
  "data.stateful": (e) => e.task.kind === "lm",
  "model.forget_bias": (e) => e.model.layers.some((l) => l.cell === "lstm"),
  "dropout.embedding": (e) => e.model.embed !== null,
};

/** A plain setting's line: its value at its IR path, absent where it is null, neutral or does not apply. */
function plain(e: ir.ExperimentIR, s: Declared): Line {
  const path = s.path!;
  const v = valueAt(e, path);
  const name = `${s.block}.${s.key}`;
  const absent = v === null || v === undefined || v === s.neutral || APPLIES[name as SettingId]?.(e) === false;
  return line(
    name,
    absent ? null : typeof v === "number" ? (Number.isInteger(v) ? String(v) : fmtNum(v)) : String(v),
    path,
  );
}

/** Every setting of the schema, each block's statements followed by the block they open (the order of a spec). */
function linesOf(e: ir.ExperimentIR, block: BlockName = EXPERIMENT_BLOCK): Line[] {
  return settingsOfBlock(block).flatMap((s) => {
    const special = SPECIAL[`${s.block}.${s.key}`];
    const own = special ? special(e) : s.path && s.block !== "norm" ? [plain(e, s)] : [];
    return s.opens ? [...own, ...linesOf(e, s.opens)] : own;
  });
}

/** The settings of an experiment, each with the origin of the leaf that decides it. Absent = no effect. */
export function settingsOf(e: ir.ExperimentIR): Map<string, Setting | null> {
  const out = new Map<string, Setting | null>(); // every name, in one fixed order; null = absent
  const o = (paths: readonly IRPath[]): ir.Origin =>
    paths.map((p) => e.origins[p]).find((x) => x !== undefined && x !== "default") ?? "default";
  for (const l of linesOf(e)) out.set(l.name, l.value === null ? null : { value: l.value, origin: o(l.paths) });
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

const where = (o: ir.Origin | undefined): string =>
  o === undefined ? "" : o === "default" ? "default" : `${o.file}:${o.line}`;

/** Plain text, one line per difference, grouped by block. */
export function renderDiff(
  a: ir.ExperimentIR,
  b: ir.ExperimentIR,
  entries: readonly DiffEntry[],
  labels = [a.source.file, b.source.file],
): string {
  const lines = [`--- ${labels[0]}  ${a.name}`, `+++ ${labels[1]}  ${b.name}`];
  if (entries.length === 0) return [...lines, "no semantic difference"].join("\n") + "\n";
  let group = "";
  const width = Math.max(...entries.map((e) => e.setting.length - e.setting.indexOf(".") - 1)) + 2;
  for (const e of entries) {
    const [g, ...rest] = e.setting.split(".");
    if (g !== group) lines.push((group = g!));
    const name = rest.length ? rest.join(".") : g!;
    const sign = { added: "+", removed: "-", changed: "~" }[e.kind];
    const value =
      e.kind === "added"
        ? e.after!.value
        : e.kind === "removed"
          ? e.before!.value
          : `${e.before!.value} → ${e.after!.value}`;
    const from =
      e.kind === "changed"
        ? `${where(e.before?.origin)} → ${where(e.after?.origin)}`
        : where((e.after ?? e.before)?.origin);
    lines.push(`  ${sign} ${name.padEnd(width)}${value}    (${from})`);
  }
  lines.push(`${entries.length} difference${entries.length === 1 ? "" : "s"}`);
  return lines.join("\n") + "\n";
}
