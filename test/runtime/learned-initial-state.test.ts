// Learned initial states (Cooijmans et al. 2017, §2.1: "the initial states h0 ∈ R^dh, c0 ∈ R^dh are model
// parameters"): RecurrentLayer's `initialState: "learned"` option. Forward: every sequence starts from the same h_0,
// c_0, checked against the plain LSTM formula of test/runtime/reference.ts. Gradient: dL/dh_0 and dL/dc_0 through the
// fused op's hand-written backward, against central differences of that float64 formula, whether the caller asks for
// the state inside the differentiated function (the classifier) or before it (a language model's driver).
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { selectBackend } from "../../runtime/accel/backend.js";
import { Rng } from "../../runtime/base/rng.js";
import { initialState } from "../../runtime/model/classifier.js";
import * as init from "../../runtime/model/init.js";
import { ParameterStore } from "../../runtime/model/parameters.js";
import { RecurrentLayer, type CellKind } from "../../runtime/model/recurrent-layer.js";
import { StepContext } from "../../runtime/model/step-context.js";
import { expectClose } from "./close.js";
import { lstmSequence, toF64, uniformArray, type LstmRef } from "./reference.js";

beforeAll(async () => {
  await selectBackend("cpu");
});

const T = 4,
  B = 3,
  I = 2,
  H = 5;

function setup(cell: CellKind, initialState: "zero" | "learned" = "learned") {
  const params = new ParameterStore(new Rng(7));
  const layer = new RecurrentLayer(params, "layer1", cell, I, H, {
    init: init.uniform(0.5),
    recurrentInit: init.uniform(0.5),
    initialState,
  });
  const rng = new Rng(11);
  if (layer.start) {
    // Non-zero starting values, so that a start taken from zeros would show
    layer.start.h.assign(tf.tensor1d(Float32Array.from(uniformArray(rng, H, 0.8))));
    layer.start.c?.assign(tf.tensor1d(Float32Array.from(uniformArray(rng, H, 0.8))));
  }
  const x = uniformArray(rng, T * B * I, 1);
  const R = uniformArray(rng, T * B * H, 1); // L = Σ y ⊙ R: a loss whose gradient reaches every output
  return { params, layer, x, R };
}

/**
 * The float64 reference: L(h0, c0) = Σ y ⊙ R for the LSTM over x from h0, c0 given per unit (the same for each row),
 * with `hNoise` [B·H] added to h's rows when given (initial_state_noise).
 */
function referenceLoss(
  w: LstmRef,
  x: Float64Array,
  R: Float64Array,
  h0: Float64Array,
  c0: Float64Array,
  hNoise?: Float64Array,
): number {
  const rows = (v: Float64Array, add?: Float64Array) =>
    Float64Array.from({ length: B * H }, (_, k) => v[k % H]! + (add?.[k] ?? 0));
  const { y } = lstmSequence(w, T, B, x, rows(h0, hNoise), rows(c0));
  return y.reduce((s, v, k) => s + v * R[k]!, 0);
}

/** Central differences of the reference loss in each unit of h0 or c0. */
function numericGrad(
  w: LstmRef,
  x: Float64Array,
  R: Float64Array,
  h0: Float64Array,
  c0: Float64Array,
  of: "h" | "c",
  hNoise?: Float64Array,
) {
  const eps = 1e-6;
  return Float64Array.from({ length: H }, (_, j) => {
    const bump = (d: number) => {
      const h = Float64Array.from(h0),
        c = Float64Array.from(c0);
      (of === "h" ? h : c)[j]! += d;
      return referenceLoss(w, x, R, h, c, hNoise);
    };
    return (bump(eps) - bump(-eps)) / (2 * eps);
  });
}

