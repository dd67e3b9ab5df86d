// One recurrent layer and its weights: W [I, G·H] (input), U [H, G·H] (recurrent), b [G·H], and for the GRU a
// second bias b_h inside r ⊙ (U h + b_h). The time loop is the fused op of recurrent.ts.
import * as tf from "@tensorflow/tfjs";
import { gruMath } from "./gru.js";
import type { Init } from "./init.js";
import { LSTM_GATES, lstmMath } from "./lstm.js";
import type { ParameterStore } from "./parameters.js";
import type { StepContext } from "./step-context.js";
import { runSequence, type CellMath, type NormSiteParams, type SequenceNorm } from "./recurrent.js";
import type { NormOptions } from "./normalization.js";
import { recurrentMask, type RecurrentDropout } from "./recurrent-dropout.js";
import { rnnMath } from "./rnn.js";
import { weightDrop } from "./weight-drop.js";
import { zoneoutMask } from "./zoneout.js";

export type CellKind = "lstm" | "gru" | "rnn";

export interface LayerState {
  readonly h: tf.Tensor2D; // [B, H]
  readonly c: tf.Tensor2D | null; // [B, H], LSTM only
}

export interface RecurrentLayerOptions {
  readonly init: Init;
  readonly recurrentInit: Init;
  /** Added to the LSTM forget-gate bias (Gers et al. 2000; Zaremba et al. 2014 use 0). */
  readonly forgetBias?: number;
  /** The plain RNN's nonlinearity. */
  readonly activation?: "tanh" | "relu";
  /** Dropout on h_{t-1} where it enters U (recurrent-dropout.ts). */
  readonly recurrentDropout?: RecurrentDropout;
  /** DropConnect on U, one mask per window (weight-drop.ts). */
  readonly weightDrop?: number;
  /** Zoneout probabilities of h and, for the LSTM, c (zoneout.ts). */
  readonly zoneout?: { readonly hidden: number; readonly cell: number };
  /** Batch or layer normalization of x W, h U and c (normalization.ts). */
  readonly norm?: NormOptions;
  /**
   * zero (the default), or learned: h_0 and, for the LSTM, c_0 are parameters trained with the weights, as in
   * Cooijmans et al. 2017, §2.1 ("the initial states h0 ∈ R^dh, c0 ∈ R^dh are model parameters").
   */
  readonly initialState?: "zero" | "learned";
}

export class RecurrentLayer {
  readonly math: CellMath;
  readonly W: tf.Variable<tf.Rank.R2>;
  readonly U: tf.Variable<tf.Rank.R2>;
  readonly b: tf.Variable<tf.Rank.R1>;
  readonly bh: tf.Variable<tf.Rank.R1> | null;

  private readonly sites: Pick<RecurrentLayerOptions, "recurrentDropout" | "weightDrop" | "zoneout">;
  /** The learned h_0 and c_0 [H], zeros at first; null: every sequence starts from zeros. */
  readonly start: { readonly h: tf.Variable<tf.Rank.R1>; readonly c: tf.Variable<tf.Rank.R1> | null } | null;
  /**
   * The states initialState() handed out. A language model's driver asks for them outside the differentiated
   * function; forward() rebuilds such a state from h_0 and c_0 inside it, so that the first window's gradient
   * reaches them.
   */
  private readonly handedOut = new WeakSet<LayerState>();
  /** The normalized sites' gains and population statistics; null: no normalization. */
  private readonly norm: {
    readonly opts: NormOptions;
    readonly input?: NormSiteParams;
    readonly recurrent?: NormSiteParams;
    readonly cell?: NormSiteParams;
  } | null;

  constructor(
    store: ParameterStore,
    name: string,
    readonly cell: CellKind,
    readonly inputSize: number,
    readonly hidden: number,
    opts: RecurrentLayerOptions,
  ) {
    this.sites = { recurrentDropout: opts.recurrentDropout, weightDrop: opts.weightDrop, zoneout: opts.zoneout };
    this.math = cell === "lstm" ? lstmMath : cell === "gru" ? gruMath : rnnMath(opts.activation ?? "tanh");
    const GH = this.math.gates * hidden;
    this.W = store.matrix(`${name}.W`, inputSize, GH, opts.init, hidden);
    // An identity U is the identity on the candidate block only, its gate blocks drawn by `init` (Cooijmans et al.
    // 2017, §5.1, as the authors' code does it: init.ts, identityOnCandidate)
    this.U = store.matrix(`${name}.U`, hidden, GH, opts.recurrentInit, hidden, {
      candidate: this.math.candidate,
      gateInit: opts.init,
    });
    const forget = cell === "lstm" ? (opts.forgetBias ?? 0) : 0;
    const F = LSTM_GATES.F;
    this.b = store.vector(`${name}.b`, GH, (i) => (Math.floor(i / hidden) === F ? forget : 0));
    this.bh = cell === "gru" ? store.vector(`${name}.bh`, GH) : null;
    this.norm = opts.norm ? normParams(store, name, opts.norm, GH, hidden, this.math.hasCell) : null;
    this.start =
      opts.initialState === "learned"
        ? { h: store.vector(`${name}.h0`, hidden), c: this.math.hasCell ? store.vector(`${name}.c0`, hidden) : null }
        : null;
  }

