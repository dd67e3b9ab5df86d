// Check (not a test): does the webgpu backend train the way wasm does? For each spec, `rnnc run` trains the same
// windows from the same seeds on wasm and on webgpu, evaluates on the same batches, and the final valid and test
// metrics are compared. Dropout masks come from rnnc's own seeded RNG, so both backends see the same masks: the
// metrics differ only by float32 rounding in different kernels.
//
//   npm run build && node dist/bench/webgpu-check.js [--windows N] [SPEC …]
//
// It needs the two optional packages (npm install webgpu@0.6.2 @tensorflow/tfjs-backend-webgpu@4.22.0) and a
// GPU adapter. Without a GPU, Mesa's llvmpipe gives Dawn an OpenGL ES adapter, slow but the same code path:
//   apt-get install -y libegl1 libegl-mesa0 libgles2 libgl1-mesa-dri
//   EGL_PLATFORM=surfaceless RNNC_DAWN_FLAGS=backend=opengles node dist/bench/webgpu-check.js
// The last line printed is one JSON object.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

// One spec per piece of the fused path: the plain LSTM; non-recurrent dropout; weight drop, embedding dropout,
// AR/TAR and NT-ASGD; a GRU; per-step batch norm with population statistics; layer norm; zoneout.
const DEFAULT_SPECS = [
  "examples/quickstart.rnn",
  "examples/zaremba-2014/small.rnn",
  "examples/methods/variational.rnn",
  "examples/results/merity-200-artar.rnn",
  "examples/merity-2017/table6-gru-artar.rnn",
  "examples/results/cooijmans-ptb-char-bnlstm-256.rnn",
  "examples/methods/layer-norm.rnn",
  "examples/methods/zoneout.rnn",
];

interface Final {
  metric: string;
  valid: number;
  test: number;
  tokPerSec: number | null;
}

function train(spec: string, backend: string, windows: number): Final | string {
  const r = spawnSync(
    process.execPath,
    [
      join(ROOT, "bin/rnnc.js"),
      "run",
      spec,
      "--backend",
      backend,
      "--epochs",
      "1",
      "--limit-batches",
      String(windows),
      "--runs",
      join(ROOT, "runs/webgpu-check"),
    ],
    {
      cwd: ROOT,
      encoding: "utf8",
      env: { ...process.env, NO_COLOR: "1" },
    },
  );
  const dir = /run directory: (.*)/.exec(r.stderr)?.[1];
  if (r.status !== 0 || !dir)
    return (r.stderr.split("\n").find((l) => /^rnnc:|Error/.test(l)) ?? `exit ${r.status}`).trim();
  const records = readFileSync(resolve(ROOT, dir, "metrics.jsonl"), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  const final = records.find((x) => x["event"] === "final")!;
  const epoch = records.find((x) => x["event"] === "epoch");
  return {
    metric: String(final["metric"]),
    valid: Number(final["valid"]),
    test: Number(final["test"]),
    tokPerSec: epoch?.["tokPerSec"] === undefined ? null : Number(epoch["tokPerSec"]),
  };
}

const argv = process.argv.slice(2);
const wi = argv.indexOf("--windows");
const windows = wi >= 0 ? Number(argv.splice(wi, 2)[1]) : 3;
const specs = argv.length ? argv : DEFAULT_SPECS;
const rows: Record<string, unknown>[] = [];
let worst = 0;
console.log(`${windows} training windows and ${windows} evaluation batches per spec, the same seeds on both backends`);
for (const spec of specs) {
  const wasm = train(spec, "wasm", windows);
  const gpu = train(spec, "webgpu", windows);
  if (typeof wasm === "string" || typeof gpu === "string") {
    console.log(`${spec.padEnd(52)} failed: ${typeof wasm === "string" ? `wasm: ${wasm}` : `webgpu: ${gpu}`}`);
    rows.push({ spec, error: typeof wasm === "string" ? wasm : gpu });
    worst = Infinity;
    continue;
  }
  const rel = Math.max(
    Math.abs(gpu.valid - wasm.valid) / Math.abs(wasm.valid),
    Math.abs(gpu.test - wasm.test) / Math.abs(wasm.test),
  );
  worst = Math.max(worst, rel);
  const speed = (f: Final): string => (f.tokPerSec === null ? "" : `${Math.round(f.tokPerSec)} tok/s`);
  console.log(
    `${spec.padEnd(52)} ${wasm.metric} valid/test  wasm ${wasm.valid.toPrecision(6)}/${wasm.test.toPrecision(6)} (${speed(wasm)})  webgpu ${gpu.valid.toPrecision(6)}/${gpu.test.toPrecision(6)} (${speed(gpu)})  rel. diff ${rel.toExponential(1)}`,
  );
  rows.push({ spec, metric: wasm.metric, wasm, webgpu: gpu, rel_diff: rel });
}
console.log(
  JSON.stringify({
    windows,
    max_rel_diff: Number.isFinite(worst) ? worst : null,
    failed: rows.filter((r) => "error" in r).length,
    rows,
  }),
);
