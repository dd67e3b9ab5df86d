// Zoneout (Krueger et al. 2017, eq. 5–6): each unit of h (and, for the LSTM, of c) keeps its previous value with
// probability p instead of taking the new one: h_t = h̃_t + z ⊙ (h_{t-1} − h̃_t), z ~ Bernoulli(p), fresh per step
// and unit. At evaluation z is replaced by its expectation p (the paper's §3: "like dropout, use the expectation").
// h̃_t is the cell's own output, o ⊙ tanh(c̃_t) of the un-zoned candidate c̃_t (eq. 6). The arithmetic is in
// recurrent.ts; this file draws z.
import type * as tf from "@tensorflow/tfjs";
import { bernoulli } from "./dropout.js";
import type { Rng } from "../base/rng.js";

/** z for a window: a {0, 1} mask [T, B, H] in training, the number p at evaluation, null for p = 0. */
export function zoneoutMask(
  p: number,
  T: number,
  B: number,
  H: number,
  rng: Rng,
  training: boolean,
): tf.Tensor3D | number | null {
  if (p === 0) return null;
  if (!training) return p;
  return bernoulli(rng, [T, B, H], p) as tf.Tensor3D;
}
