// The progress line's estimates (runtime/train/progress.ts): the epoch's ETA and the whole run's, from the measured
// seconds per step, the steps and epochs left, and the last validation's duration.
import { describe, expect, it } from "vitest";
import { EpochProgress, EvalProgress, formatDuration, runEta } from "../../runtime/train/progress.js";

describe("runEta", () => {
  it("adds the steps left in this epoch and the later ones, and a validation per epoch left plus the test", () => {
    // 0.5 s a step; 100 steps left now, 3 more epochs of 400; validations of 20 s: this epoch's, 3 more, the test
    const eta = runEta({
      secondsPerStep: 0.5,
      stepsLeftThisEpoch: 100,
      stepsPerLaterEpoch: 400,
      epochsAfter: 3,
      validSeconds: 20,
    });
    expect(eta).toBe(0.5 * (100 + 3 * 400) + 20 * 5);
    // before any validation has been timed, only the steps count
    expect(
      runEta({ secondsPerStep: 2, stepsLeftThisEpoch: 10, stepsPerLaterEpoch: 10, epochsAfter: 0, validSeconds: null }),
    ).toBe(20);
  });
});

describe("EpochProgress on a terminal", () => {
  it("shows the run's ETA beside the epoch's, from the callback's estimate", () => {
    let out = "";
    const p = new EpochProgress({ write: (s) => (out += s), isTTY: true }, "epoch 2/6", 10, (done, perStep) => {
      expect(done).toBe(10);
      expect(perStep).toBeGreaterThanOrEqual(0);
      return 3725;
    });
    p.update(10, { loss: 4.2, ppl: 66.7, tokPerSec: 1234 });
    expect(out).toMatch(/epoch 2\/6 █+ 10\/10 {2}loss 4\.200 {2}ppl 66\.7 {2}1234 tok\/s {2}ETA 0s {2}run ETA 1h02m$/);
    expect(formatDuration(3725)).toBe("1h02m");
  });

  it("writes nothing live elsewhere (logs, CI)", () => {
    let out = "";
    new EpochProgress({ write: (s) => (out += s), isTTY: false }, "epoch 1/1", 5, () => 1).update(5, {
      loss: 1,
      tokPerSec: 1,
    });
    expect(out).toBe("");
  });
});

describe("EvalProgress", () => {
  it("a live line while a split is evaluated, erased at the end; nothing off a terminal", () => {
    let out = "";
    const p = new EvalProgress({ write: (s) => (out += s), isTTY: true }, "testing", 368);
    p.update(1);
    expect(out).toMatch(/^\r\x1b\[2Ktesting 1\/368 windows {2}ETA /);
    p.end();
    expect(out.endsWith("\r\x1b[2K")).toBe(true);
    let quiet = "";
    const q = new EvalProgress({ write: (s) => (quiet += s), isTTY: false }, "testing", 3);
    q.update(1);
    q.end();
    expect(quiet).toBe("");
  });
});
