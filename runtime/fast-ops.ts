// Plain-matMul forms of two reductions the fused ops' backwards need. On wasm, matMul with neither operand
// transposed is the one path XNNPACK takes (shared/design/perf-notes.md); a transpose flag or a reduction along
// the leading axis falls to a generic loop: Sum over axis 0 of [400, 10 000] took 7–8 ms, the same sum as
// ones[1, 400]·x 0.6 ms (measured with per-kernel timings, tfjs 4.22).
import * as tf from "@tensorflow/tfjs";

/** aᵀ·b for a: [N, I], b: [N, J] → [I, J], without matMul's transpose flag. */
export function matMulTransposeA(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  return tf.matMul(tf.transpose(a), b);
}

/** Σ over rows of x: [N, J] → [J] (a bias gradient), as ones[1, N]·x. */
export function sumRows(x: tf.Tensor2D): tf.Tensor1D {
  return tf.matMul(tf.ones([1, x.shape[0]]), x).reshape([x.shape[1]]);
}
