// Dropout masks, drawn from the run's seeded Rng in JS so that one seed gives one set of masks on every backend
// and a resumed run draws exactly the masks the uninterrupted one would have. Kept units are scaled by 1/(1−p)
// (inverted dropout), so evaluation applies nothing.
import * as tf from "@tensorflow/tfjs";
import type { Rng } from "../base/rng.js";

/**
 * per_step: an independent mask for every time step, unit and sequence (Zaremba et al. 2014, §3.2);
 * locked: one [1, B, H] mask per sequence, shared by every step (Gal & Ghahramani 2016; AWD-LSTM's LockedDropout).
 */
export type MaskMode = "per_step" | "locked";

/** A {0, 1/(1−p)} mask of the given shape. */
export function bernoulliMask(rng: Rng, shape: readonly number[], p: number): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const keep = 1 / (1 - p);
  const m = new Float32Array(n);
  for (let i = 0; i < n; i++) m[i] = rng.uniform() < p ? 0 : keep;
  return tf.tensor(m, [...shape]);
}

/** A {0, 1} tensor whose elements are 1 with probability p (zoneout's z). Draws as bernoulliMask does. */
export function bernoulli(rng: Rng, shape: readonly number[], p: number): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const z = new Float32Array(n);
  for (let i = 0; i < n; i++) z[i] = rng.uniform() < p ? 1 : 0;
  return tf.tensor(z, [...shape]);
}

/** x: [T, B, H]. At evaluation, or with p = 0, x is returned unchanged. */
export function dropout(x: tf.Tensor3D, p: number, mode: MaskMode, rng: Rng, training: boolean): tf.Tensor3D {
  if (!training || p === 0) return x;
  const [T, B, H] = x.shape;
  const mask = bernoulliMask(rng, mode === "locked" ? [1, B, H] : [T, B, H], p);
  return tf.mul(x, mask) as tf.Tensor3D;
}
