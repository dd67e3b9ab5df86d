// `rnnc report RUN_OR_DIR… -o report.html`: one self-contained HTML page about some runs, to paste into notes: the
// settings that differ between them (with the spec file:line each value came from), the results table, the learning
// curves (inline SVG, the chart `rnnc plot` draws) and each run's environment. No script, no external resource:
// every text from a run (names, paths, values) is HTML-escaped, so a run directory cannot put markup in the page.
import { join } from "node:path";
import { settingsOf, type Setting } from "../diff.js";
import { EXIT, type Outcome } from "./commands.js";
import { curvesChart, type CurveMetric, type RunCurves } from "./curves.js";
import { writeFileAtomic } from "./fs.js";
import { chartSvg, collectRuns, runCurves } from "./plot.js";
import { readJson, type RunRow } from "./runs.js";
import { terminalText } from "../terminal-text.js";
import { VERSION } from "../version.js";

const esc = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);

// A value from `--set` comes from the override spec rnnc writes for it (prepare.ts), named --set.rnn
const originText = (s: Setting | null | undefined): string =>
  !s
    ? ""
    : s.origin === "default"
      ? "default"
      : /(^|\/)--set\.rnn$/.test(s.origin.file)
        ? "--set"
        : `${s.origin.file}:${s.origin.line}`;

const fmt = (metric: CurveMetric, v: number | null): string =>
  v === null ? "—" : metric === "accuracy" ? `${(100 * v).toFixed(2)} %` : v.toFixed(metric === "bpc" ? 3 : 2);

function duration(s: number): string {
  if (s <= 0) return "—";
  const h = Math.floor(s / 3600);
  const m = Math.round((s % 3600) / 60);
  return h ? `${h} h ${m} min` : `${Math.max(1, m)} min`;
}

/** The settings whose value is not the same in every run (absent counts as a value). */
function differingSettings(curves: readonly RunCurves[]): { name: string; cells: (Setting | null)[] }[] {
  const maps = curves.map((c) => settingsOf(c.exp));
  const names = [...new Set(maps.flatMap((m) => [...m.keys()]))];
  return names
    .map((name) => ({ name, cells: maps.map((m) => m.get(name) ?? null) }))
    .filter((r) => new Set(r.cells.map((c) => c?.value ?? "(absent)")).size > 1);
}

function table(head: readonly string[], rows: readonly (readonly string[])[], cls = ""): string {
  const tr = (cells: readonly string[], tag: "td" | "th") =>
    `<tr>${cells.map((c) => `<${tag}>${c}</${tag}>`).join("")}</tr>`;
  return `<table${cls ? ` class="${cls}"` : ""}><thead>${tr(head, "th")}</thead><tbody>${rows.map((r) => tr(r, "td")).join("")}</tbody></table>`;
}

export function reportHtml(curves: readonly RunCurves[], metric: CurveMetric, svg: string, title: string): string {
  const labels = curves.map((c) => esc(c.label));
  const diff = differingSettings(curves);
  const settings = diff.length
    ? table(
        ["setting", ...labels],
        diff.map((d) => [
          `<code>${esc(d.name)}</code>`,
          ...d.cells.map((c) =>
            c
              ? `${esc(c.value)} <span class="origin">${esc(originText(c))}</span>`
              : `<span class="origin">absent</span>`,
          ),
        ]),
      )
    : `<p>The runs' experiments have the same settings${curves.length > 1 ? "" : " (one run)"}.</p>`;
  const row = (r: RunRow): string[] => [
    esc(r.status + (r.reason ? ` (${r.reason})` : "")),
    `${r.epochs}/${r.epochsPlanned ?? "?"}`,
    r.bestEpoch === null ? "—" : String(r.bestEpoch),
    fmt(metric, r.valid),
    fmt(metric, r.test),
    r.tokPerSec === null ? "—" : String(Math.round(r.tokPerSec)),
    duration(r.seconds),
  ];
  const results = table(
    ["run", "status", "epochs", "best epoch", `valid ${metric}`, `test ${metric}`, "tok/s", "time"],
    curves.map((c, k) => [`${labels[k]}<div class="origin">${esc(c.row.dir)}</div>`, ...row(c.row)]),
    "results",
  );
  const envKeys = ["rnnc", "backendDescription", "tfjs", "node", "cpu", "cores", "seed", "parameters", "started"];
  const env = table(
    ["run", ...envKeys, "threads"],
    curves.map((c, k) => {
      const e = readJson(join(c.row.dir, "env.json")) ?? {};
      const t = readJson(join(c.row.dir, "run.json")) ?? {};
      return [labels[k]!, ...envKeys.map((key) => esc(String(e[key] ?? "—"))), esc(String(t["threads"] ?? "—"))];
    }),
  );
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="rnnc ${esc(VERSION)}">
<title>${esc(title)}</title>
<style>
body { font: 14px/1.45 "DejaVu Sans", Helvetica, Arial, sans-serif; margin: 2em auto; max-width: 1200px; color: #222; padding: 0 1em; }
h1 { font-size: 1.5em; } h2 { font-size: 1.15em; margin-top: 2em; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: 0.5em 0; } th, td { border: 1px solid #ddd; padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #f4f4f4; } .origin { color: #777; font-size: 0.85em; } code { font-size: 0.95em; }
.results td:nth-child(n+3) { text-align: right; } figure { margin: 0; } svg { max-width: 100%; height: auto; }
</style>
</head>
<body>
<h1>${esc(title)}</h1>
<p>${curves.length} run${curves.length === 1 ? "" : "s"}, reported by rnnc ${esc(VERSION)}. Figures of the best-validation checkpoint; ${esc(metric)} on the validation and test sets.</p>
<h2>Settings that differ</h2>
${settings}
<h2>Results</h2>
${results}
<h2>Learning curves</h2>
<figure>${svg}<figcaption class="origin">Validation after each epoch (solid, points); training, the epoch's running figure every logging interval (dashed).</figcaption></figure>
<h2>Environment</h2>
${env}
</body>
</html>
`;
}

export async function report(paths: readonly string[], out: string, title?: string): Promise<Outcome> {
  const { runs } = collectRuns(paths);
  const { curves, metric } = runCurves(runs);
  const name = title ?? [...new Set(runs.map((r) => r.row.sweep ?? r.row.experiment))].join(", ");
  const svg = await chartSvg(curvesChart(curves, metric, name));
  writeFileAtomic(out, reportHtml(curves, metric, svg, name));
  return {
    stdout: `wrote ${terminalText(out)}: ${curves.length} run${curves.length === 1 ? "" : "s"}\n`,
    stderr: "",
    exitCode: EXIT.ok,
  };
}
