// The divergence detector both training loops share (runtime/train/divergence.ts): consecutive windows above
// ln V + margin, reset by a healthy window, the loss conventions normalized to nats per token, a NaN or infinite
// loss at once, and the validation rules (an overflowing perplexity is never best; with the rule on it stops).
import { describe, expect, it } from "vitest";
import {
  describeVerdict,
  DivergenceDetector,
  perTokenLoss,
  reportable,
  verdictRecord,
} from "../../runtime/train/divergence.js";
import { lossScale } from "../../runtime/model/softmax-loss.js";

const LN_10K = Math.log(10_000); // 9.2103…: PTB's uniform loss

describe("the divergence detector", () => {
  it("stops at the K-th consecutive window above ln V + margin, not before", () => {
    const d = new DivergenceDetector({ margin: 1, windows: 3 }, 10_000);
    expect(d.limit).toBeCloseTo(LN_10K + 1, 12);
    expect(d.window(LN_10K + 1.5)).toBeNull();
    expect(d.window(LN_10K + 1.5)).toBeNull();
    expect(d.streak).toBe(2);
    const v = d.window(50);
    expect(v).toEqual({ kind: "above_uniform", phase: "training", loss: 50, limit: LN_10K + 1, windows: 3 });
  });

  it("resets the count on a healthy window, so isolated spikes never stop a run", () => {
    // The shape measured on Zaremba's small PTB model: one window 3.4 nats above ln V, then back below it.
    const d = new DivergenceDetector({ margin: 1, windows: 2 }, 10_000);
    for (let k = 0; k < 50; k++) {
      expect(d.window(12.565)).toBeNull();
      expect(d.calm).toBe(false);
      expect(d.window(8.365)).toBeNull();
      expect(d.calm).toBe(true);
    }
    // A loss exactly at the limit is not above it.
    expect(d.window(d.limit!)).toBeNull();
    expect(d.streak).toBe(0);
  });

  it("compares nats per token under both loss conventions (sum_steps is summed over the steps)", () => {
    const T = 35,
      B = 20,
      perToken = 9.5; // just above ln 10 000, below ln 10 000 + 1
    // What the trainer reports for a window whose every token costs `perToken` nats, under each convention.
    const summed = perToken * T * B;
    const reported = { sum_steps: summed * lossScale("sum_steps", T, B), mean: summed * lossScale("mean", T, B) };
    expect(reported.sum_steps).toBeCloseTo(perToken * T, 9); // 332.5: far above the limit if read as it stands
    expect(reported.mean).toBeCloseTo(perToken, 12);
    for (const kind of ["sum_steps", "mean"] as const) {
      const x = perTokenLoss(reported[kind], lossScale(kind, T, B), T * B);
      expect(x).toBeCloseTo(perToken, 9);
      const d = new DivergenceDetector({ margin: 1, windows: 1 }, 10_000);
      expect(d.window(x), kind).toBeNull();
    }
    // A variable-BPTT window of 12 steps normalizes by its own length.
    expect(perTokenLoss(perToken * 12, lossScale("sum_steps", 12, B), 12 * B)).toBeCloseTo(perToken, 9);
  });

  it("stops at once on NaN or ±Infinity, even with the rule off", () => {
    for (const spec of [{ margin: 1, windows: 20 }, null]) {
      for (const bad of [NaN, Infinity, -Infinity]) {
        const d = new DivergenceDetector(spec, 16);
        expect(d.window(2)).toBeNull();
        expect(d.window(bad)).toMatchObject({ kind: "non_finite", phase: "training", windows: 1 });
        expect(Object.is(d.window(bad)!.loss, bad)).toBe(true);
      }
    }
  });

  it("off: a finite loss, however large, goes on", () => {
    const d = new DivergenceDetector(null, 16);
    expect(d.limit).toBeNull();
    for (let k = 0; k < 100; k++) expect(d.window(5.3e5)).toBeNull();
    expect(d.calm).toBe(true); // mid-epoch checkpoints are not held back when the rule is off
  });

  it("classification: the uniform guess is ln(classes), per image", () => {
    const d = new DivergenceDetector({ margin: 1, windows: 2 }, 10);
    expect(d.uniform).toBeCloseTo(Math.log(10), 12);
    expect(d.window(3.2)).toBeNull(); // below ln 10 + 1 = 3.303
    expect(d.window(3.4)).toBeNull();
    expect(d.window(3.4)).toMatchObject({ kind: "above_uniform", windows: 2 });
  });
});

