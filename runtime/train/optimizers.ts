// Optimizers with explicit state, so a checkpoint holds everything a resumed run needs. The update rules are
// PyTorch's (torch.optim), the convention of the reference implementations the papers' numbers come from.
import * as tf from "@tensorflow/tfjs";
import { subScaled } from "../accel/fast-ops.js";

export type OptimizerSpec =
  | { readonly kind: "sgd"; readonly lr: number; readonly momentum: number }
  | {
      readonly kind: "adam";
      readonly lr: number;
      readonly beta1: number;
      readonly beta2: number;
      readonly epsilon: number;
    }
  | {
      readonly kind: "rmsprop";
      readonly lr: number;
      readonly decay: number;
      readonly momentum: number;
      readonly epsilon: number;
    }
  /**
   * NT-ASGD (Merity et al. 2018, AWD-LSTM §3, Algorithm 1): plain SGD until the validation loss fails to beat the
   * best of all but the last `nonmono` epochs, then SGD that also keeps the running average of the weights
   * (torch.optim.ASGD with t0 = 0, λ = 0, as awd-lstm-lm switches to); evaluation uses the average.
   */
  | { readonly kind: "ntasgd"; readonly lr: number; readonly nonmono: number };

export const sgd = (o: { lr: number; momentum?: number }): OptimizerSpec => ({
  kind: "sgd",
  lr: o.lr,
  momentum: o.momentum ?? 0,
});
export const adam = (o: { lr: number; beta1?: number; beta2?: number; epsilon?: number }): OptimizerSpec => ({
  kind: "adam",
  lr: o.lr,
  beta1: o.beta1 ?? 0.9,
  beta2: o.beta2 ?? 0.999,
  epsilon: o.epsilon ?? 1e-8,
});
export const ntasgd = (o: { lr: number; nonmono?: number }): OptimizerSpec => ({
  kind: "ntasgd",
  lr: o.lr,
  nonmono: o.nonmono ?? 5,
});
export const rmsprop = (o: { lr: number; decay?: number; momentum?: number; epsilon?: number }): OptimizerSpec => ({
  kind: "rmsprop",
  lr: o.lr,
  decay: o.decay ?? 0.9,
  momentum: o.momentum ?? 0,
  epsilon: o.epsilon ?? 1e-8,
});

/** Named state tensors (`"<param>/<slot>"`) plus the step count. */
export interface OptimizerState {
  readonly step: number;
  readonly slots: ReadonlyMap<string, tf.Tensor>;
  /** NT-ASGD: the step at which averaging started (the trigger); null before it, and for other optimizers. */
  readonly averagingSince?: number | null;
}

export class Optimizer {
  private step = 0;
  private averagingSince: number | null = null;
  private readonly slots = new Map<string, tf.Variable>();

  constructor(readonly spec: OptimizerSpec) {}

  /** One update of every variable with its gradient, at learning rate `lr` (the schedule's, not spec.lr). */
  apply(vars: readonly tf.Variable[], grads: readonly tf.Tensor[], lr: number): void {
    this.step++;
    const s = this.spec;
    tf.tidy(() => {
      vars.forEach((v, k) => {
        const g = grads[k]!;
        switch (s.kind) {
          case "sgd": {
            if (s.momentum === 0) return v.assign(subScaled(v, g, lr));
            const buf = this.slot(v, "momentum"); // b ← μ b + g;  w ← w − lr b
            buf.assign(this.step === 1 ? g : tf.add(tf.mul(buf, s.momentum), g));
            return v.assign(tf.sub(v, tf.mul(buf, lr)));
          }
          case "adam": {
            const m = this.slot(v, "m");
            const u = this.slot(v, "v");
            m.assign(tf.add(tf.mul(m, s.beta1), tf.mul(g, 1 - s.beta1)));
            u.assign(tf.add(tf.mul(u, s.beta2), tf.mul(tf.square(g), 1 - s.beta2)));
            const c1 = 1 - s.beta1 ** this.step;
            const c2 = 1 - s.beta2 ** this.step;
            // w ← w − lr · (m / c1) / (√(v / c2) + ε)
            const denom = tf.add(tf.sqrt(tf.div(u, c2)), s.epsilon);
            return v.assign(tf.sub(v, tf.mul(tf.div(m, denom), lr / c1)));
          }
          case "ntasgd": {
            v.assign(subScaled(v, g, lr));
            if (this.averagingSince === null) return;
            // ax ← ax + (w − ax)/n over the n steps since the trigger: the mean of the iterates (ASGD, μ = 1/n)
            const ax = this.slot(v, "ax");
            const n = this.step - this.averagingSince;
            return ax.assign(n === 1 ? v : tf.add(ax, tf.div(tf.sub(v, ax), n)));
          }
          case "rmsprop": {
            const sq = this.slot(v, "square_avg");
            sq.assign(tf.add(tf.mul(sq, s.decay), tf.mul(tf.square(g), 1 - s.decay)));
            const step = tf.div(g, tf.add(tf.sqrt(sq), s.epsilon));
            if (s.momentum === 0) return v.assign(tf.sub(v, tf.mul(step, lr)));
            const buf = this.slot(v, "momentum");
            buf.assign(tf.add(tf.mul(buf, s.momentum), step));
            return v.assign(tf.sub(v, tf.mul(buf, lr)));
          }
        }
      });
    });
  }

