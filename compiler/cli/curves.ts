// The learning curves of runs, read from their metrics.jsonl: the training metric at every logging interval (the
// runtime writes a "train" line every 100 steps and at the end of each epoch) and the validation metric after every
// epoch, on one axis of epochs (an interval at window w of W in epoch e is at e − 1 + w/W). What `rnnc plot` draws
// and writes as CSV, and what `rnnc report` shows.
import { basename } from "node:path";
import type { ExperimentIR } from "../ir.js";
import { metricsRecords } from "./run-results.js";
import type { RunRow } from "./runs.js";

export type CurveMetric = "perplexity" | "bpc" | "accuracy";

export interface CurvePoint {
  /** The run's label in the legend. */
  readonly run: string;
  readonly split: "train" | "valid";
  /** Epochs, fractional for training intervals. */
  readonly epoch: number;
  readonly value: number;
}

export interface RunCurves {
  readonly row: RunRow;
  readonly exp: ExperimentIR;
  readonly label: string;
  readonly points: readonly CurvePoint[];
}

/** A loss in nats per token as the metric: e^loss (perplexity) or loss / ln 2 (bits per character). */
const fromLoss = (metric: CurveMetric, loss: number): number => (metric === "bpc" ? loss / Math.LN2 : Math.exp(loss));

/** The curve points of one run's metrics.jsonl (lines that do not parse, or carry no finite figure, are skipped). */
export function curvePoints(label: string, metric: CurveMetric, metricsText: string): CurvePoint[] {
  const out: CurvePoint[] = [];
  const push = (split: "train" | "valid", epoch: number, value: number): void => {
    if (Number.isFinite(epoch) && Number.isFinite(value)) out.push({ run: label, split, epoch, value });
  };
  for (const m of metricsRecords(metricsText)) {
    const num = (k: string): number => (typeof m[k] === "number" ? (m[k] as number) : NaN);
    if (m["event"] === "train") {
      // language models count windows, classifiers batches
      const [done, of] = m["window"] !== undefined ? [num("window"), num("windows")] : [num("batch"), num("batches")];
      const at = num("epoch") - 1 + done / of;
      push("train", at, metric === "accuracy" ? num("accuracy") : fromLoss(metric, num("loss")));
    } else if (m["event"] === "epoch") {
      push("valid", num("epoch"), metric === "accuracy" ? num("validAccuracy") : fromLoss(metric, num("validLoss")));
    }
  }
  return out;
}

/**
 * Legend labels that tell the runs apart: a sweep's points by the values that vary (`lr=0.5`), runs of different
 * experiments by name, runs of one experiment by seed, else by their folder's name.
 */
export function labelsOf(runs: readonly { row: RunRow; exp: ExperimentIR }[]): string[] {
  const variants = runs.map((r) => r.exp.variant);
  if (runs.length > 1 && variants.every((v) => v !== null) && new Set(runs.map((r) => r.row.sweep)).size === 1) {
    const keys = [...new Set(variants.flatMap((v) => Object.keys(v!)))].sort();
    const text = (v: Readonly<Record<string, unknown>>): string =>
      keys.map((k) => `${k.split(".").pop()}=${JSON.stringify(v[k]) ?? "—"}`).join(" ");
    return variants.map((v) => text(v!));
  }
  const names = runs.map((r) => r.row.experiment);
  const labels =
    new Set(names).size === names.length
      ? names
      : runs.map((r) => {
          const seeds = runs.filter((o) => o.row.experiment === r.row.experiment).map((o) => o.exp.train.seed);
          return new Set(seeds).size === seeds.length
            ? `${r.row.experiment} seed ${r.exp.train.seed}`
            : r.row.experiment;
        });
  // still ambiguous (the same experiment and seed twice): add the run folder's name
  return labels.map((l, k) => (labels.indexOf(l) !== labels.lastIndexOf(l) ? `${l} ${basename(runs[k]!.row.dir)}` : l));
}

