// Embedding dropout (Gal & Ghahramani 2016, §4.2; awd-lstm-lm's embedded_dropout): drop whole word types, i.e.
// rows of the embedding matrix E [V, D], with one mask per window, so every occurrence of a dropped word in the
// window reads a zero vector. Kept rows are scaled by 1/(1−p); evaluation reads E as it is.
import * as tf from "@tensorflow/tfjs";
import { bernoulliMask } from "./dropout.js";
import type { Rng } from "../base/rng.js";

/** E' = m ⊙ E with m: [V, 1] broadcast over D. */
export function embeddingDropout(E: tf.Tensor2D, p: number, rng: Rng, training: boolean): tf.Tensor2D {
  if (p === 0 || !training) return E;
  return tf.mul(E, bernoulliMask(rng, [E.shape[0], 1], p)) as tf.Tensor2D;
}
