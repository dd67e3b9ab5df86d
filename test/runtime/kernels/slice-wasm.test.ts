// rnnc's wasm Slice and SplitV (runtime/accel/kernels/slice-wasm.ts) replace tfjs-backend-wasm's, which copy the whole
// input per slice. They must return exactly what tfjs's cpu kernels return: slicing is a copy, so the comparison
// is exact, over ranks 1–4, contiguous and strided boxes, size −1, and both split forms.
import * as tf from "@tensorflow/tfjs";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { selectBackend } from "../../../runtime/accel/backend.js";

/** Run f on cpu and on wasm over the same values; return both results as plain arrays with shapes. */
async function onBoth(
  values: Float32Array,
  shape: number[],
  f: (x: tf.Tensor) => tf.Tensor | tf.Tensor[],
): Promise<{ cpu: unknown; wasm: unknown }> {
  const out: Record<string, unknown> = {};
  for (const b of ["cpu", "wasm"] as const) {
    await selectBackend(b);
    out[b] = tf.tidy(() => {
      const r = f(tf.tensor(values, shape));
      return [r].flat().map((t) => ({ shape: t.shape, values: Array.from(t.dataSync()) }));
    });
  }
  return { cpu: out["cpu"], wasm: out["wasm"] };
}

const iota = (n: number): Float32Array => Float32Array.from({ length: n }, (_, i) => i * 0.5 - 3);

describe("wasm Slice and SplitV (in-place reads) match tfjs-cpu exactly", () => {
  let previous = "";
  beforeAll(() => {
    previous = tf.getBackend();
  });
  afterAll(async () => {
    if (previous) await tf.setBackend(previous);
  });

  it("row blocks, column blocks, strided boxes, size −1, rank 1–4", async () => {
    const cases: [number[], number[], number[]][] = [
      [[10], [3], [4]],
      [
        [400, 8],
        [20, 0],
        [20, 8],
      ], // one time step of a [T·B, G·H] window: a contiguous block
      [
        [20, 12],
        [0, 3],
        [-1, 6],
      ], // a gate block: strided
      [
        [5, 6, 7],
        [1, 2, 3],
        [3, -1, 2],
      ],
      [
        [2, 3, 4, 5],
        [1, 0, 1, 2],
        [1, 3, 2, 3],
      ],
      [
        [4, 4],
        [0, 0],
        [4, 4],
      ], // the whole tensor
    ];
    for (const [shape, begin, size] of cases) {
      const n = shape.reduce((a, b) => a * b, 1);
      const r = await onBoth(iota(n), shape, (x) => tf.slice(x, begin, size));
      expect(r.wasm, `slice ${shape} at ${begin} size ${size}`).toEqual(r.cpu);
    }
  });

  it("split into equal parts and into sizes, along every axis", async () => {
    const x = iota(6 * 4 * 3);
    for (const axis of [0, 1, 2, -1]) {
      const n = [6, 4, 3].at(axis)!;
      for (const splits of [n, [1, n - 1], [n - 1, 1]]) {
        const r = await onBoth(x, [6, 4, 3], (t) => tf.split(t, splits, axis));
        expect(r.wasm, `split ${JSON.stringify(splits)} on axis ${axis}`).toEqual(r.cpu);
      }
    }
  });

  it("random boxes (property)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc
          .array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 4 })
          .chain((shape) =>
            fc.tuple(
              fc.constant(shape),
              fc.tuple(
                ...shape.map((n) =>
                  fc
                    .integer({ min: 0, max: n - 1 })
                    .chain((b) => fc.tuple(fc.constant(b), fc.integer({ min: 1, max: n - b }))),
                ),
              ),
            ),
          ),
        async ([shape, box]) => {
          const begin = box.map(([b]) => b),
            size = box.map(([, s]) => s);
          const r = await onBoth(iota(shape.reduce((a, b) => a * b, 1)), shape, (x) => tf.slice(x, begin, size));
          expect(r.wasm).toEqual(r.cpu);
        },
      ),
      { numRuns: 60, seed: 7 },
    );
  });
});