  /** h = 0 and, for the LSTM, c = 0: [B, H] each. */
  zeroState(batch: number): LayerState {
    return { h: tf.zeros([batch, this.hidden]), c: this.math.hasCell ? tf.zeros([batch, this.hidden]) : null };
  }

  /** The state a sequence starts from, [B, H] each: zeros, or the learned h_0 (and c_0) for every example. */
  initialState(batch: number): LayerState {
    if (!this.start) return this.zeroState(batch);
    const state = this.learnedState(batch);
    this.handedOut.add(state);
    return state;
  }

  private learnedState(batch: number): LayerState {
    const rows = (v: tf.Variable<tf.Rank.R1>): tf.Tensor2D => tf.tile(v.expandDims(0), [batch, 1]) as tf.Tensor2D;
    return { h: rows(this.start!.h), c: this.start!.c ? rows(this.start!.c) : null };
  }

  private sequenceNorm(training: boolean): SequenceNorm | null {
    if (!this.norm) return null;
    const { opts, input, recurrent, cell } = this.norm;
    return { kind: opts.kind, training, epsilon: opts.epsilon, momentum: opts.momentum, input, recurrent, cell };
  }

  /**
   * x: [T, B, I] → y: [T, B, H]. The returned state is detached (truncated BPTT) and owned by the caller. `ctx`
   * (training or not, and the mask stream) is needed only by a layer with recurrent sites.
   */
  forward(x: tf.Tensor3D, state: LayerState, ctx?: StepContext): { y: tf.Tensor3D; state: LayerState } {
    const [T, B] = x.shape;
    const H = this.hidden;
    const { recurrentDropout, weightDrop: pw = 0, zoneout } = this.sites;
    const training = ctx?.training ?? false;
    if (!ctx && (recurrentDropout?.p || pw || zoneout?.hidden || zoneout?.cell))
      throw new Error("a layer with recurrent sites needs the StepContext");
    const rng = ctx?.rng as StepContext["rng"];
    const U = weightDrop(this.U, pw, rng, training); // [H, G·H], one mask for the window
    // A state initialState() handed out is rebuilt here, where the caller differentiates (Cooijmans et al. 2017, §2.1)
    const start = this.start && this.handedOut.has(state) ? this.learnedState(B) : state;
    const r = runSequence(this.math, x, { W: this.W, U, b: this.b, bh: this.bh }, start.h, start.c, {
      recurrentMask: recurrentMask(recurrentDropout, T, B, H, rng, training),
      zoneoutHidden: zoneout?.hidden ? zoneoutMask(zoneout.hidden, T, B, H, rng, training) : null,
      zoneoutCell: zoneout?.cell && this.math.hasCell ? zoneoutMask(zoneout.cell, T, B, H, rng, training) : null,
      norm: this.sequenceNorm(training),
      inference: ctx !== undefined && !ctx.training, // evaluation (a StepContext that is not training) is never differentiated
      initialStateGrad: this.start !== null,
    });
    return { y: r.y, state: { h: r.h, c: r.c } };
  }
}

/**
 * The gains of each normalized site (γ_x, γ_h: [G·H]; γ_c, β_c: [H]) and, for batch norm, population statistics
 * per time-step slot (mean 0, variance 1 until the first training window).
 */
function normParams(
  store: ParameterStore,
  name: string,
  o: NormOptions,
  GH: number,
  H: number,
  hasCell: boolean,
): { opts: NormOptions; input?: NormSiteParams; recurrent?: NormSiteParams; cell?: NormSiteParams } {
  const site = (key: string, F: number, withBeta: boolean): NormSiteParams => ({
    gamma: store.vector(`${name}.${key}.gamma`, F, () => o.gamma),
    beta: withBeta ? store.vector(`${name}.${key}.beta`, F) : undefined,
    population:
      o.kind === "batch"
        ? {
            mean: store.buffer(`${name}.${key}.mean`, o.slots, F, 0),
            variance: store.buffer(`${name}.${key}.variance`, o.slots, F, 1),
          }
        : undefined,
  });
  return {
    opts: o,
    // β_x = β_h = 0: the bias b covers both (Cooijmans et al. 2017, §3)
    input: o.sites.includes("input") ? site("norm_x", GH, false) : undefined,
    recurrent: o.sites.includes("recurrent") ? site("norm_h", GH, false) : undefined,
    cell: hasCell && o.sites.includes("cell") ? site("norm_c", H, true) : undefined,
  };
}
