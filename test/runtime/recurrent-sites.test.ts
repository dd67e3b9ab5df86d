// The recurrent sites inside the fused op (runtime/model/recurrent.ts) against a plain per-step formula built from tfjs ops and
// differentiated by tfjs autodiff: recurrent dropout on h_{t-1} where it enters U (variational: one [B, H] mask;
// per_step: a [T, B, H] mask), and zoneout of h and c (Krueger et al. 2017, eq. 5–6) with {0, 1} masks in
// training and the expectation p at evaluation. Forward values and the gradients of a random linear functional of
// the outputs w.r.t. x, W, U and the biases, for LSTM, GRU and tanh RNN, on wasm and cpu.
// Tolerance: float32 over ≤ 6 steps, atol 2e-5 + rtol 1e-4 (close.ts defaults).
// Weight drop (runtime/model/weight-drop.ts) and the layer that draws every mask (runtime/model/recurrent-layer.ts) are checked below it.
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { selectBackend } from "../../runtime/accel/backend.js";
import { bernoulli, bernoulliMask } from "../../runtime/model/dropout.js";
import { gruMath } from "../../runtime/model/gru.js";
import { uniform } from "../../runtime/model/init.js";
import { StepContext } from "../../runtime/model/language-model.js";
import { lstmMath } from "../../runtime/model/lstm.js";
import { ParameterStore } from "../../runtime/model/parameters.js";
import { runSequence, type CellMath, type RecurrenceSites } from "../../runtime/model/recurrent.js";
import { recurrentMask } from "../../runtime/model/recurrent-dropout.js";
import { RecurrentLayer, type RecurrentLayerOptions } from "../../runtime/model/recurrent-layer.js";
import { Rng } from "../../runtime/base/rng.js";
import { rnnMath } from "../../runtime/model/rnn.js";
import { zoneoutMask } from "../../runtime/model/zoneout.js";
import { expectClose } from "./close.js";

const T = 5,
  B = 3,
  I = 4,
  H = 6;
type T2 = tf.Tensor2D;

function rand(rng: Rng, shape: number[], scale = 0.5): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(
    Float32Array.from({ length: n }, () => (2 * rng.uniform() - 1) * scale),
    shape,
  );
}

/** One step of each cell as plain ops, with h_{t-1} entering U as `hU` and everywhere else as `h`. */
type RefStep = (x: T2, hU: T2, h: T2, c: T2, W: T2, U: T2, b: tf.Tensor1D, bh: tf.Tensor1D) => { h: T2; c: T2 };
const blk = (m: T2, k: number): T2 => tf.slice(m, [0, k * H], [-1, H]);
const lstmRef: RefStep = (x, hU, _h, c, W, U, b) => {
  const pre = tf.add(tf.add(tf.matMul(x, W), tf.matMul(hU, U)), b) as T2; // gates [i | f | o | g]
  const c2 = tf.add(tf.mul(tf.sigmoid(blk(pre, 1)), c), tf.mul(tf.sigmoid(blk(pre, 0)), tf.tanh(blk(pre, 3)))) as T2;
  return { h: tf.mul(tf.sigmoid(blk(pre, 2)), tf.tanh(c2)) as T2, c: c2 };
};
const gruRef: RefStep = (x, hU, h, c, W, U, b, bh) => {
  const a = tf.add(tf.matMul(x, W), b) as T2,
    r = tf.add(tf.matMul(hU, U), bh) as T2; // [r | z | n]
  const rg = tf.sigmoid(tf.add(blk(a, 0), blk(r, 0))),
    z = tf.sigmoid(tf.add(blk(a, 1), blk(r, 1)));
  const n = tf.tanh(tf.add(blk(a, 2), tf.mul(rg, blk(r, 2))));
  return { h: tf.add(tf.mul(tf.sub(1, z), n), tf.mul(z, h)) as T2, c };
};
const rnnRef: RefStep = (x, hU, _h, c, W, U, b) => ({
  h: tf.tanh(tf.add(tf.add(tf.matMul(x, W), tf.matMul(hU, U)), b)) as T2,
  c,
});

const CELLS: { name: string; math: CellMath; gates: number; hasBh: boolean; ref: RefStep }[] = [
  { name: "lstm", math: lstmMath, gates: 4, hasBh: false, ref: lstmRef },
  { name: "gru", math: gruMath, gates: 3, hasBh: true, ref: gruRef },
  { name: "rnn tanh", math: rnnMath("tanh"), gates: 1, hasBh: false, ref: rnnRef },
];

