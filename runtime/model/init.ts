// Weight initializers, computed in JS from the run's seeded Rng so that one seed gives the same weights on every
// backend (but for orthogonal matrices of more than 128 vectors: see blockedGramSchmidt). Each returns a row-major
// Float32Array for a [rows, cols] matrix.
import * as tf from "@tensorflow/tfjs";
import type { Rng } from "../base/rng.js";

export type Init =
  | { readonly kind: "uniform"; readonly scale: number }
  /** U(±1/√H) with H the layer's hidden size: PyTorch's default for RNN layers (Merity et al. 2017). */
  | { readonly kind: "uniform_inv_sqrt_hidden" }
  | { readonly kind: "normal"; readonly std: number }
  /** Saxe et al. 2014; Cooijmans et al. 2017 use it for every weight (§5.1–5.3), each weight one matrix. */
  | { readonly kind: "orthogonal"; readonly gain: number }
  /**
   * Le et al. 2015; Cooijmans et al. 2017 start W_hh of sequential MNIST as the identity (§5.1): on a recurrent
   * layer's U, the identity on the candidate block only (initMatrix's `recurrent`).
   */
  | { readonly kind: "identity"; readonly scale: number }
  | { readonly kind: "xavier_uniform" };

export const uniform = (scale: number): Init => ({ kind: "uniform", scale });
export const uniformInvSqrtHidden = (): Init => ({ kind: "uniform_inv_sqrt_hidden" });
export const normal = (std: number): Init => ({ kind: "normal", std });
export const orthogonal = (gain = 1): Init => ({ kind: "orthogonal", gain });
export const identity = (scale = 1): Init => ({ kind: "identity", scale });
export const xavierUniform = (): Init => ({ kind: "xavier_uniform" });

/**
 * Where a recurrent matrix U [H, G·H] keeps its candidate block (the cell input: the LSTM's g, the GRU's n, the
 * plain RNN's only block), and what draws the other, gate blocks when U starts as the identity.
 */
export interface RecurrentLayout {
  readonly candidate: number;
  readonly gateInit: Init;
}

/**
 * Fill a [rows, cols] matrix. `hidden` is the size of the layer the weight belongs to (for 1/√H). Orthogonal and
 * identity treat the matrix as ONE matrix over all its columns, gate blocks included: Cooijmans et al. 2017, §2.1,
 * define W_h ∈ R^{dh×4dh} and W_x ∈ R^{dx×4dh} as single matrices, and the authors' code draws `orthogonal((H, 4H))`
 * (an SVD of one Gaussian matrix), not one orthogonal block per gate. `recurrent` (U of a recurrent layer only):
 * identity is then the identity on the candidate block and the gate blocks from the layer's init (identityOnCandidate).
 */
export function initMatrix(
  init: Init,
  rows: number,
  cols: number,
  hidden: number,
  rng: Rng,
  recurrent?: RecurrentLayout,
): Float32Array {
  const out = new Float32Array(rows * cols);
  switch (init.kind) {
    case "uniform":
      for (let i = 0; i < out.length; i++) out[i] = (2 * rng.uniform() - 1) * init.scale;
      return out;
    case "uniform_inv_sqrt_hidden": {
      const s = 1 / Math.sqrt(hidden);
      for (let i = 0; i < out.length; i++) out[i] = (2 * rng.uniform() - 1) * s;
      return out;
    }
    case "normal":
      for (let i = 0; i < out.length; i++) out[i] = rng.normal() * init.std;
      return out;
    case "xavier_uniform": {
      const s = Math.sqrt(6 / (rows + cols));
      for (let i = 0; i < out.length; i++) out[i] = (2 * rng.uniform() - 1) * s;
      return out;
    }
    case "orthogonal": {
      // Orthonormal columns when tall or square, orthonormal rows when wide (U [H, 4H]: QQᵀ = I), times the gain
      const q = orthogonalMatrix(rows, cols, rng);
      for (let i = 0; i < out.length; i++) out[i] = init.gain * q[i]!;
      return out;
    }
    case "identity":
      if (recurrent && rows === hidden && cols > hidden && cols % hidden === 0)
        return identityOnCandidate(init.scale, hidden, cols / hidden, recurrent, rng);
      // One [rows, cols] identity (ones on the main diagonal, zeros elsewhere), as torch.nn.init.eye_
      for (let i = 0; i < Math.min(rows, cols); i++) out[i * cols + i] = init.scale;
      return out;
  }
}

/**
 * U [H, G·H] of a gated cell that starts as "the identity": Cooijmans et al. 2017, §5.1 ("the hidden-to-hidden weight
 * matrix which we initialize to be the identity matrix") do not say which gate blocks; the authors' code
 * (sequential_mnist.py, construct_lstm) draws `concatenate([eye(H), orthogonal((H, 3H))])` in their gate order
 * g, f, i, o: the identity on the candidate block only (so h_{t-1} carries over into the cell input, as in Le et al.
 * 2015's IRNN), and the three gate blocks as ONE matrix drawn by the layer's init (orthogonal there). Here the gate
 * blocks keep their order around the candidate (an `init identity` makes them eye(H, (G−1)·H), the rule above);
 * for a one-block cell (the plain RNN) U is scale·I.
 */
