// Normalization inside the fused op (runtime/model/recurrent.ts, runtime/model/normalization.ts) against a per-step formula written with plain
// tfjs ops and differentiated by tfjs autodiff:
//   gates = γ_x ⊙ N(x_t W) + γ_h ⊙ N(h_{t-1} U) + b,  h_t = σ(o) ⊙ tanh(γ_c ⊙ N(c_t) + β_c)   (Cooijmans et al. 2017)
// with N over the batch per time step (batch norm, training), population statistics of slot min(t, T_max − 1)
// (batch norm, evaluation, including steps beyond T_max), or over the units of each example (layer norm).
// Forward values and gradients w.r.t. x, W, U, b and every γ/β, on wasm and cpu; then the population update, and
// that statistics are kept per time step, not shared across time (the bug of many ports).
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { selectBackend } from "../../runtime/accel/backend.js";
import { gruMath } from "../../runtime/model/gru.js";
import { uniform } from "../../runtime/model/init.js";
import { StepContext } from "../../runtime/model/language-model.js";
import { lstmMath } from "../../runtime/model/lstm.js";
import { ParameterStore } from "../../runtime/model/parameters.js";
import { runSequence, type CellMath, type NormSiteParams, type SequenceNorm } from "../../runtime/model/recurrent.js";
import { RecurrentLayer } from "../../runtime/model/recurrent-layer.js";
import { Rng } from "../../runtime/base/rng.js";
import { rnnMath } from "../../runtime/model/rnn.js";
import { expectClose } from "./close.js";

const T = 5,
  B = 4,
  I = 3,
  H = 5,
  EPS = 1e-5;
type T2 = tf.Tensor2D;
const blk = (m: T2, k: number): T2 => tf.slice(m, [0, k * H], [-1, H]);

function rand(rng: Rng, shape: number[], scale = 0.5, offset = 0): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(
    Float32Array.from({ length: n }, () => offset + (2 * rng.uniform() - 1) * scale),
    shape,
  );
}

/** N(z) by the textbook formula: over the batch (axis 0) for batch norm, over the units (axis 1) for layer norm. */
function refNorm(z: T2, kind: "batch" | "layer", pop: { mean: T2; variance: T2 } | null, t: number): T2 {
  if (pop) {
    const s = Math.min(t, pop.mean.shape[0] - 1); // beyond T_max: T_max's statistics
    const mean = tf.slice(pop.mean, [s, 0], [1, -1]),
      variance = tf.slice(pop.variance, [s, 0], [1, -1]);
    return tf.div(tf.sub(z, mean), tf.sqrt(tf.add(variance, EPS))) as T2;
  }
  const { mean, variance } = tf.moments(z, kind === "batch" ? 0 : 1, true);
  return tf.div(tf.sub(z, mean), tf.sqrt(tf.add(variance, EPS))) as T2;
}

interface Case {
  readonly cell: string;
  readonly math: CellMath;
  readonly gates: number;
}
const CELLS: Case[] = [
  { cell: "lstm", math: lstmMath, gates: 4 },
  { cell: "gru", math: gruMath, gates: 3 },
  { cell: "rnn tanh", math: rnnMath("tanh"), gates: 1 },
];

/** The normalized cell, one step at a time. */
function reference(
  c: Case,
  x: tf.Tensor3D,
  h0: T2,
  c0: T2,
  W: T2,
  U: T2,
  b: tf.Tensor1D,
  bh: tf.Tensor1D,
  n: SequenceNorm,
): tf.Tensor3D {
  const pop = (p?: NormSiteParams) =>
    n.kind === "batch" && !n.training && p?.population
      ? { mean: p.population.mean as T2, variance: p.population.variance as T2 }
      : null;
  const N = (z: T2, p: NormSiteParams | undefined, t: number): T2 => {
    if (!p) return z;
    const y = tf.mul(refNorm(z, n.kind, pop(p), t), p.gamma);
    return (p.beta ? tf.add(y, p.beta) : y) as T2;
  };
  let h = h0,
    cs = c0;
  const hs: T2[] = [];
  (tf.unstack(x) as T2[]).forEach((xt, t) => {
    const a = tf.add(N(tf.matMul(xt, W) as T2, n.input, t), b) as T2;
    const r = N(tf.matMul(h, U) as T2, n.recurrent, t);
    if (c.cell === "lstm") {
      const pre = tf.add(a, r) as T2; // [i | f | o | g]
      cs = tf.add(tf.mul(tf.sigmoid(blk(pre, 1)), cs), tf.mul(tf.sigmoid(blk(pre, 0)), tf.tanh(blk(pre, 3)))) as T2;
      h = tf.mul(tf.sigmoid(blk(pre, 2)), tf.tanh(N(cs, n.cell, t))) as T2;
    } else if (c.cell === "gru") {
      const rr = tf.add(r, bh) as T2; // [r | z | n]
      const rg = tf.sigmoid(tf.add(blk(a, 0), blk(rr, 0))),
        z = tf.sigmoid(tf.add(blk(a, 1), blk(rr, 1)));
      const nn = tf.tanh(tf.add(blk(a, 2), tf.mul(rg, blk(rr, 2))));
      h = tf.add(tf.mul(tf.sub(1, z), nn), tf.mul(z, h)) as T2;
    } else h = tf.tanh(tf.add(a, r)) as T2;
    hs.push(h);
  });
  return tf.stack(hs) as tf.Tensor3D;
}

