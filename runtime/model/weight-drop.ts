// Weight drop (Merity et al. 2018, AWD-LSTM §4.1; DropConnect, Wan et al. 2013): dropout on the recurrent
// weight matrix U itself, one mask per window (awd-lstm-lm's WeightDrop draws one per forward call), shared by
// every step and every sequence of the batch. Kept weights are scaled by 1/(1−p); evaluation uses U as it is.
// The gradient reaches U through the mask: dU = dU' ⊙ M (tf.mul's own gradient).
import * as tf from "@tensorflow/tfjs";
import { bernoulliMask } from "./dropout.js";
import type { Rng } from "../base/rng.js";

/** U' = M ⊙ U for training; U itself at evaluation or p = 0. */
export function weightDrop(U: tf.Tensor2D, p: number, rng: Rng, training: boolean): tf.Tensor2D {
  if (p === 0 || !training) return U;
  return tf.mul(U, bernoulliMask(rng, U.shape, p)) as tf.Tensor2D;
}
