// Element-wise closeness with a stated tolerance: |a − b| ≤ atol + rtol·|b|, reporting the worst element.
import type * as tf from "@tensorflow/tfjs";
import { expect } from "vitest";

export function expectClose(
  actual: tf.Tensor | ArrayLike<number>,
  expected: tf.Tensor | ArrayLike<number>,
  what: string,
  atol = 2e-5,
  rtol = 1e-4,
): void {
  const a = "dataSync" in actual ? actual.dataSync() : actual;
  const b = "dataSync" in expected ? expected.dataSync() : expected;
  if ("shape" in actual && "shape" in expected) expect(actual.shape, `${what}: shape`).toEqual(expected.shape);
  expect(a.length, `${what}: size`).toBe(b.length);
  let worst = -1,
    excess = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!) - (atol + rtol * Math.abs(b[i]!));
    if (!(d <= excess)) {
      excess = Number.isNaN(d) ? Infinity : d;
      worst = i;
    }
  }
  expect(
    worst,
    worst < 0 ? "" : `${what}: element ${worst}: ${a[worst]} vs ${b[worst]} (atol ${atol}, rtol ${rtol})`,
  ).toBe(-1);
}
