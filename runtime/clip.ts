// Global-norm gradient clipping (Pascanu et al. 2013), as torch.nn.utils.clip_grad_norm_ and TF's
// clip_by_global_norm: if ‖g‖ > max, every gradient is scaled by max/‖g‖. Returns the norm before clipping.
import * as tf from "@tensorflow/tfjs";

export function globalNorm(grads: readonly tf.Tensor[]): number {
  return tf.tidy(() => Math.sqrt(tf.addN(grads.map((g) => tf.sum(tf.square(g)))).dataSync()[0]!));
}

export function clipByGlobalNorm(grads: tf.Tensor[], max: number): { grads: tf.Tensor[]; norm: number } {
  const norm = globalNorm(grads);
  if (!(norm > max)) return { grads, norm };
  const scale = max / norm;
  const clipped = grads.map((g) => tf.mul(g, scale));
  grads.forEach((g) => g.dispose());
  return { grads: clipped, norm };
}
