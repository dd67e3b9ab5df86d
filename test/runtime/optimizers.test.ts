// Optimizers, gradient clipping and weight decay against PyTorch's documented update rules (torch.optim; the
// convention of the reference implementations the papers' numbers come from):
//   SGD (dampening 0, no Nesterov):  b₁ = g₁, b_t = μ b_{t−1} + g_t;  θ ← θ − lr·b_t   (μ = 0: θ ← θ − lr·g)
//   Adam:  m = β₁m + (1 − β₁)g,  v = β₂v + (1 − β₂)g²,  θ ← θ − lr·(m / (1 − β₁ᵗ)) / (√(v / (1 − β₂ᵗ)) + ε)
//   RMSprop (centered = False):  v = αv + (1 − α)g²;  u = g / (√v + ε) (ε outside the root);
//                                μ > 0: b = μb + u, θ ← θ − lr·b;  else θ ← θ − lr·u
// The learning rate changes between steps (a schedule does that): PyTorch's momentum buffers hold unscaled
// gradients, so a changed lr applies to the whole buffer (TF's MomentumOptimizer would differ here).
// Clipping (runtime/train/clip.ts, Pascanu et al. 2013; torch.nn.utils.clip_grad_norm_): ‖g‖ > max scales every gradient
// by max/‖g‖; otherwise they are left untouched.
// Weight decay lives in runtime/train/step.ts, not in the Optimizer: after clipping, g ← g + λ·θ (torch.optim's weight_decay, an
// L2 term in the gradient, not AdamW's decoupled decay), so the decay term is not clipped. Checked through
// runExperiment on a tiny synthetic corpus, one training window, reading the parameters back from the checkpoint.
// Tolerances: float32 updates vs float64 reference over ≤ 4 steps of size up to ~1 (float32 ulp ~1e-7 each):
// |a − b| ≤ 1e-6 + 1e-5·|b|; steps recovered from checkpoints (differences of float32 parameters ~0.3):
// |a − b| ≤ 1e-7 + 1e-4·|b|.
import * as tf from "@tensorflow/tfjs";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { selectBackend } from "../../runtime/accel/backend.js";
import { readCheckpoint } from "../../runtime/train/checkpoint.js";
import { clipByGlobalNorm, globalNorm } from "../../runtime/train/clip.js";
import { Embedding } from "../../runtime/model/embedding.js";
import { uniform } from "../../runtime/model/init.js";
import type { LanguageModel, ModelOutput, ModelSetup, StepContext } from "../../runtime/model/language-model.js";
import { adam, Optimizer, rmsprop, sgd, type OptimizerSpec } from "../../runtime/train/optimizers.js";
import { ParameterStore } from "../../runtime/model/parameters.js";
import { RecurrentLayer, type LayerState } from "../../runtime/model/recurrent-layer.js";
import { Rng } from "../../runtime/base/rng.js";
import { SoftmaxOutput } from "../../runtime/model/softmax-loss.js";
import { createTrainer, runExperiment, type Experiment } from "../../runtime/train/train.js";
import { expectClose } from "./close.js";
import { tensorOf, toF64, uniformArray } from "./reference.js";

const SHAPES = [[3], [2, 2]];
const LRS = [0.1, 0.1, 0.05, 0.2]; // one per step