let uid = 0;
/** Gains drawn away from their initial values, so that a γ/β mix-up cannot pass; population statistics with distinct rows. */
function normOf(
  rng: Rng,
  kind: "batch" | "layer",
  training: boolean,
  G: number,
  hasCell: boolean,
  slots: number,
): SequenceNorm {
  const v = (shape: number[], scale: number, offset: number) =>
    tf.variable(rand(rng, shape, scale, offset), true, `n${uid++}`);
  const site = (F: number, beta: boolean): NormSiteParams => ({
    gamma: v([F], 0.3, 0.5) as tf.Variable<tf.Rank.R1>,
    beta: beta ? (v([F], 0.3, 0) as tf.Variable<tf.Rank.R1>) : undefined,
    population:
      kind === "batch"
        ? {
            mean: tf.variable(rand(rng, [slots, F], 0.5), false) as tf.Variable<tf.Rank.R2>,
            variance: tf.variable(rand(rng, [slots, F], 0.4, 1), false) as tf.Variable<tf.Rank.R2>,
          }
        : undefined,
  });
  return {
    kind,
    training,
    epsilon: EPS,
    momentum: 0.05,
    input: site(G * H, false),
    recurrent: site(G * H, false),
    cell: hasCell ? site(H, true) : undefined,
  };
}

const MODES: { name: string; kind: "batch" | "layer"; training: boolean; slots: number }[] = [
  { name: "batch norm, training (batch statistics per step)", kind: "batch", training: true, slots: T },
  { name: "batch norm, evaluation (population statistics per step)", kind: "batch", training: false, slots: T },
  { name: "batch norm, evaluation beyond T_max (T_max = 3 < T = 5)", kind: "batch", training: false, slots: 3 },
  { name: "layer norm", kind: "layer", training: true, slots: 1 },
];

for (const backend of ["wasm", "cpu"] as const) {
  describe(`normalization in the fused op, on ${backend}`, () => {
    let previous = "";
    beforeAll(async () => {
      previous = tf.getBackend();
      await selectBackend(backend);
    });
    afterAll(async () => {
      if (previous) await tf.setBackend(previous);
    });

    for (const c of CELLS)
      for (const mode of MODES) {
        it(`${c.cell}, ${mode.name}: forward and gradients match the per-step formula`, () => {
          const rng = new Rng(11);
          const G = c.gates;
          const x = tf.variable(rand(rng, [T, B, I], 1)) as tf.Variable<tf.Rank.R3>;
          const h0 = rand(rng, [B, H]) as T2,
            c0 = rand(rng, [B, H]) as T2;
          const W = tf.variable(rand(rng, [I, G * H])) as tf.Variable<tf.Rank.R2>,
            U = tf.variable(rand(rng, [H, G * H])) as tf.Variable<tf.Rank.R2>;
          const b = tf.variable(rand(rng, [G * H])) as tf.Variable<tf.Rank.R1>,
            bh = tf.variable(rand(rng, [G * H])) as tf.Variable<tf.Rank.R1>;
          const probe = rand(rng, [T, B, H], 1);
          // evaluation never updates statistics: compare in the mode under test, but never let training move them here
          const n = normOf(rng, mode.kind, mode.training, G, c.math.hasCell, mode.slots);
          const frozen: SequenceNorm = { ...n, momentum: 0 };
          const hasBh = c.cell === "gru";
          const fused = () => {
            const r = runSequence(c.math, x, { W, U, b, bh: hasBh ? bh : null }, h0, c.math.hasCell ? c0 : null, {
              norm: frozen,
            });
            r.h.dispose();
            r.c?.dispose();
            return r.y;
          };
          const ref = () => reference(c, x, h0, c0, W, U, b, bh, n);
          expectClose(fused(), ref(), "forward");
          if (!mode.training) return; // evaluation is never differentiated
          const gains = [n.input!.gamma, n.recurrent!.gamma, ...(n.cell ? [n.cell.gamma, n.cell.beta!] : [])];
          const vars = [x, W, U, b, ...(hasBh ? [bh] : []), ...gains] as tf.Variable[];
          const names = ["x", "W", "U", "b", ...(hasBh ? ["bh"] : []), "γ_x", "γ_h", "γ_c", "β_c"];
          const gF = tf.variableGrads(() => tf.sum(tf.mul(fused(), probe)), vars).grads;
          const gR = tf.variableGrads(() => tf.sum(tf.mul(ref(), probe)), vars).grads;
          vars.forEach((v, k) => expectClose(gF[v.name]!, gR[v.name]!, `d/d${names[k]}`, 5e-5, 2e-4));
        });
      }
  });
}

