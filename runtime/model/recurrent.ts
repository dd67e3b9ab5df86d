// The fused recurrent layer: one op per layer per BPTT window, with a hand-written backward (tf.customGrad).
//
// Why fused: tfjs's per-op autodiff records ~15 kernels per step and takes every matMul gradient with transpose
// flags, which the wasm backend runs ~10× slower than an explicit transpose followed by a plain matMul
// (measured per kernel on tfjs 4.22). Here the input projection of all T steps is one matMul, the recurrent
// matMul is the only per-step matMul, and every backward matMul is written as matMul(transpose(a), b).
//
// The cell-specific maths (LSTM, GRU, tanh RNN) lives in its own file as a `CellMath`; this driver owns the
// projections, the time loop and the weight gradients, so later sites (recurrent masks, weight drop, zoneout,
// per-step normalization) plug into one place.
import * as tf from "@tensorflow/tfjs";
import { addMany, matMul, matMulRight, matMulTransposeA, rightOperand, sumRows } from "../accel/fast-ops.js";
import {
  normBackward,
  normForward,
  populationFor,
  updatePopulation,
  type NormSaved,
  type PopulationStats,
} from "./normalization.js";

type T2 = tf.Tensor2D;

/** One step of a cell, given both projections. G = gates: the projections are [B, G·H]. */
export interface CellMath {
  readonly gates: number;
  /**
   * The candidate block (the cell input: LSTM g, GRU n, the RNN's only block), where an identity U puts its
   * identity (init.ts, identityOnCandidate).
   */
  readonly candidate: number;
  /** LSTM carries a memory cell c next to h. */
  readonly hasCell: boolean;
  /**
   * a = x_t W + b (the input projection), r = h_{t-1} U + b_h (the recurrent one), both [B, G·H].
   * Returns the new state and whatever the backward needs (kept by the driver).
   */
  forward(
    a: T2,
    r: T2,
    hPrev: T2,
    cPrev: T2 | null,
    cellNorm?: (c: T2) => T2,
  ): { h: T2; c: T2 | null; saved: tf.Tensor[] };
  /**
   * Given dL/dh_t (dh) and dL/dc_t from step t+1 (dc), return dL/da, dL/dr, the part of dL/dh_{t-1} that does
   * not pass through U (GRU's z ⊙ h_{t-1}; null otherwise), and dL/dc_{t-1}.
   * `cellNorm` (LSTM only): c_t is normalized before its tanh (Cooijmans et al. 2017, eq. 8); the backward gets
   * the matching dL/dN(c_t) → dL/dc_t.
   */
  backward(
    dh: T2,
    dc: T2 | null,
    saved: readonly tf.Tensor[],
    hPrev: T2,
    cPrev: T2 | null,
    cellNormBack?: (dn: T2) => T2,
  ): { da: T2; dr: T2; dhDirect: T2 | null; dcPrev: T2 | null };
}

export interface RecurrentWeights {
  /** [I, G·H] */
  readonly W: tf.Tensor2D;
  /** [H, G·H] */
  readonly U: tf.Tensor2D;
  /** [G·H]: the one bias of LSTM and RNN; GRU's input-side bias. */
  readonly b: tf.Tensor1D;
  /** [G·H]: GRU's recurrent-side bias (it sits inside r ⊙ (U h + b_h)); null for LSTM and RNN. */
  readonly bh: tf.Tensor1D | null;
}

/**
 * What may act on the recurrence inside the fused op, each with its masks already drawn (recurrent-dropout.ts).
 * The masks are constants of the window: no gradient flows into them.
 */
export interface RecurrenceSites {
  /**
   * Dropout on h_{t-1} where it enters U (Gal & Ghahramani 2016): [B, H] shared by every step (variational) or
   * [T, B, H], a fresh mask per step (per_step, the destructive case). Scaled by 1/(1−p); null: none.
   */
  readonly recurrentMask?: tf.Tensor2D | tf.Tensor3D | null;
  /**
   * Zoneout (Krueger et al. 2017, eq. 5–6): h_t = h̃_t + z ⊙ (h_{t-1} − h̃_t), the same for c. Training: z is a
   * {0, 1} mask [T, B, H], fresh per step; evaluation: z = p, the expectation. null: none.
   */
  readonly zoneoutHidden?: tf.Tensor3D | number | null;
  readonly zoneoutCell?: tf.Tensor3D | number | null;
  /** Batch or layer normalization of x W, h U and c (normalization.ts); null: none. */
  readonly norm?: SequenceNorm | null;
  /** A forward that is never differentiated (evaluation): keeps nothing for a backward. */
  readonly inference?: boolean;
  /**
   * h_0 (and c_0) are inputs of the op and get gradients: a learned initial state (Cooijmans et al. 2017, §2.1).
   * Otherwise they are constants, as truncated BPTT's carried state is.
   */
  readonly initialStateGrad?: boolean;
}

