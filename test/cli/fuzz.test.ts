// Issue 14, "every input error exits 1 or 2 with a message, never 3": a fixed-seed slice of the hostile-input fuzz
// (bench/fuzz/, `npm run fuzz -- --cases 10000 --seed S` for the full run). Every case is an rnnc command line on
// generated input — mutated corpus specs, random bytes, random flags and paths, `--set` overrides — run in-process
// through runCli, and every 50th through the real binary too (which must then agree with it). Each must exit 0, 1
// or 2, never 3, a signal or a hang; print no stack trace; and locate every diagnostic (bench/fuzz/oracle.ts).
// Then the reduced reproducer of every failure class the full runs found, in-process and through the binary.
//
// A failure prints its class, the case (command line and files) and its output; a slice case reproduces alone with
// `npm run fuzz -- --seed 14 --case ID`.
import { execSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { loadCorpus, SCRATCH, type FuzzCase } from "../../bench/fuzz/cases.js";
import { describeCase, runFuzz, type FuzzReport } from "../../bench/fuzz/driver.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const SEED = 14;
const CASES = 400;
const BINARY_EVERY = 50;

/**
 * Failure classes found by the fuzz whose cause lies outside this test's area, to be fixed by their owners. They
 * are NOT skipped: the last test below fails while any of them still occurs (on this branch, until those fixes
 * merge); the list only sorts them apart, so that a new class stands out on its own.
 */
export const KNOWN: ReadonlyArray<{ readonly pattern: RegExp; readonly owner: string; readonly what: string }> = [
  {
    pattern: /run-results\.ts/,
    owner: "compiler/cli/run-results.ts",
    what: "`rnnc diff RUN_DIR`: an ir.json of the wrong shape (`{\"name\":\"x\",\"origins\":{},\"model\":{},\"train\":{}}`), or a metrics.jsonl line that is JSON but not an object (`null`), crashes resultsOf",
  },
  { pattern: /grammar\/keywords\.ts/, owner: "grammar/keywords.ts", what: "a block named after an Object.prototype member, with two statements (`experiment a { __proto__ { x 1  y 2 } }`), crashes keywordsOf" },
  { pattern: /compiler\/read\.ts/, owner: "compiler/read.ts", what: "a call named after an Object.prototype member (`layers 1 toString(8)`, `optimizer constructor(lr = 1)`) crashes the parameter lookup" },
  { pattern: /hang \(killed at the time limit\)/, owner: "compiler/cli/fs-host.ts", what: "a named pipe or a device (`rnnc check /dev/zero`, `mkfifo p.rnn; rnnc check p.rnn`) is read without end: readFileSync never returns (st.size is 0, so the size limit does not apply)" },
  { pattern: /E0208 not located/, owner: "compiler/diagnostics.ts, compiler/cli/render.ts", what: "a path holding a newline (`rnnc check $'a\\nb.rnn'`) is printed raw: the message and its `-->` line break apart" },
];

const knownOwner = (cls: string): string | undefined => KNOWN.find((k) => k.pattern.test(cls))?.owner;

/** One hand-made case: a command line and its files (paths relative to the fuzz workspace). */
function given(label: string, argv: string[], files: { path: string; text: string }[] = [], symlinks: { path: string; target: string }[] = []): FuzzCase {
  return { seed: 0, id: 0, family: "argv", command: argv[0]!, how: [label], files, dirs: [SCRATCH], symlinks, argv };
}
const SPEC = "experiment ok { data ptb  model { layers 1 lstm(8) } }\n";
const OK = { path: `${SCRATCH}/ok.rnn`, text: SPEC };

/** The reduced reproducer of every class the full fuzz runs found: fixed here (main.ts), or known (KNOWN). */
function reproducers(ir: string): { fixed: FuzzCase[]; known: FuzzCase[] } {
  const spec = (text: string) => [{ path: `${SCRATCH}/p.rnn`, text }];
  return {
    fixed: [
      given("a folder holding a dangling .rnn link (expand)", ["check", `${SCRATCH}/d`], [{ path: `${SCRATCH}/d/ok.rnn`, text: SPEC }], [{ path: `${SCRATCH}/d/x.rnn`, target: "missing.rnn" }]),
      given("-o onto a file (writeText)", ["build", OK.path, "-o", OK.path], [OK]),
      given("-o through a dangling link (writeText)", ["build", OK.path, "-o", `${SCRATCH}/gone`], [OK], [{ path: `${SCRATCH}/gone`, target: "nowhere" }]),
    ],
    known: [
      given("metrics.jsonl line `null` (run-results.ts)", ["diff", `${SCRATCH}/run`, OK.path], [OK, { path: `${SCRATCH}/run/ir.json`, text: ir }, { path: `${SCRATCH}/run/metrics.jsonl`, text: "null\n" }]),
      given("ir.json of the wrong shape (run-results.ts)", ["diff", `${SCRATCH}/run`, OK.path], [OK, { path: `${SCRATCH}/run/ir.json`, text: '{"name": "x", "origins": {}, "model": {}, "train": {}}' }]),
      given("a block named __proto__ (keywords.ts)", ["check", `${SCRATCH}/p.rnn`], spec("experiment a {\n  __proto__ { x 1  y 2 }\n}\n")),
      given("a cell named toString (read.ts)", ["check", `${SCRATCH}/p.rnn`], spec("experiment a {\n  data ptb\n  model { layers 1 toString(8) }\n}\n")),
      given("an optimizer named constructor (read.ts)", ["check", `${SCRATCH}/p.rnn`], spec("experiment a {\n  data ptb\n  model { layers 1 lstm(8) }\n  train { optimizer constructor(lr = 1) }\n}\n")),
      given("layers given as __proto__ (read.ts)", ["check", `${SCRATCH}/p.rnn`], spec("experiment a {\n  data ptb\n  model { layers __proto__ }\n}\n")),
      given("a path holding a newline (diagnostics.ts, render.ts)", ["check", "a\nb.rnn"]),
      { ...given("a named pipe (fs-host.ts)", ["check", `${SCRATCH}/pipe.rnn`]), fifos: [`${SCRATCH}/pipe.rnn`] },
    ],
  };
}

/**
 * The failure classes of the cases that are (or are not) of a known class. A case counts as known when any of its
 * failures is: its in-process failure names the file at fault, its binary twin (`exit 3`) and the disagreement
 * between the two do not.
 */
function explain(report: FuzzReport, known: boolean): string[] {
  const out = new Map<string, string>();
  for (const f of report.failed) {
    if (f.failures.some((x) => knownOwner(x.class) !== undefined) !== known) continue;
    for (const x of f.failures) {
      const owner = f.failures.map((y) => knownOwner(y.class)).find((o) => o !== undefined);
      if (!out.has(x.class)) out.set(x.class, `${x.class}${known ? ` (owner: ${owner})` : ""}\n${describeCase(f.c)}\n${x.detail.split("\n").slice(0, 12).join("\n")}`);
    }
  }
  return [...out.values()];
}

let slice: FuzzReport;
let fixed: FuzzReport;
let known: FuzzReport;

beforeAll(async () => {
  if (!existsSync(join(ROOT, "dist/bench/fuzz/worker.js")) || !existsSync(join(ROOT, "dist/compiler/cli/main.js"))) execSync("npm run build", { cwd: ROOT, stdio: "pipe" });
  slice = await runFuzz({ seed: SEED, cases: CASES, binaryEvery: BINARY_EVERY, jobs: 1 });
  const r = reproducers(loadCorpus(ROOT).irs[0]!);
  fixed = await runFuzz({ seed: 0, cases: 0, given: r.fixed });
  // A short limit: the named pipe is a hang, and its case waits for the whole of it.
  known = await runFuzz({ seed: 0, cases: 0, given: r.known, timeoutMs: 5_000 });
}, 300_000);

describe(`fuzz: ${CASES} generated hostile cases (seed ${SEED})`, () => {
  it("covers check, fmt, diff, build, ir, --set and usage errors, in-process and through the binary", () => {
    for (const cmd of ["check", "fmt", "diff", "build", "ir", "set", "usage"]) expect(slice.counts[cmd]?.cases ?? 0, cmd).toBeGreaterThan(10);
    expect(Object.values(slice.counts).reduce((a, c) => a + c.cases, 0)).toBe(CASES);
    expect(slice.binaryCases).toBe(CASES / BINARY_EVERY);
  });

  it("every case exits 0, 1 or 2 with located diagnostics and no stack trace", () => {
    expect(explain(slice, false)).toEqual([]);
    expect(explain(slice, true)).toEqual([]);
  });
});

describe("the reproducer of each class the full fuzz runs found, in-process and through the binary", () => {
  it("fixed in compiler/cli/main.ts: a folder with a broken link, -o onto a file or a dangling link", () => {
    expect(fixed.binaryCases).toBe(3);
    expect(explain(fixed, false)).toEqual([]);
    expect(explain(fixed, true)).toEqual([]);
  });

  // FAILS on this branch until the fixes of these areas merge (KNOWN names the owners); a new class fails the first
  // assertion, a known one the second.
  it("known, owned by other areas: run-results.ts, keywords.ts, read.ts, fs-host.ts, the rendering of odd paths", () => {
    expect(known.binaryCases).toBe(8);
    expect(explain(known, false)).toEqual([]);
    expect(explain(known, true)).toEqual([]);
  });
});
