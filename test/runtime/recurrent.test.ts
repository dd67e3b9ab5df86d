// The fused recurrent layer against the plain per-step formula: forward values and the gradient of a random
// linear functional of the outputs with respect to x, W, U and the biases, on seeded inputs. Run on the wasm
// backend (the default) and on cpu (the reference backend). Tolerance: float32 over ≤ 6 steps, atol 2e-5 + rtol 1e-4.
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { selectBackend } from "../../runtime/accel/backend.js";
import { gruMath, gruReferenceStep } from "../../runtime/model/gru.js";
import { lstmMath, lstmReferenceStep } from "../../runtime/model/lstm.js";
import { runSequence, type CellMath } from "../../runtime/model/recurrent.js";
import { Rng } from "../../runtime/base/rng.js";
import { rnnMath, rnnReferenceStep } from "../../runtime/model/rnn.js";
import { expectClose } from "./close.js";

const T = 5,
  B = 3,
  I = 4,
  H = 6;

function rand(rng: Rng, shape: number[], scale = 0.5): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(
    Float32Array.from({ length: n }, () => (2 * rng.uniform() - 1) * scale),
    shape,
  );
}

interface Case {
  name: string;
  math: CellMath;
  gates: number;
  hasBh: boolean;
  /** The reference: [T, B, H] outputs from plain ops, differentiable by tfjs autodiff. */
  reference(
    x: tf.Tensor3D,
    h0: tf.Tensor2D,
    c0: tf.Tensor2D,
    W: tf.Tensor2D,
    U: tf.Tensor2D,
    b: tf.Tensor1D,
    bh: tf.Tensor1D,
  ): tf.Tensor;
}

const cases: Case[] = [
  {
    name: "lstm",
    math: lstmMath,
    gates: 4,
    hasBh: false,
    reference: (x, h0, c0, W, U, b) => {
      let h = h0,
        c = c0;
      const hs = [];
      for (const xt of tf.unstack(x) as tf.Tensor2D[]) (({ h, c } = lstmReferenceStep(xt, h, c, W, U, b)), hs.push(h));
      return tf.stack(hs);
    },
  },
  {
    name: "gru",
    math: gruMath,
    gates: 3,
    hasBh: true,
    reference: (x, h0, _c0, W, U, b, bh) => {
      let h = h0;
      const hs = [];
      for (const xt of tf.unstack(x) as tf.Tensor2D[]) ((h = gruReferenceStep(xt, h, W, U, b, bh)), hs.push(h));
      return tf.stack(hs);
    },
  },
  ...(["tanh", "relu"] as const).map((act): Case => ({
    name: `rnn ${act}`,
    math: rnnMath(act),
    gates: 1,
    hasBh: false,
    reference: (x, h0, _c0, W, U, b) => {
      let h = h0;
      const hs = [];
      for (const xt of tf.unstack(x) as tf.Tensor2D[]) ((h = rnnReferenceStep(xt, h, W, U, b, act)), hs.push(h));
      return tf.stack(hs);
    },
  })),
];

