// Dropout on the recurrent connection h_{t-1} → U, the site Zaremba et al. 2014 (§3.2) leave alone:
// - variational (Gal & Ghahramani 2016, §4): one mask per sequence, shared by every step of the window;
// - per_step: a fresh mask at every step, the destructive case Zaremba et al. warn about (the checker warns too).
// The mask multiplies h_{t-1} only where it enters U (recurrent.ts); c_{t-1} and the cell's own use of h_{t-1}
// are untouched. Masks scale kept units by 1/(1−p), so evaluation applies nothing.
import type * as tf from "@tensorflow/tfjs";
import { bernoulliMask } from "./dropout.js";
import type { Rng } from "../base/rng.js";

export type RecurrentDropoutMode = "variational" | "per_step";

export interface RecurrentDropout {
  readonly p: number;
  readonly mode: RecurrentDropoutMode;
}

/** [B, H] (variational) or [T, B, H] (per_step); null at evaluation or p = 0. */
export function recurrentMask(
  d: RecurrentDropout | undefined,
  T: number,
  B: number,
  H: number,
  rng: Rng,
  training: boolean,
): tf.Tensor2D | tf.Tensor3D | null {
  if (!d || d.p === 0 || !training) return null;
  return (d.mode === "variational" ? bernoulliMask(rng, [B, H], d.p) : bernoulliMask(rng, [T, B, H], d.p)) as
    tf.Tensor2D | tf.Tensor3D;
}