/** θ after the steps, by the PyTorch formulas above, in float64. */
function reference(spec: OptimizerSpec, theta0: Float64Array[], grads: Float64Array[][]): Float64Array[] {
  return theta0.map((t0, k) => {
    const th = Float64Array.from(t0);
    const buf = new Float64Array(th.length),
      m = new Float64Array(th.length),
      v = new Float64Array(th.length);
    grads.forEach((gs, s) => {
      const g = gs[k]!,
        lr = LRS[s]!,
        t = s + 1;
      for (let i = 0; i < th.length; i++) {
        switch (spec.kind) {
          case "sgd":
            if (spec.momentum === 0) th[i]! -= lr * g[i]!;
            else {
              buf[i] = t === 1 ? g[i]! : spec.momentum * buf[i]! + g[i]!;
              th[i]! -= lr * buf[i]!;
            }
            break;
          case "adam": {
            m[i] = spec.beta1 * m[i]! + (1 - spec.beta1) * g[i]!;
            v[i] = spec.beta2 * v[i]! + (1 - spec.beta2) * g[i]! ** 2;
            const mHat = m[i]! / (1 - spec.beta1 ** t),
              vHat = v[i]! / (1 - spec.beta2 ** t);
            th[i]! -= (lr * mHat) / (Math.sqrt(vHat) + spec.epsilon);
            break;
          }
          case "rmsprop": {
            v[i] = spec.decay * v[i]! + (1 - spec.decay) * g[i]! ** 2;
            const u = g[i]! / (Math.sqrt(v[i]!) + spec.epsilon);
            if (spec.momentum === 0) th[i]! -= lr * u;
            else {
              buf[i] = spec.momentum * buf[i]! + u;
              th[i]! -= lr * buf[i]!;
            }
            break;
          }
        }
      }
    });
    return th;
  });
}

const cases: [string, OptimizerSpec, number][] = [
  // [name, spec, gradient scale]
  ["sgd", sgd({ lr: 1 }), 1],
  ["sgd, momentum 0.9", sgd({ lr: 1, momentum: 0.9 }), 1],
  ["adam (defaults)", adam({ lr: 1 }), 1],
  // tiny gradients with a large ε: ε's place (outside √v̂, after bias correction) decides the step size
  ["adam, ε = 1e-3, |g| ~ 1e-3", adam({ lr: 1, beta1: 0.8, beta2: 0.95, epsilon: 1e-3 }), 1e-3],
  ["rmsprop", rmsprop({ lr: 1, decay: 0.99 }), 1],
  ["rmsprop, momentum 0.9, ε = 0.1", rmsprop({ lr: 1, decay: 0.9, momentum: 0.9, epsilon: 0.1 }), 0.3],
];

for (const backend of ["wasm", "cpu"] as const) {
  describe(`optimizer updates on ${backend}`, () => {
    let previous = "";
    beforeAll(async () => {
      previous = tf.getBackend();
      await selectBackend(backend);
    });
    afterAll(async () => {
      if (previous) await tf.setBackend(previous);
    });

    for (const [name, spec, gScale] of cases)
      it(`${name}: ${LRS.length} steps with a changing lr match torch.optim`, () => {
        const rng = new Rng(name.length);
        const theta0 = SHAPES.map((s) =>
          uniformArray(
            rng,
            s.reduce((a, b) => a * b, 1),
            1,
          ),
        );
        const grads = LRS.map(() =>
          SHAPES.map((s) =>
            uniformArray(
              rng,
              s.reduce((a, b) => a * b, 1),
              gScale,
            ),
          ),
        );
        const vars = SHAPES.map((s, k) => tf.variable(tensorOf(theta0[k]!, s)));
        const opt = new Optimizer(spec);
        grads.forEach((gs, s) =>
          opt.apply(
            vars,
            gs.map((g, k) => tensorOf(g, SHAPES[k]!)),
            LRS[s]!,
          ),
        );
        const expected = reference(spec, theta0, grads);
        vars.forEach((v, k) => expectClose(v, expected[k]!, `param ${k}`, 1e-6, 1e-5));
        expect(opt.state().step).toBe(LRS.length);
        // the test can fail: the parameters moved by much more than the tolerance
        expect(Math.max(...toF64(vars[0]!).map((x, i) => Math.abs(x - theta0[0]![i]!)))).toBeGreaterThan(1e-2);
        vars.forEach((v) => v.dispose());
        opt.dispose();
      });
  });
}

