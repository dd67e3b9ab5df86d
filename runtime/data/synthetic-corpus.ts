// The synthetic corpus: a seeded order-k Markov chain over V symbols whose entropy rate is computed exactly,
// so a test (or the quickstart) can compare a model's perplexity with the best achievable one.
//
// Each context (the last k symbols) has its own next-symbol distribution, drawn from a sparse Dirichlet: a few
// likely successors per context. The chain over contexts is irreducible with probability ~1, and its entropy
// rate is H = Σ_c π(c) · H(P(·|c)), with π the stationary distribution of contexts (Cover & Thomas, Thm 4.2.4).
import { Rng } from "../base/rng.js";

export interface SyntheticSpec {
  readonly vocab: number;
  readonly order: number;
  readonly tokens: number;
  readonly seed: number;
}

export interface SyntheticCorpus {
  readonly spec: SyntheticSpec;
  /** P(next | context), row-major: context index × vocab. Context index = Σ s_i V^i over the last k symbols. */
  readonly transitions: Float64Array;
  /** Entropy rate in nats per token, and its perplexity exp(H): the best any model can do in expectation. */
  readonly entropyRate: number;
  readonly optimalPerplexity: number;
  readonly train: Int32Array;
  readonly valid: Int32Array;
  readonly test: Int32Array;
}

/** Successors per context and their Dirichlet concentration: enough structure for an LSTM to learn. */
const SUPPORT = 4;
const CONCENTRATION = 0.5;

export function contextCount(spec: Pick<SyntheticSpec, "vocab" | "order">): number {
  return spec.vocab ** spec.order;
}

export function makeSyntheticCorpus(spec: SyntheticSpec): SyntheticCorpus {
  const { vocab: V, order: k } = spec;
  const C = contextCount(spec);
  if (C * V > 2 ** 26) throw new RangeError(`synthetic corpus: ${V}^${k} contexts × ${V} symbols is too large a table`);
  const rng = new Rng(spec.seed);
  const transitions = new Float64Array(C * V);
  for (let c = 0; c < C; c++) {
    const support = Math.min(V, SUPPORT);
    const picks = rng.permutation(V).subarray(0, support);
    let total = 0;
    const weights = Array.from(picks, () => rng.gamma(CONCENTRATION) + 1e-12);
    weights.forEach((x) => (total += x));
    picks.forEach((sym, i) => (transitions[c * V + sym] = weights[i]! / total));
  }
  const pi = stationary(transitions, V, C);
  let H = 0;
  for (let c = 0; c < C; c++) {
    let h = 0;
    for (let s = 0; s < V; s++) {
      const p = transitions[c * V + s]!;
      if (p > 0) h -= p * Math.log(p);
    }
    H += pi[c]! * h;
  }
  const stream = sample(transitions, V, k, C, spec.tokens, rng);
  const nTrain = Math.floor(spec.tokens * 0.8);
  const nValid = Math.floor(spec.tokens * 0.1);
  return {
    spec,
    transitions,
    entropyRate: H,
    optimalPerplexity: Math.exp(H),
    train: stream.subarray(0, nTrain),
    valid: stream.subarray(nTrain, nTrain + nValid),
    test: stream.subarray(nTrain + nValid),
  };
}

/** Context after emitting `sym` in context `c`: drop the oldest symbol, append the new one. */
const shift = (c: number, sym: number, V: number, C: number): number => ((c * V) % C) + sym;

/** Stationary distribution of the context chain, by power iteration from uniform. */
function stationary(P: Float64Array, V: number, C: number): Float64Array {
  let pi = new Float64Array(C).fill(1 / C);
  for (let iter = 0; iter < 10_000; iter++) {
    const next = new Float64Array(C);
    for (let c = 0; c < C; c++) {
      const m = pi[c]!;
      if (m === 0) continue;
      for (let s = 0; s < V; s++) {
        const p = P[c * V + s]!;
        if (p > 0) next[shift(c, s, V, C)]! += m * p;
      }
    }
    // Averaging with the previous iterate (a lazy chain) converges even when the chain is periodic.
    let delta = 0;
    for (let c = 0; c < C; c++) {
      const v = 0.5 * (next[c]! + pi[c]!);
      delta += Math.abs(v - pi[c]!);
      next[c] = v;
    }
    pi = next;
    if (delta < 1e-13) break;
  }
  return pi;
}

function sample(P: Float64Array, V: number, k: number, C: number, n: number, rng: Rng): Int32Array {
  const out = new Int32Array(n);
  let c = rng.int(C);
  for (let burn = 0; burn < 1000 + 10 * k; burn++) c = shift(c, draw(P, c, V, rng), V, C);
  for (let i = 0; i < n; i++) {
    const s = draw(P, c, V, rng);
    out[i] = s;
    c = shift(c, s, V, C);
  }
  return out;
}

function draw(P: Float64Array, c: number, V: number, rng: Rng): number {
  let u = rng.uniform();
  for (let s = 0; s < V; s++) {
    u -= P[c * V + s]!;
    if (u < 0) return s;
  }
  // Rounding left a sliver: return the last symbol this context can emit.
  for (let s = V - 1; s >= 0; s--) if (P[c * V + s]! > 0) return s;
  return 0;
}

/**
 * The true model's mean negative log-likelihood on a split (nats/token), the first `order` tokens skipped:
 * what a perfect model scores on exactly these tokens, next to the expectation `entropyRate`.
 */
export function trueNll(corpus: SyntheticCorpus, tokens: Int32Array): number {
  const { vocab: V, order: k } = corpus.spec;
  const C = contextCount(corpus.spec);
  let c = 0;
  for (let i = 0; i < k; i++) c = shift(c, tokens[i]!, V, C);
  let nll = 0;
  for (let i = k; i < tokens.length; i++) {
    nll -= Math.log(corpus.transitions[c * V + tokens[i]!]!);
    c = shift(c, tokens[i]!, V, C);
  }
  return nll / (tokens.length - k);
}
