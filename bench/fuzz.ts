// The hostile-input fuzz of issue 14, as a script (not a test: test/cli/fuzz.test.ts runs a slice of it in the suite).
// Every case is an rnnc command line on generated input (bench/fuzz/cases.ts), run in-process and, every Nth case,
// through the real binary too; it must exit 0, 1 or 2 with located diagnostics and no stack trace (oracle.ts).
//
//   npm run fuzz -- --cases 10000 --seed 1 [--jobs 2] [--binary-every 50] [--first 0] [--out DIR]
//   npm run fuzz -- --replay runs/fuzz/seed-1/case-1-123.json …   (rerun saved failing cases, showing their output)
//   npm run fuzz -- --seed 1 --case 123                             (rerun one generated case)
//
// Prints the cases per command, the failure classes (each with its first case), and the number of failing cases;
// failing cases are saved as JSON to runs/fuzz/seed-S/ (or --out). Exit code 1 when any case failed.
// It lives in bench/ because bench/ holds the repository's scripts and is compiled by tsconfig.build.json, so the
// worker processes and the binary run the compiled code.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { FuzzCase } from "./fuzz/cases.js";
import { describeCase, packageRoot, runFuzz, type FuzzReport } from "./fuzz/driver.js";

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? undefined : process.argv[i + 1];
}
function intFlag(name: string, fallback: number): number {
  const v = flag(name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) {
    console.error(`fuzz: --${name} expects a whole number, not ${JSON.stringify(v)}`);
    process.exit(2);
  }
  return n;
}

function print(report: FuzzReport, seed: number, failuresDir: string | undefined): void {
  const total = Object.values(report.counts).reduce((a, c) => a + c.cases, 0);
  console.log(
    `\nseed ${seed}: ${total} cases in ${(report.ms / 1000).toFixed(1)} s (${report.binaryCases} also through the binary)`,
  );
  console.log("command   cases  failed");
  for (const [cmd, n] of Object.entries(report.counts).sort())
    console.log(`${cmd.padEnd(8)} ${String(n.cases).padStart(6)}  ${String(n.failed).padStart(6)}`);
  if (report.classes.size) {
    console.log(`\n${report.classes.size} failure classes:`);
    for (const [cls, { count, first }] of [...report.classes].sort((a, b) => b[1].count - a[1].count)) {
      console.log(`\n[${count} cases] ${cls}`);
      console.log(describeCase(first.c).replace(/^/gm, "  "));
      const f = first.failures.find((x) => x.class === cls)!;
      if (f.detail)
        console.log(
          f.detail
            .split("\n")
            .slice(0, 14)
            .map((l) => `    > ${l.slice(0, 200)}`)
            .join("\n"),
        );
    }
  }
  console.log(
    `\nfailures: ${report.failed.length} of ${total} cases${report.failed.length && failuresDir ? ` (saved to ${failuresDir})` : ""}`,
  );
}

const seed = intFlag("seed", 1);
const jobs = intFlag("jobs", 1);
const replay = process.argv.includes("--replay")
  ? process.argv.slice(process.argv.indexOf("--replay") + 1).filter((a) => !a.startsWith("--"))
  : undefined;
const one = flag("case");
const failuresDir = replay ? undefined : (flag("out") ?? join(packageRoot(), "runs", "fuzz", `seed-${seed}`));
const started = Date.now();
let last = 0;
const report = await runFuzz({
  seed,
  cases: one !== undefined ? 1 : intFlag("cases", 1000),
  first: one !== undefined ? intFlag("case", 0) : intFlag("first", 0),
  given: replay?.map((f) => (JSON.parse(readFileSync(f, "utf8")) as { c: FuzzCase }).c),
  jobs,
  binaryEvery: one !== undefined ? 1 : intFlag("binary-every", 50),
  timeoutMs: intFlag("timeout-ms", 20_000),
  failuresDir,
  onProgress: (done, total, failed) => {
    if (Date.now() - last < 10_000 && done !== total) return;
    last = Date.now();
    process.stderr.write(
      `fuzz: ${done}/${total} cases, ${failed} failing, ${((Date.now() - started) / 1000).toFixed(0)} s\n`,
    );
  },
});
if (replay || one !== undefined) {
  // One case at a time, in full: what it was and what each run printed.
  for (const f of report.failed)
    console.log(`${describeCase(f.c)}\n${JSON.stringify(f.result, null, 2).slice(0, 20_000)}`);
}
print(report, seed, failuresDir);
process.exitCode = report.failed.length ? 1 : 0;