describe("global-norm clipping (runtime/train/clip.ts)", () => {
  beforeAll(async () => {
    await selectBackend("cpu");
  });

  const rng = new Rng(77);
  const parts = [uniformArray(rng, 5, 2), uniformArray(rng, 6, 2)];
  const norm = Math.sqrt(parts.reduce((s, a) => s + a.reduce((t, x) => t + x * x, 0), 0)); // float64 reference
  const tensors = (): tf.Tensor[] => parts.map((a) => tensorOf(a, [a.length]));

  it("globalNorm is √(Σ g²) over all gradients", async () => {
    expectClose([await globalNorm(tensors())], [norm], "norm", 0, 1e-6);
  });

  it("above the bound: every gradient is scaled by max/‖g‖ (the direction is kept, the norm becomes max)", async () => {
    const max = norm / 3;
    const r = await clipByGlobalNorm(tensors(), max);
    expectClose([r.norm], [norm], "reported norm (before clipping)", 0, 1e-6);
    r.grads.forEach((g, k) =>
      expectClose(
        g,
        parts[k]!.map((x) => (x * max) / norm),
        `grad ${k}`,
        1e-7,
        1e-6,
      ),
    );
    expectClose([await globalNorm(r.grads)], [max], "norm after", 0, 1e-6);
  });

  it("gradients near 1e30, whose Σg² overflows float32: the norm is still right and clipping still scales them", async () => {
    const big = 1e30;
    const huge = (): tf.Tensor[] =>
      parts.map((a) =>
        tensorOf(
          a.map((x) => x * big),
          [a.length],
        ),
      );
    expect(Number.isFinite(tf.tidy(() => tf.sum(tf.square(huge()[0]!)).dataSync()[0]!))).toBe(false); // the overflow is real
    expectClose([await globalNorm(huge())], [norm * big], "norm", 0, 1e-5);
    const r = await clipByGlobalNorm(huge(), 0.25);
    r.grads.forEach((g, k) =>
      expectClose(
        g,
        parts[k]!.map((x) => (x * 0.25) / norm),
        `grad ${k}`,
        1e-7,
        1e-5,
      ),
    );
  });

  it("below the bound: the gradients are left untouched", async () => {
    for (const max of [norm * 2, norm * 1.001]) {
      const r = await clipByGlobalNorm(tensors(), max);
      expectClose([r.norm], [norm], "reported norm", 0, 1e-6);
      r.grads.forEach((g, k) => expect(Array.from(g.dataSync())).toEqual(Array.from(Float32Array.from(parts[k]!))));
    }
  });
});

// Weight decay and clipping as runtime/train/step.ts applies them, observed through one training window of a real run.
const CLIP = 0.01,
  WD = 0.1;
let uid = 0; // tfjs variable names are global to the engine: each run builds its model under a fresh prefix

class TinyLm implements LanguageModel {
  readonly embedding: Embedding;
  readonly layer: RecurrentLayer;
  readonly output: SoftmaxOutput;
  constructor(
    readonly params: ParameterStore,
    vocab: number,
    readonly prefix: string,
  ) {
    this.embedding = new Embedding(params, `${prefix}.embedding`, vocab, 4, uniform(0.3));
    this.layer = new RecurrentLayer(params, `${prefix}.layer`, "lstm", 4, 4, {
      init: uniform(0.3),
      recurrentInit: uniform(0.3),
    });
    this.output = new SoftmaxOutput(params, `${prefix}.output`, 4, vocab, { init: uniform(0.3) });
  }
  initialState(batch: number): LayerState[] {
    return [this.layer.zeroState(batch)];
  }
  forward(tokens: tf.Tensor2D, state: readonly LayerState[], _ctx: StepContext): ModelOutput {
    const l = this.layer.forward(this.embedding.forward(tokens), state[0]!);
    return { hidden: l.y, raw: l.y, state: [l.state] };
  }
}

