// Global-norm gradient clipping (Pascanu et al. 2013), as torch.nn.utils.clip_grad_norm_ and TF's
// clip_by_global_norm: if ‖g‖ > max, every gradient is scaled by max/‖g‖. Returns the norm before clipping.
import * as tf from "@tensorflow/tfjs";

export function globalNorm(grads: readonly tf.Tensor[]): number {
  const sumOfSquares = (gs: readonly tf.Tensor[]): number => tf.tidy(() => tf.addN(gs.map((g) => tf.sum(tf.square(g)))).dataSync()[0]!);
  const plain = Math.sqrt(sumOfSquares(grads));
  if (Number.isFinite(plain)) return plain;
  // Σg² overflows float32 once gradients pass ~1e19 (batch norm over a batch of 2 gets there within a window: x̂
  // amplifies a tiny difference by 1/σ at every step). Scaled by the largest |g|, as BLAS's nrm2 does, the norm
  // stays finite, and clipping still works; only a gradient that is itself non-finite gives a non-finite norm.
  const scale = tf.tidy(() => tf.max(tf.stack(grads.map((g) => tf.max(tf.abs(g))))).dataSync()[0]!);
  if (!Number.isFinite(scale) || scale === 0) return plain;
  return scale * Math.sqrt(tf.tidy(() => sumOfSquares(grads.map((g) => tf.div(g, scale)))));
}

export function clipByGlobalNorm(grads: tf.Tensor[], max: number): { grads: tf.Tensor[]; norm: number } {
  const norm = globalNorm(grads);
  if (!(norm > max)) return { grads, norm };
  const scale = max / norm;
  const clipped = grads.map((g) => tf.mul(g, scale));
  grads.forEach((g) => g.dispose());
  return { grads: clipped, norm };
}
