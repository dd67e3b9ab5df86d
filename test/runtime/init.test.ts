// Weight initialization (runtime/model/init.ts) and where RecurrentLayer puts it:
//   uniform(r): every entry in [−r, r], mean 0 and E[x²] = r²/3 within 5 standard errors (Zaremba et al. 2014 §4.1
//     use U(±0.1)/U(±0.05)/U(±0.04)); U(±1/√H) and Xavier-uniform likewise with their own bounds; normal(σ): E[x²] = σ²;
//   orthogonal (Saxe et al. 2014), per gate block of H columns as Cooijmans et al. 2017 do: each block has orthonormal
//     columns (BᵀB = I) when it is tall or square, orthonormal rows (BBᵀ = I) when wide, times the gain; the blocks
//     are drawn independently; a width that is not a multiple of H is one block;
//   identity (Le et al. 2015): each gate block of U is scale·I;
//   RecurrentLayer: W gets `init`, U gets `recurrentInit`; the LSTM forget-gate bias goes to block F of the
//     [i | f | o | g] layout (LSTM_GATES) and nowhere else, and it is the gate that multiplies c_{t−1}.
// Statistical bounds: for n draws, the sample mean has standard error s/√n (s² = r²/3 for U(±r)); the mean of x²
// has standard error √(Var x²/n), Var x² = 4r⁴/45 for U(±r), 2σ⁴ for N(0, σ²). Tolerance for orthonormality:
// float32 entries, dot products of ≤ 12 terms: |BᵀB − I| ≤ 1e-6.
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { selectBackend } from "../../runtime/accel/backend.js";
import {
  identity,
  initMatrix,
  normal,
  orthogonal,
  uniform,
  uniformInvSqrtHidden,
  xavierUniform,
} from "../../runtime/model/init.js";
import { LSTM_GATES } from "../../runtime/model/lstm.js";
import { ParameterStore } from "../../runtime/model/parameters.js";
import { RecurrentLayer } from "../../runtime/model/recurrent-layer.js";
import { Rng } from "../../runtime/base/rng.js";
import { expectClose } from "./close.js";
import { tensorOf, toF64, uniformArray } from "./reference.js";

/** Mean and mean square of an array, in float64. */
function moments(a: ArrayLike<number>): { mean: number; meanSq: number; maxAbs: number } {
  let s = 0,
    s2 = 0,
    mx = 0;
  for (let i = 0; i < a.length; i++) {
    s += a[i]!;
    s2 += a[i]! ** 2;
    mx = Math.max(mx, Math.abs(a[i]!));
  }
  return { mean: s / a.length, meanSq: s2 / a.length, maxAbs: mx };
}

/** Check U(±r) draws: the range (with the edge reached: P(all |x| < 0.99r) = 0.99ⁿ ≈ 0), mean and E[x²]. */
function expectUniform(a: ArrayLike<number>, r: number): void {
  const n = a.length;
  const m = moments(a);
  expect(m.maxAbs).toBeLessThanOrEqual(r);
  expect(m.maxAbs).toBeGreaterThan(0.99 * r);
  expect(Math.abs(m.mean)).toBeLessThan((5 * (r / Math.sqrt(3))) / Math.sqrt(n));
  expect(Math.abs(m.meanSq - r ** 2 / 3)).toBeLessThan(5 * Math.sqrt((4 * r ** 4) / 45 / n));
}

/** Column block [rows, w] starting at column c0 of a row-major [rows, cols] matrix. */
function block(m: ArrayLike<number>, rows: number, cols: number, c0: number, w: number): Float64Array {
  const out = new Float64Array(rows * w);
  for (let r = 0; r < rows; r++) for (let c = 0; c < w; c++) out[r * w + c] = m[r * cols + c0 + c]!;
  return out;
}

/** BᵀB ([w, w]) when tall or square, BBᵀ ([rows, rows]) when wide: should be gain²·I. */
function gram(b: Float64Array, rows: number, w: number): { g: Float64Array; k: number } {
  const tall = rows >= w;
  const k = tall ? w : rows;
  const g = new Float64Array(k * k);
  for (let i = 0; i < k; i++)
    for (let j = 0; j < k; j++) {
      let s = 0;
      if (tall) for (let r = 0; r < rows; r++) s += b[r * w + i]! * b[r * w + j]!;
      else for (let c = 0; c < w; c++) s += b[i * w + c]! * b[j * w + c]!;
      g[i * k + j] = s;
    }
  return { g, k };
}

