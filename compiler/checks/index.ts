// Checks as a phase: every named rule, run in this order on each lowered experiment by compile() (through
// lower.ts). A new rule is a file in this folder and a line in RULES.
import type { Diagnostic } from "../diagnostics.js";
import type * as ir from "../ir.js";
import { cellStateSites } from "./cell-state-sites.js";
import { tokensNeedEmbedding } from "./embedding.js";
import { memoryGuard } from "./memory.js";
import { noEffect, noEffectOfDataSettings, noEffectOfNormStatistics, regularizerAtZero } from "./no-effect.js";
import { batchNormBatch, normLength, sharedNormStatistics } from "./norm.js";
import { divergenceOnOneWindow } from "./divergence.js";
import { perStepRecurrentDropout } from "./recurrent-dropout.js";
import type { CheckOptions, Rule, Where } from "./rule.js";
import { shuffleFraming } from "./shuffle.js";
import { support } from "./support.js";
import { taskFitsData } from "./task-fits-data.js";
import { tieSizes } from "./tie-sizes.js";

export { estimateResources, formatBytes } from "./memory.js";
export type { CheckOptions, MemoryBudget, Rule, Where } from "./rule.js";
export { unsupportedFeatures } from "./support.js";

/** Every rule. Their reports are sorted for output (sortDiagnostics), so the order here only breaks no ties. */
export const RULES: readonly Rule[] = [
  tokensNeedEmbedding,
  tieSizes,
  cellStateSites,
  normLength,
  batchNormBatch,
  sharedNormStatistics,
  divergenceOnOneWindow,
  taskFitsData,
  shuffleFraming,
  noEffect,
  noEffectOfDataSettings,
  noEffectOfNormStatistics,
  regularizerAtZero,
  perStepRecurrentDropout,
  memoryGuard,
  support,
];

/** Runs every rule on one experiment; `where` says where its settings were written (lowering records it). */
export function runRules(
  e: ir.ExperimentIR,
  where: Where,
  options: CheckOptions,
  report: (d: Diagnostic) => void,
): void {
  for (const r of RULES) r.run(e, where, report, options);
}
