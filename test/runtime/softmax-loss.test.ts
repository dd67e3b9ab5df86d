// SoftmaxOutput.loss: the fused output layer + cross-entropy (hand-written backward) against a plain float64
// log-softmax cross-entropy. Checks the value and the gradients w.r.t. the hidden sequence, the weight and the bias,
// for both loss scales (sum_steps: Σ over steps, mean over the batch, Zaremba et al. 2014's Torch code; mean: mean
// over T·B tokens, awd-lstm-lm), untied ([D, V]) and tied to an embedding ([V, D], Inan et al. 2017; Press & Wolf
// 2017), on wasm and cpu (the wasm OneHot quirk noted in runtime/model/softmax-loss.ts is backend-specific).
// The reference gradient is analytic, dL/dz = scale · (softmax(z) − onehot(y)); it is itself checked against central
// finite differences of the reference loss in float64 first.
// Tolerances: float32 runtime vs float64 reference, |a − b| ≤ 2e-5 + 1e-4·|b| (close.ts defaults) for loss and grads;
// reference analytic vs finite differences (ε = 1e-6): 1e-7 absolute.
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { selectBackend } from "../../runtime/accel/backend.js";
import { Embedding } from "../../runtime/model/embedding.js";
import { uniform } from "../../runtime/model/init.js";
import { ParameterStore } from "../../runtime/model/parameters.js";
import { Rng } from "../../runtime/base/rng.js";
import { lossScale, SoftmaxOutput, vocabChunks, type LossScale } from "../../runtime/model/softmax-loss.js";
import { expectClose } from "./close.js";
import { affine, finiteDiff, maxAbsDiff, summedNll, tensorOf, tokenArray, uniformArray } from "./reference.js";

const T = 3,
  B = 4,
  D = 5,
  V = 7,
  N = T * B;

interface Problem {
  h: Float64Array; // [N, D] (= [T, B, D] row-major)
  W: Float64Array; // [D, V] (the untied layout; the tied one stores its transpose)
  b: Float64Array; // [V]
  y: Int32Array; // [N]
}

function problem(seed: number, hScale = 1.5): Problem {
  const rng = new Rng(seed);
  return {
    h: uniformArray(rng, N * D, hScale),
    W: uniformArray(rng, D * V, 0.8),
    b: uniformArray(rng, V, 0.5),
    y: tokenArray(rng, N, V),
  };
}