describe("validation at an epoch's end", () => {
  it("a NaN or infinite loss stops whatever the rule", () => {
    for (const spec of [{ margin: 1, windows: 20 }, null]) {
      const d = new DivergenceDetector(spec, 16);
      expect(d.validation(NaN)).toMatchObject({ kind: "non_finite", phase: "validation" });
      expect(d.validation(Infinity)).toMatchObject({ kind: "non_finite", phase: "validation" });
    }
  });

  it("a finite loss whose perplexity overflows stops with the rule on, and is never reportable", () => {
    const on = new DivergenceDetector({ margin: 1, windows: 20 }, 16);
    const off = new DivergenceDetector(null, 16);
    expect(Math.exp(571_581)).toBe(Infinity);
    expect(reportable(571_581)).toBe(false);
    expect(on.validation(571_581)).toMatchObject({ kind: "above_uniform", phase: "validation", loss: 571_581 });
    expect(off.validation(571_581)).toBeNull();
    expect(reportable(Math.log(Number.MAX_VALUE))).toBe(true);
    expect(reportable(Math.log(Number.MAX_VALUE) + 1e-9)).toBe(false);
  });

  it("merely above the limit does not stop (measured: a healthy run's 3rd-window weights validate 3 nats above ln V)", () => {
    const d = new DivergenceDetector({ margin: 1, windows: 20 }, 10_000);
    expect(d.validation(12.19)).toBeNull(); // the run goes on (that epoch is not checkpointed: see below)
  });

  it("is suspect (neither saved nor best) above the limit, with the rule on", () => {
    const d = new DivergenceDetector({ margin: 1, windows: 20 }, 16);
    expect(d.suspect(10)).toBe(true); // even after healthy windows: the last update is judged only by validation
    expect(d.suspect(2.5)).toBe(false);
    expect(d.suspect(d.limit!)).toBe(false);
    expect(new DivergenceDetector(null, 16).suspect(10)).toBe(false); // off: saved as ever
  });

  it("healthy: the weights a checkpoint may hold", () => {
    const d = new DivergenceDetector({ margin: 1, windows: 20 }, 16);
    expect([2.5, d.limit!, 3.8, NaN, Infinity].map((x) => d.healthy(x))).toEqual([true, true, false, false, false]);
    const off = new DivergenceDetector(null, 16);
    expect([2.5, 5e5, NaN, -Infinity].map((x) => off.healthy(x))).toEqual([true, true, false, false]);
  });
});

describe("what a stop says and records", () => {
  it("names the loss, the limit and its parts, where, and the streak", () => {
    const d = new DivergenceDetector({ margin: 1, windows: 20 }, 16);
    let v = null;
    for (let k = 0; k < 20; k++) v = d.window(531_875.375);
    expect(describeVerdict(v!, "at epoch 1, window 21/157", d, "token")).toBe(
      "the training loss diverged at epoch 1, window 21/157: 20 windows in a row above 3.773 nats per token (ln 16 = 2.773, a uniform guess, + margin 1); the last was 5.32e+5: stopped.",
    );
    // A non-finite loss keeps the NaN stop's wording.
    expect(describeVerdict(d.window(NaN)!, "at epoch 5, window 2/3", d, "token")).toBe(
      "the training loss is NaN at epoch 5, window 2/3: stopped.",
    );
    expect(describeVerdict(d.validation(-Infinity)!, "after epoch 1", d, "token")).toBe(
      "the validation loss is -Infinity after epoch 1: stopped.",
    );
  });

  it("records the reason as JSON, with non-finite numbers as strings", () => {
    const d = new DivergenceDetector(null, 16);
    const rec = verdictRecord(d.window(NaN)!, { epoch: 2, window: 7 });
    expect(JSON.parse(JSON.stringify(rec))).toEqual({
      event: "stopped",
      reason: "non-finite loss",
      phase: "training",
      epoch: 2,
      window: 7,
      loss: "NaN",
      limit: null,
      windows: 1,
    });
  });
});

describe("the classifier's wording", () => {
  it("counts batches and nats per image", () => {
    const d = new DivergenceDetector({ margin: 1, windows: 2 }, 10);
    d.window(6.5e5);
    const v = d.window(6.54e5)!;
    expect(describeVerdict(v, "at epoch 1, batch 3/5", d, "image", "batch")).toBe(
      "the training loss diverged at epoch 1, batch 3/5: 2 batches in a row above 3.303 nats per image (ln 10 = 2.303, a uniform guess, + margin 1); the last was 6.54e+5: stopped.",
    );
  });
});
