// The output layer and its cross-entropy as one op with a hand-written backward: logits = h W + b over the
// whole window ([N, V], N = T·B), NLL = logsumexp(logits) − logits[target]. The backward is
// (softmax − onehot) · scale, and its matMuls are written with explicit transposes (no transpose flags, which the
// wasm backend runs ~10× slower). With tied weights (Inan et al. 2017; Press & Wolf 2017) W is the embedding
// matrix E [V, D] and logits = h Eᵀ.
import * as tf from "@tensorflow/tfjs";
import { gemmActive, matMul, matMulTransposeA, rowMax, softmaxGrad } from "../accel/fast-ops.js";
import type { Init } from "./init.js";
import type { ParameterStore } from "./parameters.js";

/**
 * How the summed NLL becomes the training loss (specs/language.md, "From spec to training code"):
 * - sum_steps: summed over the BPTT steps, averaged over the batch (Zaremba et al. 2014's Torch code, TF ptb_word_lm);
 * - mean: averaged over every token (Merity et al. 2017 / awd-lstm-lm).
 */
export type LossScale = "sum_steps" | "mean";

export function lossScale(kind: LossScale, steps: number, batch: number): number {
  return kind === "sum_steps" ? 1 / batch : 1 / (steps * batch);
}

/** A slice of the vocabulary: columns [start, start + size) of W [D, V] (rows of E [V, D] when tied). */
interface VocabChunk {
  readonly start: number;
  readonly size: number;
}

/**
 * The output matMuls run over the vocabulary in chunks whose weight slice has at most this many elements (D·V_j).
 * On wasm, XNNPACK packs the right operand of every matMul into a buffer of its own; the weights change at every
 * step, so they are packed at every step, and one [650, 10 000] operand at a time packs slowly. Measured for
 * D = 650, V = 10 000, N = 700 (forward, dh and dW, fresh weights, 2 threads, median of 5): 793 ms unchunked,
 * 655–677 ms in chunks of 2 000–2 500 columns (this budget gives 4 of 2 500). Zaremba small (D = 200) stays one
 * chunk: chunking it measured no faster. The sums are the same; only their order of addition in dh changes.
 * rnnc's own GEMM (accel/kernels/gemm.ts) packs one 8-column panel at a time, so what chunking saved XNNPACK does not
 * arise there, and the vocabulary is one chunk (no slices, no concatenation).
 */
const CHUNK_ELEMENTS = 2_000_000;

export function vocabChunks(V: number, D: number, budget = CHUNK_ELEMENTS): VocabChunk[] {
  const n = Math.max(1, Math.ceil((V * D) / budget));
  const size = Math.ceil(V / n);
  const out: VocabChunk[] = [];
  for (let start = 0; start < V; start += size) out.push({ start, size: Math.min(size, V - start) });
  return out;
}

/** A chunk's weights as stored: columns of W [D, V_j], or rows of E [V_j, D] when tied; W itself for one chunk. */
function weightSlice(w: tf.Tensor2D, c: VocabChunk, tied: boolean): tf.Tensor2D {
  if (c.start === 0 && c.size === w.shape[tied ? 0 : 1]) return w;
  return tied ? tf.slice(w, [c.start, 0], [c.size, -1]) : tf.slice(w, [0, c.start], [-1, c.size]);
}

/** [a | b | …] along the columns; one tensor as it is. */
function concatColumns(ts: tf.Tensor2D[]): tf.Tensor2D {
  return ts.length === 1 ? ts[0]! : tf.concat(ts, 1);
}

export class SoftmaxOutput {
  /** [D, V] untied; the embedding's [V, D] when tied. */
  readonly weight: tf.Variable<tf.Rank.R2>;
  readonly bias: tf.Variable<tf.Rank.R1>;
  readonly tied: boolean;
  /** The vocabulary chunks' weight budget (default: CHUNK_ELEMENTS under XNNPACK, one chunk on rnnc's GEMM); tests
   * lower it to check the chunked path on small sizes. */
  readonly chunkElements: number | undefined;