/** Run one training window; return each parameter (by its unprefixed name) before and after, in float64. */
async function oneWindow(
  optimizer: OptimizerSpec,
  clip: number | null,
  weightDecay: number,
  dir: string,
): Promise<Map<string, { before: Float64Array; after: Float64Array; decay: boolean }>> {
  const prefix = `wd${uid++}`;
  let built: TinyLm | null = null;
  const exp: Experiment = {
    name: "optimizer_test",
    spec: { file: "test.rnn", hash: "0" },
    data: {
      dataset: "synthetic",
      path: null,
      batch: 4,
      evalBatch: 2,
      testBatch: 1,
      bptt: 5,
      stateful: true,
      synthetic: { vocab: 6, order: 1, tokens: 400, seed: 3 },
    },
    training: { epochs: 1, optimizer, schedule: { kind: "constant" }, clip, weightDecay, loss: "sum_steps", seed: 11 },
    createModel: (setup: ModelSetup) => (built = new TinyLm(setup.params, setup.vocab, prefix)),
  };
  // θ₀: the same seed gives the same initial weights (runtime/train/driver.ts draws them from new Rng(seed) first)
  const initial = new TinyLm(new ParameterStore(new Rng(11)), 6, `${prefix}.init`);
  const runDir = join(dir, prefix);
  await runExperiment(exp, {
    runDir,
    backend: "cpu",
    epochs: 1,
    limitBatches: 1,
    progress: { write: () => {}, isTTY: false },
  });
  const saved = new Map(readCheckpoint(join(runDir, "last.ckpt")).tensors.map((t) => [t.name, t.data]));
  const out = new Map<string, { before: Float64Array; after: Float64Array; decay: boolean }>();
  built!.params.list.forEach((p, k) => {
    const key = p.name.slice(prefix.length + 1);
    out.set(key, {
      before: toF64(initial.params.list[k]!.variable),
      after: Float64Array.from(saved.get(`param/${p.name}`)!),
      decay: p.decay,
    });
  });
  return out;
}

describe("weight decay and clipping in the training step (runtime/train/step.ts, one window)", () => {
  let dir = "";
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "rnnc-opt-"));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it("clip first, then g + λθ (torch.optim weight_decay after clip_grad_norm_); Adam sees the decayed gradient", async () => {
    const lr = 1;
    const raw = await oneWindow(sgd({ lr }), null, 0, dir); // θ₀ − θ₁ = g
    const clipped = await oneWindow(sgd({ lr }), CLIP, 0, dir); // = g · CLIP/‖g‖
    const decayed = await oneWindow(sgd({ lr }), CLIP, WD, dir); // = g · CLIP/‖g‖ + λθ₀
    const adamLr = 0.01;
    const adamRun = await oneWindow(adam({ lr: adamLr }), CLIP, WD, dir); // first Adam step on g' = clip(g) + λθ₀

    const g = new Map([...raw].map(([k, p]) => [k, p.before.map((x, i) => (x - p.after[i]!) / lr)]));
    const norm = Math.sqrt([...g.values()].reduce((s, a) => s + a.reduce((t, x) => t + x * x, 0), 0));
    expect(norm).toBeGreaterThan(10 * CLIP); // the bound is active
    for (const [name, gk] of g) {
      const theta0 = raw.get(name)!.before;
      expect(Array.from(clipped.get(name)!.before)).toEqual(Array.from(theta0)); // same θ₀ in every run
      const gClip = gk.map((x) => (x * CLIP) / norm);
      const stepOf = (run: typeof raw): Float64Array =>
        run.get(name)!.before.map((x, i) => x - run.get(name)!.after[i]!);
      expectClose(
        stepOf(clipped),
        gClip.map((x) => lr * x),
        `${name}: clipped step`,
        1e-7,
        1e-4,
      );
      const lambda = decayed.get(name)!.decay ? WD : 0;
      const gDec = gClip.map((x, i) => x + lambda * theta0[i]!);
      expectClose(
        stepOf(decayed),
        gDec.map((x) => lr * x),
        `${name}: clipped + decayed step`,
        1e-7,
        1e-4,
      );
      // Adam, t = 1: m̂ = g', v̂ = g'², so the step is lr · g' / (|g'| + ε)
      expectClose(
        stepOf(adamRun),
        gDec.map((x) => (adamLr * x) / (Math.abs(x) + 1e-8)),
        `${name}: adam step`,
        1e-7,
        1e-4,
      );
    }
    // Decay applied before the clip would have been clipped with the gradient: the decayed step's norm would be CLIP.
    const decNorm = Math.sqrt(
      [...decayed].reduce((s, [, p]) => s + p.before.reduce((t, x, i) => t + (x - p.after[i]!) ** 2, 0), 0),
    );
    expect(decNorm).toBeGreaterThan(2 * CLIP);
  });
});

