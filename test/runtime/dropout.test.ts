// Dropout as generated code uses it (StepContext.dropout over [T, B, H] sequences):
//   (a) per_step: a fresh mask at every step (Zaremba et al. 2014, §3.2);
//   (b) locked: one mask per sequence, shared by every step, different across batch rows (Gal & Ghahramani 2016;
//       AWD-LSTM's LockedDropout);
//   (c) the drop rate is p within 5 binomial standard deviations, and kept units are scaled by 1/(1 − p) (inverted
//       dropout: nothing to undo at evaluation);
//   (d) in eval mode nothing is applied;  (e) one seed gives one set of masks;
//   (f) the masks are vertical only (Zaremba et al. 2014, §3.2 and Fig. 2): in a 2-layer model built as generated code
//       builds it, each layer's recurrence runs on the undropped h_{t−1}, c_{t−1}; a plain float64 LSTM in which the
//       masks multiply only the layer inputs x_t reproduces the runtime, and one that also drops h_{t−1} does not;
//   and the gradient flows through the mask: d out / d in = mask ∈ {0, 1/(1 − p)}.
// Mask statistics do not depend on the backend (masks are drawn in JS from the seeded Rng), so (a)–(e) run on cpu;
// (f) runs the fused layer, on wasm and cpu.
// Tolerances: masking is one float32 multiply: |a − b| ≤ 1e-6·|b|. (f): float32 LSTM over 5 steps, 2 layers, vs
// float64: |a − b| ≤ 2e-5 + 1e-4·|b| (close.ts defaults).
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { selectBackend } from "../../runtime/accel/backend.js";
import { Embedding } from "../../runtime/model/embedding.js";
import { uniform } from "../../runtime/model/init.js";
import { StepContext } from "../../runtime/model/language-model.js";
import { ParameterStore } from "../../runtime/model/parameters.js";
import { RecurrentLayer, type LayerState } from "../../runtime/model/recurrent-layer.js";
import { Rng } from "../../runtime/base/rng.js";
import { expectClose } from "./close.js";
import { lookup, lstmSequence, maxAbsDiff, tensorOf, toF64, uniformArray, type LstmRef } from "./reference.js";

/** The mask a training context would apply next: dropout of a tensor of ones, from a copy of the Rng's state. */
function peekMasks(
  rng: Rng,
  shapes: [number, number, number][],
  p: number,
  mode: "per_step" | "locked",
): Float64Array[] {
  const copy = new Rng(0);
  copy.setState(rng.getState());
  const ctx = new StepContext(true, copy);
  return shapes.map((s) => toF64(ctx.dropout(tf.ones(s) as tf.Tensor3D, p, mode)));
}

/** Entries of step t of a [T, B, H] array. */
const step = (a: Float64Array, t: number, BH: number): Float64Array => a.subarray(t * BH, (t + 1) * BH);
const countDiffering = (a: Float64Array, b: Float64Array): number => a.reduce((n, v, k) => n + (v !== b[k] ? 1 : 0), 0);

