// What a check is: a named rule over the lowered experiment (the IR) and the places its settings were written.
// Lowering reads values and records where each was set; the rules, run after it on the whole experiment, decide
// what may not go together, what has no effect, what does not fit in memory and what cannot be built yet.
import type { DiagCode, Diagnostic, Loc } from "../diagnostics.js";
import type { ExperimentIR } from "../ir.js";
import type { BlockName, IRPath } from "../schema/index.js";

/** Where the spec wrote the settings a rule reports on. */
export interface Where {
  /** The span of the value written for an IR path (`data.batch`, `model.norm.sites`); undefined for a default. */
  at(path: IRPath): Loc | undefined;
  /**
   * The span of the whole statement `key` of `block` (`written("data", "vocab")`), recorded even when lowering
   * ignores its value: where a rule reports that a setting has no effect.
   */
  written(block: BlockName, key: string): Loc | undefined;
  /** Whether this variant took the number at an IR path from a `sweep(…)` (a swept 0 is a baseline). */
  swept(path: IRPath): boolean;
  /** The experiment's name: where a rule reports what no written setting locates. */
  readonly experiment: Loc;
}

/**
 * The memory of the backend that will train, as the CLI finds it on this machine (cli/memory.ts): the compiler
 * itself does no I/O. `limitBytes` null: not known before the backend starts (webgpu: the adapter's memory).
 */
export interface MemoryBudget {
  /** wasm, cpu, tensorflow or webgpu: the one `--backend` names, or the one `auto` picks here. */
  readonly backend: string;
  readonly limitBytes: number | null;
  /** Whether `auto` chose it (the message then says so). */
  readonly auto: boolean;
  /** Other backends and what they could hold, for the advice; `installed` false: it needs a package first. */
  readonly others: readonly { readonly backend: string; readonly limitBytes: number; readonly installed: boolean }[];
}

/** What the rules know beyond the spec: the memory limits (only the memory guard reads them). */
export interface CheckOptions {
  readonly maxMemoryBytes: number;
  /** --max-memory was given: the user's figure replaces the backend's limit as well (an estimate can be wrong). */
  readonly maxMemoryExplicit?: boolean;
  readonly memory?: MemoryBudget;
}

/**
 * A named check. `codes` lists every code it may report, and `report` takes only those: a rule that reports another
 * code does not type-check. (Not read.ts's `Check`, which judges one value as it is read.)
 */
export interface Rule<C extends DiagCode = DiagCode> {
  readonly name: string;
  readonly codes: readonly C[];
  run(e: ExperimentIR, where: Where, report: (d: Diagnostic<C>) => void, options: CheckOptions): void;
}

/** Declares a rule, inferring its codes from the list (so `report` is typed by them). */
export const rule = <C extends DiagCode>(r: Rule<C>): Rule<C> => r;
