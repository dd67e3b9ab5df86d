// Token embedding: a lookup into E [V, D]. Its gradient is tf.gather's, a scatter-add (UnsortedSegmentSum) of the
// output gradient into the rows that were read; the wasm backend gets that kernel from kernels/.
import * as tf from "@tensorflow/tfjs";
import { embeddingDropout } from "./embedding-dropout.js";
import type { Init } from "./init.js";
import type { StepContext } from "./step-context.js";
import type { ParameterStore } from "./parameters.js";

export class Embedding {
  readonly weight: tf.Variable<tf.Rank.R2>; // [V, D]
  /** `dropout`: the probability of dropping a word type (embedding-dropout.ts); 0: none. */
  constructor(
    store: ParameterStore,
    name: string,
    readonly vocab: number,
    readonly size: number,
    init: Init,
    readonly dropout = 0,
  ) {
    this.weight = store.matrix(`${name}.weight`, vocab, size, init, size);
  }

  /** tokens: [T, B] int32 → [T, B, D]. `ctx` is needed only with embedding dropout. */
  forward(tokens: tf.Tensor2D, ctx?: StepContext): tf.Tensor3D {
    const [T, B] = tokens.shape;
    if (this.dropout > 0 && !ctx) throw new Error("embedding dropout needs the StepContext");
    const E = ctx ? embeddingDropout(this.weight, this.dropout, ctx.rng, ctx.training) : this.weight; // [V, D]
    return tf.gather(E, tokens.reshape([T * B])).reshape([T, B, this.size]);
  }
}
