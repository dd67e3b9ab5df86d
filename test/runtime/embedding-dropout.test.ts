// Embedding dropout (runtime/model/embedding-dropout.ts, Gal & Ghahramani 2016 §4.2): a dropped word type reads a zero
// vector at every one of its occurrences in the window, a kept one reads its row scaled by 1/(1−p); its gradient
// is the scatter-add of the upstream rows, scaled the same way, and zero for dropped types. Evaluation reads E.
// Exact comparisons for the forward (a lookup and one multiply); gradients at close.ts's tolerance.
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { selectBackend } from "../../runtime/accel/backend.js";
import { bernoulliMask } from "../../runtime/model/dropout.js";
import { Embedding } from "../../runtime/model/embedding.js";
import { uniform } from "../../runtime/model/init.js";
import { StepContext } from "../../runtime/model/language-model.js";
import { ParameterStore } from "../../runtime/model/parameters.js";
import { Rng } from "../../runtime/base/rng.js";
import { expectClose } from "./close.js";

const V = 40,
  D = 3,
  T = 6,
  B = 5,
  p = 0.5;

describe("embedding dropout", () => {
  beforeAll(async () => {
    await selectBackend("wasm");
  });

  it("drops whole word types for the window, scales the rest, and routes gradients only to kept rows", () => {
    const emb = new Embedding(new ParameterStore(new Rng(1)), "edrop", V, D, uniform(0.5), p);
    const ids = Int32Array.from({ length: T * B }, (_, i) => (i * 7) % 12); // 12 types, each repeated
    const tokens = tf.tensor2d(ids, [T, B], "int32");
    const m = bernoulliMask(new Rng(9), [V, 1], p).dataSync(); // the mask the context's stream draws first
    const E = emb.weight.arraySync() as number[][];
    const up = tf.randomUniform([T, B, D], -1, 1, "float32", 3);
    const { value, grads } = tf.variableGrads(
      () => tf.sum(tf.mul(emb.forward(tokens, new StepContext(true, new Rng(9))), up)),
      [emb.weight],
    );
    const out = tf.tidy(() => emb.forward(tokens, new StepContext(true, new Rng(9))).arraySync()) as number[][][];
    const upA = up.arraySync() as number[][][];
    const expectGrad = Array.from({ length: V }, () => new Float64Array(D));
    let expectValue = 0;
    for (let t = 0; t < T; t++)
      for (let b = 0; b < B; b++) {
        const v = ids[t * B + b]!;
        for (let d = 0; d < D; d++) {
          expect(out[t]![b]![d]).toBe(Math.fround(E[v]![d]! * m[v]!)); // zero for a dropped type, everywhere it occurs
          expectGrad[v]![d]! += upA[t]![b]![d]! * m[v]!;
          expectValue += E[v]![d]! * m[v]! * upA[t]![b]![d]!;
        }
      }
    expectClose(value, [expectValue], "value");
    expectClose(
      grads[emb.weight.name]!,
      expectGrad.flatMap((r) => Array.from(r)),
      "dE",
    );
    expect(new Set(Array.from(m).filter((x) => x > 0))).toEqual(new Set([Math.fround(1 / (1 - p))]));
  });

  it("evaluation reads E as it is; training without the context is refused", () => {
    const emb = new Embedding(new ParameterStore(new Rng(2)), "edrop-eval", V, D, uniform(0.5), p);
    const tokens = tf.tensor2d(
      Int32Array.from({ length: T * B }, (_, i) => i % V),
      [T, B],
      "int32",
    );
    const plain = tf.gather(emb.weight, tokens.reshape([T * B])).reshape([T, B, D]);
    expectClose(emb.forward(tokens, new StepContext(false, new Rng(0))), plain, "eval");
    expect(() => emb.forward(tokens)).toThrow(/StepContext/);
  });
});
