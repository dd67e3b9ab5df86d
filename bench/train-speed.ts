// Benchmark (not a test): training throughput of the code rnnc generates for the Zaremba et al. 2014 PTB
// models, next to PyTorch on the same CPU and a plain tfjs-layers LSTM on the same tfjs backend.
//
//   npm run bench [-- --size small|medium] [--windows N] [--warmup N] [--rounds N] [--backend auto|wasm|cpu|tensorflow] [--threads N]
//   node dist/bench/train-speed.js --impl compiler   # only `rnnc check` and `rnnc build` (every example)
//
// Each implementation runs in its own process (so each peak RSS is its own), on random tokens with V = 10 000
// and batch 20: small is H = 200, bptt 20; medium is H = 650, bptt 35 (dropout 0.5 in rnnc's and PyTorch's
// models for medium, as the spec says; the layers model has none, which only flatters it). One training step is
// forward, backward, global-norm clipping at 5 and an SGD update; the figure is tokens per second over the
// median timed window, after warm-up. rnnc and PyTorch run in alternating rounds (--rounds, default 3) and each
// reports the median over them; ratio_pytorch is the median of the rounds' ratios. The last line printed is one JSON
// object.
import { spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { cpus } from "node:os";
import { fileURLToPath, pathToFileURL } from "node:url";
import ts from "typescript";
import { fsHost } from "../compiler/cli/fs-host.js";
import { generate } from "../compiler/codegen/index.js";
import { compile } from "../compiler/compile.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const SIZES = {
  small: { spec: "examples/zaremba-2014/small.rnn", hidden: 200, bptt: 20 },
  medium: { spec: "examples/zaremba-2014/medium.rnn", hidden: 650, bptt: 35 },
} as const;
type Size = keyof typeof SIZES;
const VOCAB = 10_000;
const BATCH = 20;

interface Args {
  size: Size;
  windows: number;
  warmup: number;
  backend: string;
  threads: number;
  rounds: number;
  impl?: string;
}

function parseArgs(argv: string[]): Args {
  const get = (name: string): string | undefined => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const size = (get("size") ?? "small") as Size;
  if (!(size in SIZES)) throw new Error(`--size must be small or medium, not ${size}`);
  return {
    size,
    windows: Number(get("windows") ?? (size === "small" ? 20 : 8)),
    warmup: Number(get("warmup") ?? 3),
    backend: get("backend") ?? "auto",
    threads: Number(get("threads") ?? cpus().length),
    rounds: Math.max(1, Number(get("rounds") ?? 3)),
    impl: get("impl"),
  };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const peakRssMb = (): number => process.resourceUsage().maxRSS / 1024;

/** Random [T·B] token ids, row-major over [T, B], from a small LCG: the data does not change the work. */
function tokens(n: number, seed: number): Int32Array {
  let s = seed >>> 0;
  return Int32Array.from({ length: n }, () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0), s % VOCAB));
}

// ---- rnnc: the generated model, trained by the runtime's own training step -------------------------------------

async function benchRnnc(a: Args): Promise<Record<string, number | string>> {
  const { size, windows, warmup } = a;
  const { spec, bptt } = SIZES[size];
  const r = compile(spec, fsHost(ROOT));
  const exp = r.document?.experiments[0];
  if (!exp) throw new Error(`${spec} does not compile`);
  const t0 = performance.now();
  const code = await generate(exp, { specPath: spec });
  const generateMs = performance.now() - t0;
  // The generated module imports "rnnc/runtime": inside this package that name resolves to dist/runtime by
  // self-reference, the same module instance this script uses.
  const dir = join(ROOT, ".bench", exp.name);
  mkdirSync(dir, { recursive: true });
  const js = ts.transpileModule(code, {
    compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022 },
  }).outputText;
  writeFileSync(join(dir, "model.mjs"), js);
  const mod = (await import(pathToFileURL(join(dir, "model.mjs")).href)) as typeof import("../runtime/index.js") & {
    experiment: import("../runtime/index.js").Experiment;
  };
  const rt = await import("../runtime/train/train.js");
  const { selectBackend } = await import("../runtime/accel/backend.js");
  const { ParameterStore } = await import("../runtime/model/parameters.js");
  const { Rng } = await import("../runtime/base/rng.js");
  const { lossScale } = await import("../runtime/model/softmax-loss.js");
  const backend = await selectBackend(a.backend as "auto", { threads: a.threads });

  const params = new ParameterStore(new Rng(0));
  const model = mod.experiment.createModel({ vocab: VOCAB, params });
  const trainer = rt.createTrainer(model, mod.experiment.training, new Rng(1));
  let state = model.initialState(BATCH);
  const times: number[] = [];
  for (let k = 0; k < warmup + windows; k++) {
    const xs = tokens(bptt * BATCH, 2 * k + 1);
    const ys = tokens(bptt * BATCH, 2 * k + 2);
    const s0 = performance.now();
    const step = await trainer.step(xs, ys, bptt, state, lossScale(mod.experiment.training.loss, bptt, BATCH));
    if (k >= warmup) times.push(performance.now() - s0);
    trainer.disposeState(state);
    state = step.next;
  }
  trainer.disposeState(state);
  rmSync(dir, { recursive: true, force: true });
  return {
    tok_s: (bptt * BATCH) / (median(times) / 1000),
    rss_mb: peakRssMb(),
    backend: backend.description,
    generate_ms: generateMs,
  };
}

