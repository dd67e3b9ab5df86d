// Token embedding: a lookup into E [V, D]. Its gradient is tf.gather's, a scatter-add (UnsortedSegmentSum) of the
// output gradient into the rows that were read; the wasm backend gets that kernel from kernels/.
import * as tf from "@tensorflow/tfjs";
import type { Init } from "./init.js";
import type { ParameterStore } from "./parameters.js";

export class Embedding {
  readonly weight: tf.Variable<tf.Rank.R2>; // [V, D]
  constructor(store: ParameterStore, name: string, readonly vocab: number, readonly size: number, init: Init) {
    this.weight = store.matrix(`${name}.weight`, vocab, size, init, size);
  }

  /** tokens: [T, B] int32 → [T, B, D] */
  forward(tokens: tf.Tensor2D): tf.Tensor3D {
    const [T, B] = tokens.shape;
    return tf.gather(this.weight, tokens.reshape([T * B])).reshape([T, B, this.size]);
  }
}
