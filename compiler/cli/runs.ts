// `rnnc runs [DIR…]`: the run registry. Every run directory under the folders given (default `runs`) as one row:
// what it trained (the experiment of its ir.json), how it stands (status.json, written by the runtime, checked
// against the live processes; metrics.jsonl for runs older than status.json), how far it got and what it measured.
// Read-only: a damaged file makes its row say so, never stops the listing.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import type { ReadResult } from "../host.js";
import type { ExperimentIR } from "../ir.js";
import { EXIT, type Outcome } from "./commands.js";
import { displayPath } from "./fs-host.js";
import { metricsRecords, readRun, type RunResults } from "./run-results.js";
import { terminalText } from "../terminal-text.js";

export const RUN_STATES = ["running", "finished", "stopped", "diverged", "failed"] as const;
export type RunState = (typeof RUN_STATES)[number];

export interface RunRow {
  readonly dir: string;
  readonly experiment: string;
  /** The sweep a point belongs to (the experiment's name before its `[…]`); null for a single run. */
  readonly sweep: string | null;
  readonly status: RunState;
  /** Why it stopped, where the run said (a divergence, an error's first line). */
  readonly reason: string | null;
  readonly epochs: number;
  readonly epochsPlanned: number | null;
  readonly metric: RunResults["metric"];
  readonly bestEpoch: number | null;
  readonly valid: number | null;
  readonly test: number | null;
  /** The median training speed over finished epochs (tokens, or images for a classifier). */
  readonly tokPerSec: number | null;
  /** Seconds of training and validation over finished epochs. */
  readonly seconds: number;
  readonly started: string | null;
}

export interface RunsFilter {
  readonly experiment?: string;
  readonly sweep?: string;
  readonly status?: RunState;
}

const MAX_DEPTH = 6; // runs/<experiment>/<timestamp>, or deeper when --runs names a nested folder (rows/seeds)
const MAX_BYTES = 64 * 2 ** 20;

export function readText(file: string): string | null {
  try {
    const st = statSync(file);
    if (!st.isFile() || st.size > MAX_BYTES) return null;
    return readFileSync(file, "utf8");
  } catch {
    return null;
  }
}