for (const backend of ["wasm", "cpu"] as const) {
  describe(`fused recurrent layer on ${backend}`, () => {
    let previous = "";
    beforeAll(async () => {
      previous = tf.getBackend();
      await selectBackend(backend);
    });
    afterAll(async () => {
      if (previous) await tf.setBackend(previous);
    });

    for (const c of cases) {
      it(`${c.name}: forward and gradients match the per-step formula`, () => {
        const rng = new Rng(7);
        const x = rand(rng, [T, B, I]) as tf.Tensor3D;
        const h0 = rand(rng, [B, H]) as tf.Tensor2D;
        const c0 = rand(rng, [B, H]) as tf.Tensor2D;
        const W = rand(rng, [I, c.gates * H]) as tf.Tensor2D;
        const U = rand(rng, [H, c.gates * H]) as tf.Tensor2D;
        const b = rand(rng, [c.gates * H]) as tf.Tensor1D;
        const bh = rand(rng, [c.gates * H]) as tf.Tensor1D;
        const probe = rand(rng, [T, B, H], 1); // L = Σ probe ⊙ y: a random direction for the gradient check

        const fused = (x: tf.Tensor3D, W: tf.Tensor2D, U: tf.Tensor2D, b: tf.Tensor1D, bh: tf.Tensor1D) => {
          const r = runSequence(c.math, x, { W, U, b, bh: c.hasBh ? bh : null }, h0, c.math.hasCell ? c0 : null);
          r.h.dispose();
          r.c?.dispose();
          return r.y;
        };
        const ref = (x: tf.Tensor3D, W: tf.Tensor2D, U: tf.Tensor2D, b: tf.Tensor1D, bh: tf.Tensor1D) =>
          c.reference(x, h0, c0, W, U, b, bh) as tf.Tensor3D;
        expectClose(fused(x, W, U, b, bh), ref(x, W, U, b, bh), "forward");

        const args = c.hasBh ? [x, W, U, b, bh] : [x, W, U, b];
        const lossOf =
          (f: typeof fused) =>
          (...a: tf.Tensor[]) =>
            tf.sum(tf.mul(f(...([...a, bh] as Parameters<typeof fused>)), probe));
        const gFused = tf.grads(lossOf(fused))(args);
        const gRef = tf.grads(lossOf(ref))(args);
        ["x", "W", "U", "b", "bh"].forEach((name, k) => {
          if (name === "bh" && !c.hasBh) return;
          expectClose(gFused[k]!, gRef[k]!, `d/d${name}`);
        });
      });
    }

    // A training step runs forward and backward inside one tidy and keeps only the loss, the gradients and the
    // final state. Anything else that survives is a leak: a kept tensor per step once grew the wasm heap by
    // ~3 MB per window until tfjs aborted, halfway through a PTB epoch.
    for (const c of cases) {
      it(`${c.name}: a forward and backward pass leaves no tensor behind`, () => {
        const rng = new Rng(11);
        const W = tf.variable(rand(rng, [I, c.gates * H])),
          U = tf.variable(rand(rng, [H, c.gates * H]));
        const b = tf.variable(rand(rng, [c.gates * H])),
          bh = tf.variable(rand(rng, [c.gates * H]));
        const x = rand(rng, [T, B, I]) as tf.Tensor3D,
          h0 = rand(rng, [B, H]) as tf.Tensor2D,
          c0 = rand(rng, [B, H]) as tf.Tensor2D;
        const step = (): void => {
          let state: tf.Tensor[] = [];
          const grads = tf.tidy(() => {
            const g = tf.variableGrads(() => {
              const r = runSequence(
                c.math,
                x,
                {
                  W: W as tf.Tensor2D,
                  U: U as tf.Tensor2D,
                  b: b as tf.Tensor1D,
                  bh: c.hasBh ? (bh as tf.Tensor1D) : null,
                },
                h0,
                c.math.hasCell ? c0 : null,
              );
              state = [r.h, ...(r.c ? [r.c] : [])];
              return tf.sum(tf.square(r.y));
            });
            return [g.value, ...Object.values(g.grads)];
          });
          tf.dispose([...grads, ...state]);
        };
        step(); // the first call may allocate lazily (kernels, constants)
        const before = tf.memory().numTensors;
        for (let k = 0; k < 3; k++) step();
        expect(tf.memory().numTensors).toBe(before);
        tf.dispose([W, U, b, bh, x, h0, c0]);
      });
    }

    it("returns the final state detached, equal to the last output", () => {
      const rng = new Rng(3);
      const x = rand(rng, [T, B, I]) as tf.Tensor3D;
      const W = rand(rng, [I, 4 * H]) as tf.Tensor2D,
        U = rand(rng, [H, 4 * H]) as tf.Tensor2D,
        b = rand(rng, [4 * H]) as tf.Tensor1D;
      const z = tf.zeros([B, H]) as tf.Tensor2D;
      let finalH: tf.Tensor2D | null = null;
      const g = tf.grad((W: tf.Tensor) => {
        const r = runSequence(lstmMath, x, { W: W as tf.Tensor2D, U, b, bh: null }, z, z);
        finalH = r.h;
        // the final state is a constant: only the explicit 0·W term may reach W
        return tf.add(tf.sum(r.h), tf.mul(0, tf.sum(W)));
      })(W);
      expect(Math.max(...Array.from(tf.abs(g).dataSync()))).toBe(0);
      const r = runSequence(lstmMath, x, { W, U, b, bh: null }, z, z);
      expectClose(r.h, tf.slice(r.y, [T - 1, 0, 0], [1, B, H]).reshape([B, H]), "final h");
      expectClose(finalH!, r.h, "final h under the tape");
    });
  });
}