const at = (m: tf.Tensor | number, t: number): T2 | number =>
  typeof m === "number" ? m : m.rank === 2 ? (m as T2) : (tf.slice(m, [t, 0, 0], [1, B, H]).reshape([B, H]) as T2);

/** The sites applied step by step: h_in = m_t ⊙ h_{t-1}; h_t = h̃ + z_t ⊙ (h_{t-1} − h̃), and the same for c. */
function reference(
  ref: RefStep,
  x: tf.Tensor3D,
  h0: T2,
  c0: T2,
  W: T2,
  U: T2,
  b: tf.Tensor1D,
  bh: tf.Tensor1D,
  s: RecurrenceSites,
  hasCell: boolean,
): tf.Tensor3D {
  let h = h0,
    c = c0;
  const hs: T2[] = [];
  (tf.unstack(x) as T2[]).forEach((xt, t) => {
    const hU = s.recurrentMask ? (tf.mul(h, at(s.recurrentMask, t)) as T2) : h;
    const next = ref(xt, hU, h, c, W, U, b, bh);
    const zone = (nw: T2, prev: T2, z: tf.Tensor | number | null | undefined): T2 =>
      z == null ? nw : (tf.add(nw, tf.mul(at(z, t), tf.sub(prev, nw))) as T2);
    const hNew = zone(next.h, h, s.zoneoutHidden);
    c = hasCell ? zone(next.c, c, s.zoneoutCell) : c;
    h = hNew;
    hs.push(h);
  });
  return tf.stack(hs) as tf.Tensor3D;
}

/** Each case draws its masks when the test runs (the backend exists only then). */
const SITE_CASES: { name: string; sites: (rng: Rng) => RecurrenceSites }[] = [
  { name: "variational recurrent dropout", sites: (rng) => ({ recurrentMask: bernoulliMask(rng, [B, H], 0.4) as T2 }) },
  {
    name: "per-step recurrent dropout",
    sites: (rng) => ({ recurrentMask: bernoulliMask(rng, [T, B, H], 0.4) as tf.Tensor3D }),
  },
  {
    name: "zoneout in training",
    sites: (rng) => ({
      zoneoutHidden: bernoulli(rng, [T, B, H], 0.3) as tf.Tensor3D,
      zoneoutCell: bernoulli(rng, [T, B, H], 0.5) as tf.Tensor3D,
    }),
  },
  { name: "zoneout at evaluation (the expectation)", sites: () => ({ zoneoutHidden: 0.3, zoneoutCell: 0.5 }) },
  {
    name: "recurrent dropout and zoneout together",
    sites: (rng) => ({
      recurrentMask: bernoulliMask(rng, [B, H], 0.25) as T2,
      zoneoutHidden: bernoulli(rng, [T, B, H], 0.2) as tf.Tensor3D,
      zoneoutCell: 0.1,
    }),
  },
];

