// Code frames, rendered only here at the edge of the program (as rustc and tsc do):
//
//   error[E0301]: input dropout is a probability in [0, 1), not 1.5
//     --> examples/bad.rnn:4:11
//      |
//    4 |     input 1.5
//      |           ^^^
//      = help: …
import type { Diagnostic, Related } from "../diagnostics.js";
import type { SourceText } from "../source.js";

export interface RenderOptions {
  readonly color: boolean;
}

const paint = (on: boolean, code: string, s: string): string => (on ? `\x1b[${code}m${s}\x1b[0m` : s);
const MAX_LINE = 160;

function frame(at: Related | Diagnostic, sources: ReadonlyMap<string, SourceText>, opts: RenderOptions, caretColor: string): string[] {
  const src = sources.get(at.file);
  if (!src) return [`  --> ${at.file}`];
  const start = src.position(at.span.start);
  const end = src.position(Math.max(at.span.start, at.span.end));
  const gutter = String(start.line).length;
  const pad = " ".repeat(gutter);
  let text = src.lineText(start.line).replace(/\t/g, " ");
  let col = start.col;
  // Long lines (a 1 MB file with no newline) are cut around the caret.
  if (text.length > MAX_LINE) {
    const from = Math.max(0, col - 1 - 40);
    text = (from > 0 ? "…" : "") + text.slice(from, from + MAX_LINE - 40) + "…";
    col = col - from + (from > 0 ? 1 : 0);
  }
  text = text.replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, "�");
  const width = end.line === start.line ? Math.max(1, end.col - start.col) : Math.max(1, text.length - col + 1);
  const caret = " ".repeat(Math.max(0, col - 1)) + "^".repeat(Math.min(width, Math.max(1, text.length - col + 1), MAX_LINE));
  return [
    `${pad}${paint(opts.color, "34", "-->")} ${at.file}:${start.line}:${start.col}`,
    `${pad} ${paint(opts.color, "34", "|")}`,
    `${paint(opts.color, "34", `${start.line} |`)} ${text}`,
    `${pad} ${paint(opts.color, "34", "|")} ${paint(opts.color, caretColor, caret)}`,
  ];
}

export function renderDiagnostic(d: Diagnostic, sources: ReadonlyMap<string, SourceText>, opts: RenderOptions): string {
  const color = d.severity === "error" ? "31;1" : "33;1";
  const lines = [`${paint(opts.color, color, `${d.severity}[${d.code}]`)}${paint(opts.color, "1", `: ${d.message}`)}`];
  lines.push(...frame(d, sources, opts, color));
  for (const r of d.related) {
    lines.push(`   = note: ${r.message}`);
    lines.push(...frame(r, sources, opts, "34").map((l) => "  " + l));
  }
  if (d.hint) lines.push(`   = help: ${d.hint}`);
  return lines.join("\n");
}

export function renderDiagnostics(ds: readonly Diagnostic[], sources: ReadonlyMap<string, SourceText>, opts: RenderOptions, limit = 50): string {
  const shown = ds.slice(0, limit).map((d) => renderDiagnostic(d, sources, opts));
  if (ds.length > limit) shown.push(`… and ${ds.length - limit} more`);
  return shown.join("\n\n");
}