  private slot(v: tf.Variable, name: string): tf.Variable {
    const key = `${v.name}/${name}`;
    let s = this.slots.get(key);
    if (!s) {
      s = tf.variable(tf.zerosLike(v), false, `opt/${key}`);
      this.slots.set(key, s);
    }
    return s;
  }

  state(): OptimizerState {
    return { step: this.step, slots: this.slots, averagingSince: this.averagingSince };
  }

  /** NT-ASGD: whether averaging has started. */
  get averaging(): boolean {
    return this.averagingSince !== null;
  }

  /**
   * NT-ASGD's non-monotone trigger, after an epoch's validation (awd-lstm-lm main.py): start averaging when `loss`
   * is worse than the best of the epochs before the last `nonmono` (`previous` excludes this epoch). Returns
   * whether it fired now.
   */
  maybeStartAveraging(loss: number, previous: readonly number[]): boolean {
    return this.maybeStartAveragingWhen(previous.length, (k) => loss > Math.min(...previous.slice(0, k)));
  }

  /**
   * The same trigger on any task's validation criterion (a classifier's accuracy, a language model's loss): after
   * `previous` earlier epochs, `worseThanBestOf(k)` says whether this epoch is worse than the best of the first k.
   */
  maybeStartAveragingWhen(previous: number, worseThanBestOf: (k: number) => boolean): boolean {
    const s = this.spec;
    if (s.kind !== "ntasgd" || this.averagingSince !== null || previous <= s.nonmono) return false;
    if (!worseThanBestOf(previous - s.nonmono)) return false;
    this.averagingSince = this.step;
    return true;
  }

  /**
   * Run `fn` with the averaged weights in place of the current ones (NT-ASGD after its trigger; otherwise `fn`
   * sees the weights as they are), then put the current ones back.
   */
  async withAveraged<T>(vars: readonly tf.Variable[], fn: () => Promise<T> | T): Promise<T> {
    if (this.averagingSince === null || this.step === this.averagingSince) return fn();
    const kept = vars.map((v) => tf.keep(v.clone()));
    try {
      vars.forEach((v) => v.assign(this.slots.get(`${v.name}/ax`)!));
      return await fn(); // await: the weights are swapped back only once an asynchronous evaluation is done
    } finally {
      vars.forEach((v, k) => v.assign(kept[k]!));
      tf.dispose(kept);
    }
  }

  load(state: { step: number; slots: Iterable<[string, tf.Tensor]>; averagingSince?: number | null }): void {
    this.step = state.step;
    this.averagingSince = state.averagingSince ?? null;
    for (const [key, t] of state.slots) {
      const existing = this.slots.get(key);
      if (existing) existing.assign(t);
      else this.slots.set(key, tf.variable(t, false, `opt/${key}`));
    }
  }

  dispose(): void {
    for (const s of this.slots.values()) s.dispose();
    this.slots.clear();
  }
}
