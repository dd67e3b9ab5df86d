// Runs fuzz cases (cases.ts) in worker processes (worker.ts) and judges them (oracle.ts). The driver owns the time
// limit: a worker that has not answered a case in time is killed (a hang), one that dies mid-case has crashed, and
// either way the case is recorded and a fresh worker takes the next one. Used by bench/fuzz.ts (`npm run fuzz`)
// and by test/cli/fuzz.test.ts. Needs the build (dist/): the worker and the binary run the compiled code.
import { fork, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { generateCase, loadCorpus, type FuzzCase } from "./cases.js";
import { verdict, type CaseResult, type Failure } from "./oracle.js";
import type { FromWorker, ToWorker } from "./worker.js";

/** The package root: the nearest folder above this file with a package.json (from bench/fuzz/ or dist/bench/fuzz/). */
export function packageRoot(from = dirname(fileURLToPath(import.meta.url))): string {
  for (let d = from; ; d = dirname(d)) {
    if (existsSync(join(d, "package.json"))) return d;
    if (dirname(d) === d) throw new Error(`no package.json above ${from}`);
  }
}

export interface FuzzOptions {
  readonly seed: number;
  /** Case ids first … first + cases - 1. */
  readonly cases: number;
  readonly first?: number;
  /** Exactly these cases (a replay), instead of generated ones. */
  readonly given?: readonly FuzzCase[];
  readonly jobs?: number;
  /** Every Nth case also runs through the real binary (0: none). */
  readonly binaryEvery?: number;
  /** Per case, in-process (a hang is killed at this point); the binary gets its own limit on top. */
  readonly timeoutMs?: number;
  readonly binaryTimeoutMs?: number;
  /** Where failing cases are saved (one JSON file each, replayable with `npm run fuzz -- --replay FILE`). */
  readonly failuresDir?: string;
  readonly onProgress?: (done: number, total: number, failed: number) => void;
}

export interface CaseFailure {
  readonly c: FuzzCase;
  readonly failures: readonly Failure[];
  readonly result: CaseResult;
}

export interface FuzzReport {
  /** Per command: cases run, cases failed. */
  readonly counts: Record<string, { cases: number; failed: number }>;
  readonly binaryCases: number;
  readonly failed: readonly CaseFailure[];
  /** Failure class → how many cases, and the first (lowest id) case. */
  readonly classes: ReadonlyMap<string, { count: number; first: CaseFailure }>;
  readonly ms: number;
}

interface Slot {
  child: ChildProcess;
  ready: Promise<void>;
  stderr: string;
  onMessage?: (m: FromWorker) => void;
  onExit?: (why: string) => void;
}

function startWorker(root: string, corpus: Record<string, string>, tmp: string, binaryTimeoutMs: number): Slot {
  const child = fork(join(root, "dist/bench/fuzz/worker.js"), [], {
    execArgv: [],
    stdio: ["ignore", "pipe", "pipe", "ipc"],
    env: { ...process.env, NO_COLOR: "1" },
  });
  const slot: Slot = { child, stderr: "", ready: Promise.resolve() };
  child.stdout!.on("data", () => {});
  child.stderr!.on("data", (b: Buffer) => void (slot.stderr = (slot.stderr + b.toString()).slice(-4000)));
  slot.ready = new Promise((resolve, reject) => {
    slot.onMessage = (m) => (m.type === "ready" ? resolve() : undefined);
    slot.onExit = (why) => reject(new Error(`fuzz worker did not start: ${why}\n${slot.stderr}`));
  });
  child.on("message", (m: FromWorker) => slot.onMessage?.(m));
  child.on("exit", (code, signal) => slot.onExit?.(signal ? `killed by ${signal}` : `exited with code ${code}`));
  child.send({ type: "init", init: { corpus, tmp, binaryTimeoutMs } });
  return slot;
}

function runOne(slot: Slot, c: FuzzCase, binary: boolean, limitMs: number): Promise<CaseResult> {
  return new Promise((resolve) => {
    const done = (r: CaseResult): void => {
      clearTimeout(timer);
      slot.onMessage = undefined;
      slot.onExit = undefined;
      resolve(r);
    };
    const timer = setTimeout(() => {
      slot.onExit = undefined;
      slot.child.kill("SIGKILL");
      done({ inProcess: { code: null, timedOut: true, stdout: "", stderr: slot.stderr } });
    }, limitMs);
    slot.onMessage = (m) => {
      if (m.type === "result" && m.id === c.id) done(m.result);
    };
    slot.onExit = (why) =>
      done({
        inProcess: { code: null, stdout: "", stderr: slot.stderr },
        crashed: `the worker ${why} during the case\n${slot.stderr}`,
      });
    slot.child.send({ type: "case", c, binary } satisfies ToWorker);
  });
}

export async function runFuzz(o: FuzzOptions): Promise<FuzzReport> {
  const t0 = Date.now();
  const root = packageRoot();
  if (!existsSync(join(root, "dist/bench/fuzz/worker.js")))
    throw new Error("dist/bench/fuzz/worker.js is missing: run `npm run build` first");
  const corpus = loadCorpus(root);
  const files = Object.fromEntries(corpus.files);
  const first = o.first ?? 0;
  const ids = o.given ? o.given.map((_, i) => i) : Array.from({ length: o.cases }, (_, i) => first + i);
  const caseAt = (k: number): FuzzCase => (o.given ? { ...o.given[k]!, id: k } : generateCase(corpus, o.seed, ids[k]!));
  const jobs = Math.max(1, Math.min(o.jobs ?? 1, ids.length));
  const timeoutMs = o.timeoutMs ?? 20_000;
  const binaryTimeoutMs = o.binaryTimeoutMs ?? 20_000;
  const tmp = mkdtempSync(join(tmpdir(), "rnnc-fuzz-"));
  const counts: Record<string, { cases: number; failed: number }> = {};
  const failed: CaseFailure[] = [];
  let binaryCases = 0;
  let next = 0;
  let doneCount = 0;
  const lane = async (): Promise<void> => {
    let slot = startWorker(root, files, tmp, binaryTimeoutMs);
    await slot.ready;
    while (next < ids.length) {
      const k = next++;
      const c = caseAt(k);
      const binary = Boolean(o.given) || (o.binaryEvery ? ids[k]! % o.binaryEvery === 0 : false);
      if (binary) binaryCases++;
      const result = await runOne(slot, c, binary, timeoutMs + (binary ? binaryTimeoutMs : 0));
      if (result.crashed || result.inProcess.timedOut) {
        slot = startWorker(root, files, tmp, binaryTimeoutMs);
        await slot.ready;
      }
      const fs = verdict(c.command, result);
      const n = (counts[c.command] ??= { cases: 0, failed: 0 });
      n.cases++;
      if (fs.length) {
        n.failed++;
        failed.push({ c, failures: fs, result });
      }
      o.onProgress?.(++doneCount, ids.length, failed.length);
    }
    slot.onExit = undefined;
    slot.child.disconnect();
    await new Promise<void>((resolve) =>
      slot.child.exitCode !== null ? resolve() : slot.child.once("exit", () => resolve()),
    );
  };
  try {
    await Promise.all(Array.from({ length: jobs }, lane));
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  failed.sort((a, b) => a.c.id - b.c.id);
  const classes = new Map<string, { count: number; first: CaseFailure }>();
  for (const f of failed) {
    for (const cls of new Set(f.failures.map((x) => x.class))) {
      const e = classes.get(cls);
      if (e) e.count++;
      else classes.set(cls, { count: 1, first: f });
    }
  }
  if (o.failuresDir && failed.length) saveFailures(o.failuresDir, failed);
  return { counts, binaryCases, failed, classes, ms: Date.now() - t0 };
}

function saveFailures(dir: string, failed: readonly CaseFailure[]): void {
  mkdirSync(dir, { recursive: true });
  for (const f of failed)
    writeFileSync(join(dir, `case-${f.c.seed}-${f.c.id}.json`), JSON.stringify(f, null, 2) + "\n");
}

/** A case as a person reads it: the command line and the files it made (long ones cut). */
export function describeCase(c: FuzzCase): string {
  const q = (s: string): string => (/^[\w./#=@%+:-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);
  const cut = (s: string): string => (s.length > 300 ? `${s.slice(0, 300)}… (${s.length} characters)` : s);
  const lines = [`case ${c.seed}/${c.id} (${c.family}): rnnc ${c.argv.map((a) => cut(q(a))).join(" ")}`];
  if (c.how.length) lines.push(`  made by: ${c.how.join("; ")}`);
  for (const f of c.files.filter((f) => !f.path.startsWith("scratch/file.txt"))) {
    const text =
      f.text ??
      `(bytes) ${Buffer.from(f.base64 ?? "", "base64")
        .toString("hex")
        .slice(0, 200)}`;
    lines.push(
      `  ${f.path}:`,
      ...cut(text)
        .split("\n")
        .slice(0, 12)
        .map((l) => `    | ${l}`),
    );
  }
  return lines.join("\n");
}
