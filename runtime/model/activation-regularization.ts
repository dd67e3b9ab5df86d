// Activation regularization (Merity, McCann & Socher 2017), with awd-lstm-lm's exact semantics: both are means
// over every element, on the last layer only, added to the training loss (not to the reported perplexity).
import * as tf from "@tensorflow/tfjs";
import { addMany } from "../accel/fast-ops.js";

/** AR, eq. 1: α · mean((m ⊙ h_t)²), on the *dropped* output m ⊙ h of the last layer; h: [T, B, H]. */
export function activationRegularization(dropped: tf.Tensor3D, alpha: number): tf.Scalar {
  return tf.mul(tf.mean(tf.square(dropped)), alpha) as tf.Scalar;
}

/** TAR, eq. 2: β · mean((h_t − h_{t+1})²), on the *raw* output h of the last layer; h: [T, B, H], T ≥ 2. */
export function temporalActivationRegularization(raw: tf.Tensor3D, beta: number): tf.Scalar {
  const [T, B, H] = raw.shape;
  if (T < 2) return tf.scalar(0);
  const next = tf.slice(raw, [1, 0, 0], [T - 1, B, H]); // h_{t+1}
  const prev = tf.slice(raw, [0, 0, 0], [T - 1, B, H]); // h_t
  return tf.mul(tf.mean(tf.square(tf.sub(prev, next))), beta) as tf.Scalar;
}

/** a + b + …: the penalty terms of a model, as one scalar. */
export function sumScalars(...terms: tf.Scalar[]): tf.Scalar {
  return addMany(terms);
}
