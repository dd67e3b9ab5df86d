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

/** One hand-made case: a command line and its files (paths relative to the fuzz workspace). */
function given(
  label: string,
  argv: string[],
  files: { path: string; text: string }[] = [],
  symlinks: { path: string; target: string }[] = [],
): FuzzCase {
  return { seed: 0, id: 0, family: "argv", command: argv[0]!, how: [label], files, dirs: [SCRATCH], symlinks, argv };
}
const SPEC = "experiment ok { data ptb  model { layers 1 lstm(8) } }\n";
const OK = { path: `${SCRATCH}/ok.rnn`, text: SPEC };

/**
 * The reduced reproducer of every failure class the full fuzz runs (`npm run fuzz -- --cases 10000`) have found,
 * each once an internal error (exit 3), a hang, a write to the wrong place or a broken diagnostic; now each must pass
 * the oracle like any case, in-process and through the binary.
 */
function reproducers(ir: string): FuzzCase[] {
  const spec = (text: string) => [{ path: `${SCRATCH}/p.rnn`, text }];
  return [
    // compiler/cli/main.ts, expand: a folder holding a dangling .rnn link
    given(
      "a folder holding a dangling .rnn link (expand)",
      ["check", `${SCRATCH}/d`],
      [{ path: `${SCRATCH}/d/ok.rnn`, text: SPEC }],
      [{ path: `${SCRATCH}/d/x.rnn`, target: "missing.rnn" }],
    ),
    // compiler/cli/fs.ts: -o where no folder can be made
    given("-o onto a file (makeDir)", ["build", OK.path, "-o", OK.path], [OK]),
    given(
      "-o onto a dangling link (makeDir)",
      ["build", OK.path, "-o", `${SCRATCH}/gone`],
      [OK],
      [{ path: `${SCRATCH}/gone`, target: "nowhere" }],
    ),
    given(
      "-o below a dangling link (makeDir)",
      ["build", OK.path, "-o", `${SCRATCH}/gone/deeper`],
      [OK],
      [{ path: `${SCRATCH}/gone`, target: "nowhere" }],
    ),
    // compiler/cli/main.ts: an empty path option (`-o ""` wrote /model.ts)
    given("-o given as an empty string", ["build", OK.path, "-o", ""], [OK]),
    // compiler/cli/run-results.ts: a damaged run directory given to diff
    given(
      "metrics.jsonl line `null` (run-results.ts)",
      ["diff", `${SCRATCH}/run`, OK.path],
      [OK, { path: `${SCRATCH}/run/ir.json`, text: ir }, { path: `${SCRATCH}/run/metrics.jsonl`, text: "null\n" }],
    ),
    given(
      "ir.json of the wrong shape (run-results.ts)",
      ["diff", `${SCRATCH}/run`, OK.path],
      [OK, { path: `${SCRATCH}/run/ir.json`, text: '{"name": "x", "origins": {}, "model": {}, "train": {}}' }],
    ),
    // grammar/keywords.ts and compiler/read.ts: words a user wrote that are members of Object.prototype
    given(
      "a block named __proto__ (keywords.ts)",
      ["check", `${SCRATCH}/p.rnn`],
      spec("experiment a {\n  __proto__ { x 1  y 2 }\n}\n"),
    ),
    given(
      "a cell named toString (read.ts)",
      ["check", `${SCRATCH}/p.rnn`],
      spec("experiment a {\n  data ptb\n  model { layers 1 toString(8) }\n}\n"),
    ),
    given(
      "an optimizer named constructor (read.ts)",
      ["check", `${SCRATCH}/p.rnn`],
      spec("experiment a {\n  data ptb\n  model { layers 1 lstm(8) }\n  train { optimizer constructor(lr = 1) }\n}\n"),
    ),
    given(
      "layers given as __proto__ (read.ts)",
      ["check", `${SCRATCH}/p.rnn`],
      spec("experiment a {\n  data ptb\n  model { layers __proto__ }\n}\n"),
    ),
    // compiler/terminal-text.ts: user text in a terminal line (diagnostics.ts, render.ts, CLI messages)
    given("a path holding a newline", ["check", "a\nb.rnn"]),
    given("a path holding U+2028 and a bidi override", ["fmt", "a\u2028b\u202e.rnn"]),
    given("-o holding a carriage return and ESC", ["build", OK.path, "-o", `${OK.path}/x\r\x1b[2J`], [OK]),
    given("a --set argument holding U+2028 (prepare.ts)", ["build", OK.path, "--set", "experiment.x= \u2028 "], [OK]),
    given("an unknown option holding a bidi isolate (commander's message)", ["check", "--bogus\u2066", OK.path], [OK]),
    given(
      "a spec line holding U+2029 and a bidi override",
      ["check", `${SCRATCH}/p.rnn`],
      spec("experiment a {\u2029 /*\u202e*/ @ }\n"),
    ),
    // compiler/cli/fs.ts, readBounded: a named pipe nobody writes to was waited on forever
    { ...given("a named pipe (readBounded)", ["check", `${SCRATCH}/pipe.rnn`]), fifos: [`${SCRATCH}/pipe.rnn`] },
  ];
}

/** The failure classes of the cases, each with its first case and what it printed. */
function explain(report: FuzzReport): string[] {
  const out = new Map<string, string>();
  for (const f of report.failed) {
    for (const x of f.failures)
      if (!out.has(x.class))
        out.set(x.class, `${x.class}\n${describeCase(f.c)}\n${x.detail.split("\n").slice(0, 12).join("\n")}`);
  }
  return [...out.values()];
}

let slice: FuzzReport;
let fixed: FuzzReport;
let cases = 0;

beforeAll(async () => {
  if (!existsSync(join(ROOT, "dist/bench/fuzz/worker.js")) || !existsSync(join(ROOT, "dist/compiler/cli/main.js")))
    execSync("npm run build", { cwd: ROOT, stdio: "pipe" });
  slice = await runFuzz({ seed: SEED, cases: CASES, binaryEvery: BINARY_EVERY, jobs: 1 });
  const r = reproducers(loadCorpus(ROOT).irs[0]!);
  cases = r.length;
  // A short limit: were the named pipe to hang again, its case would wait for the whole of it.
  fixed = await runFuzz({ seed: 0, cases: 0, given: r, timeoutMs: 5_000 });
}, 300_000);

describe(`fuzz: ${CASES} generated hostile cases (seed ${SEED})`, () => {
  it("covers check, fmt, diff, build, ir, --set and usage errors, in-process and through the binary", () => {
    for (const cmd of ["check", "fmt", "diff", "build", "ir", "set", "usage"])
      expect(slice.counts[cmd]?.cases ?? 0, cmd).toBeGreaterThan(10);
    expect(Object.values(slice.counts).reduce((a, c) => a + c.cases, 0)).toBe(CASES);
    expect(slice.binaryCases).toBe(CASES / BINARY_EVERY);
  });

  it("every case exits 0, 1 or 2 with located diagnostics, no stack trace and no raw control character", () => {
    expect(explain(slice)).toEqual([]);
  });
});

describe("regression: the reproducer of each class the full fuzz runs found, in-process and through the binary", () => {
  it("dangling links, -o onto a file or a link or empty, damaged run directories, Object.prototype words, odd characters in paths and specs, a named pipe", () => {
    expect(fixed.binaryCases).toBe(cases);
    expect(explain(fixed)).toEqual([]);
  });
});
