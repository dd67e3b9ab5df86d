// Shared helpers of the end-to-end suites: the built CLI (bin/rnnc.js → dist/) as a user runs it, in a child
// process, never with network access (RNNC_DATA_MIRROR points at a port fetch refuses at once).
import { spawn } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { expect } from "vitest";
import { readCheckpoint } from "../../runtime/train/checkpoint.js";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const BIN = join(ROOT, "bin/rnnc.js");
export const QUICKSTART = join(ROOT, "examples/quickstart.rnn");

/** A bound on hangs only (a child past it is killed and the test fails), never a speed assertion. */
export const KILL_MS = 240_000;

/** Fails early with a clear message when dist/ is missing (`npm test` builds it; locally: npm run build). */
export function requireBuild(): void {
  if (!existsSync(join(ROOT, "dist/compiler/cli/main.js")) || !existsSync(join(ROOT, "dist/runtime/index.js")))
    throw new Error("dist/ is missing: run `npm run build` first (npm test does)");
}

export function tempDir(prefix: string): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), `rnnc-e2e-${prefix}-`));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

export function childEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: "1", RNNC_DATA_MIRROR: "http://127.0.0.1:9", ...extra };
  delete env["RNNC_DEBUG"];
  return env;
}

export interface Result {
  readonly status: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface Child {
  /** Resolves when stderr (so far) matches `re`; rejects if the child exits first. */
  waitForStderr(re: RegExp): Promise<string>;
  /** Resolves when stdout (so far) matches `re`; rejects if the child exits first. */
  waitForStdout(re: RegExp): Promise<string>;
  kill(signal: NodeJS.Signals): void;
  readonly done: Promise<Result>;
}

/** Starts `node <script> ...args` (default: the rnnc binary) with cwd ROOT. */
export function start(
  args: readonly string[],
  opts: { script?: string; env?: NodeJS.ProcessEnv; cwd?: string; killMs?: number } = {},
): Child {
  const child = spawn(process.execPath, [opts.script ?? BIN, ...args], {
    cwd: opts.cwd ?? ROOT,
    env: childEnv(opts.env),
    stdio: ["ignore", "pipe", "pipe"],
  });
  const text = { stdout: "", stderr: "" };
  type Stream = keyof typeof text;
  const waiters: { stream: Stream; re: RegExp; resolve: (s: string) => void; reject: (e: Error) => void }[] = [];
  const check = (): void => {
    for (const w of [...waiters]) {
      if (w.re.test(text[w.stream])) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(text[w.stream]);
      }
    }
  };
  for (const stream of ["stdout", "stderr"] as const)
    child[stream].setEncoding("utf8").on("data", (s: string) => {
      text[stream] += s;
      check();
    });
  const waitFor = (stream: Stream, re: RegExp): Promise<string> =>
    new Promise<string>((resolve, reject) => {
      waiters.push({ stream, re, resolve, reject });
      check();
    });
  const timer = setTimeout(() => child.kill("SIGKILL"), opts.killMs ?? KILL_MS);
  const done = new Promise<Result>((res, rej) => {
    child.on("error", rej);
    child.on("close", (status, signal) => {
      clearTimeout(timer);
      for (const w of waiters.splice(0))
        w.reject(
          new Error(`the child exited (${status ?? signal}) before ${w.stream} matched ${w.re}\n${text.stderr}`),
        );
      res({ status, signal, ...text });
    });
  });
  return {
    waitForStderr: (re) => waitFor("stderr", re),
    waitForStdout: (re) => waitFor("stdout", re),
    kill: (signal) => child.kill(signal),
    done,
  };
}

/** Runs the rnnc binary to completion. */
export function rnnc(
  args: readonly string[],
  opts: { env?: NodeJS.ProcessEnv; cwd?: string; killMs?: number } = {},
): Promise<Result> {
  return start(args, opts).done;
}

/** Runs a node script (a fixture) to completion. */
export function node(script: string, args: readonly string[], opts: { env?: NodeJS.ProcessEnv } = {}): Promise<Result> {
  return start(args, { ...opts, script }).done;
}

const STACK_FRAME = /^\s+at (?:.+ \(.*:\d+:\d+\)|\S+:\d+:\d+)$/m;
const NODE_ERROR = /^(?:Uncaught )?(?:[A-Z][A-Za-z]*)?Error(?: \[[A-Z_]+\])?: |node:internal|internal error/m;

/** The exit code, and no stack trace or raw node error anywhere in the output. */
export function expectExit(r: Result, code: number): void {
  const out = `${r.stdout}\n--- stderr ---\n${r.stderr}`;
  expect(r.signal, `killed by ${r.signal}\n${out.slice(-4000)}`).toBeNull();
  expect(r.status, out.slice(-4000)).toBe(code);
  expect(r.stdout + r.stderr, "no stack trace").not.toMatch(STACK_FRAME);
  expect(r.stdout + r.stderr, "no error from node itself").not.toMatch(NODE_ERROR);
}

/** The run directory `rnnc run` announces on stderr. */
export function runDirOf(r: Pick<Result, "stderr">): string {
  const m = /^run directory: (.+)$/m.exec(r.stderr);
  if (!m) throw new Error(`no "run directory:" line on stderr:\n${r.stderr}`);
  return resolve(ROOT, m[1]!);
}

export type Metric = Record<string, unknown> & { event: string };

export function readMetrics(runDir: string): Metric[] {
  return readFileSync(join(runDir, "metrics.jsonl"), "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as Metric);
}

/** The last non-empty line of a text. */
export function lastLine(s: string): string {
  const lines = s.split("\n").filter((l) => l.trim() !== "");
  return lines[lines.length - 1] ?? "";
}

/** A run's metrics without wall-clock fields (tok/s, seconds), which legitimately differ between runs. */
export function trajectory(dir: string): Metric[] {
  return readMetrics(dir).map((m) => {
    const { tokPerSec: _t, seconds: _s, validSeconds: _v, ...rest } = m;
    return rest as Metric;
  });
}

/** Two runs' last checkpoints hold the same tensors, bit for bit. */
export function expectSameWeights(dirX: string, dirY: string): void {
  const x = readCheckpoint(join(dirX, "last.ckpt"));
  const y = readCheckpoint(join(dirY, "last.ckpt"));
  expect(y.tensors.map((t) => t.name)).toEqual(x.tensors.map((t) => t.name));
  const bytes = (d: Float32Array): Buffer => Buffer.from(d.buffer, d.byteOffset, d.byteLength);
  x.tensors.forEach((t, k) => expect(bytes(y.tensors[k]!.data).equals(bytes(t.data)), `${t.name} differs`).toBe(true));
}

/** A fresh run directory at `dir` with `from`'s generated code and settings, linked to this package. */
export function cloneRunDir(from: string, dir: string): void {
  mkdirSync(join(dir, "node_modules"), { recursive: true });
  for (const f of ["spec.rnn", "ir.json", "model.ts", "model.mjs", "run.json"])
    copyFileSync(join(from, f), join(dir, f));
  symlinkSync(ROOT, join(dir, "node_modules", "rnnc"), "dir");
}
