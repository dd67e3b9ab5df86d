// Embedding: the forward is a row lookup into E [V, D]; the gradient w.r.t. E is the scatter-add of the upstream
// gradient into the rows that were read, so a token id that occurs k times gets the sum of its k upstream rows.
// On wasm that gradient runs the custom UnsortedSegmentSum kernel of runtime/kernels/ (tfjs-backend-wasm 4.22 has
// none); on cpu, tfjs's own. The kernel is also compared directly with tf.unsortedSegmentSum on cpu, including ids
// outside [0, numSegments), which TF (and tfjs-cpu) drop.
// Tolerances: the lookup is a copy, so forward values must be exact; gradients are float32 sums of ≤ 8 terms against
// a float64 reference: |a − b| ≤ 2e-5 + 1e-4·|b| (close.ts defaults). Kernel vs tfjs-cpu: same tolerance.
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { selectBackend } from "../../runtime/accel/backend.js";
import { Embedding } from "../../runtime/model/embedding.js";
import { uniform } from "../../runtime/model/init.js";
import { ParameterStore } from "../../runtime/model/parameters.js";
import { Rng } from "../../runtime/base/rng.js";
import { expectClose } from "./close.js";
import { lookup, tensorOf, toF64, uniformArray } from "./reference.js";

const T = 4,
  B = 3,
  V = 6,
  D = 5;
// Row-major [T, B]; id 2 occurs 4 times, id 5 twice, ids 0 and 4 never: their rows must get exactly zero.
const TOKENS = Int32Array.from([2, 1, 2, 3, 5, 2, 1, 2, 5, 3, 1, 3]);

let uid = 0; // tfjs variable names are global to the engine

/** Reference scatter-add: dE[v] = Σ_{n: ids[n] = v} up[n]; ids outside [0, V) contribute nothing. */
function scatterAdd(up: Float64Array, ids: ArrayLike<number>, V: number, width: number): Float64Array {
  const out = new Float64Array(V * width);
  for (let n = 0; n < ids.length; n++) {
    const v = ids[n]!;
    if (v < 0 || v >= V) continue;
    for (let k = 0; k < width; k++) out[v * width + k]! += up[n * width + k]!;
  }
  return out;
}

for (const backend of ["wasm", "cpu"] as const) {
  describe(`Embedding on ${backend}`, () => {
    let previous = "";
    beforeAll(async () => {
      previous = tf.getBackend();
      await selectBackend(backend);
    });
    afterAll(async () => {
      if (previous) await tf.setBackend(previous);
    });

    it("forward is the row lookup; d/dE is the scatter-add of the upstream gradient (repeated ids accumulate)", () => {
      const rng = new Rng(5);
      const table = uniformArray(rng, V * D, 1);
      const probe = uniformArray(rng, T * B * D, 1); // L = Σ probe ⊙ lookup: the upstream gradient is probe
      const emb = new Embedding(new ParameterStore(new Rng(0)), `emb${uid++}`, V, D, uniform(0.1));
      emb.weight.assign(tensorOf(table, [V, D]) as tf.Tensor2D);
      const tokens = tf.tensor2d(TOKENS, [T, B], "int32");

      const y = emb.forward(tokens);
      expect(y.shape).toEqual([T, B, D]);
      expect(Array.from(y.dataSync())).toEqual(Array.from(lookup(table, D, TOKENS))); // exact copy

      const g = tf.variableGrads(
        () => tf.sum(tf.mul(emb.forward(tokens), tensorOf(probe, [T, B, D]))) as tf.Scalar,
        [emb.weight],
      );
      const dE = g.grads[emb.weight.name]!;
      const expected = scatterAdd(probe, TOKENS, V, D);
      expectClose(dE, expected, "dL/dE");
      const got = toF64(dE);
      for (const unused of [0, 4]) for (let k = 0; k < D; k++) expect(got[unused * D + k]).toBe(0);
      // the accumulation is really a sum (not "last write wins"): id 2's row ≠ any single one of its 4 upstream rows
      const row2 = Array.from(got.subarray(2 * D, 3 * D));
      const single = [0, 2, 5, 7].map((n) => Array.from(probe.subarray(n * D, (n + 1) * D)));
      for (const s of single) expect(Math.max(...row2.map((v, k) => Math.abs(v - s[k]!)))).toBeGreaterThan(1e-3);
    });
  });
}

describe("UnsortedSegmentSum on wasm (runtime/kernels) vs tf.unsortedSegmentSum on cpu", () => {
  let previous = "";
  beforeAll(() => {
    previous = tf.getBackend();
  });
  afterAll(async () => {
    if (previous) await tf.setBackend(previous);
  });

  // [shape of x, ids (one per leading row), numSegments]. Negative and ≥ numSegments ids are dropped (TF semantics).
  const cases: [number[], number[], number][] = [
    [[5], [0, 2, 2, 1, 0], 3], // 1-D x
    [[6, 4], [3, 0, 3, 3, 1, 0], 5], // segment 2 and 4 empty
    [[4, 2, 3], [1, 1, 0, 1], 2], // trailing dims are carried as a block
    [[7, 3], [0, -1, 2, 4, 2, -3, 1], 3], // negative and too-large ids
    [[3, 2], [9, 9, 9], 2], // every id out of range: all zeros
  ];

  for (const [shape, ids, numSegments] of cases)
    it(`x [${shape}], ids [${ids}], ${numSegments} segments`, async () => {
      const rng = new Rng(shape.length * 100 + ids.length);
      const n = shape.reduce((a, b) => a * b, 1);
      const x = uniformArray(rng, n, 1);
      const width = n / shape[0]!;
      const expected = scatterAdd(x, ids, numSegments, width);

      await selectBackend("cpu");
      const onCpu = tf.unsortedSegmentSum(tensorOf(x, shape), tf.tensor1d(ids, "int32"), numSegments);
      const cpuValues = toF64(onCpu);
      const cpuShape = onCpu.shape;

      await selectBackend("wasm");
      const onWasm = tf.unsortedSegmentSum(tensorOf(x, shape), tf.tensor1d(ids, "int32"), numSegments);
      expect(onWasm.shape).toEqual([numSegments, ...shape.slice(1)]);
      expect(onWasm.shape).toEqual(cpuShape);
      expectClose(onWasm, cpuValues, "wasm vs cpu");
      expectClose(onWasm, expected, "wasm vs reference");
    });
});