const eye = (k: number, scale = 1): Float64Array =>
  Float64Array.from({ length: k * k }, (_, i) => (Math.floor(i / k) === i % k ? scale : 0));

describe("random initializers", () => {
  it("uniform(r): in [−r, r], mean 0, E[x²] = r²/3", () => {
    for (const r of [0.1, 0.05, 0.04]) expectUniform(initMatrix(uniform(r), 200, 50, 50, new Rng(1)), r);
  });

  it("uniform_inv_sqrt_hidden: U(±1/√H) with H the layer's hidden size, not the matrix width", () => {
    expectUniform(initMatrix(uniformInvSqrtHidden(), 100, 4 * 25, 25, new Rng(2)), 1 / Math.sqrt(25));
  });

  it("xavier_uniform: U(±√(6 / (rows + cols)))", () => {
    expectUniform(initMatrix(xavierUniform(), 120, 80, 80, new Rng(3)), Math.sqrt(6 / 200));
  });

  it("normal(σ): mean 0, E[x²] = σ²", () => {
    const a = initMatrix(normal(0.3), 100, 100, 100, new Rng(4));
    const m = moments(a),
      n = a.length,
      s2 = 0.09;
    expect(Math.abs(m.mean)).toBeLessThan((5 * 0.3) / Math.sqrt(n));
    expect(Math.abs(m.meanSq - s2)).toBeLessThan(5 * Math.sqrt((2 * s2 ** 2) / n));
  });

  it("one seed gives the same weights; another seed different ones", () => {
    const a = initMatrix(uniform(0.1), 10, 10, 10, new Rng(5)),
      b = initMatrix(uniform(0.1), 10, 10, 10, new Rng(5));
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(initMatrix(uniform(0.1), 10, 10, 10, new Rng(6)))).not.toEqual(Array.from(a));
  });
});

describe("orthogonal and identity, per gate block", () => {
  // [rows, cols, hidden, what]
  const shapes: [number, number, number, string][] = [
    [8, 32, 8, "square blocks: U [H, 4H]"],
    [12, 20, 5, "tall blocks: W [I, 4H], I > H"],
    [3, 20, 5, "wide blocks: W [I, 4H], I < H"],
    [6, 7, 4, "width not a multiple of H: one wide block"],
  ];

  for (const [rows, cols, hidden, what] of shapes)
    for (const gain of [1, 2])
      it(`orthogonal(${gain}), ${what} [${rows}, ${cols}], H = ${hidden}`, () => {
        const m = initMatrix(orthogonal(gain), rows, cols, hidden, new Rng(rows * cols + gain));
        const w = cols % hidden === 0 ? hidden : cols;
        const blocks: Float64Array[] = [];
        for (let c0 = 0; c0 < cols; c0 += w) {
          const b = block(m, rows, cols, c0, w);
          const { g, k } = gram(b, rows, w);
          expectClose(g, eye(k, gain * gain), `block at column ${c0}: gram`, 1e-6 * gain * gain, 0);
          blocks.push(b);
        }
        // independent blocks (not one block repeated)
        for (let j = 1; j < blocks.length; j++) expect(Array.from(blocks[j]!)).not.toEqual(Array.from(blocks[0]!));
      });

  it("orthogonal, a block of more than 128 vectors (blocked Gram–Schmidt, projections on the backend): orthonormal to float32 rounding", async () => {
    await selectBackend("wasm", { threads: 1 });
    for (const [rows, cols, hidden] of [
      [300, 600, 300],
      [700, 1200, 300],
    ] as const) {
      const m = initMatrix(orthogonal(1), rows, cols, hidden, new Rng(rows));
      for (let c0 = 0; c0 < cols; c0 += hidden) {
        const { g, k } = gram(block(m, rows, cols, c0, hidden), rows, hidden);
        expectClose(g, eye(k, 1), `[${rows}, ${cols}] block at column ${c0}: gram`, 1e-5, 0);
      }
    }
  });

  it("identity(s): every gate block of U [H, 4H] is s·I; a wide block is I padded with zero columns", () => {
    const H = 5;
    const m = initMatrix(identity(0.7), H, 4 * H, H, new Rng(0));
    for (let k = 0; k < 4; k++) expectClose(block(m, H, 4 * H, k * H, H), eye(H, Math.fround(0.7)), `block ${k}`, 0, 0);
    const wide = initMatrix(identity(1), 3, 10, 5, new Rng(0)); // [3, 2·5]: blocks [3, 5]
    for (let k = 0; k < 2; k++) {
      const b = block(wide, 3, 10, k * 5, 5);
      for (let r = 0; r < 3; r++) for (let c = 0; c < 5; c++) expect(b[r * 5 + c]).toBe(r === c ? 1 : 0);
    }
  });
});

