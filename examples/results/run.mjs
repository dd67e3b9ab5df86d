// Trains the runs behind RESULTS.md: `node examples/results/run.mjs [ROW…] [--seeds 0,1,2] [--jobs 2]`, from the
// repository root with RNNC_DATA set. Every arm of a row gets the same seeds (`--set train.seed=S`: the same initial
// weights in both arms), budget and thread count (one thread per run; `--jobs` runs at once). Runs go to
// runs/results/<row>/seed<S>/; a seed whose run already finished there is skipped, so an interrupted sweep can be
// started again. `node examples/results/table.mjs` then prints the tables.
import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { ROWS, SEEDS } from "./rows.mjs";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { seeds: { type: "string" }, jobs: { type: "string", default: "1" }, runs: { type: "string", default: "runs/results" } },
});
const seeds = values.seeds ? values.seeds.split(",").map(Number) : SEEDS;
const jobs = Number(values.jobs);
const wanted = positionals.length ? ROWS.filter((r) => positionals.includes(String(r.row))) : ROWS;
if (wanted.length === 0 || seeds.some((s) => !Number.isInteger(s) || s < 0) || !(jobs >= 1)) {
  console.error(`usage: run.mjs [ROW…] [--seeds 0,1,2] [--jobs N]; rows: ${ROWS.map((r) => r.row).join(" ")}`);
  process.exit(2);
}

const finished = (dir, experiment) => {
  const d = join(dir, experiment);
  return (
    existsSync(d) &&
    readdirSync(d).some((ts) => {
      const m = join(d, ts, "metrics.jsonl");
      return existsSync(m) && readFileSync(m, "utf8").includes('"event":"final"');
    })
  );
};

// One job per (row, arm, seed).
const queue = [];
for (const r of wanted)
  for (const seed of seeds)
    r.specs.forEach((spec, k) => {
      const dir = join(values.runs, String(r.row), `seed${seed}`);
      const experiment = k === 0 ? r.base : r.tech;
      if (finished(dir, experiment)) return;
      const args = ["bin/rnnc.js", "run", `examples/results/${spec}.rnn`, "--threads", "1", "--runs", dir];
      queue.push({ label: `row ${r.row} ${experiment} seed ${seed}`, args: [...args, "--set", `train.seed=${seed}`, ...r.flags] });
    });

let failed = 0;
async function worker() {
  for (let job = queue.shift(); job; job = queue.shift()) {
    const started = Date.now();
    const code = await new Promise((resolve) => {
      const child = spawn(process.execPath, job.args, { stdio: ["ignore", "pipe", "inherit"] });
      let out = "";
      child.stdout.on("data", (d) => (out += d));
      child.on("close", (c) => {
        console.log(`${job.label}: exit ${c}, ${((Date.now() - started) / 60_000).toFixed(1)} min  ${out.trim().split("\n").pop() ?? ""}`);
        resolve(c);
      });
    });
    if (code !== 0) failed++;
  }
}
await Promise.all(Array.from({ length: jobs }, worker));
process.exit(failed ? 1 : 0);
