// rnnc's fused LSTM-step backward on wasm (runtime/accel/kernels/lstm-backward-wasm.ts) against the same step as tfjs ops
// on tfjs-cpu (lstmMath.backward takes the op path there): da, the gate pre-activations' gradient, and dc_{t-1}, with
// and without a gradient arriving from step t+1. Both are float32 results of the same formula; the kernel rounds
// once, the ops after every product, so they agree to a few ulps: |a − b| ≤ 1e-6 + 1e-5·|b|.
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { selectBackend } from "../../../runtime/accel/backend.js";
import { LSTM_BACKWARD } from "../../../runtime/accel/kernels/lstm-backward-wasm.js";
import { lstmMath } from "../../../runtime/model/lstm.js";
import { Rng } from "../../../runtime/base/rng.js";

const B = 3,
  H = 5;

/** Saved activations as a forward leaves them: σ of i, f, o in (0, 1), tanh of g and of c_t in (−1, 1). */
function inputs(seed: number): Record<string, { shape: [number, number]; data: Float32Array }> {
  const rng = new Rng(seed);
  const u = (n: number, lo: number, hi: number): Float32Array =>
    Float32Array.from({ length: n }, () => lo + (hi - lo) * rng.uniform());
  return {
    dh: { shape: [B, H], data: u(B * H, -2, 2) },
    dc: { shape: [B, H], data: u(B * H, -2, 2) },
    sg: { shape: [B, 3 * H], data: u(3 * B * H, 0.01, 0.99) },
    g: { shape: [B, H], data: u(B * H, -0.99, 0.99) },
    tc: { shape: [B, H], data: u(B * H, -0.99, 0.99) },
    cPrev: { shape: [B, H], data: u(B * H, -3, 3) },
  };
}

async function backwardOn(
  backend: "cpu" | "wasm",
  seed: number,
  withDc: boolean,
): Promise<{ da: number[]; dcPrev: number[]; fused: boolean }> {
  await selectBackend(backend);
  const fused = Boolean(tf.getKernel(LSTM_BACKWARD, backend));
  return tf.tidy(() => {
    const t = Object.fromEntries(
      Object.entries(inputs(seed)).map(([k, v]) => [k, tf.tensor2d(v.data, v.shape)]),
    ) as Record<string, tf.Tensor2D>;
    const r = lstmMath.backward(
      t["dh"]!,
      withDc ? t["dc"]! : null,
      [t["sg"]!, t["g"]!, t["tc"]!],
      t["cPrev"]!,
      t["cPrev"]!,
    );
    expect(r.dr).toBe(r.da);
    return { da: Array.from(r.da.dataSync()), dcPrev: Array.from(r.dcPrev!.dataSync()), fused };
  });
}

const expectNear = (a: number[], b: number[], what: string): void => {
  expect(a.length, what).toBe(b.length);
  a.forEach((x, k) =>
    expect(Math.abs(x - b[k]!), `${what}[${k}]: ${x} vs ${b[k]}`).toBeLessThanOrEqual(1e-6 + 1e-5 * Math.abs(b[k]!)),
  );
};

describe("wasm LSTM-step backward kernel matches the op sequence on tfjs-cpu", () => {
  let previous = "";
  beforeAll(() => {
    previous = tf.getBackend();
  });
  afterAll(async () => {
    if (previous) await tf.setBackend(previous);
  });

  for (const withDc of [true, false])
    it(`da and dc_{t-1}, ${withDc ? "with" : "without (the window's last step)"} dc from step t+1`, async () => {
      for (const seed of [1, 2, 3]) {
        const wasm = await backwardOn("wasm", seed, withDc);
        const cpu = await backwardOn("cpu", seed, withDc);
        expect([wasm.fused, cpu.fused]).toEqual([true, false]); // the kernel is what ran on wasm, the ops on cpu
        expectNear(wasm.da, cpu.da, "da");
        expectNear(wasm.dcPrev, cpu.dcPrev, "dcPrev");
        expect(wasm.da.some((x) => x !== 0)).toBe(true);
      }
    });
});
