// LSTM cell (Hochreiter & Schmidhuber 1997; the formulation of Zaremba et al. 2014, eq. in §3.1):
//   i, f, o = σ(·), g = tanh(·) of the pre-activation a + r = x_t W + h_{t-1} U + b
//   c_t = f ⊙ c_{t-1} + i ⊙ g,   h_t = o ⊙ tanh(c_t)
// With normalization of the cell (Cooijmans et al. 2017, eq. 8; Ba et al. 2016, eq. 22): h_t = o ⊙ tanh(N(c_t)).
// Gate blocks are laid out [i | f | o | g] so that one sigmoid covers the first 3H columns and one tanh the last H.
import * as tf from "@tensorflow/tfjs";
import { LSTM_BACKWARD } from "../accel/kernels/lstm-backward-wasm.js";
import type { CellMath } from "./recurrent.js";

type T2 = tf.Tensor2D;

/** Where each gate sits in the [B, 4H] projection. The forget-gate bias is added to block F. */
export const LSTM_GATES = { I: 0, F: 1, O: 2, G: 3 } as const;

export const lstmMath: CellMath = {
  gates: 4,
  candidate: LSTM_GATES.G,
  hasCell: true,
  forward(a, r, _hPrev, cPrev, cellNorm) {
    const H = a.shape[1] / 4;
    const pre = tf.add(a, r) as T2; // [B, 4H]
    const sg = tf.sigmoid(tf.slice(pre, [0, 0], [-1, 3 * H])) as T2; // [B, 3H] = [i | f | o]
    const g = tf.tanh(tf.slice(pre, [0, 3 * H], [-1, H])) as T2; // [B, H]
    const [i, f, o] = tf.split(sg, 3, 1) as [T2, T2, T2];
    const c = tf.add(tf.mul(f, cPrev!), tf.mul(i, g)) as T2; // c_t = f ⊙ c_{t-1} + i ⊙ g
    const tc = tf.tanh(cellNorm ? cellNorm(c) : c) as T2;
    const h = tf.mul(o, tc) as T2; // h_t = o ⊙ tanh(c_t), or o ⊙ tanh(N(c_t))
    return { h, c, saved: [sg, g, tc] };
  },
  backward(dh, dc, saved, _hPrev, cPrev, cellNormBack) {
    const [sg, g, tc] = saved as [T2, T2, T2];
    if (!cellNormBack && tf.getKernel(LSTM_BACKWARD, tf.getBackend())) {
      // The same step as below, as one kernel (accel/kernels/lstm-backward-wasm.ts); not with a normalized cell, whose
      // backward runs between dh and dC.
      const [da, dcPrev] = tf
        .engine()
        .runKernel(LSTM_BACKWARD, { dh, dc: dc ?? dh, sg, g, tc, cPrev: cPrev! }, { hasDc: dc !== null }) as T2[];
      return { da: da!, dr: da!, dhDirect: null, dcPrev: dcPrev! };
    }
    {
      const [i, f, o] = tf.split(sg, 3, 1) as [T2, T2, T2];
      const dO = tf.mul(dh, tc);
      // dL/dc_t: through h_t = o ⊙ tanh(c_t), plus what step t+1 sends back through c_{t+1} = f ⊙ c_t + …
      const dTanhArg = tf.mul(tf.mul(dh, o), tf.sub(1, tf.square(tc))) as T2;
      const dcThroughH = cellNormBack ? cellNormBack(dTanhArg) : dTanhArg; // …and back through N(c_t)
      const dC = (dc ? tf.add(dcThroughH, dc) : dcThroughH) as T2;
      const dI = tf.mul(dC, g);
      const dF = tf.mul(dC, cPrev!);
      const dG = tf.mul(dC, i);
      const dcPrev = tf.mul(dC, f) as T2;
      const dSig = tf.mul(tf.concat([dI, dF, dO], 1), tf.mul(sg, tf.sub(1, sg))); // σ' = σ(1 − σ)
      const dTanh = tf.mul(dG, tf.sub(1, tf.square(g))); // tanh' = 1 − tanh²
      const da = tf.concat([dSig, dTanh], 1) as T2;
      return { da, dr: da, dhDirect: null, dcPrev };
    }
  },
};

/** The same step as plain differentiable ops, for tests: what the fused path must match. */
export function lstmReferenceStep(x: T2, h: T2, c: T2, W: T2, U: T2, b: tf.Tensor1D): { h: T2; c: T2 } {
  const H = h.shape[1];
  const pre = tf.add(tf.add(tf.matMul(x, W), tf.matMul(h, U)), b) as T2;
  const gate = (k: number): T2 => tf.slice(pre, [0, k * H], [-1, H]);
  const i = tf.sigmoid(gate(LSTM_GATES.I));
  const f = tf.sigmoid(gate(LSTM_GATES.F));
  const o = tf.sigmoid(gate(LSTM_GATES.O));
  const g = tf.tanh(gate(LSTM_GATES.G));
  const c2 = tf.add(tf.mul(f, c), tf.mul(i, g)) as T2;
  return { h: tf.mul(o, tf.tanh(c2)) as T2, c: c2 };
}
