// The update from a step's raw gradients, the same for every task: clipping, weight decay, the optimizer.
import * as tf from "@tensorflow/tfjs";
import { clipByGlobalNorm } from "./clip.js";
import { assertDeviceHealthy } from "./errors.js";
import type { Optimizer } from "./optimizers.js";
import type { TrainingSpec } from "./task.js";

/**
 * The gradient of each variable from tf.variableGrads, by position; undefined for a variable the step did not reach
 * (a learned initial state, Cooijmans et al. 2017 §2.1, outside the windows that start from it).
 */
export const gradientsOf = (vars: readonly tf.Variable[], grads: tf.NamedTensorMap): (tf.Tensor | undefined)[] =>
  vars.map((v) => grads[v.name]);

/** The tensors of gradientsOf, to keep past a scope or dispose. */
export const presentGradients = (grads: readonly (tf.Tensor | undefined)[]): tf.Tensor[] =>
  grads.filter((g): g is tf.Tensor => g !== undefined);

/**
 * The update from raw gradients (which it disposes): global-norm clipping, then L2 weight decay added to the
 * clipped gradient, as torch.optim's weight_decay after clip_grad_norm_ (awd-lstm-lm), then the optimizer at `lr`.
 * A variable without a gradient is left alone, clipping's norm included, as PyTorch skips a parameter whose grad is
 * None.
 */
export async function applyUpdate(
  optimizer: Optimizer,
  allVars: readonly tf.Variable[],
  allDecayed: readonly boolean[],
  allGrads: readonly (tf.Tensor | undefined)[],
  training: Pick<TrainingSpec, "clip" | "weightDecay">,
  lr: number,
): Promise<void> {
  const everyOne = allGrads.every((g) => g !== undefined); // every step but a learned start's: no copies
  const vars = everyOne ? allVars : allVars.filter((_, k) => allGrads[k]);
  const decayed = everyOne ? allDecayed : allDecayed.filter((_, k) => allGrads[k]);
  let g = presentGradients(allGrads);
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