/** One normalized site: its gain (and, for c, shift) and, for batch norm, its population statistics. */
export interface NormSiteParams {
  readonly gamma: tf.Variable<tf.Rank.R1>;
  readonly beta?: tf.Variable<tf.Rank.R1>;
  readonly population?: PopulationStats;
}

export interface SequenceNorm {
  readonly kind: "batch" | "layer";
  /** Batch norm: batch statistics (and a population update) when training, population statistics otherwise. */
  readonly training: boolean;
  readonly epsilon: number;
  readonly momentum: number;
  readonly input?: NormSiteParams;
  readonly recurrent?: NormSiteParams;
  readonly cell?: NormSiteParams;
}

export interface SequenceResult {
  /** [T, B, H]: h_1 … h_T, differentiable w.r.t. x and the weights. */
  readonly y: tf.Tensor3D;
  /** The final state, detached and kept: the caller owns (and disposes) it. Truncated BPTT stops here. */
  readonly h: T2;
  readonly c: T2 | null;
}

/**
 * Run a cell over a window. x: [T, B, I]; h0, c0: [B, H] (treated as constants: truncated BPTT never sends a
 * gradient into the previous window).
 */
export function runSequence(
  cell: CellMath,
  x: tf.Tensor3D,
  w: RecurrentWeights,
  h0: T2,
  c0: T2 | null,
  sites: RecurrenceSites = {},
): SequenceResult {
  const [T, B, I] = x.shape;
  let final: { h: T2; c: T2 | null } | null = null;
  const norm = sites.norm ?? null;
  const nx = norm?.input ?? null;
  const nh = norm?.recurrent ?? null;
  const nc = cell.hasCell ? (norm?.cell ?? null) : null;
  // The gains are inputs of the op, after the weights, so that they get gradients: γ_x, γ_h, γ_c, β_c.
  const normParams = [nx?.gamma, nh?.gamma, nc?.gamma, nc?.beta].filter(
    (v): v is tf.Variable<tf.Rank.R1> => v !== undefined,
  );
  const startInputs = sites.initialStateGrad ? [h0, ...(c0 ? [c0] : [])] : []; // last: their gradients come last
  const inputs: tf.Tensor[] = [x, w.W, w.U, w.b, ...(w.bh ? [w.bh] : []), ...normParams, ...startInputs];
  // Batch norm normalizes over the batch (axis 0 of a step's [B, F]), layer norm over the units (axis 1).
  const stepAxis = norm?.kind === "layer" ? 1 : 0;
  const batchStats = norm?.kind === "layer" || (norm?.training ?? false);
  // The masks are saved with the op (save() keeps them for the backward): a mask drawn inside the caller's
  // differentiated function is disposed when its forward scope ends, before the backward runs.
  type Site = tf.Tensor | number | null;
  const masks: Site[] = [
    sites.recurrentMask ?? null,
    sites.zoneoutHidden ?? null,
    cell.hasCell ? (sites.zoneoutCell ?? null) : null,
  ];
  const maskTensors = masks.filter((m): m is tf.Tensor => m instanceof tf.Tensor);
  /** Per-step accessors for the three sites from the given tensors (the live ones, or the saved copies). */
  const accessors = (ts: readonly tf.Tensor[]) => {
    let k = 0;
    const [rm, hz, cz] = masks.map((m) => stepwise(m instanceof tf.Tensor ? ts[k++]! : m, T));
    return { recMasks: (rm ?? null) as ((t: number) => T2) | null, zh: hz ?? null, zc: cz ?? null };
  };
  const inference = sites.inference ?? false;
  const nNormSaved = (nh ? 2 : 0) + (nc ? 2 : 0); // per step: x̂ and 1/σ of h U and of c

  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const save = args[args.length - 1] as tf.GradSaveFunc;
    const [xs, W, U, b] = args.slice(0, 4) as [tf.Tensor3D, T2, T2, tf.Tensor1D];
    const bh = w.bh ? (args[4] as tf.Tensor1D) : undefined; // the gains follow: never read them as b_h
    const x2 = xs.reshape([T * B, I]) as T2; // [T·B, I]
    let XW = matMul(x2, W); // [T·B, G·H]: all input projections at once
    const GH = XW.shape[1];
    // Batch norm at evaluation: the population statistics of steps 0 … T−1 ([T, F]; beyond T_max, T_max's)
    const pop = (p: NormSiteParams | null) => (p?.population && !batchStats ? populationFor(p.population, T) : null);
    const popX = pop(nx),
      popH = pop(nh),
      popC = pop(nc);
    const moments: Record<"x" | "h" | "c", { mean: tf.Tensor[]; variance: tf.Tensor[] }> = {
      x: { mean: [], variance: [] },
      h: { mean: [], variance: [] },
      c: { mean: [], variance: [] },
    };
    let inputNorm: NormSaved | null = null;
    if (nx) {
      // N(x_t W; γ_x) for every step at once: [T, B, F], over the batch (axis 1) or the units (axis 2)
      const stats = popX ? { mean: popX.mean.reshape([T, 1, GH]), variance: popX.variance.reshape([T, 1, GH]) } : null;
      const r = normForward(XW.reshape([T, B, GH]), stepAxis + 1, norm!.epsilon, stats);
      inputNorm = { xhat: r.xhat, invStd: r.invStd };
      if (!popX) (moments.x.mean.push(r.mean), moments.x.variance.push(r.variance));
      XW = tf.mul(r.xhat.reshape([T * B, GH]), nx.gamma) as T2;
    }
    const A = tf.split(tf.add(XW, b) as T2, T, 0) as T2[]; // T × [B, G·H]
    const { recMasks, zh, zc } = accessors(maskTensors); // T × [B, H] each (variational: one tensor T times)
    /** One step's site normalization: γ ⊙ x̂ (+ β), keeping x̂ and 1/σ for the backward and the batch moments. */
    const normStep = (
      z: T2,
      t: number,
      p: NormSiteParams,
      popS: { mean: T2; variance: T2 } | null,
      m: { mean: tf.Tensor[]; variance: tf.Tensor[] },
      keep: tf.Tensor[],
    ): T2 => {
      const stats = popS
        ? { mean: tf.slice(popS.mean, [t, 0], [1, -1]), variance: tf.slice(popS.variance, [t, 0], [1, -1]) }
        : null;
      const r = normForward(z, stepAxis, norm!.epsilon, stats);
      keep.push(r.xhat, r.invStd);
      if (!popS && norm!.kind === "batch") (m.mean.push(r.mean), m.variance.push(r.variance));
      const y = tf.mul(r.xhat, p.gamma);
      return (p.beta ? tf.add(y, p.beta) : y) as T2;
    };
    const Ur = rightOperand(U); // packed once for the window's T products
    let h = h0;
    let c = c0;
    const hPrevs: T2[] = [];
    const hIns: T2[] = []; // what U multiplies: h_{t-1}, or m_t ⊙ h_{t-1} under recurrent dropout
    const cPrevs: T2[] = [];
    const stepSaved: tf.Tensor[][] = [];
    const hs: T2[] = [];
    /** One step from (h, c); `record`: keep what the backward needs. */
    const advance = (t: number, h: T2, c: T2 | null, record: boolean): { h: T2; c: T2 | null } => {
      const hIn = recMasks ? (tf.mul(h, recMasks(t)) as T2) : h; // recurrent dropout: only where h_{t-1} enters U
      if (record) hIns.push(hIn);
      const normSaved: tf.Tensor[] = [];
      let rh = matMulRight(hIn, Ur);
      if (nh) rh = normStep(rh, t, nh, popH, moments.h, normSaved); // N(h_{t-1} U; γ_h), Cooijmans eq. 6
      const r = (bh ? tf.add(rh, bh) : rh) as T2; // [B, G·H]
      const step = cell.forward(
        A[t]!,
        r,
        h,
        c,
        nc ? (ct) => normStep(ct, t, nc, popC, moments.c, normSaved) : undefined,
      );
      if (record) stepSaved.push([...step.saved, ...normSaved]);
      return {
        h: zh ? zoneout(step.h, h, zh(t)) : step.h, // zoneout keeps units of h_{t-1} (Krueger et al. 2017)
        c: zc && c ? zoneout(step.c!, c, zc(t)) : step.c,
      };
    };
    for (let t = 0; t < T; t++) {
      if (inference) {
        // Evaluation: each step's temporaries die at once; only h_t (part of y) and c_t live on. Keeping them all,
        // as the backward needs, aborted pMNIST evaluation (250 sequences × 784 steps, BN-LSTM) on the 4 GiB wasm heap.
        const next = tf.tidy(() => advance(t, h, c, false) as unknown as tf.TensorContainer) as unknown as {
          h: T2;
          c: T2 | null;
        };
        if (c && c !== c0) c.dispose();
        ({ h, c } = next);
      } else {
        hPrevs.push(h);
        if (c) cPrevs.push(c);
        ({ h, c } = advance(t, h, c, true));
      }
      hs.push(h);
    }
    // Batch norm at training: fold this window's per-step batch moments into the population (rate `momentum`)
    if (norm?.kind === "batch" && norm.training) {
      for (const [p, m] of [
        [nx, moments.x],
        [nh, moments.h],
        [nc, moments.c],
      ] as const) {
        if (!p?.population || m.mean.length === 0) continue;
        const rows = (ts: tf.Tensor[]): tf.Tensor2D =>
          (ts.length === 1 ? ts[0]!.reshape([T, -1]) : tf.concat(ts, 0)) as tf.Tensor2D;
        updatePopulation(p.population, rows(m.mean), rows(m.variance), norm.momentum);
      }
    }
    final = { h: tf.keep(h.clone()), c: c ? tf.keep(c.clone()) : null };
    const y = tf.concat(hs, 0); // [T·B, H]
    const layout = stepSaved[0]?.length ?? 0;
    // Saved: x, h_0…h_{T-1} (the cells' backward reads h_{t-1}), what U multiplied (for dU), c_0…c_{T-1}, per step.
    // W and U too: an input computed inside the caller's differentiated function (weight drop's M ⊙ U) is disposed
    // with its forward scope.
    const inputSaved = inputNorm ? [inputNorm.xhat, inputNorm.invStd] : [];
    if (inference)
      return {
        value: y.reshape([T, B, -1]) as tf.Tensor3D,
        gradFunc: () => {
          throw new Error("runSequence: an inference pass has no gradient");
        },
      };
    save([
      x2,
      tf.concat(hPrevs, 0),
      recMasks ? tf.concat(hIns, 0) : tf.zeros([0]),
      ...(cell.hasCell ? cPrevs : []),
      ...stepSaved.flat(),
      ...inputSaved,
      W,
      U,
      ...maskTensors,
    ]);

    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]): tf.Tensor[] => {
      const tailStart = saved.length - maskTensors.length - 2 - inputSaved.length;
      const { recMasks, zh, zc } = accessors(saved.slice(saved.length - maskTensors.length));
      const [Ws, Us] = saved.slice(saved.length - maskTensors.length - 2) as [T2, T2];
      const x2s = saved[0] as T2;
      const Hprev = saved[1] as T2; // [T·B, H]: h_0 … h_{T-1}
      const Hin = recMasks ? (saved[2] as T2) : Hprev; // [T·B, H]: what U multiplied
      const cs = cell.hasCell ? (saved.slice(3, 3 + T) as T2[]) : [];
      const perStep = saved.slice(3 + cs.length, tailStart);
      const hPrevList = tf.split(Hprev, T, 0) as T2[];
      const dys = tf.split(dy.reshape([T * B, -1]) as T2, T, 0) as T2[];
      const UT = rightOperand(Us, true); // Uᵀ [G·H, H], prepared once for the window's T products
      let dhNext: T2 | null = null;
      let dcNext: T2 | null = null;
      const das: T2[] = new Array(T);
      const drs: T2[] = new Array(T); // dL/d(h_{t-1} U): U's gradient
      const dbhs: T2[] = new Array(T); // dL/d(N(h U) + b_h): GRU's b_h gradient, when it differs from the above
      // Per-step gradients of the gains, summed at the end: γ_h, γ_c, β_c
      const dGains: Record<"gh" | "gc" | "bc", tf.Tensor[]> = { gh: [], gc: [], bc: [] };
      for (let t = T - 1; t >= 0; t--) {
        const dh = dhNext ? (tf.add(dys[t]!, dhNext) as T2) : dys[t]!;
        const stepS = perStep.slice(t * layout, (t + 1) * layout);
        const cellS = stepS.slice(0, layout - nNormSaved);
        let k = layout - nNormSaved;
        const hNorm = nh ? { xhat: stepS[k++]!, invStd: stepS[k++]! } : null;
        const cNorm = nc ? { xhat: stepS[k++]!, invStd: stepS[k++]! } : null;
        // Each step's temporaries die in this tidy; what it returns (the step's gradients and what flows to step
        // t−1) moves to the enclosing scope. No tf.keep here: a kept tensor outlives every tidy, including the
        // training step's, and would leak ~2 tensors per step per layer.
        const out = tf.tidy((): tf.TensorContainer => {
          const gains: Partial<Record<"gh" | "gc" | "bc", tf.Tensor>> = {};
          // zoneout: h_t = h̃ + z ⊙ (h_{t-1} − h̃), so dL/dh̃ = (1 − z) ⊙ dh and h_{t-1} gets z ⊙ dh directly
          const zH = zh?.(t),
            zC = zc?.(t);
          const dhCell = zH === undefined ? dh : (tf.mul(dh, oneMinus(zH)) as T2);
          const dcCell = zC === undefined || !dcNext ? dcNext : (tf.mul(dcNext, oneMinus(zC)) as T2);
          // N(c_t; γ_c, β_c) → c_t (Cooijmans eq. 8)
          const cellBack = cNorm
            ? (dn: T2): T2 => {
                gains.gc = sumAllButLast(tf.mul(dn, cNorm.xhat));
                gains.bc = sumAllButLast(dn);
                return normBackward(tf.mul(dn, nc!.gamma), cNorm, stepAxis) as T2;
              }
            : undefined;
          const g = cell.backward(dhCell, dcCell, cellS, hPrevList[t]!, cell.hasCell ? cs[t]! : null, cellBack);
          let dRh = g.dr;
          if (hNorm) {
            // N(h_{t-1} U; γ_h) → h_{t-1} U
            gains.gh = sumAllButLast(tf.mul(g.dr, hNorm.xhat));
            dRh = normBackward(tf.mul(g.dr, nh!.gamma), hNorm, stepAxis) as T2;
          }
          let dhRec = matMulRight(dRh, UT); // through h_{t-1} U
          if (recMasks) dhRec = tf.mul(dhRec, recMasks(t)) as T2; // …and through the recurrent mask
          let dhP = g.dhDirect ? (tf.add(dhRec, g.dhDirect) as T2) : dhRec;
          if (zH !== undefined) dhP = tf.add(dhP, tf.mul(dh, zH)) as T2;
          let dcP = g.dcPrev;
          if (zC !== undefined && dcP && dcNext) dcP = tf.add(dcP, tf.mul(dcNext, zC)) as T2;
          const dbh = bh && hNorm ? g.dr : null;
          const r: StepGrads = {
            da: g.da,
            dr: dRh === g.da ? g.da : dRh,
            dbh,
            dhP,
            dcP: (dcP ?? tf.zeros([0, 0])) as T2,
            gains,
          };
          return r as unknown as tf.TensorContainer;
        }) as unknown as StepGrads;
        if (dh !== dys[t]) dh.dispose();
        dhNext?.dispose();
        dcNext?.dispose();
        das[t] = out.da;
        drs[t] = out.dr;
        if (out.dbh) dbhs[t] = out.dbh;
        for (const [key, v] of Object.entries(out.gains)) dGains[key as keyof typeof dGains].push(v);
        dhNext = out.dhP;
        dcNext = cell.hasCell ? out.dcP : (out.dcP.dispose(), null);
      }
      // dL/dh_0 and dL/dc_0: a learned initial state receives them; otherwise truncated BPTT sends nothing to the
      // previous window.
      const dStart = sites.initialStateGrad
        ? [dhNext as T2 | null, dcNext as T2 | null].slice(0, startInputs.length)
        : [];
      if (!sites.initialStateGrad) {
        (dhNext as T2 | null)?.dispose();
        (dcNext as T2 | null)?.dispose();
      }
      const dA = tf.concat(das, 0); // [T·B, G·H]: dL/d(N(x W) + b)
      // LSTM and RNN feed one pre-activation from both projections (da = dr): reuse the concat
      const dR = drs.every((d, t) => d === das[t]) ? dA : tf.concat(drs, 0);
      const dBh = bh ? (dbhs[0] ? tf.concat(dbhs, 0) : dR) : null;
      new Set([...das, ...drs, ...dbhs.filter(Boolean)]).forEach((d) => d.dispose());
      let dXW = dA as T2; // dL/d(x W)
      let dGx: tf.Tensor | null = null;
      if (nx) {
        // N(x W; γ_x) → x W, every step at once
        const dA3 = dA.reshape([T, B, GH]);
        const xs = { xhat: saved[tailStart]!, invStd: saved[tailStart + 1]! };
        dGx = sumAllButLast(tf.mul(dA3, xs.xhat));
        dXW = normBackward(tf.mul(dA3, nx.gamma), xs, stepAxis + 1).reshape([T * B, GH]) as T2;
      }
      const dW = matMulTransposeA(x2s, dXW); // [I, G·H]
      const dU = matMulTransposeA(Hin, dR); // [H, G·H]
      const dx = matMul(dXW, Ws, false, true).reshape([T, B, I]);
      const grads: tf.Tensor[] = [dx, dW, dU, sumRows(dA)];
      if (dBh) grads.push(sumRows(dBh));
      if (nx) grads.push(dGx!);
      if (nh) grads.push(addMany(dGains.gh));
      if (nc) grads.push(addMany(dGains.gc), addMany(dGains.bc));
      // T ≥ 1, so the loop above set both: the gradients of h_0 and (LSTM) c_0, in input order
      for (const d of dStart) grads.push(d!);
      return grads;
    };
    return { value: y.reshape([T, B, -1]) as tf.Tensor3D, gradFunc };
  });

  const y = op(...inputs) as tf.Tensor3D;
  const f = final as unknown as { h: T2; c: T2 | null };
  return { y, h: f.h, c: f.c };
}