/** [V, D] from [D, V]. */
function transpose(W: Float64Array, rows: number, cols: number): Float64Array {
  const out = new Float64Array(W.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = W[r * cols + c]!;
  return out;
}

/** Reference loss and its analytic gradients: dz = scale · (softmax(z) − onehot(y)). */
function reference(p: Problem, scale: number): { loss: number; dh: Float64Array; dW: Float64Array; db: Float64Array } {
  const z = affine(p.h, N, D, p.W, V, p.b);
  const dz = new Float64Array(N * V);
  for (let n = 0; n < N; n++) {
    let mx = -Infinity;
    for (let v = 0; v < V; v++) mx = Math.max(mx, z[n * V + v]!);
    let s = 0;
    for (let v = 0; v < V; v++) s += Math.exp(z[n * V + v]! - mx);
    for (let v = 0; v < V; v++) dz[n * V + v] = scale * (Math.exp(z[n * V + v]! - mx) / s - (v === p.y[n] ? 1 : 0));
  }
  const dh = new Float64Array(N * D),
    dW = new Float64Array(D * V),
    db = new Float64Array(V);
  for (let n = 0; n < N; n++)
    for (let v = 0; v < V; v++) {
      const g = dz[n * V + v]!;
      db[v]! += g;
      for (let d = 0; d < D; d++) {
        dh[n * D + d]! += g * p.W[d * V + v]!;
        dW[d * V + v]! += g * p.h[n * D + d]!;
      }
    }
  return { loss: scale * summedNll(z, N, V, p.y), dh, dW, db };
}

let uid = 0; // tfjs variable names are global to the engine: each layer built here gets its own prefix

/** The runtime's loss and gradients, with the layer's parameters set to the problem's. */
function runtime(
  p: Problem,
  scale: number,
  tied: boolean,
  outer = 1,
  chunkElements?: number,
): { loss: number; dh: tf.Tensor; dW: tf.Tensor; db: tf.Tensor; out: SoftmaxOutput } {
  const store = new ParameterStore(new Rng(0));
  const prefix = `sm${uid++}`;
  const E = tied ? store.matrix(`${prefix}.embedding.weight`, V, D, uniform(0.1), D) : undefined;
  const out = new SoftmaxOutput(store, `${prefix}.output`, D, V, { init: uniform(0.1), tiedTo: E, chunkElements });
  out.weight.assign((tied ? tensorOf(transpose(p.W, D, V), [V, D]) : tensorOf(p.W, [D, V])) as tf.Tensor2D);
  out.bias.assign(tensorOf(p.b, [V]) as tf.Tensor1D);
  const h = tf.variable(tensorOf(p.h, [T, B, D]));
  const y = tf.tensor1d(p.y, "int32");
  const g = tf.variableGrads(
    () => tf.mul(out.loss(h as tf.Tensor as tf.Tensor3D, y, scale), outer) as tf.Scalar,
    [h, out.weight, out.bias],
  );
  return {
    loss: g.value.dataSync()[0]!,
    dh: g.grads[h.name]!,
    dW: g.grads[out.weight.name]!,
    db: g.grads[out.bias.name]!,
    out,
  };
}

describe("softmax cross-entropy reference", () => {
  it("analytic gradient matches finite differences of the float64 loss", () => {
    const p = problem(11);
    const scale = 1 / B;
    const ref = reference(p, scale);
    const f = (): number => scale * summedNll(affine(p.h, N, D, p.W, V, p.b), N, V, p.y);
    expect(maxAbsDiff(finiteDiff(f, p.h), ref.dh)).toBeLessThan(1e-7);
    expect(maxAbsDiff(finiteDiff(f, p.W), ref.dW)).toBeLessThan(1e-7);
    expect(maxAbsDiff(finiteDiff(f, p.b), ref.db)).toBeLessThan(1e-7);
  });

  it("lossScale: sum_steps = 1/B (Σ over steps, mean over batch), mean = 1/(T·B)", () => {
    expect(lossScale("sum_steps", 35, 20)).toBe(1 / 20);
    expect(lossScale("mean", 35, 20)).toBe(1 / 700);
  });
});

for (const backend of ["wasm", "cpu"] as const) {
  describe(`SoftmaxOutput.loss on ${backend}`, () => {
    let previous = "";
    beforeAll(async () => {
      previous = tf.getBackend();
      await selectBackend(backend);
    });
    afterAll(async () => {
      if (previous) await tf.setBackend(previous);
    });

    // The vocabulary in one chunk (V·D = 35 is under any budget), and in chunks of 2, 2, 2 and 1 columns (a budget
    // of 10 elements: ⌈35/10⌉ = 4 chunks), as large vocabularies run (runtime/model/softmax-loss.ts, CHUNK_ELEMENTS).
    for (const [chunking, chunkElements] of [
      ["one chunk", undefined],
      ["4 vocabulary chunks", 10],
    ] as const)
      for (const kind of ["sum_steps", "mean"] as LossScale[])
        for (const tied of [false, true])
          it(`${kind}, ${tied ? "tied [V, D]" : "untied [D, V]"}, ${chunking}: value and gradients w.r.t. h, weight, bias`, () => {
            const p = problem(kind === "mean" ? 21 : 22);
            // The convention written out here, not taken from lossScale: Σ NLL / B, or Σ NLL / (T·B).
            const scale = kind === "sum_steps" ? 1 / B : 1 / (T * B);
            expect(lossScale(kind, T, B)).toBeCloseTo(scale, 15);
            const ref = reference(p, scale);
            const r = runtime(p, lossScale(kind, T, B), tied, 1, chunkElements);
            expectClose([r.loss], [ref.loss], "loss");
            expectClose(r.dh, ref.dh, "dL/dh");
            expectClose(r.dW, tied ? transpose(ref.dW, D, V) : ref.dW, "dL/dweight");
            expect(r.dW.shape).toEqual(tied ? [V, D] : [D, V]);
            expectClose(r.db, ref.db, "dL/dbias");
            // logits() uses the same layout
            expectClose(
              r.out.logits(tensorOf(p.h, [T, B, D]) as tf.Tensor3D),
              affine(p.h, N, D, p.W, V, p.b),
              "logits",
            );
          });

    it("tied: the shared matrix gets the softmax gradient plus the lookup's scatter-add, summed", () => {
      const p = problem(51);
      const rng = new Rng(52);
      const tokens = tokenArray(rng, N, 3); // ids < 3: rows 0..2 get lookup gradient, repeated
      const probe = uniformArray(rng, N * D, 1);
      const store = new ParameterStore(new Rng(0));
      const prefix = `sm${uid++}`;
      const emb = new Embedding(store, `${prefix}.embedding`, V, D, uniform(0.1));
      const out = new SoftmaxOutput(store, `${prefix}.output`, D, V, { init: uniform(0.1), tiedTo: emb.weight });
      emb.weight.assign(tensorOf(transpose(p.W, D, V), [V, D]) as tf.Tensor2D);
      out.bias.assign(tensorOf(p.b, [V]) as tf.Tensor1D);
      const h = tensorOf(p.h, [T, B, D]) as tf.Tensor3D;
      const x = tf.tensor2d(tokens, [T, B], "int32"),
        y = tf.tensor1d(p.y, "int32"),
        pr = tensorOf(probe, [T, B, D]);
      const g = tf.variableGrads(
        () => tf.add(out.loss(h, y, 1 / B), tf.sum(tf.mul(emb.forward(x), pr))) as tf.Scalar,
        [emb.weight],
      );
      const expected = transpose(reference(p, 1 / B).dW, D, V); // [V, D]
      for (let n = 0; n < N; n++) for (let d = 0; d < D; d++) expected[tokens[n]! * D + d]! += probe[n * D + d]!;
      expectClose(g.grads[emb.weight.name]!, expected, "dL/dE");
    });

    it("targets created inside the differentiated function stay valid for the backward", () => {
      // variableGrads disposes the forward's temporaries before the backward; the loss must not read them later
      const p = problem(61);
      const r = runtime(p, 1 / B, false);
      const y = Array.from(p.y);
      const g = tf.variableGrads(
        () => r.out.loss(tensorOf(p.h, [T, B, D]) as tf.Tensor3D, tf.tensor1d(y, "int32"), 1 / B),
        [r.out.weight],
      );
      expectClose(g.grads[r.out.weight.name]!, reference(p, 1 / B).dW, "dL/dweight");
    });

    it("the upstream gradient multiplies the backward (d(k·L) = k·dL)", () => {
      const p = problem(31);
      const ref = reference(p, 1 / B);
      const r = runtime(p, 1 / B, false, -2.5);
      expectClose([r.loss], [-2.5 * ref.loss], "loss");
      expectClose(
        r.dh,
        ref.dh.map((g) => -2.5 * g),
        "dL/dh",
      );
      expectClose(
        r.dW,
        ref.dW.map((g) => -2.5 * g),
        "dL/dweight",
      );
      expectClose(
        r.db,
        ref.db.map((g) => -2.5 * g),
        "dL/dbias",
      );
    });

    it("stays finite and exact for large logits (log-sum-exp with the max subtracted)", () => {
      const p = problem(41, 60); // |logits| up to ~200: exp overflows float32 without the shift
      const ref = reference(p, 1 / B);
      const r = runtime(p, 1 / B, false);
      expect(Number.isFinite(r.loss)).toBe(true);
      expectClose([r.loss], [ref.loss], "loss", 1e-3, 1e-5); // float32 logits of size ~200: ulp ~1.5e-5 each, summed over 12 rows
      expectClose(r.dh, ref.dh, "dL/dh", 1e-4, 1e-4);
    });
  });
}

describe("vocabChunks: how the output matMuls split the vocabulary", () => {
  it("covers [0, V) in order, in near-equal chunks within the weight budget", () => {
    for (const [V, D, budget] of [
      [10_000, 650, 2_000_000],
      [10_000, 200, 2_000_000],
      [33_278, 400, 2_000_000],
      [50, 1000, 2_000_000],
      [7, 5, 10],
      [1, 1, 1],
    ] as const) {
      const cs = vocabChunks(V, D, budget);
      expect(cs.map((c) => c.start)).toEqual(cs.map((_, k) => cs.slice(0, k).reduce((s, c) => s + c.size, 0)));
      expect(cs.reduce((s, c) => s + c.size, 0)).toBe(V);
      expect(cs.length).toBe(Math.ceil((V * D) / budget));
      // Equal chunks, but for a shorter last one.
      expect(new Set(cs.slice(0, -1).map((c) => c.size)).size).toBeLessThanOrEqual(1);
      expect(cs[cs.length - 1]!.size).toBeGreaterThan(0);
      expect(cs[cs.length - 1]!.size).toBeLessThanOrEqual(cs[0]!.size);
    }
    // The benchmark's two sizes: Zaremba medium in 4 chunks of 2 500 columns, small in one.
    expect(vocabChunks(10_000, 650).map((c) => c.size)).toEqual([2500, 2500, 2500, 2500]);
    expect(vocabChunks(10_000, 200)).toEqual([{ start: 0, size: 10_000 }]);
  });
});