function identityOnCandidate(
  scale: number,
  H: number,
  G: number,
  { candidate, gateInit }: RecurrentLayout,
  rng: Rng,
): Float32Array {
  const cols = G * H,
    gateCols = (G - 1) * H;
  const gates = initMatrix(gateInit, H, gateCols, H, rng); // one [H, (G−1)·H] matrix
  const out = new Float32Array(H * cols);
  for (let r = 0; r < H; r++) {
    out[r * cols + candidate * H + r] = scale;
    for (let k = 0, g = 0; k < G; k++) {
      if (k === candidate) continue;
      for (let c = 0; c < H; c++) out[r * cols + k * H + c] = gates[r * gateCols + g * H + c]!;
      g++;
    }
  }
  return out;
}

/** A [rows, cols] matrix with orthonormal columns (or rows, when wide): Gram–Schmidt on a Gaussian matrix. */
function orthogonalMatrix(rows: number, cols: number, rng: Rng): Float64Array {
  const tall = rows >= cols;
  const n = tall ? rows : cols; // vector length
  const k = tall ? cols : rows; // number of vectors
  const v = new Float64Array(k * n);
  for (let i = 0; i < v.length; i++) v[i] = rng.normal();
  // The blocked method reads its projections back synchronously, which the webgpu backend cannot do in Node:
  // there, large matrices take the (slower, equally orthogonal) float64 path.
  if (k <= PANEL || tf.getBackend() === "webgpu") gramSchmidt(v, 0, k, n);
  else blockedGramSchmidt(v, k, n);
  const m = new Float64Array(rows * cols);
  for (let a = 0; a < k; a++)
    for (let i = 0; i < n; i++) {
      if (tall) m[i * cols + a] = v[a * n + i]!;
      else m[a * cols + i] = v[a * n + i]!;
    }
  return m;
}

/** Vectors (rows of v, length n) a0 … a1−1 made orthonormal: modified Gram–Schmidt in float64, twice. */
function gramSchmidt(v: Float64Array, a0: number, a1: number, n: number): void {
  for (let a = a0; a < a1; a++) {
    for (let pass = 0; pass < 2; pass++)
      for (let b = a0; b < a; b++) {
        let dot = 0;
        for (let i = 0; i < n; i++) dot += v[a * n + i]! * v[b * n + i]!;
        for (let i = 0; i < n; i++) v[a * n + i]! -= dot * v[b * n + i]!;
      }
    let norm = 0;
    for (let i = 0; i < n; i++) norm += v[a * n + i]! ** 2;
    norm = Math.sqrt(norm) || 1;
    for (let i = 0; i < n; i++) v[a * n + i]! /= norm;
  }
}

/** Vectors per panel of the blocked method; matrices of at most this many vectors take the float64 path alone. */
const PANEL = 128;

/**
 * Block Gram–Schmidt, for wide layers: Gram–Schmidt is O(n·k²), and in JS a [1000, 4000] orthogonal U took ~40 s
 * and a [2000, 8000] one (text8) over 5 minutes. Here each panel of PANEL vectors is projected off the earlier
 * ones twice ("twice is enough", Giraud et al. 2005) as two matrix products on the backend, then made orthonormal
 * within itself in float64. The projections round in float32, so a large matrix's weights can differ between
 * backends by float32 rounding (~1e-7); their orthogonality does not (checked to 1e-5 in test/runtime/init.test.ts).
 */
function blockedGramSchmidt(v: Float64Array, k: number, n: number): void {
  let Q: tf.Tensor2D | null = null; // [done, n]: the orthonormal rows so far
  let QT: tf.Tensor2D | null = null; // its transpose (matMul with a transpose flag is ~10× slower on wasm)
  for (let a0 = 0; a0 < k; a0 += PANEL) {
    const a1 = Math.min(k, a0 + PANEL);
    if (Q && QT) {
      const q = Q,
        qt = QT;
      const projected = tf.tidy(() => {
        let P = tf.tensor2d(Float32Array.from(v.subarray(a0 * n, a1 * n)), [a1 - a0, n]);
        for (let pass = 0; pass < 2; pass++) P = tf.sub(P, tf.matMul(tf.matMul(P, qt), q));
        return P.dataSync();
      });
      for (let i = 0; i < projected.length; i++) v[a0 * n + i] = projected[i]!;
    }
    gramSchmidt(v, a0, a1, n);
    const panel = tf.tensor2d(Float32Array.from(v.subarray(a0 * n, a1 * n)), [a1 - a0, n]);
    const nextQ: tf.Tensor2D = Q ? tf.concat([Q, panel], 0) : panel;
    if (Q) (Q.dispose(), panel.dispose());
    QT?.dispose();
    Q = nextQ;
    QT = tf.transpose(Q);
  }
  Q?.dispose();
  QT?.dispose();
}
