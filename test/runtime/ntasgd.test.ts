// NT-ASGD (Merity et al. 2018, Algorithm 1, as awd-lstm-lm runs it) and variable-length BPTT windows.
// - Before the trigger the update is plain SGD; the trigger fires when this epoch's validation loss is worse than
//   the best of all epochs but the last `nonmono` (and only with more than `nonmono` earlier epochs); afterwards
//   the optimizer keeps ax, the mean of the iterates since the trigger, and evaluation runs on ax.
// - Variable BPTT: windows tile the stream without gaps, each at least 5 long, of mean ≈ p·bptt + (1−p)·bptt/2,
//   the same for the same seed.
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { selectBackend } from "../../runtime/accel/backend.js";
import { ntasgd, Optimizer } from "../../runtime/train/optimizers.js";
import { Rng } from "../../runtime/base/rng.js";
import { variableWindows } from "../../runtime/train/train.js";

let uid = 0;

describe("NT-ASGD", () => {
  beforeAll(async () => {
    await selectBackend("wasm");
  });

  it("the non-monotone trigger: val > min(val[:-nonmono]), with more than nonmono earlier epochs", () => {
    const o = new Optimizer(ntasgd({ lr: 1, nonmono: 2 }));
    expect(o.maybeStartAveraging(9, [5, 6])).toBe(false); // 2 earlier epochs: not more than nonmono
    expect(o.maybeStartAveraging(4.9, [5, 6, 7])).toBe(false); // better than min([5]) = 5
    expect(o.maybeStartAveraging(5, [5, 6, 7])).toBe(false); // equal: not worse
    expect(o.averaging).toBe(false);
    expect(o.maybeStartAveraging(5.1, [5, 6, 7])).toBe(true);
    expect(o.averaging).toBe(true);
    expect(o.maybeStartAveraging(9, [5, 6, 7, 8])).toBe(false); // fires once
    expect(new Optimizer({ kind: "sgd", lr: 1, momentum: 0 }).maybeStartAveraging(9, [1, 2, 3, 4, 5, 6, 7])).toBe(
      false,
    );
  });

  it("SGD steps throughout; after the trigger ax is the mean of the iterates, and evaluation sees ax", async () => {
    const v = tf.variable(tf.tensor1d([1, -2]), true, `ntasgd${uid++}`);
    const o = new Optimizer(ntasgd({ lr: 0.5, nonmono: 1 }));
    const g = tf.tensor1d([2, 4]);
    o.apply([v], [g], 0.5); // w = [0, −4]
    expect(Array.from(v.dataSync())).toEqual([0, -4]);
    expect(await o.withAveraged([v], () => Array.from(v.dataSync()))).toEqual([0, -4]); // not averaging yet: as is
    o.maybeStartAveraging(2, [1, 1]);
    const iterates: number[][] = [];
    for (let k = 0; k < 3; k++) {
      o.apply([v], [g], 0.5);
      iterates.push(Array.from(v.dataSync()));
    }
    expect(iterates).toEqual([
      [-1, -6],
      [-2, -8],
      [-3, -10],
    ]); // still plain SGD
    expect(await o.withAveraged([v], () => Array.from(v.dataSync()))).toEqual([-2, -8]); // mean of the three iterates
    // An asynchronous evaluation (every evaluation is: the webgpu backend reads asynchronously) sees ax until it ends.
    expect(
      await o.withAveraged([v], async () => {
        await new Promise((r) => setImmediate(r));
        return Array.from(await v.data());
      }),
    ).toEqual([-2, -8]);
    expect(Array.from(v.dataSync())).toEqual([-3, -10]); // the training weights are back
    const st = o.state();
    const copies = [...st.slots].map(([k, t]) => [k, t.clone()] as [string, tf.Tensor]);
    const since = st.averagingSince,
      step = st.step;
    o.dispose(); // a resumed run is a new process: its slot variables are created anew
    const resumed = new Optimizer(ntasgd({ lr: 0.5, nonmono: 1 }));
    resumed.load({ step, slots: copies, averagingSince: since });
    expect(resumed.averaging).toBe(true);
    expect(await resumed.withAveraged([v], () => Array.from(v.dataSync()))).toEqual([-2, -8]);
  });
});

describe("variable BPTT windows", () => {
  it("tile the stream, are ≥ 5 long, average p·bptt + (1−p)·bptt/2, and repeat for a seed", () => {
    const steps = 200_000,
      bptt = 70,
      v = { p: 0.95, std: 5 };
    const w = variableWindows(steps, bptt, v, 0, new Rng(3));
    expect(w[0]!.start).toBe(0);
    for (let k = 1; k < w.length; k++) expect(w[k]!.start).toBe(w[k - 1]!.start + w[k - 1]!.length);
    expect(w.at(-1)!.start + w.at(-1)!.length).toBe(steps - 1); // the last target row is the last row
    expect(w.every((x) => x.length >= 5 || x === w.at(-1))).toBe(true);
    const mean = w.slice(0, -1).reduce((s, x) => s + x.length, 0) / (w.length - 1);
    expect(Math.abs(mean - (0.95 * 70 + 0.05 * 35 - 0.5))).toBeLessThan(0.5); // −0.5: ⌊·⌋ of a continuous draw
    expect(variableWindows(steps, bptt, v, 0, new Rng(3))).toEqual(w);
    expect(new Set(w.map((x) => x.length)).size).toBeGreaterThan(10);
  });
});
