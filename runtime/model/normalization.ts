// Normalization inside the fused recurrent op: recurrent batch norm (Cooijmans et al. 2017) and layer norm
// (Ba, Kiros & Hinton 2016), at three sites of the cell:
//   gates = N(x_t W; γ_x) + N(h_{t-1} U; γ_h) + b          (Cooijmans eq. 6; Ba eq. 20)
//   h_t   = σ(o) ⊙ tanh(N(c_t; γ_c, β_c))                  (Cooijmans eq. 8; Ba eq. 22)
// β_x = β_h = 0: the cell's bias b already covers both (Cooijmans §3).
//
// Batch norm normalizes each unit over the batch, with statistics per time step (§3: "we keep separate
// statistics for each time step"): at training the batch's, at evaluation a moving average of them
// (population statistics, rate 0.05 in the reference code); steps beyond T_max reuse T_max's (§3). Layer norm
// normalizes each example over its units, so it keeps no statistics and behaves the same at training and eval.
//
// The forward and backward here are the plain formulas, called by recurrent.ts at each site:
//   x̂ = (z − μ) / √(σ² + ε),  y = γ ⊙ x̂ + β
//   dz = (1/√(σ² + ε)) ⊙ (ĝ − mean(ĝ) − x̂ ⊙ mean(ĝ ⊙ x̂)),  ĝ = γ ⊙ dy,  means over the normalized axis
// (with population statistics μ and σ² are constants; the op is then never differentiated: evaluation only).
import * as tf from "@tensorflow/tfjs";

export type NormSite = "input" | "recurrent" | "cell";

/** What one site's forward keeps for its backward. */
export interface NormSaved {
  readonly xhat: tf.Tensor;
  readonly invStd: tf.Tensor;
}

/** Running statistics of one site: rows = time-step slots ([S, F]). */
export interface PopulationStats {
  readonly mean: tf.Variable<tf.Rank.R2>;
  readonly variance: tf.Variable<tf.Rank.R2>;
}

export interface NormOptions {
  readonly kind: "batch" | "layer";
  readonly sites: readonly NormSite[];
  /** Initial γ: 0.1 for batch norm (Cooijmans §4, keeps σ and tanh out of saturation), 1 for layer norm. */
  readonly gamma: number;
  readonly epsilon: number;
  /** Batch norm: the population moving-average rate. */
  readonly momentum: number;
  /** Batch norm: T_max, the number of per-step statistics slots (1 = one set shared across time). */
  readonly slots: number;
}

/**
 * z → x̂ along `axis` (kept as size-1), with the given statistics or z's own. Returns x̂, 1/√(σ² + ε), and the
 * batch moments it used (for the population update).
 */
export function normForward(
  z: tf.Tensor,
  axis: number,
  eps: number,
  stats: { mean: tf.Tensor; variance: tf.Tensor } | null,
): NormSaved & { mean: tf.Tensor; variance: tf.Tensor } {
  const { mean, variance } = stats ?? tf.moments(z, axis, true);
  const invStd = tf.rsqrt(tf.add(variance, eps));
  const xhat = tf.mul(tf.sub(z, mean), invStd);
  return { xhat, invStd, mean, variance };
}

/** dL/dz from dL/dx̂ (= γ ⊙ dy), through batch statistics along `axis`. */
export function normBackward(dxhat: tf.Tensor, saved: NormSaved, axis: number): tf.Tensor {
  const m1 = tf.mean(dxhat, axis, true);
  const m2 = tf.mean(tf.mul(dxhat, saved.xhat), axis, true);
  return tf.mul(saved.invStd, tf.sub(tf.sub(dxhat, m1), tf.mul(saved.xhat, m2)));
}

/**
 * Fold a window's per-step batch moments ([T, F]) into the population ([S, F]) at `rate`: step t updates slot
 * min(t, S − 1), so the steps beyond T_max all feed the last slot (with their mean), and S = 1 is one set shared
 * by every step.
 */
export function updatePopulation(pop: PopulationStats, means: tf.Tensor2D, variances: tf.Tensor2D, rate: number): void {
  const S = pop.mean.shape[0];
  tf.tidy(() => {
    const fold = (rows: tf.Tensor2D): tf.Tensor2D => {
      const T = rows.shape[0];
      if (T <= S) return rows;
      const head = tf.slice(rows, [0, 0], [S - 1, -1]);
      const tail = tf.mean(tf.slice(rows, [S - 1, 0], [-1, -1]), 0, true);
      return tf.concat([head, tail], 0) as tf.Tensor2D;
    };
    for (const [v, rows] of [
      [pop.mean, fold(means)],
      [pop.variance, fold(variances)],
    ] as const) {
      const n = rows.shape[0];
      const head = tf.add(tf.mul(tf.slice(v, [0, 0], [n, -1]), 1 - rate), tf.mul(rows, rate));
      v.assign((n < S ? tf.concat([head, tf.slice(v, [n, 0], [-1, -1])], 0) : head) as tf.Tensor2D);
    }
  });
}

/** The population statistics of steps 0 … T−1: slot min(t, S − 1) for step t (Cooijmans §3, beyond T_max). */
export function populationFor(pop: PopulationStats, T: number): { mean: tf.Tensor2D; variance: tf.Tensor2D } {
  const S = pop.mean.shape[0];
  if (T === S) return { mean: pop.mean, variance: pop.variance };
  const idx = tf.tensor1d(
    Array.from({ length: T }, (_, t) => Math.min(t, S - 1)),
    "int32",
  );
  const out = { mean: tf.gather(pop.mean, idx) as tf.Tensor2D, variance: tf.gather(pop.variance, idx) as tf.Tensor2D };
  idx.dispose();
  return out;
}
