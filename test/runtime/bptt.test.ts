// Stateful truncated BPTT (Zaremba et al. 2014; Mikolov's setup), as runtime/train/lm-task.ts runs it: each window starts from the
// previous window's final state, which RecurrentLayer.forward returns detached, so
//   - forward: two consecutive windows with the state carried compute exactly what one window over the
//     concatenated sequence computes (outputs and final state), and `evaluate` with state carried gives the same
//     loss whatever the window length;
//   - backward: the gradient of window 2's loss stops at the window boundary. With the carried state it equals the
//     gradient with that state fed in as a constant, and it matches finite differences of a plain float64 model in
//     which window 2 starts from a fixed state; it differs from the gradient through the concatenated sequence
//     (finite differences of the same loss with window 1 recomputed), which the fused op does give when the two
//     windows are one.
// Model: embedding → LSTM → softmax, loss sum_steps (Σ over steps / B), as runtime/train/lm-task.ts calls it. Run on wasm and cpu.
// Tolerances: float32 runtime vs float64 reference: |a − b| ≤ 2e-5 + 1e-4·|b| (close.ts defaults); one window vs two
// in the runtime: 1e-6 absolute; finite differences: central, ε = 1e-6 (error ~1e-9, far inside the tolerance).
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { selectBackend } from "../../runtime/accel/backend.js";
import { Embedding } from "../../runtime/model/embedding.js";
import { uniform } from "../../runtime/model/init.js";
import {
  StepContext,
  type LanguageModel,
  type ModelOutput,
  type ModelSetup,
} from "../../runtime/model/language-model.js";
import { ParameterStore } from "../../runtime/model/parameters.js";
import { RecurrentLayer, type LayerState } from "../../runtime/model/recurrent-layer.js";
import { Rng } from "../../runtime/base/rng.js";
import { SoftmaxOutput } from "../../runtime/model/softmax-loss.js";
import { evaluate } from "../../runtime/train/train.js";
import { expectClose } from "./close.js";
import { affine, finiteDiff, lookup, lstmSequence, maxAbsDiff, summedNll, tokenArray, toF64 } from "./reference.js";

const V = 6,
  D = 3,
  H = 3,
  T = 4,
  B = 2;
let uid = 0; // tfjs variable names are global to the engine

class TinyLm implements LanguageModel {
  readonly params: ParameterStore;
  readonly embedding: Embedding;
  readonly layer: RecurrentLayer;
  readonly output: SoftmaxOutput;
  constructor({ vocab, params }: ModelSetup) {
    const prefix = `bptt${uid++}`;
    this.params = params;
    this.embedding = new Embedding(params, `${prefix}.embedding`, vocab, D, uniform(0.8));
    // strong recurrent weights: window 1 must matter to window 2's gradient for the truncation to be visible
    this.layer = new RecurrentLayer(params, `${prefix}.layer`, "lstm", D, H, {
      init: uniform(0.8),
      recurrentInit: uniform(1.2),
      forgetBias: 1,
    });
    this.output = new SoftmaxOutput(params, `${prefix}.output`, H, vocab, { init: uniform(0.8) });
  }
  initialState(batch: number): LayerState[] {
    return [this.layer.zeroState(batch)];
  }
  forward(tokens: tf.Tensor2D, state: readonly LayerState[], ctx: StepContext): ModelOutput {
    const x = ctx.dropout(this.embedding.forward(tokens), 0, "per_step");
    const l = this.layer.forward(x, state[0]!);
    return { hidden: ctx.dropout(l.y, 0, "per_step"), raw: l.y, state: [l.state] };
  }
}

/** The float64 twin of TinyLm: its parameters in creation order [E, W, U, b, Wo, bo]. */
interface Ref {
  E: Float64Array;
  W: Float64Array;
  U: Float64Array;
  b: Float64Array;
  Wo: Float64Array;
  bo: Float64Array;
}
const refOf = (m: TinyLm): Ref => ({
  E: toF64(m.embedding.weight),
  W: toF64(m.layer.W),
  U: toF64(m.layer.U),
  b: toF64(m.layer.b),
  Wo: toF64(m.output.weight),
  bo: toF64(m.output.bias),
});

