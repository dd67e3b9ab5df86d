// The fused recurrent layer: one op per layer per BPTT window, with a hand-written backward (tf.customGrad).
//
// Why fused: tfjs's per-op autodiff records ~15 kernels per step and takes every matMul gradient with transpose
// flags, which the wasm backend runs ~10× slower than an explicit transpose followed by a plain matMul
// (shared/design/perf-notes.md). Here the input projection of all T steps is one matMul, the recurrent
// matMul is the only per-step matMul, and every backward matMul is written as matMul(transpose(a), b).
//
// The cell-specific maths (LSTM, GRU, tanh RNN) lives in its own file as a `CellMath`; this driver owns the
// projections, the time loop and the weight gradients, so later sites (recurrent masks, weight drop, zoneout,
// per-step normalization) plug into one place.
import * as tf from "@tensorflow/tfjs";
import { matMulTransposeA, sumRows } from "./fast-ops.js";

type T2 = tf.Tensor2D;

/** One step of a cell, given both projections. G = gates: the projections are [B, G·H]. */
export interface CellMath {
  readonly gates: number;
  /** LSTM carries a memory cell c next to h. */
  readonly hasCell: boolean;
  /**
   * a = x_t W + b (the input projection), r = h_{t-1} U + b_h (the recurrent one), both [B, G·H].
   * Returns the new state and whatever the backward needs (kept by the driver).
   */
  forward(a: T2, r: T2, hPrev: T2, cPrev: T2 | null): { h: T2; c: T2 | null; saved: tf.Tensor[] };
  /**
   * Given dL/dh_t (dh) and dL/dc_t from step t+1 (dc), return dL/da, dL/dr, the part of dL/dh_{t-1} that does
   * not pass through U (GRU's z ⊙ h_{t-1}; null otherwise), and dL/dc_{t-1}.
   */
  backward(dh: T2, dc: T2 | null, saved: readonly tf.Tensor[], hPrev: T2, cPrev: T2 | null): { da: T2; dr: T2; dhDirect: T2 | null; dcPrev: T2 | null };
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
export function runSequence(cell: CellMath, x: tf.Tensor3D, w: RecurrentWeights, h0: T2, c0: T2 | null, sites: RecurrenceSites = {}): SequenceResult {
  const [T, B, I] = x.shape;
  let final: { h: T2; c: T2 | null } | null = null;
  const inputs: tf.Tensor[] = [x, w.W, w.U, w.b, ...(w.bh ? [w.bh] : [])];
  // The masks are saved with the op (save() keeps them for the backward): a mask drawn inside the caller's
  // differentiated function is disposed when its forward scope ends, before the backward runs.
  type Site = tf.Tensor | number | null;
  const masks: Site[] = [sites.recurrentMask ?? null, sites.zoneoutHidden ?? null, cell.hasCell ? (sites.zoneoutCell ?? null) : null];
  const maskTensors = masks.filter((m): m is tf.Tensor => m instanceof tf.Tensor);
  /** Per-step accessors for the three sites from the given tensors (the live ones, or the saved copies). */
  const accessors = (ts: readonly tf.Tensor[]) => {
    let k = 0;
    const [rm, hz, cz] = masks.map((m) => stepwise(m instanceof tf.Tensor ? ts[k++]! : m, T));
    return { recMasks: (rm ?? null) as ((t: number) => T2) | null, zh: hz ?? null, zc: cz ?? null };
  };

  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const save = args[args.length - 1] as tf.GradSaveFunc;
    const [xs, W, U, b, bh] = args.slice(0, -1) as [tf.Tensor3D, T2, T2, tf.Tensor1D, tf.Tensor1D | undefined];
    const x2 = xs.reshape([T * B, I]) as T2; // [T·B, I]
    const A = tf.split(tf.add(tf.matMul(x2, W), b) as T2, T, 0) as T2[]; // T × [B, G·H]: all input projections at once
    const { recMasks, zh, zc } = accessors(maskTensors); // T × [B, H] each (variational: one tensor T times)
    let h = h0;
    let c = c0;
    const hPrevs: T2[] = [];
    const hIns: T2[] = []; // what U multiplies: h_{t-1}, or m_t ⊙ h_{t-1} under recurrent dropout
    const cPrevs: T2[] = [];
    const stepSaved: tf.Tensor[][] = [];
    const hs: T2[] = [];
    for (let t = 0; t < T; t++) {
      hPrevs.push(h);
      if (c) cPrevs.push(c);
      const hIn = recMasks ? (tf.mul(h, recMasks(t)) as T2) : h; // recurrent dropout: only where h_{t-1} enters U
      hIns.push(hIn);
      const rh = tf.matMul(hIn, U);
      const r = (bh ? tf.add(rh, bh) : rh) as T2; // [B, G·H]
      const step = cell.forward(A[t]!, r, h, c);
      stepSaved.push(step.saved);
      h = zh ? zoneout(step.h, h, zh(t)) : step.h; // zoneout keeps units of h_{t-1} (Krueger et al. 2017)
      c = zc && c ? zoneout(step.c!, c, zc(t)) : step.c;
      hs.push(h);
    }
    final = { h: tf.keep(h.clone()), c: c ? tf.keep(c.clone()) : null };
    const y = tf.concat(hs, 0); // [T·B, H]
    const layout = stepSaved[0]?.length ?? 0;
    // Saved: x, h_0…h_{T-1} (the cells' backward reads h_{t-1}), what U multiplied (for dU), c_0…c_{T-1}, per step.
    // W and U too: an input computed inside the caller's differentiated function (weight drop's M ⊙ U) is disposed
    // with its forward scope.
    save([x2, tf.concat(hPrevs, 0), recMasks ? tf.concat(hIns, 0) : tf.zeros([0]), ...(cell.hasCell ? cPrevs : []), ...stepSaved.flat(), W, U, ...maskTensors]);

    const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]): tf.Tensor[] => {
      const { recMasks, zh, zc } = accessors(saved.slice(saved.length - maskTensors.length));
      const [Ws, Us] = saved.slice(saved.length - maskTensors.length - 2) as [T2, T2];
      const x2s = saved[0] as T2;
      const Hprev = saved[1] as T2; // [T·B, H]: h_0 … h_{T-1}
      const Hin = recMasks ? (saved[2] as T2) : Hprev; // [T·B, H]: what U multiplied
      const cs = cell.hasCell ? (saved.slice(3, 3 + T) as T2[]) : [];
      const perStep = saved.slice(3 + cs.length, saved.length - maskTensors.length - 2);
      const hPrevList = tf.split(Hprev, T, 0) as T2[];
      const dys = tf.split(dy.reshape([T * B, -1]) as T2, T, 0) as T2[];
      const UT = tf.transpose(Us); // [G·H, H], once per window: no transpose flags on the hot path
      let dhNext: T2 | null = null;
      let dcNext: T2 | null = null;
      const das: T2[] = new Array(T);
      const drs: T2[] = new Array(T);
      for (let t = T - 1; t >= 0; t--) {
        const dh = dhNext ? (tf.add(dys[t]!, dhNext) as T2) : dys[t]!;
        const stepS = perStep.slice(t * layout, (t + 1) * layout);
        // Each step's temporaries die in this tidy; what it returns (the step's gradients and what flows to step
        // t−1) moves to the enclosing scope. No tf.keep here: a kept tensor outlives every tidy, including the
        // training step's, and would leak ~2 tensors per step per layer.
        const [da, dr, dhPrev, dcPrev] = tf.tidy(() => {
          // zoneout: h_t = h̃ + z ⊙ (h_{t-1} − h̃), so dL/dh̃ = (1 − z) ⊙ dh and h_{t-1} gets z ⊙ dh directly
          const zH = zh?.(t), zC = zc?.(t);
          const dhCell = zH === undefined ? dh : (tf.mul(dh, oneMinus(zH)) as T2);
          const dcCell = zC === undefined || !dcNext ? dcNext : (tf.mul(dcNext, oneMinus(zC)) as T2);
          const g = cell.backward(dhCell, dcCell, stepS, hPrevList[t]!, cell.hasCell ? cs[t]! : null);
          let dhRec = tf.matMul(g.dr, UT) as T2; // through h_{t-1} U
          if (recMasks) dhRec = tf.mul(dhRec, recMasks(t)) as T2; // …and through the recurrent mask
          let dhP = g.dhDirect ? (tf.add(dhRec, g.dhDirect) as T2) : dhRec;
          if (zH !== undefined) dhP = tf.add(dhP, tf.mul(dh, zH)) as T2;
          let dcP = g.dcPrev;
          if (zC !== undefined && dcP && dcNext) dcP = tf.add(dcP, tf.mul(dcNext, zC)) as T2;
          return [g.da, g.dr === g.da ? g.da : g.dr, dhP, dcP ?? tf.zeros([0, 0])] as T2[];
        });
        if (dh !== dys[t]) dh.dispose();
        dhNext?.dispose();
        dcNext?.dispose();
        das[t] = da!;
        drs[t] = dr!;
        dhNext = dhPrev!;
        dcNext = cell.hasCell ? dcPrev! : (dcPrev!.dispose(), null);
      }
      (dhNext as T2 | null)?.dispose(); // dL/dh_0 and dL/dc_0: truncated BPTT sends nothing to the previous window
      (dcNext as T2 | null)?.dispose();
      const dA = tf.concat(das, 0); // [T·B, G·H]
      // LSTM and RNN feed one pre-activation from both projections (da = dr): reuse the concat
      const dR = drs.every((d, t) => d === das[t]) ? dA : tf.concat(drs, 0);
      new Set([...das, ...drs]).forEach((d) => d.dispose());
      const dW = matMulTransposeA(x2s, dA); // [I, G·H]
      const dU = matMulTransposeA(Hin, dR); // [H, G·H]
      const dx = tf.matMul(dA, tf.transpose(Ws)).reshape([T, B, I]);
      const grads: tf.Tensor[] = [dx, dW, dU, sumRows(dA)];
      if (bh) grads.push(sumRows(dR));
      return grads;
    };
    return { value: y.reshape([T, B, -1]) as tf.Tensor3D, gradFunc };
  });

  const y = op(...inputs) as tf.Tensor3D;
  const f = final as unknown as { h: T2; c: T2 | null };
  return { y, h: f.h, c: f.c };
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
