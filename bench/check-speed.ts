// Benchmark (not a test): how long `rnnc check` takes on one spec, in-process and warm.
// Prints the median per spec over repeated rounds of every example; the target is < 50 ms.
//   npm run build && node dist/bench/check-speed.js [--rounds N]
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { fsHost } from "../compiler/cli/fs-host.js";
import { compile } from "../compiler/compile.js";

function specs(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((n) => {
      const p = join(dir, n);
      return statSync(p).isDirectory() ? specs(p) : n.endsWith(".rnn") ? [p] : [];
    });
}

const rounds = Number(process.argv[process.argv.indexOf("--rounds") + 1]) || 20;
const files = specs("examples");
const host = fsHost();
for (const f of files) compile(f, host); // warm-up: JIT, chevrotain's parser construction
const times: number[] = [];
for (let r = 0; r < rounds; r++) {
  for (const f of files) {
    const t0 = performance.now();
    compile(f, host);
    times.push(performance.now() - t0);
  }
}
times.sort((a, b) => a - b);
const q = (p: number): number => times[Math.min(times.length - 1, Math.floor(p * times.length))]!;
console.log(`rnnc check, in-process, warm: ${files.length} specs × ${rounds} rounds`);
console.log(`median ${q(0.5).toFixed(2)} ms · p90 ${q(0.9).toFixed(2)} ms · max ${q(1).toFixed(2)} ms per spec`);
console.log(
  JSON.stringify({
    check_median_ms: Number(q(0.5).toFixed(3)),
    check_p90_ms: Number(q(0.9).toFixed(3)),
    specs: files.length,
    rounds,
  }),
);