describe("batch norm statistics are per time step (Cooijmans et al. 2017, §3)", () => {
  beforeAll(async () => {
    await selectBackend("wasm");
  });

  /** Inputs whose distribution moves with the step: x_t ~ t + U(−0.5, 0.5). */
  const drifting = (rng: Rng, steps: number): tf.Tensor3D =>
    tf.stack(Array.from({ length: steps }, (_, t) => rand(rng, [B, I], 0.5, t))) as tf.Tensor3D;

  it("training folds each step's own batch moments into its slot, at rate 0.05; steps beyond T_max feed the last slot", () => {
    const rng = new Rng(3);
    const S = 3,
      steps = 5;
    const W = rand(rng, [I, 4 * H]) as T2,
      U = rand(rng, [H, 4 * H]) as T2,
      b = rand(rng, [4 * H]) as tf.Tensor1D;
    const pop = {
      mean: tf.variable(tf.zeros([S, 4 * H]), false) as tf.Variable<tf.Rank.R2>,
      variance: tf.variable(tf.ones([S, 4 * H]), false) as tf.Variable<tf.Rank.R2>,
    };
    const gamma = tf.variable(tf.fill([4 * H], 0.1)) as tf.Variable<tf.Rank.R1>;
    const x = drifting(rng, steps);
    const r = runSequence(lstmMath, x, { W, U, b, bh: null }, tf.zeros([B, H]), tf.zeros([B, H]), {
      norm: { kind: "batch", training: true, epsilon: EPS, momentum: 0.05, input: { gamma, population: pop } },
    });
    r.y.dispose();
    // the batch moments of x_t W, step by step
    const moments = (tf.unstack(x) as T2[]).map((xt) => tf.moments(tf.matMul(xt, W), 0));
    const expectMean = [0, 1, 2].map((s) =>
      (s < S - 1 ? moments[s]!.mean : tf.mean(tf.stack(moments.slice(s).map((m) => m.mean)), 0)).mul(0.05),
    );
    const expectVar = [0, 1, 2].map((s) =>
      (s < S - 1 ? moments[s]!.variance : tf.mean(tf.stack(moments.slice(s).map((m) => m.variance)), 0))
        .mul(0.05)
        .add(0.95),
    );
    expectClose(pop.mean, tf.stack(expectMean), "population means");
    expectClose(pop.variance, tf.stack(expectVar), "population variances");
    // the slots differ: one shared set would make these rows equal
    const rows = pop.mean.arraySync();
    expect(Math.abs(rows[0]![0]! - rows[1]![0]!)).toBeGreaterThan(1e-3);
  });

  it("a layer trained on inputs that drift with time evaluates each step with that step's statistics", () => {
    const store = new ParameterStore(new Rng(1));
    const norm = {
      kind: "batch",
      sites: ["input", "recurrent", "cell"],
      gamma: 0.1,
      epsilon: EPS,
      momentum: 0.5,
      slots: T,
    } as const;
    const layer = new RecurrentLayer(store, "bn", "lstm", I, H, {
      init: uniform(0.5),
      recurrentInit: uniform(0.5),
      norm,
    });
    const rng = new Rng(4);
    for (let k = 0; k < 30; k++) {
      const r = layer.forward(drifting(rng, T), layer.zeroState(B), new StepContext(true, new Rng(k)));
      r.y.dispose();
      r.state.h.dispose();
      r.state.c?.dispose();
    }
    const mean = store.buffers.find((p) => p.name === "bn.norm_x.mean")!.variable as tf.Variable<tf.Rank.R2>;
    // per-step population means of x_t W follow the drift: step 4's differ from step 0's by about 4 · Σ_i W[i, ·]
    const W = layer.W.arraySync();
    const rows = mean.arraySync();
    const shift = W.reduce((s, row) => s + row[0]!, 0) * (T - 1);
    expect(Math.abs(rows[T - 1]![0]! - rows[0]![0]! - shift)).toBeLessThan(0.2 + 0.2 * Math.abs(shift));
    // and the population differs from a single shared set: evaluation with a shifted step-0 batch is not normalized to 0
    const shared = tf.mean(mean, 0);
    expect(tf.max(tf.abs(tf.sub(mean, shared))).dataSync()[0]!).toBeGreaterThan(0.1);
  });
});
