// The matMul of the fused ops, and plain-matMul forms of the reductions their backwards need.
// On wasm with a fused multiply-add (kernels/matmul-wasm.ts), every product runs on rnnc's GEMM, which reads
// transposed operands in place. Otherwise it is tfjs's MatMul with neither operand transposed: the one path
// XNNPACK takes on wasm at full speed; a transpose flag or a reduction along the leading axis
// falls to a generic loop: Sum over axis 0 of [400, 10 000] took 7–8 ms, the same sum as ones[1, 400]·x 0.6 ms
// (measured with per-kernel timings, tfjs 4.22).
import * as tf from "@tensorflow/tfjs";
import {
  RNNC_MATMUL,
  RNNC_PACK_RIGHT,
  wasmGemmActive,
  type MatMulAttrs,
  type PackRightAttrs,
} from "./kernels/matmul-wasm.js";
import { RNNC_ROW_MAX, RNNC_SOFTMAX_GRAD, RNNC_SUB_SCALED, RNNC_SUM_SQUARES } from "./kernels/simd-passes-wasm.js";

/** Whether matMul below runs on rnnc's GEMM (the wasm backend, with a fused multiply-add). */
export function gemmActive(): boolean {
  return wasmGemmActive() && tf.getBackend() === "wasm";
}

