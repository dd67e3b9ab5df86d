// Plain float64 reference formulas for the runtime tests: loops over Float64Array, no tfjs ops. They are written
// from the papers' equations, not from runtime/, so that a runtime test compares two independent computations.
// Inputs are drawn as float32-representable numbers (Math.fround), so the tensors handed to tfjs hold exactly the
// values the reference sees.
import * as tf from "@tensorflow/tfjs";
import type { Rng } from "../../runtime/base/rng.js";

/** n numbers uniform in [−scale, scale), each exactly representable in float32. */
export function uniformArray(rng: Rng, n: number, scale = 0.5): Float64Array {
  return Float64Array.from({ length: n }, () => Math.fround((2 * rng.uniform() - 1) * scale));
}

/** Token ids uniform in [0, vocab). */
export function tokenArray(rng: Rng, n: number, vocab: number): Int32Array {
  return Int32Array.from({ length: n }, () => rng.int(vocab));
}

export const toF64 = (t: tf.Tensor): Float64Array => Float64Array.from(t.dataSync());
export const tensorOf = (a: ArrayLike<number>, shape: number[]): tf.Tensor => tf.tensor(Float32Array.from(a), shape);

const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));

/** An LSTM's weights as flat row-major arrays: W [I, 4H], U [H, 4H], b [4H], gate blocks [i | f | o | g]. */
export interface LstmRef {
  readonly I: number;
  readonly H: number;
  readonly W: Float64Array;
  readonly U: Float64Array;
  readonly b: Float64Array;
}

/**
 * One LSTM step for B rows (Zaremba et al. 2014, §3.1): [i, f, o, g] = [σ, σ, σ, tanh](x W + h U + b),
 * c' = f ⊙ c + i ⊙ g, h' = o ⊙ tanh(c'). x: [B, I]; h, c: [B, H].
 */
export function lstmStep(
  w: LstmRef,
  B: number,
  x: Float64Array,
  h: Float64Array,
  c: Float64Array,
): { h: Float64Array; c: Float64Array } {
  const { I, H } = w;
  const G = 4 * H;
  const h2 = new Float64Array(B * H);
  const c2 = new Float64Array(B * H);
  for (let r = 0; r < B; r++)
    for (let j = 0; j < H; j++) {
      const pre = [0, 1, 2, 3].map((k) => {
        const col = k * H + j;
        let s = w.b[col]!;
        for (let i = 0; i < I; i++) s += x[r * I + i]! * w.W[i * G + col]!;
        for (let m = 0; m < H; m++) s += h[r * H + m]! * w.U[m * G + col]!;
        return s;
      });
      const [ig, fg, og, gg] = [sigmoid(pre[0]!), sigmoid(pre[1]!), sigmoid(pre[2]!), Math.tanh(pre[3]!)];
      const cNew = fg * c[r * H + j]! + ig * gg;
      c2[r * H + j] = cNew;
      h2[r * H + j] = og * Math.tanh(cNew);
    }
  return { h: h2, c: c2 };
}

/**
 * An LSTM over T steps of x: [T, B, I] from (h0, c0). `hMask(t)`, if given, multiplies h_{t−1} before it enters
 * step t: what a recurrent dropout would do (used only to show that the runtime does *not* do it).
 */
export function lstmSequence(
  w: LstmRef,
  T: number,
  B: number,
  x: Float64Array,
  h0: Float64Array,
  c0: Float64Array,
  hMask?: (t: number) => Float64Array | null,
): { y: Float64Array; h: Float64Array; c: Float64Array } {
  const y = new Float64Array(T * B * w.H);
  let h = h0,
    c = c0;
  for (let t = 0; t < T; t++) {
    const m = hMask?.(t) ?? null;
    const hIn = m ? h.map((v, k) => v * m[k]!) : h;
    ({ h, c } = lstmStep(w, B, x.subarray(t * B * w.I, (t + 1) * B * w.I), hIn, c));
    y.set(h, t * B * w.H);
  }
  return { y, h, c };
}

/** Rows of table [V, D] picked by ids: [ids.length, D]. */
export function lookup(table: Float64Array, D: number, ids: ArrayLike<number>): Float64Array {
  const out = new Float64Array(ids.length * D);
  for (let n = 0; n < ids.length; n++) for (let d = 0; d < D; d++) out[n * D + d] = table[ids[n]! * D + d]!;
  return out;
}

/** logits [N, V] = h [N, D] · W [D, V] + b [V]. */
export function affine(
  h: Float64Array,
  N: number,
  D: number,
  W: Float64Array,
  V: number,
  b: Float64Array,
): Float64Array {
  const z = new Float64Array(N * V);
  for (let n = 0; n < N; n++)
    for (let v = 0; v < V; v++) {
      let s = b[v]!;
      for (let d = 0; d < D; d++) s += h[n * D + d]! * W[d * V + v]!;
      z[n * V + v] = s;
    }
  return z;
}

/** Σ_n −log softmax(z_n)[y_n] over logits [N, V], with the max subtracted before exp. */
export function summedNll(z: Float64Array, N: number, V: number, y: ArrayLike<number>): number {
  let total = 0;
  for (let n = 0; n < N; n++) {
    let mx = -Infinity;
    for (let v = 0; v < V; v++) mx = Math.max(mx, z[n * V + v]!);
    let s = 0;
    for (let v = 0; v < V; v++) s += Math.exp(z[n * V + v]! - mx);
    total += mx + Math.log(s) - z[n * V + y[n]!]!;
  }
  return total;
}

/** The largest |a − b| over two arrays of the same length. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** Central finite differences of f at x (x is perturbed in place and restored): df/dx_k ≈ (f(x + εe_k) − f(x − εe_k)) / 2ε. */
export function finiteDiff(f: () => number, x: Float64Array, eps = 1e-6): Float64Array {
  const g = new Float64Array(x.length);
  for (let k = 0; k < x.length; k++) {
    const x0 = x[k]!;
    x[k] = x0 + eps;
    const fp = f();
    x[k] = x0 - eps;
    const fm = f();
    x[k] = x0;
    g[k] = (fp - fm) / (2 * eps);
  }
  return g;
}
