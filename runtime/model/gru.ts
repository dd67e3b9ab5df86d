// GRU cell (Cho et al. 2014), in the cuDNN / PyTorch form that keeps the reset gate outside U:
//   r, z = σ(x W_{r,z} + b_{r,z} + h U_{r,z} + bh_{r,z})
//   n = tanh(x W_n + b_n + r ⊙ (h U_n + bh_n))
//   h_t = (1 − z) ⊙ n + z ⊙ h_{t-1}
// Gate blocks are laid out [r | z | n].
import * as tf from "@tensorflow/tfjs";
import type { CellMath } from "./recurrent.js";

type T2 = tf.Tensor2D;

export const gruMath: CellMath = {
  gates: 3,
  candidate: 2, // n, of [r | z | n]
  hasCell: false,
  forward(a, r, hPrev) {
    const H = a.shape[1] / 3;
    const rz = tf.sigmoid(tf.add(tf.slice(a, [0, 0], [-1, 2 * H]), tf.slice(r, [0, 0], [-1, 2 * H]))) as T2;
    const [rg, z] = tf.split(rz, 2, 1) as [T2, T2];
    const rn = tf.slice(r, [0, 2 * H], [-1, H]) as T2; // h U_n + bh_n
    const n = tf.tanh(tf.add(tf.slice(a, [0, 2 * H], [-1, H]), tf.mul(rg, rn))) as T2;
    const h = tf.add(n, tf.mul(z, tf.sub(hPrev, n))) as T2; // (1 − z) n + z h_{t-1}
    return { h, c: null, saved: [rz, n, rn] };
  },
  backward(dh, _dc, saved, hPrev) {
    const [rz, n, rn] = saved as [T2, T2, T2];
    {
      const [rg, z] = tf.split(rz, 2, 1) as [T2, T2];
      const dN = tf.mul(tf.mul(dh, tf.sub(1, z)), tf.sub(1, tf.square(n))); // through tanh
      const dZ = tf.mul(dh, tf.sub(hPrev, n));
      const dRg = tf.mul(dN, rn);
      const dRZ = tf.mul(tf.concat([dRg, dZ], 1), tf.mul(rz, tf.sub(1, rz)));
      const da = tf.concat([dRZ, dN], 1) as T2;
      const dr = tf.concat([dRZ, tf.mul(dN, rg)], 1) as T2; // r ⊙ (h U_n + bh_n): U_n's gradient is scaled by r
      return { da, dr, dhDirect: tf.mul(dh, z) as T2, dcPrev: null };
    }
  },
};

export function gruReferenceStep(x: T2, h: T2, W: T2, U: T2, b: tf.Tensor1D, bh: tf.Tensor1D): T2 {
  const H = h.shape[1];
  const a = tf.add(tf.matMul(x, W), b) as T2;
  const r = tf.add(tf.matMul(h, U), bh) as T2;
  const blk = (m: T2, k: number): T2 => tf.slice(m, [0, k * H], [-1, H]);
  const rg = tf.sigmoid(tf.add(blk(a, 0), blk(r, 0)));
  const z = tf.sigmoid(tf.add(blk(a, 1), blk(r, 1)));
  const n = tf.tanh(tf.add(blk(a, 2), tf.mul(rg, blk(r, 2))));
  return tf.add(tf.mul(tf.sub(1, z), n), tf.mul(z, h)) as T2;
}