describe("dropout masks (cpu)", () => {
  let previous = "";
  beforeAll(async () => {
    previous = tf.getBackend();
    await selectBackend("cpu");
  });
  afterAll(async () => {
    if (previous) await tf.setBackend(previous);
  });

  const T = 20,
    B = 8,
    H = 50,
    BH = B * H,
    p = 0.3;

  it("(a) per_step: a different mask at every step and in every batch row", () => {
    const [m] = peekMasks(new Rng(1), [[T, B, H]], p, "per_step");
    // Two independent masks differ in 2p(1 − p) = 42 % of units on average; demand at least 25 %.
    for (let t = 1; t < T; t++) expect(countDiffering(step(m!, t, BH), step(m!, 0, BH))).toBeGreaterThan(0.25 * BH);
    for (let b = 1; b < B; b++)
      expect(countDiffering(m!.subarray(b * H, (b + 1) * H), m!.subarray(0, H))).toBeGreaterThan(0.1 * H);
  });

  it("(b) locked: the same mask at every step, different across batch rows", () => {
    const [m] = peekMasks(new Rng(2), [[T, B, H]], p, "locked");
    for (let t = 1; t < T; t++) expect(Array.from(step(m!, t, BH))).toEqual(Array.from(step(m!, 0, BH)));
    // rows of one step: independent draws, expected 42 % differing units (H = 50); demand at least 10 %
    for (let b = 1; b < B; b++)
      expect(countDiffering(m!.subarray(b * H, (b + 1) * H), m!.subarray(0, H))).toBeGreaterThan(0.1 * H);
  });

  for (const mode of ["per_step", "locked"] as const)
    it(`(c) ${mode}: drop rate within 5σ of p, kept units scaled by exactly 1/(1 − p)`, () => {
      const rng = new Rng(3);
      const x = uniformArray(rng, T * B * H, 1);
      const ctx = new StepContext(true, rng);
      const y = toF64(ctx.dropout(tensorOf(x, [T, B, H]) as tf.Tensor3D, p, mode));
      // independent draws: all T·B·H for per_step, the B·H of one step for locked
      const n = mode === "per_step" ? T * B * H : B * H;
      let dropped = 0;
      for (let k = 0; k < n; k++) if (y[k] === 0) dropped++;
      // Binomial(n, p): mean n·p, σ = √(n·p·(1 − p)). A rate of 1 − p (keep/drop swapped) misses by > 40σ here.
      const sigma = Math.sqrt(n * p * (1 - p));
      expect(Math.abs(dropped - n * p)).toBeLessThan(5 * sigma);
      const kept = y.map((v, k) => (v === 0 ? 0 : x[k]! / (1 - p))); // the dropped entries compare 0 with 0
      expectClose(y, kept, "kept units", 0, 1e-6);
    });

  it("(d) evaluation: output equals input exactly, in both modes", () => {
    const rng = new Rng(4);
    const xs = uniformArray(rng, T * B * H, 1);
    const ctx = new StepContext(false, rng);
    for (const mode of ["per_step", "locked"] as const) {
      const y = ctx.dropout(tensorOf(xs, [T, B, H]) as tf.Tensor3D, 0.5, mode);
      expect(Array.from(y.dataSync())).toEqual(Array.from(xs));
    }
    // and p = 0 in training is the identity too
    const y0 = new StepContext(true, rng).dropout(tensorOf(xs, [T, B, H]) as tf.Tensor3D, 0, "per_step");
    expect(Array.from(y0.dataSync())).toEqual(Array.from(xs));
  });

  it("(e) the same seed gives the same masks; another seed, and the next draw, different ones", () => {
    const shape: [number, number, number] = [4, B, H];
    const [a] = peekMasks(new Rng(9), [shape], p, "per_step");
    const [b] = peekMasks(new Rng(9), [shape], p, "per_step");
    const [c] = peekMasks(new Rng(10), [shape], p, "per_step");
    const [first, second] = peekMasks(new Rng(9), [shape, shape], p, "per_step");
    expect(Array.from(a!)).toEqual(Array.from(b!));
    expect(Array.from(first!)).toEqual(Array.from(a!));
    expect(countDiffering(a!, c!)).toBeGreaterThan(0.25 * a!.length);
    expect(countDiffering(first!, second!)).toBeGreaterThan(0.25 * a!.length);
    // A resumed run restores the mask stream through getState/setState (runtime/train/driver.ts checkpoints): any state must
    // round-trip and continue the exact same stream.
    for (let seed = 0; seed < 20; seed++) {
      const r = new Rng(seed);
      r.uniform();
      const copy = new Rng(0);
      copy.setState(r.getState());
      for (let k = 0; k < 8; k++) expect(copy.uint32()).toBe(r.uint32());
    }
    // a state saved with a signed word (checkpoints written before getState normalized it) resumes the same stream
    let seed = 0;
    while (new Rng(seed).getState()[0]! < 2 ** 31) seed++; // a state whose first word is negative as an int32
    const r = new Rng(seed);
    const state = r.getState();
    const signed = new Rng(0);
    signed.setState([state[0]! | 0, state[1]!, state[2]!, state[3]!]);
    for (let k = 0; k < 8; k++) expect(signed.uint32()).toBe(r.uint32());
    expect(() => new Rng(0).setState([2 ** 32, 0, 0, 0])).toThrow(RangeError);
  });

  it("gradient flows through the mask: d(Σ probe ⊙ dropout(x))/dx = probe ⊙ mask, mask ∈ {0, 1/(1 − p)}", () => {
    const rng = new Rng(6);
    const x = tensorOf(uniformArray(rng, 4 * B * H, 1), [4, B, H]) as tf.Tensor3D;
    const probe = uniformArray(rng, 4 * B * H, 1);
    const [mask] = peekMasks(rng, [[4, B, H]], p, "per_step");
    const ctx = new StepContext(true, rng);
    const g = tf.grad((x: tf.Tensor) =>
      tf.sum(tf.mul(ctx.dropout(x as tf.Tensor3D, p, "per_step"), tensorOf(probe, [4, B, H]))),
    )(x);
    expect(new Set(mask!).size).toBe(2);
    expect(Math.max(...mask!)).toBeCloseTo(1 / (1 - p), 6);
    expectClose(
      g,
      probe.map((v, k) => v * mask![k]!),
      "d/dx",
      0,
      1e-6,
    );
  });
});

// (f) vertical-only masks, in a model built exactly as generated code builds it (test/codegen/golden/zaremba_medium.ts.expected):
// Embedding → ctx.dropout → layer 1 → ctx.dropout → layer 2 → ctx.dropout → softmax input.
const V = 7,
  E = 4,
  H = 3,
  T = 5,
  B = 2,
  P = 0.5;
let uid = 0; // tfjs variable names are global to the engine

