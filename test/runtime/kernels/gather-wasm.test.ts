// rnnc's wasm GatherV2 (runtime/accel/kernels/gather-wasm.ts) against tfjs-cpu's: a copy, so exactly equal; every axis,
// batchDims, repeated indices, int32 data; an index out of range is refused on both.
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { selectBackend } from "../../../runtime/accel/backend.js";

async function onBoth(f: () => tf.Tensor): Promise<{ cpu: unknown; wasm: unknown }> {
  const out: Record<string, unknown> = {};
  for (const b of ["cpu", "wasm"] as const) {
    await selectBackend(b);
    out[b] = tf.tidy(() => {
      const r = f();
      return { shape: r.shape, dtype: r.dtype, values: Array.from(r.dataSync()) };
    });
  }
  return { cpu: out["cpu"], wasm: out["wasm"] };
}

const iota = (shape: number[], dtype: "float32" | "int32" = "float32"): tf.Tensor =>
  tf.tensor(
    Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => (dtype === "int32" ? i : i * 0.25 - 2)),
    shape,
    dtype,
  );

describe("wasm GatherV2 (in-place row copies) matches tfjs-cpu exactly", () => {
  let previous = "";
  beforeAll(() => {
    previous = tf.getBackend();
  });
  afterAll(async () => {
    if (previous) await tf.setBackend(previous);
  });

  it("embedding lookups: rows of [V, D] by a [T·B] id vector, ids repeated", async () => {
    const r = await onBoth(() => tf.gather(iota([50, 7]), tf.tensor1d([3, 3, 0, 49, 12, 3], "int32")));
    expect(r.wasm).toEqual(r.cpu);
  });

  it("every axis of a rank-3 tensor, 2-D indices, int32 data", async () => {
    for (const axis of [0, 1, 2, -1]) {
      const r = await onBoth(() =>
        tf.gather(
          iota([4, 5, 6], "int32"),
          tf.tensor2d(
            [
              [1, 0],
              [3, 1],
            ],
            [2, 2],
            "int32",
          ),
          axis,
        ),
      );
      expect(r.wasm, `axis ${axis}`).toEqual(r.cpu);
    }
  });

  it("batchDims 1", async () => {
    const r = await onBoth(() =>
      tf.gather(
        iota([3, 5, 2]),
        tf.tensor2d(
          [
            [4, 0],
            [1, 1],
            [2, 3],
          ],
          [3, 2],
          "int32",
        ),
        1,
        1,
      ),
    );
    expect(r.wasm).toEqual(r.cpu);
  });

  it("an index out of range is an error", async () => {
    await selectBackend("wasm");
    expect(() => tf.gather(iota([4, 2]), tf.tensor1d([4], "int32"))).toThrow(/not in \[0, 3\]/);
  });
});