describe("--limit-batches and --train-batches (runtime/train/lm-task.ts)", () => {
  let dir = "";
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "rnnc-limit-"));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  /** One epoch on the tiny corpus; returns the epoch and final records of metrics.jsonl. */
  async function records(limits: {
    limitBatches?: number;
    trainBatches?: number;
  }): Promise<{ epoch: Record<string, number>; final: Record<string, number> }> {
    const prefix = `lim${uid++}`;
    const exp: Experiment = {
      name: "limit_test",
      spec: { file: "test.rnn", hash: "0" },
      data: {
        dataset: "synthetic",
        path: null,
        batch: 4,
        evalBatch: 2,
        testBatch: 1,
        bptt: 5,
        stateful: true,
        synthetic: { vocab: 6, order: 1, tokens: 2000, seed: 3 },
      },
      training: {
        epochs: 1,
        optimizer: sgd({ lr: 0.1 }),
        schedule: { kind: "constant" },
        clip: null,
        weightDecay: 0,
        loss: "sum_steps",
        seed: 11,
      },
      createModel: (setup: ModelSetup) => new TinyLm(setup.params, setup.vocab, prefix),
    };
    const runDir = join(dir, prefix);
    await runExperiment(exp, {
      runDir,
      backend: "cpu",
      epochs: 1,
      ...limits,
      progress: { write: () => {}, isTTY: false },
    });
    const lines = readFileSync(join(runDir, "metrics.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, number> & { event: string });
    return { epoch: lines.find((l) => l.event === "epoch")!, final: lines.find((l) => l.event === "final")! };
  }

  it("limit-batches cuts training and evaluation; train-batches cuts training only and evaluates on the whole sets", async () => {
    const full = await records({});
    const limited = await records({ limitBatches: 2 });
    const trainOnly = await records({ trainBatches: 2 });
    expect(limited.final["validTokens"]).toBe(2 * 2 * 5); // two windows of evalBatch 2 × bptt 5
    expect(limited.final["testTokens"]).toBe(2 * 1 * 5);
    expect(trainOnly.final["validTokens"]).toBe(full.final["validTokens"]);
    expect(trainOnly.final["testTokens"]).toBe(full.final["testTokens"]);
    expect(full.final["validTokens"]).toBeGreaterThan(limited.final["validTokens"]!);
    // The same two training windows either way: the same weights, so the same loss on the same two eval windows.
    expect(trainOnly.epoch["trainLoss"]).toBe(limited.epoch["trainLoss"]);
    expect(full.epoch["trainLoss"]).not.toBe(limited.epoch["trainLoss"]);
  });
});

describe("the training step leaves no tensor behind (runtime/train/lm-task.ts createTrainer)", () => {
  // A leaked intermediate per step is invisible in a short test run but fills the 4 GiB wasm heap within an
  // epoch of a real one: weight decay's λθ once did exactly that.
  it.each([
    ["clip + weight decay + momentum", { clip: 0.5, weightDecay: 1e-3, optimizer: sgd({ lr: 0.1, momentum: 0.9 }) }],
    ["adam, no clip, no decay", { clip: null, weightDecay: 0, optimizer: adam({ lr: 0.01 }) }],
  ] as const)("%s: the same number of tensors after 5 steps as after 1", async (_name, t) => {
    await selectBackend("cpu");
    const model = new TinyLm(new ParameterStore(new Rng(5)), 6, `leak${uid++}`);
    const trainer = createTrainer(
      model,
      { epochs: 1, schedule: { kind: "constant" }, loss: "mean", seed: 1, ...t },
      new Rng(2),
    );
    const T = 5,
      B = 4;
    let state = model.initialState(B);
    const step = async (): Promise<void> => {
      const xs = Int32Array.from({ length: T * B }, (_, i) => i % 6);
      const ys = Int32Array.from({ length: T * B }, (_, i) => (i * 5 + 1) % 6);
      const r = await trainer.step(xs, ys, T, state, 1);
      trainer.disposeState(state);
      state = r.next;
    };
    await step(); // the first step creates the optimizer's slots
    const after1 = tf.memory().numTensors;
    for (let k = 0; k < 4; k++) await step();
    expect(tf.memory().numTensors).toBe(after1);
    trainer.disposeState(state);
  });
});