// ---- a plain tfjs-layers model of the same size, trained the way its documentation shows ------------------------

async function benchLayers(a: Args): Promise<Record<string, number | string>> {
  const { size, windows, warmup } = a;
  const { hidden: H, bptt: T } = SIZES[size];
  const tf = await import("@tensorflow/tfjs");
  const { selectBackend } = await import("../runtime/accel/backend.js");
  const backend = await selectBackend(a.backend as "auto", { threads: a.threads });
  const init = tf.initializers.randomUniform({ minval: -0.1, maxval: 0.1, seed: 1 });
  const model = tf.sequential({
    layers: [
      tf.layers.embedding({ inputDim: VOCAB, outputDim: H, batchInputShape: [BATCH, T], embeddingsInitializer: init }),
      tf.layers.lstm({
        units: H,
        returnSequences: true,
        stateful: true,
        kernelInitializer: init,
        recurrentInitializer: init,
      }),
      tf.layers.lstm({
        units: H,
        returnSequences: true,
        stateful: true,
        kernelInitializer: init,
        recurrentInitializer: init,
      }),
      // Dense on [B, T, H] acts on the last axis: one [B·T, H]·[H, V] matMul. (With timeDistributed(dense), the
      // other documented form, the H = 650 model exhausted the 4 GiB wasm heap in its first step; with Dense it
      // trains, at a peak RSS of 3.9 GB.)
      tf.layers.dense({ units: VOCAB, kernelInitializer: init }),
    ],
  });
  const optimizer = tf.train.sgd(1);
  const vars = model.trainableWeights.map((w) => (w as unknown as { val: import("@tensorflow/tfjs").Variable }).val);
  const times: number[] = [];
  for (let k = 0; k < warmup + windows; k++) {
    const xs = tf.tensor2d(tokens(T * BATCH, 2 * k + 1), [BATCH, T], "int32");
    const ys = tf.tensor1d(tokens(T * BATCH, 2 * k + 2), "int32");
    const s0 = performance.now();
    tf.tidy(() => {
      const { value, grads } = tf.variableGrads(() => {
        const logits = (model.apply(xs, { training: true }) as import("@tensorflow/tfjs").Tensor).reshape([
          T * BATCH,
          VOCAB,
        ]);
        // Summed over the steps, averaged over the batch, as Zaremba's loss.
        return tf.losses
          .softmaxCrossEntropy(tf.oneHot(ys, VOCAB).toFloat(), logits, undefined, undefined, tf.Reduction.SUM)
          .div(BATCH) as import("@tensorflow/tfjs").Scalar;
      }, vars);
      const list = vars.map((v) => grads[v.name]!);
      const norm = tf.sqrt(tf.addN(list.map((g) => tf.sum(tf.square(g)))));
      const scale = tf.minimum(1, tf.div(5, norm));
      optimizer.applyGradients(Object.fromEntries(vars.map((v, i) => [v.name, tf.mul(list[i]!, scale)])));
      value.dataSync();
    });
    if (k >= warmup) times.push(performance.now() - s0);
    tf.dispose([xs, ys]);
  }
  return { tok_s: (T * BATCH) / (median(times) / 1000), rss_mb: peakRssMb(), backend: backend.description };
}