/** Σ NLL / B over one window of `steps` rows from state (h0, c0), and the final state. */
function refWindow(
  p: Ref,
  steps: number,
  x: Int32Array,
  y: Int32Array,
  h0: Float64Array,
  c0: Float64Array,
): { loss: number; h: Float64Array; c: Float64Array } {
  const r = lstmSequence({ I: D, H, W: p.W, U: p.U, b: p.b }, steps, B, lookup(p.E, D, x), h0, c0);
  return { loss: summedNll(affine(r.y, steps * B, H, p.Wo, V, p.bo), steps * B, V, y) / B, h: r.h, c: r.c };
}

/** A stream of 2T + 1 rows × B columns: x1 = rows [0, T), y1 = [1, T], x2 = [T, 2T), y2 = [T + 1, 2T]. */
function data(seed: number): {
  rows: Int32Array;
  x1: Int32Array;
  y1: Int32Array;
  x2: Int32Array;
  y2: Int32Array;
  x: Int32Array;
  y: Int32Array;
} {
  const rows = tokenArray(new Rng(seed), (2 * T + 1) * B, V); // [2T + 1, B] row-major
  const r = (a: number, b: number): Int32Array => rows.slice(a * B, b * B);
  return {
    rows,
    x1: r(0, T),
    y1: r(1, T + 1),
    x2: r(T, 2 * T),
    y2: r(T + 1, 2 * T + 1),
    x: r(0, 2 * T),
    y: r(1, 2 * T + 1),
  };
}

const ids = (a: Int32Array, steps: number): tf.Tensor2D => tf.tensor2d(a, [steps, B], "int32");
const zeros = (): Float64Array => new Float64Array(B * H);

