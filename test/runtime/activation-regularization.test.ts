// AR and TAR (Merity et al. 2017, eq. 1–2, with awd-lstm-lm's means) against hand computation on a tiny case, and
// their gradients against the closed forms: d AR/dh = 2α·h/N, d TAR/dh_t = 2β/N'·((h_t − h_{t+1}) − (h_{t−1} − h_t)).
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import {
  activationRegularization,
  sumScalars,
  temporalActivationRegularization,
} from "../../runtime/model/activation-regularization.js";
import { selectBackend } from "../../runtime/accel/backend.js";
import { expectClose } from "./close.js";

// [T = 3, B = 1, H = 2]
const h = [[[1, -2]], [[3, 0]], [[-1, 4]]];

describe("AR and TAR", () => {
  beforeAll(async () => {
    await selectBackend("wasm");
  });

  it("AR = α·mean(h²): (1 + 4 + 9 + 0 + 1 + 16)/6 = 31/6, times α", () => {
    expectClose(activationRegularization(tf.tensor3d(h), 2), [(2 * 31) / 6], "AR");
  });

  it("TAR = β·mean((h_t − h_{t+1})²) over T − 1 steps: ((−2)² + (−2)² + 4² + (−4)²)/4 = 10, times β", () => {
    expectClose(temporalActivationRegularization(tf.tensor3d(h), 0.5), [0.5 * 10], "TAR");
    expect(temporalActivationRegularization(tf.tensor3d([[[1, 2]]]), 1).dataSync()[0]).toBe(0); // one step: no pair
  });

  it("gradients: AR 2α·h/N; TAR 2β/N'·(diff into t − diff out of t)", () => {
    const x = tf.tensor3d(h);
    const dAR = tf.grad((v: tf.Tensor) => activationRegularization(v as tf.Tensor3D, 2))(x);
    expectClose(
      dAR,
      h.flat(2).map((v) => (2 * 2 * v) / 6),
      "dAR",
    );
    const dTAR = tf.grad((v: tf.Tensor) => temporalActivationRegularization(v as tf.Tensor3D, 0.5))(x);
    const flat = h.map((s) => s[0]!);
    const want: number[] = [];
    for (let t = 0; t < 3; t++)
      for (let k = 0; k < 2; k++) {
        const out = t < 2 ? flat[t]![k]! - flat[t + 1]![k]! : 0; // (h_t − h_{t+1}) term
        const into = t > 0 ? flat[t - 1]![k]! - flat[t]![k]! : 0; // (h_{t−1} − h_t) term
        want.push(((2 * 0.5) / 4) * (out - into));
      }
    expectClose(dTAR, want, "dTAR");
    expectClose(sumScalars(tf.scalar(1.5), tf.scalar(2)), [3.5], "sum");
  });
});