  constructor(
    store: ParameterStore,
    name: string,
    size: number,
    vocab: number,
    opts: { init: Init; tiedTo?: tf.Variable<tf.Rank.R2>; chunkElements?: number },
  ) {
    this.tied = opts.tiedTo !== undefined;
    this.chunkElements = opts.chunkElements;
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
      const V = b.shape[0];
      const chunks = vocabChunks(V, D, this.chunkElements ?? (gemmActive() ? Infinity : CHUNK_ELEMENTS));
      // logits = [h W_1 | h W_2 | …] + b: one [N, V] tensor, since the softmax needs whole rows.
      // Each chunk's weights are sliced once, here, and saved for the backward.
      const slices = chunks.map((c) => weightSlice(w, c, tied));
      const logits = tf.add(concatColumns(slices.map((s) => matMul(h2, s, false, tied))), b) as tf.Tensor2D; // [N, V]
      // softmax is one XNNPACK kernel on wasm (~4 ms for [400, 10 000]) where tf.exp alone took ~30 ms. The
      // log-normalizer comes from it without underflow: p = exp(z − lse), so lse = z_j − log p_j for every j,
      // and at the row's argmax j, p_j ≥ 1/V: lse = max(z) − log(max(p)).
      const p = tf.softmax(logits) as tf.Tensor2D; // [N, V]
      const lse = tf.sub(rowMax(logits), tf.log(rowMax(p))); // [N]
      const flat = tf.add(tf.mul(tf.range(0, N, 1, "int32"), tf.scalar(V, "int32")), targets); // row·V + target
      const picked = tf.gather(logits.reshape([N * V]), flat); // [N]: z[target]
      const value = tf.mul(tf.sub(tf.sum(lse), tf.sum(picked)), scale) as tf.Scalar; // scale · Σ (lse − z[target])
      // targets are saved (cloned and kept by the engine), not read from the closure: a caller may create them
      // inside the differentiated function, whose scope disposes them before the backward runs.
      save([h2, p, targets, ...slices]);
      return {
        value,
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
          const [h2s, pS, targetsS, ...slicesS] = saved as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D, ...tf.Tensor2D[]];
          // dL/dlogits = (softmax − onehot(target)) · scale · dy
          const dLogits = softmaxGrad(pS, targetsS, tf.mul(dy, scale) as tf.Scalar);
          // Chunk by chunk of the vocabulary: dh = Σ_j dLogits_j · W_jᵀ ([N, V_j]·[V_j, D]), and dW_j = hᵀ · dLogits_j
          // ([D, N]·[N, V_j]; tied: dLogits_jᵀ · h, [V_j, N]·[N, D], rows of E). The bias gradient Σ_n dLogits
          // rides along as one more row of hᵀ, of ones: a matMul of its own would pack all of dLogits again
          // (measured: 50 ms for [700, 10 000]; the extra row costs one copy of dW).
          const ones = tied ? tf.ones([N, 1]) : tf.ones([1, N]);
          const hAug = (tied ? tf.concat([h2s, ones], 1) : tf.concat([tf.transpose(h2s), ones], 0)) as tf.Tensor2D; // [N, D+1] or [D+1, N]
          let dh: tf.Tensor2D | null = null;
          const dws: tf.Tensor2D[] = [];
          for (const [k, c] of chunks.entries()) {
            const dj = chunks.length === 1 ? dLogits : (tf.slice(dLogits, [0, c.start], [N, c.size]) as tf.Tensor2D); // [N, V_j]
            const part = matMul(dj, slicesS[k]!, false, !tied); // [N, D]: W_jᵀ
            dh = dh === null ? part : tf.add<tf.Tensor2D>(dh, part);
            dws.push(tied ? matMulTransposeA(dj, hAug) : matMul(hAug, dj)); // [V_j, D+1] or [D+1, V_j]
          }
          if (tied) {
            const all = tf.concat(dws, 0); // [V, D+1]
            return [dh!.reshape([T, B, D]), tf.slice(all, [0, 0], [V, D]), tf.slice(all, [0, D], [V, 1]).reshape([V])];
          }
          const all = concatColumns(dws); // [D+1, V]
          return [dh!.reshape([T, B, D]), tf.slice(all, [0, 0], [D, V]), tf.slice(all, [D, 0], [1, V]).reshape([V])];
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
