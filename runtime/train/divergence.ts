// Divergence: when a run has gone wrong for good and must stop before its weights reach a checkpoint
// (specs/language.md, "Divergence"). A model that predicts the uniform distribution over V outcomes pays ln V nats
// per prediction, and an untrained model starts there. Training that stays above ln V + margin for `windows`
// consecutive windows has lost everything it learnt and more: its learning rate is too high or its gradients
// unbounded, and going on only burns time (a finite but diverged run used to end with "test perplexity Infinity").
// A NaN or infinite loss is divergence at once. The training driver (driver.ts) asks this one detector for every
// task and stops through one path (errors.ts `stopRun`).

/** The rule a generated module passes (`training.divergence`); null: off. */
export interface DivergenceSpec {
  /** Nats above ln V (ln classes) that count as diverged. */
  readonly margin: number;
  /** Consecutive training windows above the limit before the run stops. */
  readonly windows: number;
}

/** Why a run stopped: what was seen, where, and the limit it broke. */
export interface DivergenceVerdict {
  /** "non_finite": a NaN or ±Infinity loss; "above_uniform": the loss stayed above the limit. */
  readonly kind: "non_finite" | "above_uniform";
  readonly phase: "training" | "validation";
  /** The loss that decided it, in nats per token (per sequence when classifying). */
  readonly loss: number;
  /** ln V + margin; null for a non-finite loss with the rule off. */
  readonly limit: number | null;
  /** Consecutive training windows above the limit (1 for a validation or a non-finite loss). */
  readonly windows: number;
}

/**
 * The mean loss per token of one window from the loss the trainer reports, which is scaled by the spec's
 * convention (model/softmax-loss.ts `lossScale`): `loss sum_steps` is summed over the window's steps and averaged over
 * the batch, `loss mean` averaged over every token. Dividing by `scale` gives the summed NLL under either, so a
 * window's comparison with ln V does not depend on the convention.
 */
export function perTokenLoss(loss: number, scale: number, tokens: number): number {
  return loss / scale / tokens;
}

/** The largest loss whose perplexity e^loss is still a float64 (e^709.78 overflows to Infinity). */
const MAX_FINITE_PERPLEXITY_LOSS = Math.log(Number.MAX_VALUE);

export class DivergenceDetector {
  /** ln V + margin, or null when the rule is off. */
  readonly limit: number | null;
  /** ln V: the loss of a uniform guess over the outcomes. */
  readonly uniform: number;
  private above = 0;

  constructor(
    readonly spec: DivergenceSpec | null,
    /** V: the vocabulary for a language model, the classes for a classifier. */
    readonly outcomes: number,
  ) {
    this.uniform = Math.log(outcomes);
    this.limit = spec ? this.uniform + spec.margin : null;
  }

  /** Consecutive training windows above the limit so far (0 after a healthy one). */
  get streak(): number {
    return this.above;
  }

  /**
   * True when the last training window was healthy. A mid-epoch checkpoint is considered only then: weights in a
   * run of windows above the limit may be the diverged ones the stop is about to report.
   */
  get calm(): boolean {
    return this.above === 0;
  }

  /**
   * May weights whose loss (measured on them, not before their last update) is `loss` replace the last good
   * checkpoint? Finite, and not above the limit when the rule is on.
   */
  healthy(loss: number): boolean {
    return Number.isFinite(loss) && (this.limit === null || loss <= this.limit);
  }

  /** One training window's mean loss per token (per sequence): a verdict when the run must stop. */
  window(loss: number): DivergenceVerdict | null {
    if (!Number.isFinite(loss)) return { kind: "non_finite", phase: "training", loss, limit: this.limit, windows: 1 };
    if (this.limit === null || !this.spec) return null;
    if (loss <= this.limit) {
      this.above = 0; // a healthy window: a spike is not divergence
      return null;
    }
    this.above++;
    return this.above >= this.spec.windows
      ? { kind: "above_uniform", phase: "training", loss, limit: this.limit, windows: this.above }
      : null;
  }

  /**
   * The validation loss at an epoch's end. A NaN or infinite one stops the run whatever the rule; with the rule on,
   * so does one whose perplexity overflows (e^loss = Infinity: hundreds of nats per token, where no healthy model
   * goes). Merely above the limit is not enough on its own: measured on Zaremba's small PTB model (sgd, lr 1), the
   * weights after the 3rd window validate at 12.2 nats, 3 above ln 10 000, and the 5th window is back at 8.4.
   */
  validation(loss: number): DivergenceVerdict | null {
    if (!Number.isFinite(loss)) return { kind: "non_finite", phase: "validation", loss, limit: this.limit, windows: 1 };
    if (this.limit !== null && !reportable(loss))
      return { kind: "above_uniform", phase: "validation", loss, limit: this.limit, windows: 1 };
    return null;
  }

  /**
   * An epoch's weights are suspect when their validation loss is above the limit (rule on): they are then neither
   * checkpointed nor the best, and the coming windows decide (a healthy one resets the count, the `windows`-th above
   * the limit stops the run). The training loss of an epoch's last window was measured before its update, so only
   * validation judges the weights a checkpoint would hold: a diverged epoch never replaces the last good checkpoint.
   */
  suspect(validLoss: number): boolean {
    return !this.healthy(validLoss);
  }
}

/**
 * Can this validation loss be the best so far? Not when its perplexity overflows to Infinity (with the rule off, a
 * diverged run goes on, but an epoch whose figure is Infinity is never the checkpoint a run reports).
 */
export function reportable(loss: number): boolean {
  return Number.isFinite(loss) && loss <= MAX_FINITE_PERPLEXITY_LOSS;
}

const show = (x: number): string =>
  Number.isFinite(x) ? (Math.abs(x) >= 1e4 ? x.toExponential(2) : x.toFixed(3)) : String(x);

/**
 * The first sentence of the stop message: what was seen, where, and against which limit. `where` is "at epoch 3,
 * window 7/100" or "after epoch 3"; `unit` is "token" or "image", `step` "window" or "batch". A non-finite loss keeps the wording the NaN stop
 * always had.
 */
export function describeVerdict(
  v: DivergenceVerdict,
  where: string,
  det: DivergenceDetector,
  unit: string,
  step = "window",
): string {
  const what = v.phase === "training" ? "the training loss" : "the validation loss";
  if (v.kind === "non_finite") return `${what} is ${v.loss} ${where}: stopped.`;
  const limit = `${show(v.limit!)} nats per ${unit} (ln ${det.outcomes} = ${show(det.uniform)}, a uniform guess, + margin ${det.spec!.margin})`;
  const seen =
    v.phase === "training"
      ? `${v.windows} ${v.windows === 1 ? step : step === "batch" ? "batches" : `${step}s`} in a row above ${limit}; the last was ${show(v.loss)}`
      : `${show(v.loss)} nats per ${unit}, whose e^loss overflows, far above ${limit}`;
  return `${what} diverged ${where}: ${seen}: stopped.`;
}

/** What a stop records in metrics.jsonl (JSON has no NaN or Infinity: those are written as strings). */
export function verdictRecord(v: DivergenceVerdict, at: Readonly<Record<string, number>>): Record<string, unknown> {
  const n = (x: number | null): number | string | null => (x === null || Number.isFinite(x) ? x : String(x));
  return {
    event: "stopped",
    reason: v.kind === "non_finite" ? "non-finite loss" : "diverged",
    phase: v.phase,
    ...at,
    loss: n(v.loss),
    limit: n(v.limit),
    windows: v.windows,
  };
}
