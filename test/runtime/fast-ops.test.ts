// addMany (runtime/accel/fast-ops.ts): tf.addN in groups, because tfjs's webgpu AddN fails (silently) with more inputs
// than WebGPU's storage buffers per shader stage. The grouping is checked here on cpu with small groups; on webgpu
// itself by bench/webgpu-check.ts.
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { selectBackend } from "../../runtime/accel/backend.js";
import { addMany } from "../../runtime/accel/fast-ops.js";

describe("addMany", () => {
  beforeAll(async () => {
    await selectBackend("cpu");
  });
  const terms = (n: number): tf.Tensor1D[] =>
    Array.from({ length: n }, (_, k) => tf.tensor1d([k + 1, -2 * (k + 1), 0.5]));

  for (const [n, group] of [
    [10, 7],
    [10, 3],
    [8, 2],
    [7, 7],
    [2, Infinity],
    [23, 4],
  ] as const) {
    it(`${n} terms in groups of at most ${group}: the exact sum`, () => {
      const s = (n * (n + 1)) / 2;
      expect(Array.from(addMany(terms(n), group).dataSync())).toEqual([s, -2 * s, 0.5 * n]);
    });
  }

  it("one term is returned as it is, and the default grouping on cpu sums 40 terms exactly", () => {
    const [t] = terms(1);
    expect(addMany([t!])).toBe(t);
    expect(Array.from(addMany(terms(40)).dataSync())).toEqual([820, -1640, 20]);
  });

  it("is differentiable: the gradient of Σ over every term is 1 for each", () => {
    const g = tf.grads((...xs: tf.Tensor[]) => tf.sum(addMany(xs, 3)))(terms(5));
    for (const gi of g) expect(Array.from(gi.dataSync())).toEqual([1, 1, 1]);
  });
});