// ---- PyTorch CPU, when python3-torch is installed --------------------------------------------------------------

function benchPytorch(a: Args): Record<string, number | string> | null {
  const { hidden, bptt } = SIZES[a.size];
  const script = join(ROOT, "bench/pytorch_lm.py");
  const args = [
    script,
    "--hidden",
    String(hidden),
    "--bptt",
    String(bptt),
    "--batch",
    String(BATCH),
    "--vocab",
    String(VOCAB),
    "--windows",
    String(a.windows),
    "--warmup",
    String(a.warmup),
    "--dropout",
    a.size === "medium" ? "0.5" : "0",
    "--threads",
    String(a.threads),
  ];
  // Debian's python3-torch lives under /usr/bin/python3; a pyenv or venv python3 on PATH may lack it.
  for (const py of [process.env["RNNC_BENCH_PYTHON"], "python3", "/usr/bin/python3"].filter(Boolean) as string[]) {
    const r = spawnSync(py, args, { encoding: "utf8" });
    const last = r.stdout?.trim().split("\n").pop() ?? "";
    if (r.status === 0 && last.startsWith("{")) return JSON.parse(last) as Record<string, number | string>;
  }
  return null;
}

// ---- the compiler: `rnnc check` per spec and `rnnc build` end to end ---------------------------------------------

function benchCompiler(a: Args): {
  check_ms: number;
  build_wall_ms: number;
  build_max_ms: number;
  build_max_spec: string;
} {
  const { spec } = SIZES[a.size];
  const host = fsHost(ROOT);
  compile(spec, host);
  const checks: number[] = [];
  for (let k = 0; k < 20; k++) {
    const t0 = performance.now();
    compile(spec, host);
    checks.push(performance.now() - t0);
  }
  // `rnnc build` as a user runs it, for every example, after one build that fills the code cache (compiler/cli/code-cache.ts)
  const buildWall = (file: string): number => {
    const t0 = performance.now();
    const r = spawnSync(process.execPath, [join(ROOT, "bin/rnnc.js"), "build", file], { cwd: ROOT, encoding: "utf8" });
    if (r.status !== 0) throw new Error(`rnnc build ${file} failed: ${r.stderr}`);
    return performance.now() - t0;
  };
  buildWall(spec);
  const walls = exampleSpecs(join(ROOT, "examples")).map((f) => ({ f, ms: buildWall(f) }));
  const max = walls.reduce((m, w) => (w.ms > m.ms ? w : m));
  return {
    check_ms: median(checks),
    build_wall_ms: median(walls.map((w) => w.ms)),
    build_max_ms: max.ms,
    build_max_spec: relative(ROOT, max.f),
  };
}

function exampleSpecs(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((n) => {
      const p = join(dir, n);
      return statSync(p).isDirectory() ? exampleSpecs(p) : n.endsWith(".rnn") ? [p] : [];
    });
}

