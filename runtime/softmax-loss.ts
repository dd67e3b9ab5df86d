// The output layer and its cross-entropy as one op with a hand-written backward: logits = h W + b over the
// whole window ([N, V], N = T·B), NLL = logsumexp(logits) − logits[target]. The backward is
// (softmax − onehot) · scale, and its matMuls are written with explicit transposes (no transpose flags, which the
// wasm backend runs ~10× slower). With tied weights (Inan et al. 2017; Press & Wolf 2017) W is the embedding
// matrix E [V, D] and logits = h Eᵀ.
import * as tf from "@tensorflow/tfjs";
import { matMulTransposeA, sumRows } from "./fast-ops.js";
import type { Init } from "./init.js";
import type { ParameterStore } from "./parameters.js";

/**
 * How the summed NLL becomes the training loss (shared/design/reproduction-notes.md):
 * - sum_steps: summed over the BPTT steps, averaged over the batch (Zaremba et al. 2014's Torch code, TF ptb_word_lm);
 * - mean: averaged over every token (Merity et al. 2017 / awd-lstm-lm).
 */
export type LossScale = "sum_steps" | "mean";

export function lossScale(kind: LossScale, steps: number, batch: number): number {
  return kind === "sum_steps" ? 1 / batch : 1 / (steps * batch);
}

export class SoftmaxOutput {
  /** [D, V] untied; the embedding's [V, D] when tied. */
  readonly weight: tf.Variable<tf.Rank.R2>;
  readonly bias: tf.Variable<tf.Rank.R1>;
  readonly tied: boolean;

  constructor(store: ParameterStore, name: string, size: number, vocab: number, opts: { init: Init; tiedTo?: tf.Variable<tf.Rank.R2> }) {
    this.tied = opts.tiedTo !== undefined;
    this.weight = opts.tiedTo ?? store.matrix(`${name}.weight`, size, vocab, opts.init, size);
    this.bias = store.vector(`${name}.bias`, vocab);
  }

  /**
   * The loss `scale · Σ NLL` over h: [T, B, D] and targets [T·B] (row-major [T, B]). Differentiable w.r.t. h,
   * the weight and the bias.
   */
  loss(h: tf.Tensor3D, targets: tf.Tensor1D, scale: number): tf.Scalar {
    const [T, B, D] = h.shape;
    const N = T * B;
    const tied = this.tied;
    const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
      const [hs, w, b] = args as [tf.Tensor3D, tf.Tensor2D, tf.Tensor1D];
      const save = args[3] as tf.GradSaveFunc;
      const h2 = hs.reshape([N, D]) as tf.Tensor2D;
      const wIn = (tied ? tf.transpose(w) : w) as tf.Tensor2D; // [D, V]
      const logits = tf.add(tf.matMul(h2, wIn), b) as tf.Tensor2D; // [N, V]
      const V = logits.shape[1];
      // softmax is one XNNPACK kernel on wasm (~4 ms for [400, 10 000]) where tf.exp alone took ~30 ms. The
      // log-normalizer comes from it without underflow: p = exp(z − lse), so lse = z_j − log p_j for every j,
      // and at the row's argmax j, p_j ≥ 1/V: lse = max(z) − log(max(p)).
      const p = tf.softmax(logits) as tf.Tensor2D; // [N, V]
      const lse = tf.sub(tf.max(logits, 1), tf.log(tf.max(p, 1))); // [N]
      const flat = tf.add(tf.mul(tf.range(0, N, 1, "int32"), tf.scalar(V, "int32")), targets); // row·V + target
      const picked = tf.gather(logits.reshape([N * V]), flat); // [N]: z[target]
      const value = tf.mul(tf.sub(tf.sum(lse), tf.sum(picked)), scale) as tf.Scalar; // scale · Σ (lse − z[target])
      // targets are saved (cloned and kept by the engine), not read from the closure: a caller may create them
      // inside the differentiated function, whose scope disposes them before the backward runs.
      save([h2, p, targets]);
      return {
        value,
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
          const [h2s, pS, targetsS] = saved as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D];
          // dL/dlogits = (softmax − onehot(target)) · scale · dy. The one-hot is built as int32 and cast: the wasm
          // backend's OneHot writes integer bit patterns into a float32 output (tfjs 4.22).
          const onehot = tf.cast(tf.oneHot(targetsS, V), "float32");
          const dLogits = tf.mul(tf.sub(pS, onehot), tf.mul(dy, scale)) as tf.Tensor2D;
          // [N, V]·[V, D]. Tied: w is E [V, D] itself. (Not transpose(wIn): wIn is a forward temporary, disposed
          // when the forward's scope ends, so reading it here threw "Cannot read properties of undefined".)
          const dh = tf.matMul(dLogits, tied ? w : tf.transpose(w)).reshape([T, B, D]);
          const dw = tied
            ? matMulTransposeA(dLogits, h2s) // [V, N]·[N, D]
            : matMulTransposeA(h2s, dLogits); // [D, N]·[N, V]
          return [dh, dw, sumRows(dLogits)];
        },
      };
    });
    return op(h, this.weight, this.bias) as tf.Scalar;
  }

  /** Logits [T, B, V] (for sampling or inspection; training uses `loss`). */
  logits(h: tf.Tensor3D): tf.Tensor3D {
    const [T, B, D] = h.shape;
    const w = this.tied ? tf.transpose(this.weight) : this.weight;
    return tf.add(tf.matMul(h.reshape([T * B, D]) as tf.Tensor2D, w), this.bias).reshape([T, B, -1]);
  }
}
