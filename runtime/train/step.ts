// The update from a step's raw gradients, the same for every task: clipping, weight decay, the optimizer.
import * as tf from "@tensorflow/tfjs";
import { clipByGlobalNorm } from "./clip.js";
import { assertDeviceHealthy } from "./errors.js";
import type { Optimizer } from "./optimizers.js";
import type { TrainingSpec } from "./task.js";

/**
 * The update from raw gradients (which it disposes): global-norm clipping, then L2 weight decay added to the
 * clipped gradient, as torch.optim's weight_decay after clip_grad_norm_ (awd-lstm-lm), then the optimizer at `lr`.
 */
export async function applyUpdate(
  optimizer: Optimizer,
  vars: readonly tf.Variable[],
  decayed: readonly boolean[],
  grads: tf.Tensor[],
  training: Pick<TrainingSpec, "clip" | "weightDecay">,
  lr: number,
): Promise<void> {
  let g = grads;
  try {
    assertDeviceHealthy(); // gradients from a rejected kernel must not reach the weights
    if (training.clip !== null) g = (await clipByGlobalNorm(g, training.clip)).grads;
    assertDeviceHealthy(); // nor a norm from one
  } catch (e) {
    g.forEach((gi) => gi.dispose());
    throw e;
  }
  if (training.weightDecay > 0) {
    // tidy: λθ is an intermediate; left alive it leaked one tensor per decayed weight per step (the wasm heap of a
    // Merity run grew ~0.5 GB a minute until the module trapped).
    const wd = g.map((gi, k) => (decayed[k] ? tf.tidy(() => tf.add(gi, tf.mul(vars[k]!, training.weightDecay))) : gi));
    g.forEach((gi, k) => decayed[k] && gi.dispose());
    g = wd;
  }
  optimizer.apply(vars, g, lr);
  g.forEach((gi) => gi.dispose());
}
