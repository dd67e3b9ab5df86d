// What generated code implements for `task classify`: a recurrent stack read out from its last hidden state
// (Cooijmans et al. 2017, §5.1: sequential MNIST, one pixel per step, "the class is predicted from the final
// hidden state"). The pixels of a batch are built by data/pixel-sequences.ts.
import * as tf from "@tensorflow/tfjs";
import type { StepContext } from "./step-context.js";
import type { ParameterStore } from "./parameters.js";
import type { LayerState } from "./recurrent-layer.js";
import type { SoftmaxOutput } from "./softmax-loss.js";

export interface ClassifierSetup {
  readonly classes: number;
  readonly params: ParameterStore;
}

export interface SequenceClassifier {
  readonly params: ParameterStore;
  /** The linear read-out: the last hidden state → class logits, with the language models' softmax loss. */
  readonly output: SoftmaxOutput;
  /** pixels [T, B, 1] → the read-out's input: the last step's hidden state [B, D] (after the output dropout). */
  forward(pixels: tf.Tensor3D, ctx: StepContext): tf.Tensor2D;
}

/**
 * The state every sequence starts from: the layer's (zeros, or the learned h_0 and c_0), plus N(0, σ²) on h while
 * training when σ > 0 (Cooijmans et al. 2017, §5.1: in-order MNIST starts with a run of black pixels, so without noise
 * the batch variance of the first steps is zero and batch norm divides by √ε). The noise is added to h_0, not put in
 * its place, as in the authors' code (h0 + noise): a learned h_0 keeps its value and its gradient. Evaluation starts
 * from the layer's state: it uses population statistics.
 */
export function initialState(start: LayerState, noise: number, ctx: StepContext): LayerState {
  if (noise <= 0 || !ctx.training) return start;
  const [B, H] = start.h.shape;
  const n = Float32Array.from({ length: B * H }, () => noise * ctx.rng.normal());
  return { h: tf.add(start.h, tf.tensor2d(n, [B, H])) as tf.Tensor2D, c: start.c };
}

/** The last step of a sequence [T, B, D] → [B, D]. */
export function lastStep(y: tf.Tensor3D): tf.Tensor2D {
  const [T, B, D] = y.shape;
  return tf.slice(y, [T - 1, 0, 0], [1, B, D]).reshape([B, D]);
}
