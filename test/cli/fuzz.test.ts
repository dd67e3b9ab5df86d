// Issue 14, "every input error exits 1 or 2 with a message, never 3": a fixed-seed slice of the hostile-input fuzz
// (bench/fuzz/, `npm run fuzz -- --cases 10000 --seed S` for the full run). Every case is an rnnc command line on
// generated input — mutated corpus specs, random bytes, random flags and paths, `--set` overrides — run in-process
// through runCli, and every 50th through the real binary too (which must then agree with it). Each must exit 0, 1
// or 2, never 3, a signal or a hang; print no stack trace; and locate every diagnostic (bench/fuzz/oracle.ts).
//
// A failure prints its class, the case (command line and files) and its output; the case reproduces alone with
// `npm run fuzz -- --seed 14 --case ID`.
import { execSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { describeCase, runFuzz, type FuzzReport } from "../../bench/fuzz/driver.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const SEED = 14;
const CASES = 500;
const BINARY_EVERY = 50;

/**
 * Failure classes found by the fuzz whose cause lies outside this test's area, to be fixed by their owners. They
 * are NOT skipped: the second test below fails while any of them still occurs (on this branch, until those fixes
 * merge); it only sorts them apart, so that a new class stands out in the first test.
 */
export const KNOWN: ReadonlyArray<{ readonly pattern: RegExp; readonly owner: string; readonly what: string }> = [
  { pattern: /run-results\.ts/, owner: "compiler/cli/run-results.ts", what: "`rnnc diff RUN_DIR`: an ir.json of the wrong shape, or a metrics.jsonl line that is JSON but not an object (`null`), crashes resultsOf/settingsOf" },
  { pattern: /grammar\/keywords\.ts/, owner: "grammar/keywords.ts", what: "a block or key named `__proto__` (or another Object.prototype name) is looked up in a plain object" },
];

const knownOwner = (cls: string): string | undefined => KNOWN.find((k) => k.pattern.test(cls))?.owner;

function explain(report: FuzzReport, known: boolean): string[] {
  return [...report.classes]
    .filter(([cls]) => (knownOwner(cls) !== undefined) === known)
    .map(([cls, { count, first }]) => {
      const f = first.failures.find((x) => x.class === cls)!;
      return `[${count} cases] ${cls}${known ? ` (owner: ${knownOwner(cls)})` : ""}\n${describeCase(first.c)}\n${f.detail.split("\n").slice(0, 12).join("\n")}`;
    });
}

let report: FuzzReport;

beforeAll(async () => {
  if (!existsSync(join(ROOT, "dist/bench/fuzz/worker.js")) || !existsSync(join(ROOT, "dist/compiler/cli/main.js"))) execSync("npm run build", { cwd: ROOT, stdio: "pipe" });
  report = await runFuzz({ seed: SEED, cases: CASES, binaryEvery: BINARY_EVERY, jobs: 1 });
}, 300_000);

describe(`fuzz: ${CASES} generated hostile cases (seed ${SEED})`, () => {
  it("covers check, fmt, diff, build, ir, --set and usage errors, in-process and through the binary", () => {
    for (const cmd of ["check", "fmt", "diff", "build", "ir", "set", "usage"]) expect(report.counts[cmd]?.cases ?? 0, cmd).toBeGreaterThan(10);
    expect(Object.values(report.counts).reduce((a, c) => a + c.cases, 0)).toBe(CASES);
    expect(report.binaryCases).toBe(CASES / BINARY_EVERY);
  });

  it("every case exits 0, 1 or 2 with located diagnostics and no stack trace (no failure outside the known classes)", () => {
    expect(explain(report, false)).toEqual([]);
  });

  it("the known failure classes of other areas are fixed (fails on this branch until their fixes merge)", () => {
    expect(explain(report, true)).toEqual([]);
  });
});
