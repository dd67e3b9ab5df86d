// Learning-rate schedules, driven the way runtime/train/driver.ts drives them: epoch 1 runs at firstLr(spec, lr₀); after epoch e
// ends with validation loss v_e, advanceSchedule(…, nextEpoch = e + 1, v_e) gives the rate of epoch e + 1.
// Epochs count from 1. Each expected sequence is written out from the paper or from the rule in words:
//   decay(by, after): lr_e = lr₀ / by^max(e − after, 0). Zaremba et al. 2014 §4.1 (small): lr 1 for 4 epochs, then
//     halved after each epoch: epochs 1..4 → 1, 5 → 0.5, 6 → 0.25 (TF ptb_word_lm: lr_decay ** max(i + 1 − 4, 0),
//     i = 0-based epoch);
//   plateau(divide, patience): divide when validation has not improved (strictly lower than the best so far) for
//     more than `patience` epochs in a row, then count again (Merity et al. 2017's medium: divide 4, patience 0);
//   atEpochs(epochs, by): divide by `by` at the start of each listed epoch.
// Rates are compared with toBeCloseTo(…, 12): the runtime computes lr₀ / by^k, the reference may multiply.
import { describe, expect, it } from "vitest";
import {
  advanceSchedule,
  atEpochs,
  constant,
  decay,
  firstLr,
  plateau,
  type ScheduleSpec,
} from "../../runtime/train/schedules.js";

/** The learning rate of epochs 1..validLosses.length, as runtime/train/driver.ts would run them. */
function lrsByEpoch(spec: ScheduleSpec, lr0: number, validLosses: readonly number[]): number[] {
  let s = { lr: firstLr(spec, lr0), best: Infinity, badEpochs: 0 };
  const out: number[] = [];
  validLosses.forEach((v, i) => {
    out.push(s.lr);
    s = advanceSchedule(spec, lr0, s, i + 2, v); // epoch i + 1 has ended; the next is i + 2
  });
  return out;
}

function expectRates(actual: number[], expected: number[]): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((a, k) => expect(a, `epoch ${k + 1}`).toBeCloseTo(expected[k]!, 12));
}

const falling = (n: number): number[] => Array.from({ length: n }, (_, k) => 10 - k); // always improving

describe("decay(by, after)", () => {
  it("Zaremba small (by 2, after 4): epochs 1–4 at lr 1, 5 at 0.5, 6 at 0.25", () => {
    expectRates(lrsByEpoch(decay({ by: 2, after: 4 }), 1, falling(6)), [1, 1, 1, 1, 0.5, 0.25]);
  });

  for (const [name, by, after, epochs] of [
    ["medium", 1.2, 6, 39],
    ["large", 1.15, 14, 55],
  ] as const)
    it(`Zaremba ${name} (by ${by}, after ${after}): lr₀ / by^max(e − ${after}, 0) over all ${epochs} epochs`, () => {
      const expected = Array.from({ length: epochs }, (_, k) => 1 / by ** Math.max(k + 1 - after, 0));
      expectRates(lrsByEpoch(decay({ by, after }), 1, falling(epochs)), expected);
    });

  it("does not depend on validation (a worsening loss changes nothing) and scales with lr₀", () => {
    const worse = [1, 2, 3, 4, 5, 6];
    expectRates(lrsByEpoch(decay({ by: 2, after: 4 }), 0.7, worse), [0.7, 0.7, 0.7, 0.7, 0.35, 0.175]);
  });

  it("after 0: epoch 1 already runs at lr₀ / by", () => {
    expect(firstLr(decay({ by: 2, after: 0 }), 1)).toBeCloseTo(0.5, 12);
  });
});

describe("plateau(divide, patience)", () => {
  /** The rule in words, independently: count non-improving epochs; more than `patience` of them → divide, recount. */
  function reference(divide: number, patience: number, lr0: number, valid: readonly number[]): number[] {
    let lr = lr0,
      best = Infinity,
      bad = 0;
    const out: number[] = [];
    for (const v of valid) {
      out.push(lr);
      if (v < best) {
        best = v;
        bad = 0;
      } else bad++;
      if (bad > patience) {
        lr /= divide;
        bad = 0;
      }
    }
    return out;
  }

  const valid = [5, 4, 4.5, 3, 3, 3.5, 2, 2.5, 2.6, 2.7, 2.8, 1];

  it("patience 0 (Merity et al. 2017 medium: divide 4): divides after each epoch that does not improve", () => {
    // spelled out: epoch 3 (4.5 ≥ 4) → /4 for epoch 4; epoch 5 (3 ties 3: no improvement) → /4; epoch 6 → /4; …
    const lrs = lrsByEpoch(plateau({ divide: 4 }), 1, valid.slice(0, 7));
    expectRates(lrs, [1, 1, 1, 1 / 4, 1 / 4, 1 / 16, 1 / 64]);
    expectRates(lrsByEpoch(plateau({ divide: 4 }), 30, valid), reference(4, 0, 30, valid));
  });

  it("patience 2: divides only after 3 non-improving epochs in a row, then counts again", () => {
    expectRates(lrsByEpoch(plateau({ divide: 10, patience: 2 }), 1, valid), reference(10, 2, 1, valid));
    // epochs 8, 9, 10 do not improve on 2 (epoch 7): the 3rd of them sets epoch 11's rate
    expectRates(lrsByEpoch(plateau({ divide: 10, patience: 2 }), 1, valid).slice(7), [1, 1, 1, 0.1, 0.1]);
  });
});

describe("atEpochs(epochs, by) and constant", () => {
  it("divides at the start of each listed epoch", () => {
    expectRates(lrsByEpoch(atEpochs({ epochs: [3, 5], by: 10 }), 1, falling(6)), [1, 1, 0.1, 0.1, 0.01, 0.01]);
    expectRates(lrsByEpoch(atEpochs({ epochs: [1], by: 2 }), 1, falling(3)), [0.5, 0.5, 0.5]);
  });

  it("constant keeps lr₀ whatever validation does", () => {
    expectRates(lrsByEpoch(constant(), 0.02, [3, 4, 5, 2]), [0.02, 0.02, 0.02, 0.02]);
  });
});