export function readJson(file: string): Record<string, unknown> | null {
  const text = readText(file);
  if (text === null) return null;
  try {
    const v = JSON.parse(text) as unknown;
    return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** The run directories under `root`: folders with an ir.json and a run.json (what `rnnc run` writes first). */
export function findRunDirs(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string, depth: number): void => {
    let names: string[];
    try {
      names = readdirSync(dir).sort();
    } catch {
      return;
    }
    if (names.includes("ir.json") && names.includes("run.json")) return void out.push(dir);
    if (depth >= MAX_DEPTH) return;
    for (const name of names) {
      if (name.startsWith(".") || name === "node_modules") continue;
      const p = join(dir, name);
      try {
        if (statSync(p).isDirectory()) walk(p, depth + 1);
      } catch {
        /* a dangling link */
      }
    }
  };
  walk(root, 0);
  return out;
}

/** Whether process `pid` lives on this machine (EPERM: it does, under another user). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

interface MetricsSummary {
  readonly stopped: string | null;
  readonly seconds: number;
}

function metricsSummary(text: string): MetricsSummary {
  let stopped: string | null = null;
  let seconds = 0;
  for (const m of metricsRecords(text)) {
    if (m["event"] === "stopped") stopped = typeof m["reason"] === "string" ? m["reason"] : "stopped";
    if (m["event"] === "epoch")
      for (const k of ["seconds", "validSeconds"]) if (typeof m[k] === "number") seconds += m[k] as number;
  }
  return { stopped, seconds };
}

/**
 * How a run stands. status.json decides, but a "running" whose process is gone on this machine was killed
 * (stopped), and a final line in metrics.jsonl means finished whatever status.json says (a status write can fail).
 * Without status.json (runs from before it): finished, diverged (a "stopped" line), else stopped.
 */
function stateOf(dir: string, results: RunResults, m: MetricsSummary): { state: RunState; reason: string | null } {
  if (results.final) return { state: "finished", reason: null };
  const s = readJson(join(dir, "status.json"));
  const state = s?.["state"];
  if (typeof state === "string" && (RUN_STATES as readonly string[]).includes(state)) {
    const message = typeof s!["message"] === "string" ? (s!["message"] as string) : null;
    if (state === "running") {
      const here = s!["host"] === hostname();
      const pid = s!["pid"];
      if (here && typeof pid === "number" && Number.isInteger(pid) && pid > 0 && !alive(pid))
        return { state: "stopped", reason: "its process is gone (killed)" };
      return { state: "running", reason: here ? null : `on ${String(s!["host"])}` };
    }
    if (state === "finished") return { state: "stopped", reason: "no final line in metrics.jsonl" };
    if (state === "diverged") return { state, reason: m.stopped === "diverged" ? null : m.stopped };
    return { state: state as RunState, reason: message };
  }
  if (m.stopped) return { state: "diverged", reason: m.stopped === "diverged" ? null : m.stopped };
  // A run from before status.json, or whose status could not be written: it may still be training.
  return { state: "stopped", reason: "or running: it has no status.json" };
}

const median = (xs: readonly number[]): number | null => {
  if (!xs.length) return null;
  const s = [...xs].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/** One run directory's row; a string when it is not a readable run (shown as a warning). */
export function runRow(dir: string): RunRow | string {
  const r = runRecord(dir);
  return typeof r === "string" ? r : r.row;
}

/** A run directory's row and the experiment its ir.json holds, read once; a string when it is not a run. */
export function runRecord(dir: string): { row: RunRow; exp: ExperimentIR } | string {
  const host = {
    readFile: (p: string): ReadResult => {
      const text = readText(p);
      return text === null ? { ok: false, reason: "unreadable", kind: "unreadable" } : { ok: true, text };
    },
    resolve: (_from: string, relative: string) => relative,
  };
  const rec = readRun(host, dir);
  if (rec === null) return `${dir}: no ir.json`;
  if (typeof rec === "string") return rec;
  const exp: ExperimentIR = rec.exp;
  const m = metricsSummary(readText(join(dir, "metrics.jsonl")) ?? "");
  const { state, reason } = stateOf(dir, rec.results, m);
  const settings = readJson(join(dir, "run.json"));
  const env = readJson(join(dir, "env.json"));
  const planned = typeof settings?.["epochs"] === "number" ? (settings["epochs"] as number) : exp.train.epochs;
  const r = rec.results;
  const best = r.epochs.find((e) => e.epoch === r.bestEpoch)?.valid ?? null;
  const row: RunRow = {
    dir,
    experiment: exp.name,
    sweep: exp.variant ? exp.name.replace(/\[.*$/, "") : null,
    status: state,
    reason,
    epochs: r.epochs.length,
    epochsPlanned: planned,
    metric: r.metric,
    bestEpoch: r.bestEpoch,
    valid: r.final?.valid ?? best,
    test: r.final?.test ?? null,
    tokPerSec: median(r.epochs.flatMap((e) => (e.tokPerSec === null ? [] : [e.tokPerSec]))),
    seconds: m.seconds,
    started: typeof env?.["started"] === "string" ? (env["started"] as string) : null,
  };
  return { row, exp };
}

const fmtMetric = (metric: RunResults["metric"], v: number | null): string =>
  v === null ? "" : metric === "accuracy" ? `${(100 * v).toFixed(2)}%` : v.toFixed(metric === "bpc" ? 3 : 2);

function fmtDuration(s: number): string {
  if (s <= 0) return "";
  const h = Math.floor(s / 3600);
  const min = Math.floor((s % 3600) / 60);
  return h ? `${h}h${String(min).padStart(2, "0")}m` : `${min}m${String(Math.round(s % 60)).padStart(2, "0")}s`;
}

const COLUMNS = ["run", "experiment", "status", "epochs", "valid", "test", "tok/s", "time", "started"] as const;

function cells(r: RunRow): string[] {
  const unit = r.metric === "accuracy" ? "" : r.metric === "bpc" ? " bpc" : " ppl";
  const metric = (v: number | null) => (v === null ? "" : `${fmtMetric(r.metric, v)}${unit}`);
  return [
    r.dir,
    r.experiment,
    r.reason ? `${r.status} (${r.reason})` : r.status,
    `${r.epochs}/${r.epochsPlanned ?? "?"}`,
    metric(r.valid),
    metric(r.test),
    r.tokPerSec === null ? "" : String(Math.round(r.tokPerSec)),
    fmtDuration(r.seconds),
    r.started ? r.started.replace("T", " ").replace(/:\d\d(\.\d+)?Z$/, "") : "",
  ];
}

function table(rows: readonly RunRow[]): string {
  const body = rows.map((r) => cells(r).map(terminalText));
  const all = [[...COLUMNS], ...body];
  const widths = COLUMNS.map((_, k) => Math.max(...all.map((c) => c[k]!.length)));
  return (
    all
      .map((c) =>
        c
          .map((x, k) => x.padEnd(widths[k]!))
          .join("  ")
          .trimEnd(),
      )
      .join("\n") + "\n"
  );
}

const csvCell = (s: string): string => (/[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
// A cell a spreadsheet would run as a formula (=, +, -, @ first) is quoted with a leading apostrophe.
const csvSafe = (s: string): string => csvCell(/^[=+\-@\t\r]/.test(s) ? `'${s}` : s);

function csv(rows: readonly RunRow[]): string {
  const head = ["dir", "experiment", "sweep", "status", "reason", "epochs", "epochs_planned", "metric", "best_epoch"];
  const lines = [[...head, "valid", "test", "tok_per_sec", "seconds", "started"].join(",")];
  for (const r of rows)
    lines.push(
      [
        r.dir,
        r.experiment,
        r.sweep ?? "",
        r.status,
        r.reason ?? "",
        String(r.epochs),
        r.epochsPlanned === null ? "" : String(r.epochsPlanned),
        r.metric,
        r.bestEpoch === null ? "" : String(r.bestEpoch),
        r.valid === null ? "" : String(r.valid),
        r.test === null ? "" : String(r.test),
        r.tokPerSec === null ? "" : r.tokPerSec.toFixed(1),
        r.seconds.toFixed(1),
        r.started ?? "",
      ]
        .map(csvSafe)
        .join(","),
    );
  return lines.join("\n") + "\n";
}

/** The registry of the run directories under `roots`, filtered; newest first. */
export function listRuns(roots: readonly string[], filter: RunsFilter, format: "table" | "json" | "csv"): Outcome {
  const warnings: string[] = [];
  const rows: RunRow[] = [];
  for (const root of roots) {
    let isDir = false;
    try {
      isDir = statSync(root).isDirectory();
    } catch {
      /* reported below */
    }
    if (!isDir) {
      warnings.push(`rnnc runs: not a folder: ${terminalText(displayPath(root))}`);
      continue;
    }
    for (const dir of findRunDirs(root)) {
      const row = runRow(displayPath(dir));
      if (typeof row === "string") warnings.push(`rnnc runs: skipped ${terminalText(row)}`);
      else rows.push(row);
    }
  }
  const kept = rows
    .filter((r) => filter.experiment === undefined || r.experiment === filter.experiment)
    .filter((r) => filter.sweep === undefined || r.sweep === filter.sweep)
    .filter((r) => filter.status === undefined || r.status === filter.status)
    .sort((a, b) => (b.started ?? "").localeCompare(a.started ?? "") || a.dir.localeCompare(b.dir));
  const stderr = warnings.map((w) => `${w}\n`).join("");
  if (warnings.length && rows.length === 0 && roots.length === warnings.length)
    return { stdout: "", stderr, exitCode: EXIT.inputError };
  const stdout =
    format === "json"
      ? JSON.stringify(kept, null, 2) + "\n"
      : format === "csv"
        ? csv(kept)
        : kept.length
          ? table(kept)
          : "no runs\n";
  return { stdout, stderr, exitCode: EXIT.ok };
}