/** What one backward step hands to the next (and to the window's sums). */
interface StepGrads {
  readonly da: T2;
  readonly dr: T2;
  readonly dbh: T2 | null;
  readonly dhP: T2;
  readonly dcP: T2;
  readonly gains: Partial<Record<"gh" | "gc" | "bc", tf.Tensor>>;
}

/** Σ over every axis but the last: a gain's gradient from [B, F] or [T, B, F]. */
function sumAllButLast(t: tf.Tensor): tf.Tensor1D {
  return sumRows(t.reshape([-1, t.shape[t.rank - 1]!]) as T2); // ones · x: wasm's Sum over axis 0 is slow
}

/** A per-window site as a function of the step: a [B, H] mask for every t, a [T, B, H] one split by step, or p. */
function stepwise(m: tf.Tensor | number | null, T: number): ((t: number) => T2 | number) | null;
function stepwise(m: tf.Tensor | null, T: number): ((t: number) => T2) | null;
function stepwise(m: tf.Tensor | number | null, T: number): ((t: number) => T2 | number) | null {
  if (m === null) return null;
  if (typeof m === "number") return () => m;
  if (m.rank === 2) return () => m as T2;
  const steps = tf.split(m.reshape([T * m.shape[1]!, m.shape[2]!]) as T2, T, 0) as T2[];
  return (t) => steps[t]!;
}

/** new + z ⊙ (prev − new): z = 1 keeps the previous unit, z = 0 takes the new one. */
function zoneout(next: T2, prev: T2, z: T2 | number): T2 {
  return tf.add(next, tf.mul(tf.sub(prev, next), z)) as T2;
}

const oneMinus = (z: T2 | number): T2 | number => (typeof z === "number" ? 1 - z : (tf.sub(1, z) as T2));
