// Which parts of a valid experiment code generation can turn into training code today. A setting is never
// silently ignored: everything the runtime cannot do yet is refused with E0500, located at the setting.
import { Diag, type Diagnostic } from "../diagnostics.js";
import type { ExperimentIR, Origin } from "../ir.js";
import type { SourceText } from "../source.js";

interface Unsupported {
  readonly feature: string;
  /** The IR path whose origin locates it. */
  readonly path: string;
}

export function unsupportedFeatures(e: ExperimentIR): Unsupported[] {
  const out: Unsupported[] = [];
  const need = (cond: boolean, feature: string, path: string): void => {
    if (cond) out.push({ feature, path });
  };
  // A language model carries its state across windows: noise on h_0 would perturb only each epoch's first window.
  need(e.model.initialStateNoise > 0 && e.task.kind === "lm", "noise on the initial state of a language model", "model.initialStateNoise");
  return out;
}

/** E0500 for each unsupported setting, located where the spec set it (or at the experiment, for a default). */
export function buildDiagnostics(e: ExperimentIR, sources: ReadonlyMap<string, SourceText>): Diagnostic[] {
  return unsupportedFeatures(e).map((u) => Diag.notYetSupported(locate(e, u.path, sources), u.feature));
}

function locate(e: ExperimentIR, path: string, sources: ReadonlyMap<string, SourceText>): { file: string; span: { start: number; end: number } } {
  const o: Origin | undefined = e.origins[path] ?? e.origins[`${path.split(".").slice(0, -1).join(".")}.kind`];
  if (o && o !== "default") return { file: o.file, span: { start: o.start, end: o.end } };
  const src = sources.get(e.source.file);
  const start = src ? lineStart(src, e.source.line) : 0;
  return { file: e.source.file, span: { start, end: start } };
}

function lineStart(src: SourceText, line: number): number {
  let offset = 0;
  for (let l = 1; l < line; l++) offset = src.text.indexOf("\n", offset) + 1;
  return offset;
}
