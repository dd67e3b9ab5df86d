// MNIST images as pixel sequences (Cooijmans et al. 2017, §5.1): one pixel per step, in scanline order or under
// a fixed permutation of the 784 positions (pMNIST).
import * as tf from "@tensorflow/tfjs";
import { Rng } from "../base/rng.js";
import { MNIST_PIXELS, type MnistSplit } from "./mnist.js";

/** pMNIST's fixed permutation of the 784 pixel positions, a function of its seed only. */
export function pixelPermutation(seed: number): Int32Array {
  return new Rng(seed).permutation(MNIST_PIXELS);
}

/**
 * Images `indices` of a split as a [pixels, B, 1] sequence batch (784 for MNIST), pixels scaled to [0, 1], step t
 * reading pixel perm[t] (scanline order without a permutation), and their labels.
 */
export function pixelBatch(
  split: MnistSplit,
  indices: ArrayLike<number>,
  perm: Int32Array | null,
  pixels = MNIST_PIXELS,
): { pixels: tf.Tensor3D; labels: tf.Tensor1D } {
  const B = indices.length;
  const out = new Float32Array(pixels * B);
  const labels = new Int32Array(B);
  for (let b = 0; b < B; b++) {
    const img = indices[b]! * pixels;
    labels[b] = split.labels[indices[b]!]!;
    for (let t = 0; t < pixels; t++) out[t * B + b] = split.images[img + (perm ? perm[t]! : t)]! / 255;
  }
  return { pixels: tf.tensor3d(out, [pixels, B, 1]), labels: tf.tensor1d(labels, "int32") };
}