/** op(a)·op(b) for 2-D a, b, where op transposes when its flag is set. */
export function matMul(a: tf.Tensor2D, b: tf.Tensor2D, transposeA = false, transposeB = false): tf.Tensor2D {
  if (gemmActive()) {
    const attrs: MatMulAttrs = { transposeA, transposeB, packedColumns: 0 };
    return tf.engine().runKernel(RNNC_MATMUL, { a, b }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor2D;
  }
  return tf.matMul(transposeA ? tf.transpose(a) : a, transposeB ? tf.transpose(b) : b);
}

/** A right operand prepared once for many products (rightOperand): packed for rnnc's GEMM, or op(b) for tfjs. */
export interface RightOperand {
  readonly tensor: tf.Tensor;
  readonly columns: number;
  readonly packed: boolean;
}

/**
 * op(b), ready to be the right operand of many products (matMulRight): a recurrent weight multiplies every step
 * of a window. On rnnc's GEMM it is packed once instead of at every product, transposed or not at no extra cost.
 */
export function rightOperand(b: tf.Tensor2D, transpose = false): RightOperand {
  const columns = b.shape[transpose ? 0 : 1];
  if (gemmActive()) {
    const attrs: PackRightAttrs = { transpose };
    return {
      tensor: tf.engine().runKernel(RNNC_PACK_RIGHT, { b }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor,
      columns,
      packed: true,
    };
  }
  return { tensor: transpose ? tf.transpose(b) : b, columns, packed: false };
}

/** a·op(b) for a right operand prepared by rightOperand. */
export function matMulRight(a: tf.Tensor2D, r: RightOperand): tf.Tensor2D {
  if (!r.packed) return tf.matMul(a, r.tensor as tf.Tensor2D);
  const attrs: MatMulAttrs = { transposeA: false, transposeB: false, packedColumns: r.columns };
  return tf.engine().runKernel(RNNC_MATMUL, { a, b: r.tensor }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor2D;
}

// Its gradient, for use under tfjs's tape (the fused ops call it inside their own backward, off the tape):
// for C = op(A)·op(B), dA and dB are products of dC with the other operand, transposed as each case needs.
tf.registerGradient({
  kernelName: RNNC_MATMUL,
  inputsToSave: ["a", "b"],
  gradFunc: (dy, saved, attrs) => {
    const [a, b] = saved as [tf.Tensor2D, tf.Tensor2D];
    const dc = dy as tf.Tensor2D;
    const { transposeA: tA, transposeB: tB } = attrs as unknown as MatMulAttrs;
    return {
      a: () => (tA ? matMul(b, dc, tB, true) : matMul(dc, b, false, !tB)), // [K, M] or [M, K]
      b: () => (tB ? matMul(dc, a, true, tA) : matMul(a, dc, !tA, false)), // [N, K] or [K, N]
    };
  },
});

/** max over each row of x: [N, V] → [N] (kernels/simd-passes-wasm.ts on rnnc's GEMM module; tf.max elsewhere). */
export function rowMax(x: tf.Tensor2D): tf.Tensor1D {
  return gemmActive() ? (tf.engine().runKernel(RNNC_ROW_MAX, { x }) as tf.Tensor1D) : tf.max(x, 1);
}

/**
 * (p − onehot(targets))·s: the softmax cross-entropy's gradient w.r.t. the logits, for p: [N, V], targets: [N]
 * int32, s: a scalar. The one-hot is built as int32 and cast: the wasm backend's OneHot writes integer bit patterns
 * into a float32 output (tfjs 4.22).
 */
export function softmaxGrad(p: tf.Tensor2D, targets: tf.Tensor1D, s: tf.Scalar): tf.Tensor2D {
  if (gemmActive()) return tf.engine().runKernel(RNNC_SOFTMAX_GRAD, { p, targets, s }) as tf.Tensor2D;
  return tf.mul(tf.sub(p, tf.cast(tf.oneHot(targets, p.shape[1]), "float32")), s);
}

/** v − g·s (an SGD step), rounded as tf.sub(v, tf.mul(g, s)); one pass on rnnc's GEMM module. */
export function subScaled<T extends tf.Tensor>(v: T, g: tf.Tensor, s: number): T {
  const fused = gemmActive() && v.dtype === "float32" && g.dtype === "float32" && tf.util.arraysEqual(v.shape, g.shape);
  return fused ? (tf.engine().runKernel(RNNC_SUB_SCALED, { v, g }, { s }) as T) : tf.sub(v, tf.mul(g, s));
}

/** Σ x² over all of x, as a scalar tensor; one pass on rnnc's GEMM module. */
export function sumSquares(x: tf.Tensor): tf.Scalar {
  return gemmActive() && x.dtype === "float32"
    ? (tf.engine().runKernel(RNNC_SUM_SQUARES, { x }) as tf.Scalar)
    : tf.sum(tf.square(x));
}

/** aᵀ·b for a: [N, I], b: [N, J] → [I, J]. */
export function matMulTransposeA(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  return matMul(a, b, true, false);
}

/** Σ over rows of x: [N, J] → [J] (a bias gradient), as ones[1, N]·x. */
export function sumRows(x: tf.Tensor2D): tf.Tensor1D {
  return matMul(tf.ones([1, x.shape[0]]), x).reshape([x.shape[1]]);
}

/**
 * a + b + … (same shapes), as tf.addN. tfjs's webgpu AddN binds every input as a storage buffer in one shader, and
 * WebGPU allows 8 per stage by default: with more inputs its pipeline fails validation, which tfjs only logs, and
 * the result is garbage (found by bench/webgpu-check.ts: the 10-term gradient norm of a 2-layer LM). So on webgpu
 * the terms are added in groups that fit; elsewhere it is one AddN.
 */
export function addMany<T extends tf.Tensor>(ts: readonly T[], group = addNLimit()): T {
  if (ts.length === 1) return ts[0]!;
  if (ts.length <= group) return tf.addN(ts as T[]);
  const partial: T[] = [];
  for (let k = 0; k < ts.length; k += group) partial.push(addMany(ts.slice(k, k + group), group));
  return addMany(partial, group);
}

/** The most inputs one AddN may take on the active backend. */
function addNLimit(): number {
  return tf.getBackend() === "webgpu" ? storageBuffersPerStage() - 1 : Infinity; // one binding is the output
}

function storageBuffersPerStage(): number {
  const device = (tf.backend() as unknown as { device?: { limits?: { maxStorageBuffersPerShaderStage?: number } } })
    .device;
  return Math.max(3, device?.limits?.maxStorageBuffersPerShaderStage ?? 8);
}