for (const backend of ["wasm", "cpu"] as const) {
  describe(`recurrent sites in the fused op, on ${backend}`, () => {
    let previous = "";
    beforeAll(async () => {
      previous = tf.getBackend();
      await selectBackend(backend);
    });
    afterAll(async () => {
      if (previous) await tf.setBackend(previous);
    });

    for (const cell of CELLS)
      for (const { name, sites } of SITE_CASES) {
        it(`${cell.name}, ${name}: forward and gradients match the per-step formula`, () => {
          const rng = new Rng(5);
          const x = rand(rng, [T, B, I]) as tf.Tensor3D;
          const h0 = rand(rng, [B, H]) as T2,
            c0 = rand(rng, [B, H]) as T2;
          const W = rand(rng, [I, cell.gates * H]) as T2,
            U = rand(rng, [H, cell.gates * H]) as T2;
          const b = rand(rng, [cell.gates * H]) as tf.Tensor1D,
            bh = rand(rng, [cell.gates * H]) as tf.Tensor1D;
          const probe = rand(rng, [T, B, H], 1);
          const drawn = sites(new Rng(99));
          const s: RecurrenceSites = cell.math.hasCell ? drawn : { ...drawn, zoneoutCell: null }; // c: LSTM only
          const fused = (x: tf.Tensor3D, W: T2, U: T2, b: tf.Tensor1D, bh: tf.Tensor1D): tf.Tensor3D => {
            const r = runSequence(
              cell.math,
              x,
              { W, U, b, bh: cell.hasBh ? bh : null },
              h0,
              cell.math.hasCell ? c0 : null,
              s,
            );
            r.h.dispose();
            r.c?.dispose();
            return r.y;
          };
          const ref = (x: tf.Tensor3D, W: T2, U: T2, b: tf.Tensor1D, bh: tf.Tensor1D): tf.Tensor3D =>
            reference(cell.ref, x, h0, c0, W, U, b, bh, s, cell.math.hasCell);
          expectClose(fused(x, W, U, b, bh), ref(x, W, U, b, bh), "forward");
          const args = cell.hasBh ? [x, W, U, b, bh] : [x, W, U, b];
          const lossOf =
            (f: typeof fused) =>
            (...a: tf.Tensor[]) =>
              tf.sum(tf.mul(f(...([...a, bh] as Parameters<typeof fused>)), probe));
          const gFused = tf.grads(lossOf(fused))(args),
            gRef = tf.grads(lossOf(ref))(args);
          ["x", "W", "U", "b", "bh"]
            .slice(0, args.length)
            .forEach((n, k) => expectClose(gFused[k]!, gRef[k]!, `d/d${n}`));
        });
      }

    it("the final state carries zoneout: h_T and c_T are the zoned values the next window starts from", () => {
      const rng = new Rng(8);
      const x = rand(rng, [T, B, I]) as tf.Tensor3D,
        h0 = rand(rng, [B, H]) as T2,
        c0 = rand(rng, [B, H]) as T2;
      const W = rand(rng, [I, 4 * H]) as T2,
        U = rand(rng, [H, 4 * H]) as T2,
        b = rand(rng, [4 * H]) as tf.Tensor1D;
      const all = tf.ones([T, B, H]) as tf.Tensor3D; // z = 1 everywhere: every unit keeps its previous value
      const r = runSequence(lstmMath, x, { W, U, b, bh: null }, h0, c0, { zoneoutHidden: all, zoneoutCell: all });
      expectClose(r.h, h0, "h_T = h_0");
      expectClose(r.c!, c0, "c_T = c_0");
    });
  });
}

describe("RecurrentLayer draws its masks: weight drop, recurrent dropout, zoneout", () => {
  beforeAll(async () => {
    await selectBackend("wasm");
  });
  let uid = 0;

  function layer(opts: Omit<RecurrentLayerOptions, "init" | "recurrentInit">): RecurrentLayer {
    return new RecurrentLayer(new ParameterStore(new Rng(1)), `sites${uid++}`, "lstm", I, H, {
      init: uniform(0.5),
      recurrentInit: uniform(0.5),
      ...opts,
    });
  }

  it("weight drop: the forward runs on M ⊙ U with one mask per window, dU = M ⊙ dU', and evaluation uses U", () => {
    const p = 0.5;
    const l = layer({ weightDrop: p });
    const rng = new Rng(3);
    const x = rand(rng, [T, B, I]) as tf.Tensor3D;
    const s0 = l.zeroState(B);
    const probe = rand(rng, [T, B, H], 1);
    // The layer draws the weight mask first from the context's stream: the same seed redraws it here.
    const M = bernoulliMask(new Rng(42), l.U.shape, p) as T2;
    const mine = tf.variableGrads(
      () => tf.sum(tf.mul(l.forward(x, s0, new StepContext(true, new Rng(42))).y, probe)),
      [l.U],
    );
    const ref = tf.variableGrads(() => {
      const r = runSequence(lstmMath, x, { W: l.W, U: tf.mul(l.U, M) as T2, b: l.b, bh: null }, s0.h, s0.c);
      return tf.sum(tf.mul(r.y, probe));
    }, [l.U]);
    expectClose(mine.value, ref.value, "loss");
    expectClose(mine.grads[l.U.name]!, ref.grads[l.U.name]!, "dU");
    const dU = mine.grads[l.U.name]!.dataSync(),
      m = M.dataSync();
    for (let i = 0; i < m.length; i++) if (m[i] === 0) expect(Math.abs(dU[i]!)).toBe(0); // dropped weights learn nothing this window
    const kept = Array.from(m).filter((v) => v > 0);
    expect(new Set(kept)).toEqual(new Set([1 / (1 - p)])); // inverted scaling
    const n = m.length,
      rate = 1 - kept.length / n; // 4σ bound on the drop rate over H·4H = 144 weights
    expect(Math.abs(rate - p)).toBeLessThan(4 * Math.sqrt((p * (1 - p)) / n));
    const evalY = l.forward(x, s0, new StepContext(false, new Rng(42))).y;
    const plain = runSequence(lstmMath, x, { W: l.W, U: l.U, b: l.b, bh: null }, s0.h, s0.c).y;
    expectClose(evalY, plain, "evaluation: U as it is");
  });

  it("evaluation applies no recurrent dropout and zoneout's expectation", () => {
    const l = layer({ recurrentDropout: { p: 0.5, mode: "variational" }, zoneout: { hidden: 0.3, cell: 0.4 } });
    const rng = new Rng(4);
    const x = rand(rng, [T, B, I]) as tf.Tensor3D;
    const s0 = l.zeroState(B);
    const evalY = l.forward(x, s0, new StepContext(false, new Rng(0))).y;
    const ref = runSequence(lstmMath, x, { W: l.W, U: l.U, b: l.b, bh: null }, s0.h, s0.c, {
      zoneoutHidden: 0.3,
      zoneoutCell: 0.4,
    }).y;
    expectClose(evalY, ref, "eval");
  });

  it("a layer with recurrent sites refuses to run without the step context", () => {
    const l = layer({ zoneout: { hidden: 0.1, cell: 0 } });
    expect(() => l.forward(tf.zeros([T, B, I]) as tf.Tensor3D, l.zeroState(B))).toThrow(/StepContext/);
  });
});

