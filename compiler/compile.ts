// The front-end pipeline: parse → resolve → check → IR. Pure: all reading goes through the host,
// and the result carries its diagnostics instead of printing them.
import type { CheckOptions, MemoryBudget } from "./checks/index.js";
import { DEFAULTS } from "./defaults.js";
import { hasErrors, sortDiagnostics, type Diagnostic } from "./diagnostics.js";
import type { CompilerHost } from "./host.js";
import { IR_VERSION, type ExperimentIR, type IRDocument } from "./ir.js";
import { lowerExperiment } from "./lower.js";
import { Program } from "./resolve.js";
import type { SourceText } from "./source.js";
import { findSweeps, sweepPoints } from "./sweep.js";

export interface CompileOptions {
  /** Refuse models whose estimated training memory is larger (bytes); given, it replaces the backend's limit too. */
  readonly maxMemoryBytes?: number;
  /** The memory of the backend that will train (the CLI finds it); without it, only the limit above applies. */
  readonly memory?: MemoryBudget;
}

export interface CompileResult {
  /** The IR of every experiment (and sweep variant) in the file; present only when there is no error. */
  readonly document?: IRDocument;
  readonly diagnostics: readonly Diagnostic[];
  /** Every file read, by path, for rendering diagnostics. */
  readonly sources: ReadonlyMap<string, SourceText>;
}

export function compile(path: string, host: CompilerHost, options: CompileOptions = {}): CompileResult {
  const program = new Program(host);
  const resolved = program.resolveFile(path);
  const diagnostics: Diagnostic[] = [...program.diagnostics];
  const sources = new Map<string, SourceText>();
  for (const [p, f] of program.files) if (f) sources.set(p, f.source);

  const checkOptions: CheckOptions = {
    maxMemoryBytes: options.maxMemoryBytes ?? DEFAULTS.maxMemoryBytes,
    maxMemoryExplicit: options.maxMemoryBytes !== undefined,
    memory: options.memory,
  };
  const experiments: ExperimentIR[] = [];
  for (const exp of resolved) {
    const sweepDiags: Diagnostic[] = [];
    const points = sweepPoints(findSweeps(exp.body, sweepDiags), sweepDiags);
    diagnostics.push(...sweepDiags);
    if (!points || hasErrors(sweepDiags)) continue;
    for (const point of points) {
      const lowered = lowerExperiment(exp, sources, point.choice, point.variant, checkOptions);
      diagnostics.push(...lowered.context.diagnostics);
      if (lowered.experiment) experiments.push(lowered.experiment);
    }
  }
  const sorted = sortDiagnostics(diagnostics);
  return {
    document: hasErrors(sorted) ? undefined : { irVersion: IR_VERSION, experiments },
    diagnostics: sorted,
    sources,
  };
}
