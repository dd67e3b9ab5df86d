// What generated code implements for `task classify`: a recurrent stack read out from its last hidden state
// (Cooijmans et al. 2017, §5.1: sequential MNIST, one pixel per step, "the class is predicted from the final
// hidden state"). The pixels of a batch, in scanline order or under a fixed permutation (pMNIST), are built here.
import * as tf from "@tensorflow/tfjs";
import type { MnistSplit } from "./data/mnist.js";
import { MNIST_PIXELS } from "./data/mnist.js";
import type { StepContext } from "./language-model.js";
import type { ParameterStore } from "./parameters.js";
import type { LayerState } from "./recurrent-layer.js";
import { Rng } from "./rng.js";
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
 * The state every sequence starts from: zeros, plus N(0, σ²) on h_0 while training when σ > 0 (Cooijmans et al.
 * 2017, §5.1: in-order MNIST starts with a run of black pixels, so without noise the batch variance of the first
 * steps is zero and batch norm divides by √ε). Evaluation starts from zeros: it uses population statistics.
 */
export function initialState(zero: LayerState, noise: number, ctx: StepContext): LayerState {
  if (noise <= 0 || !ctx.training) return zero;
  const [B, H] = zero.h.shape;
  const n = Float32Array.from({ length: B * H }, () => noise * ctx.rng.normal());
  zero.h.dispose();
  return { h: tf.tensor2d(n, [B, H]), c: zero.c };
}

/** pMNIST's fixed permutation of the 784 pixel positions, a function of its seed only. */
export function pixelPermutation(seed: number): Int32Array {
  return new Rng(seed).permutation(MNIST_PIXELS);
}

/**
 * Images `indices` of a split as a [784, B, 1] sequence batch, pixels scaled to [0, 1], step t reading pixel
 * perm[t] (scanline order without a permutation), and their labels.
 */
export function pixelBatch(split: MnistSplit, indices: ArrayLike<number>, perm: Int32Array | null): { pixels: tf.Tensor3D; labels: tf.Tensor1D } {
  const B = indices.length;
  const out = new Float32Array(MNIST_PIXELS * B);
  const labels = new Int32Array(B);
  for (let b = 0; b < B; b++) {
    const img = indices[b]! * MNIST_PIXELS;
    labels[b] = split.labels[indices[b]!]!;
    for (let t = 0; t < MNIST_PIXELS; t++) out[t * B + b] = split.images[img + (perm ? perm[t]! : t)]! / 255;
  }
  return { pixels: tf.tensor3d(out, [MNIST_PIXELS, B, 1]), labels: tf.tensor1d(labels, "int32") };
}

/** The last step of a sequence [T, B, D] → [B, D]. */
export function lastStep(y: tf.Tensor3D): tf.Tensor2D {
  const [T, B, D] = y.shape;
  return tf.slice(y, [T - 1, 0, 0], [1, B, D]).reshape([B, D]);
}
