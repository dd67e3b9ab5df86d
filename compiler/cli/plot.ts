// `rnnc plot RUN_OR_DIR… -o FILE`: the learning curves of runs (curves.ts), drawn by Vega-Lite through vega's SVG
// renderer (no browser), rasterized by resvg for .png, or their data as .csv. Several runs share one chart; a
// sweep's points are coloured by the values that vary.
import { extname, join } from "node:path";
import { EXIT, type Outcome } from "./commands.js";
import { curvePoints, curvesChart, curvesCsv, labelsOf, type CurveMetric, type RunCurves } from "./curves.js";
import { InputError, writeFileAtomic } from "./fs.js";
import { displayPath } from "./fs-host.js";
import { findRunDirs, readText, runRecord, type RunRow } from "./runs.js";
import type { ExperimentIR } from "../ir.js";
import { terminalText } from "../terminal-text.js";

export const PLOT_FORMATS = [".svg", ".png", ".csv"] as const;

/** The runs under the paths (a run directory, or folders of them), with their IR; in the order found. */
export function collectRuns(paths: readonly string[]): { runs: { row: RunRow; exp: ExperimentIR }[] } {
  const runs: { row: RunRow; exp: ExperimentIR }[] = [];
  for (const path of paths) {
    const dirs = findRunDirs(path);
    if (dirs.length === 0)
      throw new InputError(`found no run directory (a folder with ir.json and run.json) in ${displayPath(path)}`);
    for (const dir of dirs) {
      const rec = runRecord(displayPath(dir));
      if (typeof rec === "string") throw new InputError(rec);
      runs.push(rec);
    }
  }
  return { runs };
}

/** Every run's curves, labelled; the runs must measure one thing (perplexity, bpc or accuracy). */
export function runCurves(runs: readonly { row: RunRow; exp: ExperimentIR }[]): {
  curves: RunCurves[];
  metric: CurveMetric;
} {
  const metrics = [...new Set(runs.map((r) => r.row.metric))];
  if (metrics.length > 1)
    throw new InputError(
      `the runs measure different things (${metrics.join(", ")}): plot them separately, one metric per chart`,
    );
  const metric = metrics[0]!;
  const labels = labelsOf(runs);
  const curves = runs.map((r, k) => {
    const text = readText(join(r.row.dir, "metrics.jsonl")) ?? "";
    return { ...r, label: labels[k]!, points: curvePoints(labels[k]!, metric, text) };
  });
  return { curves, metric };
}

/** The chart as SVG (vega's renderer, headless). */
export async function chartSvg(spec: Record<string, unknown>): Promise<string> {
  const [vega, vl] = await Promise.all([import("vega"), import("vega-lite")]);
  const view = new vega.View(vega.parse(vl.compile(spec as never).spec), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** SVG → PNG at twice the size, on white, with the system's fonts (DejaVu Sans where there is no other). */
async function svgToPng(svg: string): Promise<Buffer> {
  const { Resvg } = await import("@resvg/resvg-js");
  return new Resvg(svg, {
    background: "white",
    fitTo: { mode: "zoom", value: 2 },
    font: { loadSystemFonts: true, defaultFontFamily: "DejaVu Sans", sansSerifFamily: "DejaVu Sans" },
  })
    .render()
    .asPng();
}

export async function plot(paths: readonly string[], out: string, title?: string): Promise<Outcome> {
  const ext = extname(out).toLowerCase();
  if (!(PLOT_FORMATS as readonly string[]).includes(ext))
    return {
      stdout: "",
      stderr: `rnnc plot: -o ${terminalText(out)}: the file's extension says the format: .svg, .png or .csv\n`,
      exitCode: EXIT.usage,
    };
  const { runs } = collectRuns(paths);
  const { curves, metric } = runCurves(runs);
  const empty = curves.filter((c) => c.points.length === 0).map((c) => c.row.dir);
  const warn = empty.length ? `rnnc plot: no measurement yet in ${empty.map((d) => terminalText(d)).join(", ")}\n` : "";
  if (ext === ".csv") writeFileAtomic(out, curvesCsv(curves, metric));
  else {
    const names = [...new Set(runs.map((r) => r.row.sweep ?? r.row.experiment))];
    const svg = await chartSvg(curvesChart(curves, metric, title ?? names.join(", ")));
    writeFileAtomic(out, ext === ".png" ? await svgToPng(svg) : svg);
  }
  const points = curves.reduce((n, c) => n + c.points.length, 0);
  return {
    stdout: `wrote ${terminalText(out)}: ${curves.length} run${curves.length === 1 ? "" : "s"}, ${points} points\n`,
    stderr: warn,
    exitCode: EXIT.ok,
  };
}