/** One implementation in its own process; null (with the reason on stderr) when it cannot finish a step. */
function child(impl: string, a: Args): Record<string, number | string> | null {
  const r = spawnSync(
    process.execPath,
    [
      fileURLToPath(import.meta.url),
      "--impl",
      impl,
      "--size",
      a.size,
      "--windows",
      String(a.windows),
      "--warmup",
      String(a.warmup),
      "--backend",
      a.backend,
      "--threads",
      String(a.threads),
    ],
    {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  const last = r.stdout.trim().split("\n").pop() ?? "";
  if (r.status === 0 && last.startsWith("{")) return JSON.parse(last) as Record<string, number | string>;
  // e.g. tfjs-layers at H = 650 exhausts the wasm heap (4 GiB) in its first step: say so, and go on
  const why = r.stderr.split("\n").find((l) => /Error|Abort/.test(l)) ?? `exit ${r.status}`;
  failures[impl] = why.trim();
  return null;
}

const failures: Record<string, string> = {};
const args = parseArgs(process.argv.slice(2));
if (args.impl === "rnnc") console.log(JSON.stringify(await benchRnnc(args)));
else if (args.impl === "layers") console.log(JSON.stringify(await benchLayers(args)));
else if (args.impl === "compiler") console.log(JSON.stringify(benchCompiler(args)));
else {
  const { hidden, bptt } = SIZES[args.size];
  console.log(
    `training throughput: 2-layer LSTM LM, V=${VOCAB}, H=${hidden}, batch ${BATCH}, bptt ${bptt}; median of ${args.windows} windows after ${args.warmup} warm-up; rnnc and PyTorch: median of ${args.rounds} alternating rounds`,
  );
  // rnnc and PyTorch in alternating rounds: this machine's speed drifts by ±20 % over minutes (measured: PyTorch
  // small 1 167–1 478 tok/s within ten minutes), so each round's pair is measured close together, and each figure is
  // the median over the rounds; the ratio is the median of the rounds' ratios.
  const rounds: { rnnc: Record<string, number | string>; pytorch: Record<string, number | string> | null }[] = [];
  for (let k = 0; k < args.rounds; k++) {
    const r = child("rnnc", args);
    if (!r) throw new Error(`the rnnc benchmark failed: ${failures["rnnc"]}`);
    rounds.push({ rnnc: r, pytorch: benchPytorch(args) });
    const p = rounds[k]!.pytorch;
    console.log(
      `  round ${k + 1}/${args.rounds}: rnnc ${Math.round(Number(r["tok_s"]))} tok/s, PyTorch ${p ? `${Math.round(Number(p["tok_s"]))} tok/s` : "n/a"}`,
    );
  }
  const medianOf = (rs: Record<string, number | string>[]): Record<string, number | string> => ({
    ...rs[0]!,
    tok_s: median(rs.map((r) => Number(r["tok_s"]))),
    rss_mb: Math.max(...rs.map((r) => Number(r["rss_mb"]))),
  });
  const rnnc = medianOf(rounds.map((r) => r.rnnc));
  const paired = rounds.filter((r) => r.pytorch !== null);
  const pytorch = paired.length ? medianOf(paired.map((r) => r.pytorch!)) : null;
  const pairedRatio = paired.length
    ? median(paired.map((r) => Number(r.rnnc["tok_s"]) / Number(r.pytorch!["tok_s"])))
    : null;
  const layers = child("layers", args);
  const compiler = benchCompiler(args);
  const row = (name: string, r: Record<string, number | string> | null, note = ""): string =>
    `${name.padEnd(28)} ${r ? `${Math.round(Number(r["tok_s"])).toString().padStart(8)} tok/s  ${Math.round(Number(r["rss_mb"])).toString().padStart(6)} MB` : "     n/a"}  ${note}`;
  console.log(row("rnnc", rnnc, String(rnnc["backend"]).replace(/; chosen by auto.*/, "")));
  console.log(
    row(
      `PyTorch ${pytorch?.["torch"] ?? ""} CPU`,
      pytorch,
      pytorch ? `${pytorch["threads"]} threads` : "python3-torch not installed",
    ),
  );
  // (the layers model's matMuls are tf.matMul, XNNPACK's: rnnc's GEMM runs only the fused ops of rnnc's runtime)
  console.log(
    row(
      "tfjs-layers",
      layers,
      layers
        ? `${String(layers["backend"])
            .replace(/; chosen by auto.*/, "")
            .replace(/; matMul: [^)]*/, "")}, tfjs's own kernels`
        : `failed: ${failures["layers"]}`,
    ),
  );
  console.log(
    `rnnc check ${compiler.check_ms.toFixed(1)} ms/spec (warm); rnnc build ${Math.round(compiler.build_wall_ms)} ms wall (median over the examples, max ${Math.round(compiler.build_max_ms)} ms: ${compiler.build_max_spec}); codegen ${Math.round(Number(rnnc["generate_ms"]))} ms`,
  );
  const ratio = (x: number | undefined): number | null => (x ? Number(rnnc["tok_s"]) / x : null);
  console.log(
    JSON.stringify({
      size: args.size,
      rnnc_tok_s: Number(rnnc["tok_s"]),
      pytorch_tok_s: pytorch ? Number(pytorch["tok_s"]) : null,
      tfjs_layers_tok_s: layers ? Number(layers["tok_s"]) : null,
      ratio_pytorch: pairedRatio,
      ratio_layers: layers ? ratio(Number(layers["tok_s"])) : null,
      rss_mb: Number(rnnc["rss_mb"]),
      pytorch_rss_mb: pytorch ? Number(pytorch["rss_mb"]) : null,
      check_ms: compiler.check_ms,
      build_wall_ms: compiler.build_wall_ms,
      build_max_ms: compiler.build_max_ms,
    }),
  );
}
