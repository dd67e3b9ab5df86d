import { describe, expect, it } from "vitest";
import { Rng } from "../../runtime/base/rng.js";
import { makeSyntheticCorpus, trueNll } from "../../runtime/data/synthetic-corpus.js";

describe("Rng", () => {
  it("is deterministic per seed and differs across seeds", () => {
    const a = Array.from(
      { length: 5 },
      (
        (r) => () =>
          r.uint32()
      )(new Rng(7)),
    );
    const b = Array.from(
      { length: 5 },
      (
        (r) => () =>
          r.uint32()
      )(new Rng(7)),
    );
    const c = Array.from(
      { length: 5 },
      (
        (r) => () =>
          r.uint32()
      )(new Rng(8)),
    );
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
  });

  it("has the moments of U(0,1), N(0,1) and Gamma(a)", () => {
    const r = new Rng(1);
    const n = 200_000;
    let su = 0,
      sn = 0,
      sn2 = 0,
      sg = 0;
    for (let i = 0; i < n; i++) {
      su += r.uniform();
      const z = r.normal();
      sn += z;
      sn2 += z * z;
      sg += r.gamma(0.5);
    }
    // 5-sigma bounds: U mean sd = 0.29/√n, N mean sd = 1/√n, N var sd = √2/√n, Gamma(0.5) mean sd = √0.5/√n
    expect(Math.abs(su / n - 0.5)).toBeLessThan((5 * 0.289) / Math.sqrt(n));
    expect(Math.abs(sn / n)).toBeLessThan(5 / Math.sqrt(n));
    expect(Math.abs(sn2 / n - 1)).toBeLessThan((5 * Math.SQRT2) / Math.sqrt(n));
    expect(Math.abs(sg / n - 0.5)).toBeLessThan((5 * Math.SQRT1_2) / Math.sqrt(n));
  });
});

describe("synthetic corpus", () => {
  const spec = { vocab: 16, order: 2, tokens: 400_000, seed: 3 };
  const corpus = makeSyntheticCorpus(spec);

  it("is reproducible from its seed", () => {
    const again = makeSyntheticCorpus(spec);
    expect(again.entropyRate).toBe(corpus.entropyRate);
    expect(again.test).toEqual(corpus.test);
  });

  it("has normalized transition rows", () => {
    for (let c = 0; c < spec.vocab ** spec.order; c++) {
      let s = 0;
      for (let v = 0; v < spec.vocab; v++) s += corpus.transitions[c * spec.vocab + v]!;
      expect(s).toBeCloseTo(1, 12);
    }
  });

  it("samples at its computed entropy rate (the true model's NLL on a long stream)", () => {
    // The NLL of n tokens under the true chain has mean H and sd ≈ σ/√n; with n = 320k and per-token σ < 1.5
    // nats, 0.02 nats is beyond 4 sd.
    const nll = trueNll(corpus, corpus.train);
    expect(Math.abs(nll - corpus.entropyRate)).toBeLessThan(0.02);
    expect(corpus.optimalPerplexity).toBeGreaterThan(1);
    expect(corpus.optimalPerplexity).toBeLessThan(4); // at most 4 successors per context
  });

  it("splits 80/10/10 and uses only the vocabulary", () => {
    expect(corpus.train.length + corpus.valid.length + corpus.test.length).toBe(spec.tokens);
    expect(corpus.valid.length).toBe(40_000);
    expect(Math.max(...corpus.test)).toBeLessThan(spec.vocab);
  });
});