describe("learned initial states", () => {
  it("registers h_0 and c_0 (LSTM), only h_0 (GRU, RNN), and nothing by default", () => {
    for (const [cell, names] of [
      ["lstm", ["layer1.h0", "layer1.c0"]],
      ["gru", ["layer1.h0"]],
      ["rnn", ["layer1.h0"]],
    ] as const) {
      const { params } = setup(cell);
      expect(params.list.map((p) => p.name).filter((n) => /\.(h0|c0)$/.test(n))).toEqual(names);
      params.dispose();
    }
    const { params, layer } = setup("lstm", "zero");
    expect(layer.start).toBeNull();
    const s = layer.initialState(B);
    expect(Array.from(s.h.dataSync()).every((v) => v === 0)).toBe(true);
    params.dispose();
  });

  it("every sequence starts from h_0, c_0: the forward equals the LSTM formula from them", () => {
    const { params, layer, x } = setup("lstm");
    const w: LstmRef = { I, H, W: toF64(layer.W), U: toF64(layer.U), b: toF64(layer.b) };
    const h0 = toF64(layer.start!.h),
      c0 = toF64(layer.start!.c!);
    const s = layer.initialState(B);
    expectClose(
      s.h,
      Array.from({ length: B * H }, (_, k) => h0[k % H]!),
      "h rows",
    );
    const { y } = layer.forward(tf.tensor3d(Float32Array.from(x), [T, B, I]), s, new StepContext(true, new Rng(1)));
    const rows = (v: Float64Array) => Float64Array.from({ length: B * H }, (_, k) => v[k % H]!);
    expectClose(y, lstmSequence(w, T, B, x, rows(h0), rows(c0)).y, "y");
    params.dispose();
  });

  for (const where of ["inside", "before"] as const)
    it(`dL/dh_0 and dL/dc_0 match central differences (state asked ${where} the differentiated function)`, () => {
      const { params, layer, x, R } = setup("lstm");
      const w: LstmRef = { I, H, W: toF64(layer.W), U: toF64(layer.U), b: toF64(layer.b) };
      const h0 = toF64(layer.start!.h),
        c0 = toF64(layer.start!.c!);
      const xs = tf.tensor3d(Float32Array.from(x), [T, B, I]);
      const Rt = tf.tensor3d(Float32Array.from(R), [T, B, H]);
      const before = where === "before" ? layer.initialState(B) : null;
      const { grads } = tf.variableGrads(() => {
        const s = before ?? layer.initialState(B);
        return tf.sum(tf.mul(layer.forward(xs, s, new StepContext(true, new Rng(1))).y, Rt)) as tf.Scalar;
      }, [layer.start!.h, layer.start!.c!]);
      expectClose(grads[layer.start!.h.name]!, numericGrad(w, x, R, h0, c0, "h"), "dL/dh0", 1e-4, 1e-3);
      expectClose(grads[layer.start!.c!.name]!, numericGrad(w, x, R, h0, c0, "c"), "dL/dc0", 1e-4, 1e-3);
      params.dispose();
    });

  it("initial_state_noise on a learned state: training starts from h_0 + N(0, σ²) per example (the authors' code: h0 + noise), dL/dh_0 and dL/dc_0 still reach them; evaluation starts from h_0", () => {
    const { params, layer, x, R } = setup("lstm");
    const w: LstmRef = { I, H, W: toF64(layer.W), U: toF64(layer.U), b: toF64(layer.b) };
    const h0 = toF64(layer.start!.h),
      c0 = toF64(layer.start!.c!);
    const sigma = 0.3;
    const draws = new Rng(5); // the draws the StepContext's stream below makes, in the same order
    const n = Float64Array.from({ length: B * H }, () => Math.fround(sigma * draws.normal()));
    const start = initialState(layer.initialState(B), sigma, new StepContext(true, new Rng(5)));
    expectClose(
      start.h,
      Array.from({ length: B * H }, (_, k) => h0[k % H]! + n[k]!),
      "h rows: h_0 + noise",
      1e-6,
      0,
    );
    expectClose(
      start.c!,
      Array.from({ length: B * H }, (_, k) => c0[k % H]!),
      "c rows: c_0",
      0,
      0,
    );
    const xs = tf.tensor3d(Float32Array.from(x), [T, B, I]);
    const Rt = tf.tensor3d(Float32Array.from(R), [T, B, H]);
    const { grads } = tf.variableGrads(() => {
      const ctx = new StepContext(true, new Rng(5));
      const s = initialState(layer.initialState(B), sigma, ctx);
      return tf.sum(tf.mul(layer.forward(xs, s, ctx).y, Rt)) as tf.Scalar;
    }, [layer.start!.h, layer.start!.c!]);
    expectClose(grads[layer.start!.h.name]!, numericGrad(w, x, R, h0, c0, "h", n), "dL/dh0", 1e-4, 1e-3);
    expectClose(grads[layer.start!.c!.name]!, numericGrad(w, x, R, h0, c0, "c", n), "dL/dc0", 1e-4, 1e-3);
    const evaluation = initialState(layer.initialState(B), sigma, new StepContext(false, new Rng(5)));
    expectClose(
      evaluation.h,
      Array.from({ length: B * H }, (_, k) => h0[k % H]!),
      "evaluation: h_0",
      0,
      0,
    );
    params.dispose();
  });

  for (const cell of ["gru", "rnn"] as const)
    it(`${cell}: h_0 gets a gradient equal to central differences of the layer itself`, () => {
      const { params, layer, x, R } = setup(cell);
      const xs = tf.tensor3d(Float32Array.from(x), [T, B, I]);
      const Rt = tf.tensor3d(Float32Array.from(R), [T, B, H]);
      const loss = () =>
        tf.sum(tf.mul(layer.forward(xs, layer.initialState(B), new StepContext(true, new Rng(1))).y, Rt)) as tf.Scalar;
      const g = toF64(tf.variableGrads(loss, [layer.start!.h]).grads[layer.start!.h.name]!);
      const h0 = toF64(layer.start!.h);
      const eps = 1e-2; // float32 forward: a wider step, a looser tolerance
      const fd = Float64Array.from({ length: H }, (_, j) => {
        const at = (d: number) => {
          const v = Float64Array.from(h0);
          v[j]! += d;
          layer.start!.h.assign(tf.tensor1d(Float32Array.from(v)));
          return loss().dataSync()[0]!;
        };
        const r = (at(eps) - at(-eps)) / (2 * eps);
        layer.start!.h.assign(tf.tensor1d(Float32Array.from(h0)));
        return r;
      });
      expect(g.some((v) => Math.abs(v) > 1e-3)).toBe(true);
      expectClose(g, fd, `${cell} dL/dh0`, 2e-3, 2e-2);
      params.dispose();
    });
});