describe("RecurrentLayer: where the initializers and the forget-gate bias go", () => {
  beforeAll(async () => {
    await selectBackend("cpu");
  });
  let uid = 0; // tfjs variable names are global to the engine

  it("W gets init, U gets recurrentInit (Cooijmans et al. 2017: orthogonal W, identity U)", () => {
    const I = 6,
      H = 4;
    const l = new RecurrentLayer(new ParameterStore(new Rng(1)), `init${uid++}`, "lstm", I, H, {
      init: orthogonal(),
      recurrentInit: identity(),
    });
    const U = toF64(l.U),
      W = toF64(l.W);
    for (let k = 0; k < 4; k++) {
      expectClose(block(U, H, 4 * H, k * H, H), eye(H), `U block ${k}`, 0, 0);
      expectClose(gram(block(W, I, 4 * H, k * H, H), I, H).g, eye(H), `W block ${k}: WᵀW`, 1e-6, 0);
    }
  });

  it("LSTM: the forget bias fills block F of [i | f | o | g] only; GRU and RNN get none", () => {
    expect(LSTM_GATES).toEqual({ I: 0, F: 1, O: 2, G: 3 });
    const H = 3;
    const lstm = new RecurrentLayer(new ParameterStore(new Rng(2)), `init${uid++}`, "lstm", 2, H, {
      init: uniform(0.1),
      recurrentInit: uniform(0.1),
      forgetBias: 1,
    });
    expect(Array.from(lstm.b.dataSync())).toEqual([0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0]);
    const plain = new RecurrentLayer(new ParameterStore(new Rng(2)), `init${uid++}`, "lstm", 2, H, {
      init: uniform(0.1),
      recurrentInit: uniform(0.1),
    });
    expect(Array.from(plain.b.dataSync())).toEqual(new Array(4 * H).fill(0)); // Zaremba et al. 2014: 0 by default
    for (const cell of ["gru", "rnn"] as const) {
      const l = new RecurrentLayer(new ParameterStore(new Rng(2)), `init${uid++}`, cell, 2, H, {
        init: uniform(0.1),
        recurrentInit: uniform(0.1),
        forgetBias: 1,
      });
      expect(Array.from(l.b.dataSync()).every((v) => v === 0)).toBe(true);
      if (l.bh) expect(Array.from(l.bh.dataSync()).every((v) => v === 0)).toBe(true);
    }
  });

  it("LSTM: that bias is the gate on c_{t−1}: with W = U = 0 and forget bias 20, c_T = c_0 (f = σ(20), i·g = 0)", () => {
    const H = 3,
      B = 2,
      T = 6;
    const l = new RecurrentLayer(new ParameterStore(new Rng(3)), `init${uid++}`, "lstm", 2, H, {
      init: uniform(0),
      recurrentInit: uniform(0),
      forgetBias: 20,
    });
    const rng = new Rng(4);
    const c0 = uniformArray(rng, B * H, 1);
    const out = l.forward(tensorOf(uniformArray(rng, T * B * 2, 1), [T, B, 2]) as tf.Tensor3D, {
      h: tf.zeros([B, H]),
      c: tensorOf(c0, [B, H]) as tf.Tensor2D,
    });
    // f = σ(20) = 1 − 2e-9: c_T = c_0 to float32 precision. A bias in any other block would give f = ½: c_T = c_0 / 64.
    expectClose(out.state.c!, c0, "c_T", 1e-6, 0);
  });
});