const csvCell = (s: string): string => {
  const safe = /^[=+\-@\t\r]/.test(s) ? `'${s}` : s; // a spreadsheet would run =… as a formula
  return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
};

export function curvesCsv(curves: readonly RunCurves[], metric: CurveMetric): string {
  const lines = [`run,dir,split,epoch,${metric}`];
  for (const c of curves)
    for (const p of c.points)
      lines.push([csvCell(c.label), csvCell(c.row.dir), p.split, String(p.epoch), String(p.value)].join(","));
  return lines.join("\n") + "\n";
}

/**
 * The Vega-Lite chart: one line per run and split (validation solid with points, training thinner and dashed),
 * coloured by run; a log scale for perplexity, whose early values span orders of magnitude.
 */
export function curvesChart(curves: readonly RunCurves[], metric: CurveMetric, title: string): Record<string, unknown> {
  const values = curves.flatMap((c) => c.points);
  const yTitle = metric === "accuracy" ? "accuracy" : metric === "bpc" ? "bits per character" : "perplexity";
  const cap = perplexityCap(curves, metric);
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: cap === null ? title : { text: title, subtitle: `perplexity above ${cap.toExponential(0)} is cut off` },
    width: 640,
    height: 360,
    data: { values },
    encoding: {
      x: { field: "epoch", type: "quantitative", title: "epoch" },
      y: {
        field: "value",
        type: "quantitative",
        title: yTitle,
        scale:
          metric === "perplexity"
            ? { type: "log", ...(cap === null ? {} : { domainMax: cap }) }
            : metric === "accuracy"
              ? { domain: [0, 1] }
              : { zero: false },
        axis:
          metric === "accuracy"
            ? { format: "%" }
            : metric === "perplexity"
              ? {
                  // a label at 1, 2 and 5 × 10^k only (a log axis ticks every integer multiple)
                  labelExpr:
                    "indexof(['1', '2', '5'], slice(format(datum.value, '.0e'), 0, 1)) < 0 ? '' : datum.value >= 1e5 ? format(datum.value, '.0e') : format(datum.value, ',')",
                }
              : {},
      },
      color: {
        field: "run",
        type: "nominal",
        title: "run",
        sort: curves.map((c) => c.label),
        legend: { symbolType: "stroke", symbolStrokeWidth: 3 },
      },
    },
    layer: [
      {
        mark: { type: "line", clip: true, strokeWidth: 1.6 },
        encoding: {
          // validation solid, training dashed (resvg cannot draw a "1,0" dash: the solid one has none)
          strokeDash: {
            field: "split",
            type: "nominal",
            title: "split",
            scale: { domain: ["valid", "train"], range: [[], [4, 3]] },
            legend: { symbolType: "stroke", symbolStrokeColor: "#555", symbolStrokeWidth: 2 },
          },
        },
      },
      // a point at every validation, so that a run of one epoch still shows; none beyond the cut-off
      {
        mark: { type: "point", filled: true, size: 36, clip: true },
        transform: [{ filter: `datum.split === 'valid'${cap === null ? "" : ` && datum.value <= ${cap}`}` }],
      },
    ],
    config: { font: "DejaVu Sans, Helvetica, Arial, sans-serif", legend: { labelLimit: 360 } },
  };
}

/**
 * Where a perplexity axis stops: two decades above the worst run's last validation figure, when the curves reach
 * far beyond that (a run that blew up early would otherwise flatten every other curve); null: show everything.
 */
function perplexityCap(curves: readonly RunCurves[], metric: CurveMetric): number | null {
  if (metric !== "perplexity") return null;
  const lasts = curves.flatMap((c) =>
    c.points
      .filter((p) => p.split === "valid")
      .slice(-1)
      .map((p) => p.value),
  );
  const all = curves.flatMap((c) => c.points.map((p) => p.value));
  if (!lasts.length || !all.length) return null;
  const cap = 10 ** (Math.ceil(Math.log10(Math.max(...lasts))) + 2);
  return Math.max(...all) > cap ? cap : null;
}
