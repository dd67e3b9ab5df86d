// Typed IR paths: every dotted path into an experiment's settings (`model.norm.gamma`, `model.layers.0.hidden`) as a
// string-literal union, so that a misspelled path (`model.norm.gamme`) in a declaration, an origin or a diff setting
// is a compile error rather than a silently missing origin.
import type { ExperimentIR } from "./ir.js";

type Prev = [never, 0, 1, 2, 3, 4, 5, 6];

/**
 * The dotted paths of `T`: each field, and the paths below it. Unions distribute (an initializer's `scale` exists on
 * `uniform` only), `null` is looked through, and an array contributes its indices and its `length`.
 * `D` bounds the depth, so the type stays finite.
 */
export type Paths<T, D extends number = 6> = [D] extends [never]
  ? never
  : T extends readonly (infer U)[]
    ? "length" | `${number}` | `${number}.${Paths<NonNullable<U>, Prev[D]>}`
    : T extends object
      ? { [K in keyof T & string]: K | `${K}.${Paths<NonNullable<T[K]>, Prev[D]>}` }[keyof T & string]
      : never;

/** The blocks of an experiment that hold settings (not its name, source, resources or origins). */
export type SettingsIR = Pick<ExperimentIR, "data" | "task" | "model" | "dropout" | "regularize" | "train">;

/** A path to a setting of the IR, or to a value inside one. */
export type IRPath = Paths<SettingsIR>;