class TwoLayer {
  readonly embedding: Embedding;
  readonly layer1: RecurrentLayer;
  readonly layer2: RecurrentLayer;
  constructor(params: ParameterStore, prefix: string) {
    this.embedding = new Embedding(params, `${prefix}.embedding`, V, E, uniform(0.5));
    // large weights, so that a dropped h_{t−1} would change the recurrence visibly
    this.layer1 = new RecurrentLayer(params, `${prefix}.layer1`, "lstm", E, H, {
      init: uniform(0.6),
      recurrentInit: uniform(0.9),
      forgetBias: 0,
    });
    this.layer2 = new RecurrentLayer(params, `${prefix}.layer2`, "lstm", H, H, {
      init: uniform(0.6),
      recurrentInit: uniform(0.9),
      forgetBias: 0,
    });
  }
  forward(
    tokens: tf.Tensor2D,
    state: readonly LayerState[],
    ctx: StepContext,
  ): { hidden: tf.Tensor3D; state: LayerState[] } {
    const embedded = this.embedding.forward(tokens);
    let x = ctx.dropout(embedded, P, "per_step");
    const l1 = this.layer1.forward(x, state[0]!);
    x = ctx.dropout(l1.y, P, "per_step");
    const l2 = this.layer2.forward(x, state[1]!);
    const hidden = ctx.dropout(l2.y, P, "per_step");
    return { hidden, state: [l1.state, l2.state] };
  }
}

const refOf = (l: RecurrentLayer): LstmRef => ({
  I: l.inputSize,
  H: l.hidden,
  W: toF64(l.W),
  U: toF64(l.U),
  b: toF64(l.b),
});
const times = (a: Float64Array, m: Float64Array): Float64Array => a.map((v, k) => v * m[k]!);

for (const backend of ["wasm", "cpu"] as const) {
  describe(`(f) vertical dropout only, 2-layer LSTM on ${backend}`, () => {
    let previous = "";
    beforeAll(async () => {
      previous = tf.getBackend();
      await selectBackend(backend);
    });
    afterAll(async () => {
      if (previous) await tf.setBackend(previous);
    });

    it("masks multiply the layer inputs x_t, never h_{t−1} or c_{t−1}; the final state is undropped", () => {
      const model = new TwoLayer(new ParameterStore(new Rng(12)), `dm${uid++}`);
      const rng = new Rng(13);
      const tokens = Int32Array.from({ length: T * B }, () => rng.int(V));
      const s0 = [
        uniformArray(rng, B * H),
        uniformArray(rng, B * H),
        uniformArray(rng, B * H),
        uniformArray(rng, B * H),
      ];
      const state: LayerState[] = [
        { h: tensorOf(s0[0]!, [B, H]) as tf.Tensor2D, c: tensorOf(s0[1]!, [B, H]) as tf.Tensor2D },
        { h: tensorOf(s0[2]!, [B, H]) as tf.Tensor2D, c: tensorOf(s0[3]!, [B, H]) as tf.Tensor2D },
      ];
      const maskRng = new Rng(14);
      // the three masks the forward will draw, in site order
      const [m1, m2, m3] = peekMasks(
        maskRng,
        [
          [T, B, E],
          [T, B, H],
          [T, B, H],
        ],
        P,
        "per_step",
      ) as [Float64Array, Float64Array, Float64Array];
      const out = model.forward(tf.tensor2d(tokens, [T, B], "int32"), state, new StepContext(true, maskRng));

      // Reference: Zaremba et al. 2014 eq. (§3): D(h^{l−1}_t) feeds layer l; h^l_{t−1} enters undropped.
      const w1 = refOf(model.layer1),
        w2 = refOf(model.layer2);
      const emb = lookup(toF64(model.embedding.weight), E, tokens);
      const r1 = lstmSequence(w1, T, B, times(emb, m1), s0[0]!, s0[1]!);
      const r2 = lstmSequence(w2, T, B, times(r1.y, m2), s0[2]!, s0[3]!);
      expectClose(out.hidden, times(r2.y, m3), "hidden (dropped layer-2 output)");
      expectClose(out.state[0]!.h, r1.h, "layer 1 final h");
      expectClose(out.state[0]!.c!, r1.c, "layer 1 final c");
      expectClose(out.state[1]!.h, r2.h, "layer 2 final h");
      expectClose(out.state[1]!.c!, r2.c, "layer 2 final c");

      // The test can tell: had the mask that follows layer 1 also dropped layer 1's recurrent h_{t−1}, the output
      // would differ by far more than the tolerance.
      const BH = B * H;
      const wrong1 = lstmSequence(w1, T, B, times(emb, m1), s0[0]!, s0[1]!, (t) =>
        t > 0 ? m2.subarray((t - 1) * BH, t * BH) : null,
      );
      const wrong2 = lstmSequence(w2, T, B, times(wrong1.y, m2), s0[2]!, s0[3]!);
      expect(maxAbsDiff(out.hidden.dataSync(), times(wrong2.y, m3))).toBeGreaterThan(1e-2);
    });
  });
}
