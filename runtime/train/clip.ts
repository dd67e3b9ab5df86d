// Global-norm gradient clipping (Pascanu et al. 2013), as torch.nn.utils.clip_grad_norm_ and TF's
// clip_by_global_norm: if ‖g‖ > max, every gradient is scaled by max/‖g‖. Returns the norm before clipping.
// Asynchronous: the norm is read back from the device, and the webgpu backend can only read asynchronously in Node.
import * as tf from "@tensorflow/tfjs";
import { addMany, sumSquares } from "../accel/fast-ops.js";

/** The one number a tensor op chain reduces to, read back from the device; its tensors are disposed. */
async function scalarOf(f: () => tf.Tensor): Promise<number> {
  const t = tf.tidy(f);
  try {
    return (await t.data())[0]!;
  } finally {
    t.dispose();
  }
}

export async function globalNorm(grads: readonly tf.Tensor[]): Promise<number> {
  const sumOfSquares = (gs: readonly tf.Tensor[]): tf.Tensor => addMany(gs.map((g) => sumSquares(g)));
  const plain = Math.sqrt(await scalarOf(() => sumOfSquares(grads)));
  if (Number.isFinite(plain)) return plain;
  // Σg² overflows float32 once gradients pass ~1e19 (batch norm over a batch of 2 gets there within a window: x̂
  // amplifies a tiny difference by 1/σ at every step). Scaled by the largest |g|, as BLAS's nrm2 does, the norm
  // stays finite, and clipping still works; only a gradient that is itself non-finite gives a non-finite norm.
  const scale = await scalarOf(() => tf.max(tf.stack(grads.map((g) => tf.max(tf.abs(g))))));
  if (!Number.isFinite(scale) || scale === 0) return plain;
  return scale * Math.sqrt(await scalarOf(() => sumOfSquares(grads.map((g) => tf.div(g, scale)))));
}

export async function clipByGlobalNorm(grads: tf.Tensor[], max: number): Promise<{ grads: tf.Tensor[]; norm: number }> {
  const norm = await globalNorm(grads);
  if (!(norm > max)) return { grads, norm };
  const scale = max / norm;
  const clipped = grads.map((g) => tf.mul(g, scale));
  grads.forEach((g) => g.dispose());
  return { grads: clipped, norm };
}
