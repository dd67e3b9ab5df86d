// `rnnc diff` of run directories: what each run was, from its ir.json (the experiment as resolved for that run, with
// its --set overrides), and how it went, from its metrics.jsonl. Read through the workspace's host, so the same
// code runs on the real file system and on the tests' fake one.
import { settingsOf } from "../diff.js";
import type { CompilerHost } from "../host.js";
import type { ExperimentIR } from "../ir.js";

type Metric = "perplexity" | "bpc" | "accuracy";

export interface RunResults {
  readonly metric: Metric;
  /** Each finished epoch's validation figure (in the metric's unit) and training speed. */
  readonly epochs: readonly { readonly epoch: number; readonly valid: number; readonly tokPerSec: number | null }[];
  readonly bestEpoch: number | null;
  /** The run's closing evaluation of its best checkpoint; null while it runs or once interrupted. */
  readonly final: { readonly valid: number; readonly test: number } | null;
}

export interface RunRecord {
  readonly dir: string;
  readonly exp: ExperimentIR;
  readonly results: RunResults;
}

/** A run directory's record; null when `dir` has no ir.json (it is then not a run directory); a string on failure. */
export function readRun(host: CompilerHost, dir: string): RunRecord | string | null {
  const ir = host.readFile(`${dir}/ir.json`);
  if (!ir.ok) return null;
  let exp: ExperimentIR;
  try {
    exp = JSON.parse(ir.text) as ExperimentIR;
  } catch (e) {
    return `${dir}/ir.json is not valid JSON (${(e as Error).message})`;
  }
  if (
    typeof exp !== "object" ||
    exp === null ||
    typeof exp.name !== "string" ||
    typeof exp.origins !== "object" ||
    !exp.model ||
    !exp.train ||
    typeof exp.source?.file !== "string"
  )
    return `${dir}/ir.json is not an experiment's IR`;
  const metrics = host.readFile(`${dir}/metrics.jsonl`);
  try {
    // What diff reads of the IR, read once here: a file edited into another shape is reported, not a crash later.
    settingsOf(exp);
    return { dir, exp, results: resultsOf(exp, metrics.ok ? metrics.text : "") };
  } catch (e) {
    return `${dir}/ir.json is not an experiment's IR (${(e as Error).message})`;
  }
}

/**
 * The records of a metrics.jsonl, one object a line; a line that does not parse (a kill mid-write) or is not an
 * object (`null`, a number) is skipped.
 */
export function* metricsRecords(text: string): Generator<Record<string, unknown>> {
  for (const line of text.split("\n")) {
    let m: unknown;
    try {
      m = JSON.parse(line);
    } catch {
      continue;
    }
    if (typeof m === "object" && m !== null && !Array.isArray(m)) yield m as Record<string, unknown>;
  }
}

/** The figures of a run's metrics.jsonl; lines that do not parse (a kill mid-write) are skipped. */
export function resultsOf(exp: ExperimentIR, metricsText: string): RunResults {
  const metric: Metric = exp.task.kind === "classify" ? "accuracy" : exp.data.level === "char" ? "bpc" : "perplexity";
  // Losses are mean NLL per token in nats (runtime/train/lm-task.ts): perplexity e^loss, bits per character loss/ln 2.
  const fromLoss = (loss: number): number => (metric === "bpc" ? loss / Math.LN2 : Math.exp(loss));
  const epochs: { epoch: number; valid: number; tokPerSec: number | null }[] = [];
  let bestEpoch: number | null = null;
  let final: RunResults["final"] = null;
  for (const m of metricsRecords(metricsText)) {
    const num = (k: string): number | null => (typeof m[k] === "number" ? (m[k] as number) : null);
    if (m["event"] === "epoch") {
      const valid = metric === "accuracy" ? num("validAccuracy") : num("validLoss");
      if (valid === null || num("epoch") === null) continue;
      epochs.push({
        epoch: num("epoch")!,
        valid: metric === "accuracy" ? valid : fromLoss(valid),
        tokPerSec: num("tokPerSec"),
      });
      if (m["best"] === true) bestEpoch = num("epoch");
    } else if (m["event"] === "final" && num("valid") !== null && num("test") !== null) {
      final = { valid: num("valid")!, test: num("test")! };
      bestEpoch = num("bestEpoch") ?? bestEpoch;
    }
  }
  return { metric, epochs, bestEpoch, final };
}

const median = (xs: readonly number[]): number | null => {
  if (!xs.length) return null;
  const s = [...xs].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

const show = (metric: Metric, v: number | null | undefined): string =>
  v === null || v === undefined
    ? "—"
    : metric === "accuracy"
      ? `${(100 * v).toFixed(2)} %`
      : v.toFixed(metric === "bpc" ? 3 : 2);

/** The two runs' figures side by side: their outcome, then the validation curve epoch by epoch. */
export function renderResults(a: RunResults, b: RunResults): string {
  const unit = a.metric === b.metric ? a.metric : `${a.metric} | ${b.metric}`;
  const bestValid = (r: RunResults): number | null =>
    r.final?.valid ?? r.epochs.find((e) => e.epoch === r.bestEpoch)?.valid ?? null;
  const speed = (r: RunResults): string => {
    const s = median(r.epochs.flatMap((e) => (e.tokPerSec === null ? [] : [e.tokPerSec])));
    return s === null ? "—" : String(Math.round(s));
  };
  const rows: [string, string, string][] = [
    ["  epochs", ...([a, b].map((r) => `${r.epochs.length}${r.final ? "" : " (unfinished)"}`) as [string, string])],
    ["  best epoch", ...([a, b].map((r) => (r.bestEpoch === null ? "—" : String(r.bestEpoch))) as [string, string])],
    [`  valid ${unit}`, show(a.metric, bestValid(a)), show(b.metric, bestValid(b))],
    [`  test ${unit}`, show(a.metric, a.final?.test), show(b.metric, b.final?.test)],
    ["  tok/s (median)", speed(a), speed(b)],
  ];
  const n = Math.max(a.epochs.length, b.epochs.length);
  const curve: [string, string, string][] = [];
  for (let k = 1; k <= n; k++) {
    const at = (r: RunResults): string =>
      show(r.metric, r.epochs.find((e) => e.epoch === k)?.valid) + (r.bestEpoch === k ? " *" : "");
    curve.push([`  ${k}`, at(a), at(b)]);
  }
  const all = [...rows, ...curve];
  const w0 = Math.max(...all.map((r) => r[0].length)) + 2;
  const w1 = Math.max(5, ...all.map((r) => r[1].length)) + 3;
  const line = (r: readonly string[]): string => `${r[0]!.padEnd(w0)}${r[1]!.padEnd(w1)}${r[2]}`.trimEnd();
  const lines = [line(["results", "---", "+++"]), ...rows.map(line)];
  if (curve.length) lines.push(`valid ${unit} by epoch (* best)`, ...curve.map(line));
  return lines.join("\n") + "\n";
}
