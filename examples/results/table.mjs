// Prints RESULTS.md's tables from the runs that examples/results/run.mjs made (runs/results/, or the folder given as
// the first argument). A row pairs a baseline and a technique trained with the same seeds; for each arm it gives
// the mean ± sample standard deviation over seeds of the best-validation checkpoint's valid and test figures, and
// the paired difference (technique − baseline, seed by seed: the same initial weights in both arms), with its mean
// ± sd. A seed that one arm lacks is left out of the pair; a run that did not finish is listed, never averaged.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ROWS } from "./rows.mjs";

const root = process.argv[2] ?? "runs/results";

/** Every finished run of `experiment` under root/<row>/seed<S>/, newest per seed: { seed → run }. */
function runsOf(row, experiment) {
  const out = new Map();
  const dir = join(root, String(row));
  if (!existsSync(dir)) return { finished: out, unfinished: [] };
  const unfinished = [];
  for (const seedDir of readdirSync(dir).sort()) {
    const expDir = join(dir, seedDir, experiment);
    if (!existsSync(expDir)) continue;
    for (const ts of readdirSync(expDir).sort()) {
      const file = join(expDir, ts, "metrics.jsonl");
      if (!existsSync(file)) continue;
      const lines = readFileSync(file, "utf8").split("\n").filter((l) => l.trim());
      const metrics = lines.map((l) => JSON.parse(l));
      const seed = JSON.parse(readFileSync(join(expDir, ts, "ir.json"), "utf8")).train.seed;
      const final = metrics.find((m) => m.event === "final");
      const stopped = metrics.find((m) => m.event === "stopped");
      const epochs = metrics.filter((m) => m.event === "epoch");
      if (final) out.set(seed, { seed, final, epochs, dir: join(expDir, ts) });
      else unfinished.push({ seed, dir: join(expDir, ts), stopped, epochs });
    }
  }
  return { finished: out, unfinished };
}

const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
/** The sample standard deviation (n − 1); undefined for one value. */
const sd = (xs) => (xs.length < 2 ? NaN : Math.sqrt(xs.reduce((a, x) => a + (x - mean(xs)) ** 2, 0) / (xs.length - 1)));

function formatter(metric) {
  if (metric === "accuracy") return { f: (x) => (100 * x).toFixed(2), unit: " %", scale: (x) => x };
  if (metric === "bpc") return { f: (x) => x.toFixed(3), unit: " bpc", scale: (x) => x };
  return { f: (x) => x.toFixed(1), unit: "", scale: (x) => x };
}

const pm = (xs, f) => (xs.length === 0 ? "—" : xs.length === 1 ? `${f(xs[0])} (1 seed)` : `${f(mean(xs))} ± ${f(sd(xs))}`);

/** The validation figure of an epoch record, in the run's metric. */
const epochFigure = (metric, e) =>
  metric === "bpc" ? e.validLoss / Math.LN2 : metric === "perplexity" ? Math.exp(e.validLoss) : e.validAccuracy;

console.log("| row | pair | seeds | baseline valid / test | technique valid / test | paired difference valid / test |");
console.log("|---|---|---|---|---|---|");
const details = [];
for (const r of ROWS) {
  const b = runsOf(r.row, r.base);
  const t = runsOf(r.row, r.tech);
  const seeds = [...b.finished.keys()].filter((s) => t.finished.has(s)).sort((x, y) => x - y);
  const any = b.finished.values().next().value ?? t.finished.values().next().value;
  if (!any) {
    console.log(`| ${r.row} | ${r.pair} | 0 | not run | not run | |`);
    continue;
  }
  const { f, unit } = formatter(any.final.metric);
  const arm = (runs, key) => [...runs.values()].map((x) => x.final[key]);
  const diff = (key) => seeds.map((s) => t.finished.get(s).final[key] - b.finished.get(s).final[key]);
  const sign = (x) => (x > 0 ? "+" : "") + f(x);
  const pd = (xs) => (xs.length === 0 ? "—" : xs.length === 1 ? `${sign(xs[0])}` : `${sign(mean(xs))} ± ${f(sd(xs))}`);
  console.log(
    `| ${r.row} | ${r.pair} | ${seeds.join(", ")} | ${pm(arm(b.finished, "valid"), f)} / ${pm(arm(b.finished, "test"), f)}${unit} | ${pm(arm(t.finished, "valid"), f)} / ${pm(arm(t.finished, "test"), f)}${unit} | ${pd(diff("valid"))} / ${pd(diff("test"))}${unit} |`,
  );
  for (const [name, runs] of [
    [r.base, b],
    [r.tech, t],
  ]) {
    for (const run of [...runs.finished.values()].sort((x, y) => x.seed - y.seed))
      details.push(
        `- row ${r.row} ${name} seed ${run.seed}: valid ${f(run.final.valid)} test ${f(run.final.test)} (epoch ${run.final.bestEpoch}); valid by epoch: ${run.epochs.map((e) => f(epochFigure(run.final.metric, e))).join(", ")}`,
      );
    for (const u of runs.unfinished)
      details.push(`- row ${r.row} ${name} seed ${u.seed}: unfinished (${u.stopped ? `stopped: ${u.stopped.reason}` : "no final record"}) ${u.dir}`);
  }
}
console.log("\nEach run, with its validation figure after every epoch:");
for (const d of details) console.log(d);