for (const backend of ["wasm", "cpu"] as const) {
  describe(`truncated BPTT on ${backend}`, () => {
    let previous = "";
    beforeAll(async () => {
      previous = tf.getBackend();
      await selectBackend(backend);
    });
    afterAll(async () => {
      if (previous) await tf.setBackend(previous);
    });

    it("two windows with the state carried = one window over the concatenation (outputs and final state)", () => {
      const m = new TinyLm({ vocab: V, params: new ParameterStore(new Rng(1)) });
      const d = data(2);
      const ctx = new StepContext(true, new Rng(0));
      const w1 = m.forward(ids(d.x1, T), m.initialState(B), ctx);
      const w2 = m.forward(ids(d.x2, T), w1.state, ctx);
      const one = m.forward(ids(d.x, 2 * T), m.initialState(B), ctx);
      expectClose(tf.concat([w1.hidden, w2.hidden], 0), one.hidden, "outputs", 1e-6, 0);
      expectClose(w2.state[0]!.h, one.state[0]!.h, "final h", 1e-6, 0);
      expectClose(w2.state[0]!.c!, one.state[0]!.c!, "final c", 1e-6, 0);
      // and both are the plain LSTM over 2T steps
      const p = refOf(m);
      const r = lstmSequence({ I: D, H, W: p.W, U: p.U, b: p.b }, 2 * T, B, lookup(p.E, D, d.x), zeros(), zeros());
      expectClose(one.hidden, r.y, "outputs vs reference");
      expectClose(w2.state[0]!.c!, r.c, "final c vs reference");
    });

    it("evaluate with state carried: the same loss for any window length; resetting the state changes it", async () => {
      const m = new TinyLm({ vocab: V, params: new ParameterStore(new Rng(3)) });
      // batchify puts column b at stream[b·steps, (b + 1)·steps): write the [2T + 1, B] rows column by column
      const d = data(4);
      const steps = 2 * T + 1;
      const stream = new Int32Array(steps * B);
      for (let t = 0; t < steps; t++) for (let b = 0; b < B; b++) stream[b * steps + t] = d.rows[t * B + b]!;
      const p = refOf(m);
      const expected = refWindow(p, 2 * T, d.x, d.y, zeros(), zeros()).loss / (2 * T); // Σ NLL / (2T·B): per token
      const long = await evaluate(m, stream, B, 2 * T, true);
      const short = await evaluate(m, stream, B, T, true);
      const reset = await evaluate(m, stream, B, T, false);
      expect(long.tokens).toBe(2 * T * B);
      expect(short.tokens).toBe(2 * T * B);
      expectClose([long.loss], [expected], "one window");
      expectClose([short.loss], [expected], "two windows, state carried");
      const w1 = refWindow(p, T, d.x1, d.y1, zeros(), zeros()),
        w2 = refWindow(p, T, d.x2, d.y2, zeros(), zeros());
      expectClose([reset.loss], [(w1.loss + w2.loss) / (2 * T)], "two windows, state reset");
      expect(Math.abs(reset.loss - expected)).toBeGreaterThan(1e-3);
    });

    it("window 2's gradient stops at the boundary: = the constant-state gradient ≠ the full-sequence gradient", () => {
      const m = new TinyLm({ vocab: V, params: new ParameterStore(new Rng(5)) });
      const d = data(6);
      const vars = m.params.list.map((q) => q.variable); // [E, W, U, b, Wo, bo]
      const ctx = new StepContext(true, new Rng(0));
      const scale = 1 / B; // sum_steps
      // as runtime/train/lm-task.ts: window 1, keep its (detached) state, then differentiate window 2's loss from that state
      const carried = m.forward(ids(d.x1, T), m.initialState(B), ctx).state;
      const gradsFrom = (state: readonly LayerState[]): tf.Tensor[] => {
        const g = tf.variableGrads(
          () => m.output.loss(m.forward(ids(d.x2, T), state, ctx).hidden, tf.tensor1d(d.y2, "int32"), scale),
          vars,
        );
        return vars.map((v) => g.grads[v.name]!);
      };
      const gCarried = gradsFrom(carried);
      const constant = carried.map((s) => ({
        h: tf.tensor2d(s.h.dataSync(), [B, H]),
        c: tf.tensor2d(s.c!.dataSync(), [B, H]),
      }));
      const gConstant = gradsFrom(constant);
      gCarried.forEach((g, k) => expectClose(g, gConstant[k]!, `${vars[k]!.name}: carried vs constant state`, 1e-7, 0));

      // The full gradient in the runtime: one window of 2T steps, loss on its last T steps only.
      const gFullRuntime = (() => {
        const g = tf.variableGrads(() => {
          const hidden = m.forward(ids(d.x, 2 * T), m.initialState(B), ctx).hidden;
          return m.output.loss(tf.slice(hidden, [T, 0, 0], [T, B, H]), tf.tensor1d(d.y2, "int32"), scale);
        }, vars);
        return vars.map((v) => g.grads[v.name]!);
      })();

      // References by finite differences of the float64 model.
      const p = refOf(m);
      const s1 = refWindow(p, T, d.x1, d.y1, zeros(), zeros()); // window 1's final state at these parameters, held fixed
      const truncated = (): number => refWindow(p, T, d.x2, d.y2, s1.h, s1.c).loss;
      const full = (): number => {
        const w1 = refWindow(p, T, d.x1, d.y1, zeros(), zeros()); // recomputed: window 2's start depends on θ
        return refWindow(p, T, d.x2, d.y2, w1.h, w1.c).loss;
      };
      const arrays = [p.E, p.W, p.U, p.b, p.Wo, p.bo];
      const names = ["E", "W", "U", "b", "Wo", "bo"];
      arrays.forEach((a, k) => {
        const gT = finiteDiff(truncated, a),
          gF = finiteDiff(full, a);
        expectClose(gCarried[k]!, gT, `${names[k]}: carried state vs truncated reference`);
        expectClose(gFullRuntime[k]!, gF, `${names[k]}: one long window vs full reference`);
        // E, W, U, b shape window 1's state, so the full gradient has extra terms; Wo, bo act on window 2 only.
        if (k < 4)
          expect(maxAbsDiff(gCarried[k]!.dataSync(), gF), `${names[k]}: truncation must be visible`).toBeGreaterThan(
            1e-3,
          );
        else expectClose(gCarried[k]!, gF, `${names[k]}: unaffected by truncation`);
      });
    });
  });
}
