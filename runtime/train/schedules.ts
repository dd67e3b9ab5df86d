// Learning-rate schedules, as pure state transitions so a checkpoint can hold them. Epochs count from 1.
export type ScheduleSpec =
  | { readonly kind: "constant" }
  /** Zaremba et al. 2014 (TF ptb_word_lm): lr = lr₀ / by^max(epoch − after, 0). */
  | { readonly kind: "decay"; readonly by: number; readonly after: number }
  /** Merity et al. 2017: lr ← lr / divide when validation has not improved for more than `patience` epochs. */
  | { readonly kind: "plateau"; readonly divide: number; readonly patience: number }
  /** lr ← lr / by at the start of each listed epoch. */
  | { readonly kind: "at_epochs"; readonly epochs: readonly number[]; readonly by: number };

export const constant = (): ScheduleSpec => ({ kind: "constant" });
export const decay = (o: { by: number; after: number }): ScheduleSpec => ({ kind: "decay", ...o });
export const plateau = (o: { divide: number; patience?: number }): ScheduleSpec => ({
  kind: "plateau",
  divide: o.divide,
  patience: o.patience ?? 0,
});
export const atEpochs = (o: { epochs: readonly number[]; by: number }): ScheduleSpec => ({ kind: "at_epochs", ...o });

export interface ScheduleState {
  /** The learning rate of the epoch about to run. */
  readonly lr: number;
  /** Best validation loss seen, and the epochs since it improved (plateau). */
  readonly best: number;
  readonly badEpochs: number;
}

export function initialSchedule(lr0: number): ScheduleState {
  return { lr: lr0, best: Infinity, badEpochs: 0 };
}

/** The state for `nextEpoch`, after an epoch that ended with validation loss `validLoss`. */
export function advanceSchedule(
  spec: ScheduleSpec,
  lr0: number,
  s: ScheduleState,
  nextEpoch: number,
  validLoss: number,
): ScheduleState {
  const improved = validLoss < s.best;
  const best = improved ? validLoss : s.best;
  switch (spec.kind) {
    case "constant":
      return { lr: s.lr, best, badEpochs: 0 };
    case "decay":
      return { lr: lr0 / spec.by ** Math.max(nextEpoch - spec.after, 0), best, badEpochs: 0 };
    case "at_epochs":
      return { lr: lr0 / spec.by ** spec.epochs.filter((e) => e <= nextEpoch).length, best, badEpochs: 0 };
    case "plateau": {
      const bad = improved ? 0 : s.badEpochs + 1;
      return bad > spec.patience ? { lr: s.lr / spec.divide, best, badEpochs: 0 } : { lr: s.lr, best, badEpochs: bad };
    }
  }
}

/** The learning rate of epoch 1 (a decay or at_epochs schedule may already apply). */
export function firstLr(spec: ScheduleSpec, lr0: number): number {
  // plateau depends on validation only, and no epoch has ended yet: advancing it with validLoss = Infinity would
  // count a non-improving epoch and start epoch 1 at lr₀ / divide (with patience 0).
  if (spec.kind === "plateau") return lr0;
  return advanceSchedule(spec, lr0, initialSchedule(lr0), 1, Infinity).lr;
}
