// Value ranges of numeric settings and call arguments: each a check that reports with a located diagnostic, and the
// words the settings reference prints for it. A declaration names its range; it never spells a check of its own.
import { Diag, type Diagnostic, type Loc } from "../diagnostics.js";

export type Check = (n: number, at: Loc) => Diagnostic | undefined;

export const checks = {
  // Integers past 2^53 are not exact in a double (`epochs 99999999999999999999` would read as 1e20): out of range.
  positiveInt:
    (what: string): Check =>
    (n, at) =>
      Number.isInteger(n) && n > 0
        ? n <= Number.MAX_SAFE_INTEGER
          ? undefined
          : Diag.valueOutOfRange(at, what, n, { kind: "integerFrom", min: 1, max: Number.MAX_SAFE_INTEGER })
        : Diag.notPositiveInteger(at, what, n),
  nonNegativeInt:
    (what: string): Check =>
    (n, at) =>
      Number.isSafeInteger(n) && n >= 0
        ? undefined
        : Diag.valueOutOfRange(at, what, n, { kind: "integerFrom", min: 0, max: Number.MAX_SAFE_INTEGER }),
  probability:
    (what: string): Check =>
    (n, at) =>
      n >= 0 && n < 1 ? undefined : Diag.probabilityOutOfRange(at, what, n),
  positive:
    (what: string): Check =>
    (n, at) =>
      n > 0 ? undefined : Diag.valueOutOfRange(at, what, n, { kind: "greaterThan", min: 0 }),
  nonNegative:
    (what: string): Check =>
    (n, at) =>
      n >= 0 ? undefined : Diag.valueOutOfRange(at, what, n, { kind: "atLeast", min: 0 }),
  atLeast:
    (what: string, lo: number): Check =>
    (n, at) =>
      n >= lo ? undefined : Diag.valueOutOfRange(at, what, n, { kind: "atLeast", min: lo }),
  greaterThan:
    (what: string, lo: number): Check =>
    (n, at) =>
      n > lo ? undefined : Diag.valueOutOfRange(at, what, n, { kind: "greaterThan", min: lo }),
  learningRate: (): Check => (n, at) => (n > 0 ? undefined : Diag.learningRateNotPositive(at, n)),
  any: (): Check => () => undefined,
};

/** A range: its check for a value described as `what` in diagnostics, and how the reference writes it. */
export interface Range {
  readonly text: string;
  readonly check: (what: string) => Check;
}

export const range = {
  positiveInt: { text: "integer > 0", check: checks.positiveInt },
  nonNegativeInt: { text: "integer ≥ 0", check: checks.nonNegativeInt },
  probability: { text: "probability in [0, 1)", check: checks.probability },
  positive: { text: "number > 0", check: checks.positive },
  nonNegative: { text: "number ≥ 0", check: checks.nonNegative },
  learningRate: { text: "number > 0", check: () => checks.learningRate() },
  any: { text: "number", check: () => checks.any() },
  atLeast: (lo: number): Range => ({ text: `integer ≥ ${lo}`, check: (what) => checks.atLeast(what, lo) }),
  greaterThan: (lo: number): Range => ({ text: `number > ${lo}`, check: (what) => checks.greaterThan(what, lo) }),
} satisfies Record<string, Range | ((lo: number) => Range)>;
