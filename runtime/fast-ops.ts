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
  const device = (tf.backend() as unknown as { device?: { limits?: { maxStorageBuffersPerShaderStage?: number } } }).device;
  return Math.max(3, device?.limits?.maxStorageBuffersPerShaderStage ?? 8);
}
