// The context of one forward pass: training or evaluation, and the stream dropout masks are drawn from. Its own
// file so that the layers (recurrent-layer.ts, embedding.ts) and the model interfaces (language-model.ts,
// classifier.ts) can all name it without importing each other.
import type * as tf from "@tensorflow/tfjs";
import type { Rng } from "../base/rng.js";
import { dropout, type MaskMode } from "./dropout.js";

/** Per-step context: whether this is training (dropout on) and the stream masks are drawn from. */
export class StepContext {
  constructor(
    readonly training: boolean,
    readonly rng: Rng,
  ) {}

  /** A vertical dropout site (Zaremba et al. 2014): applied to [T, B, H] between layers, never on h_{t-1}. */
  dropout(x: tf.Tensor3D, p: number, mask: MaskMode): tf.Tensor3D {
    return dropout(x, p, mask, this.rng, this.training);
  }
}