describe("recurrent and zoneout masks: rates and sharing", () => {
  const Tn = 20,
    Bn = 16,
    Hn = 50;
  const bound = (p: number, n: number): number => 4 * Math.sqrt((p * (1 - p)) / n); // 4σ

  it("variational: one [B, H] mask for every step, drop rate p, kept units scaled by 1/(1−p)", () => {
    const m = recurrentMask({ p: 0.3, mode: "variational" }, Tn, Bn, Hn, new Rng(1), true)!;
    expect(m.shape).toEqual([Bn, Hn]); // the same tensor multiplies h_{t-1} at every step (runtime/model/recurrent.ts)
    const v = m.dataSync();
    const dropped = v.filter((x) => x === 0).length / v.length;
    expect(Math.abs(dropped - 0.3)).toBeLessThan(bound(0.3, v.length));
    expect(new Set(v)).toEqual(new Set([0, 1 / 0.7].map(Math.fround)));
  });

  it("per_step: a fresh [B, H] mask at every step (steps differ), drop rate p", () => {
    const m = recurrentMask({ p: 0.3, mode: "per_step" }, Tn, Bn, Hn, new Rng(2), true)!;
    expect(m.shape).toEqual([Tn, Bn, Hn]);
    const steps = tf.unstack(m).map((s) => Array.from(s.dataSync()).join());
    expect(new Set(steps).size).toBe(Tn);
    const v = m.dataSync();
    expect(Math.abs(v.filter((x) => x === 0).length / v.length - 0.3)).toBeLessThan(bound(0.3, v.length));
  });

  it("no mask at evaluation or at p = 0", () => {
    expect(recurrentMask({ p: 0.3, mode: "variational" }, Tn, Bn, Hn, new Rng(1), false)).toBeNull();
    expect(recurrentMask({ p: 0, mode: "per_step" }, Tn, Bn, Hn, new Rng(1), true)).toBeNull();
  });

  it("zoneout: {0, 1} per step and unit, 1 (keep the previous value) with probability p; p itself at evaluation", () => {
    const z = zoneoutMask(0.15, Tn, Bn, Hn, new Rng(3), true) as tf.Tensor3D;
    const v = z.dataSync();
    expect(new Set(v)).toEqual(new Set([0, 1]));
    expect(Math.abs(v.filter((x) => x === 1).length / v.length - 0.15)).toBeLessThan(bound(0.15, v.length));
    expect(new Set(tf.unstack(z).map((s) => Array.from(s.dataSync()).join())).size).toBe(Tn);
    expect(zoneoutMask(0.15, Tn, Bn, Hn, new Rng(3), false)).toBe(0.15);
    expect(zoneoutMask(0, Tn, Bn, Hn, new Rng(3), true)).toBeNull();
  });
});
