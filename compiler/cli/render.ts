// Code frames, rendered only here at the edge of the program (as rustc and tsc do):
//
//   error[E0301]: input dropout is a probability in [0, 1), not 1.5
//     --> bad.rnn:4:11
//      |
//    4 |     input 1.5
//      |           ^^^
//      = help: …
import type { Diagnostic, Related } from "../diagnostics.js";
import type { SourceText } from "../source.js";
import { terminalText } from "../terminal-text.js";

export interface RenderOptions {
  readonly color: boolean;
}

const paint = (on: boolean, code: string, s: string): string => (on ? `\x1b[${code}m${s}\x1b[0m` : s);
const MAX_LINE = 160;

function frame(
  at: Related | Diagnostic,
  sources: ReadonlyMap<string, SourceText>,
  opts: RenderOptions,
  caretColor: string,
): string[] {
  const file = terminalText(at.file); // a path may hold a newline: the `-->` line must stay one line naming it
  const src = sources.get(at.file);
  if (!src) return [`  --> ${file}`];
  const start = src.position(at.span.start);
  const end = src.position(Math.max(at.span.start, at.span.end));
  const gutter = String(start.line).length;
  const pad = " ".repeat(gutter);
  const raw = src.lineText(start.line).replace(/\t/g, " ");
  // The source line as the terminal shows it (controls, U+2028, bidi characters escaped); the caret is placed by
  // the escaped length of the text before it, so it stays under the same characters.
  const cut = end.line === start.line ? Math.max(start.col, end.col) - 1 : raw.length;
  const before = terminalText(raw.slice(0, start.col - 1));
  const marked = terminalText(raw.slice(start.col - 1, cut));
  let text = before + marked + terminalText(raw.slice(cut));
  let col = before.length + 1;
  // Long lines (a 1 MB file with no newline) are cut around the caret.
  if (text.length > MAX_LINE) {
    const from = Math.max(0, col - 1 - 40);
    text = (from > 0 ? "…" : "") + text.slice(from, from + MAX_LINE - 40) + "…";
    col = col - from + (from > 0 ? 1 : 0);
  }
  const width = Math.max(1, marked.length);
  const caret =
    " ".repeat(Math.max(0, col - 1)) + "^".repeat(Math.min(width, Math.max(1, text.length - col + 1), MAX_LINE));
  return [
    `${pad}${paint(opts.color, "34", "-->")} ${file}:${start.line}:${start.col}`,
    `${pad} ${paint(opts.color, "34", "|")}`,
    `${paint(opts.color, "34", `${start.line} |`)} ${text}`,
    `${pad} ${paint(opts.color, "34", "|")} ${paint(opts.color, caretColor, caret)}`,
  ];
}

export function renderDiagnostic(d: Diagnostic, sources: ReadonlyMap<string, SourceText>, opts: RenderOptions): string {
  const color = d.severity === "error" ? "31;1" : "33;1";
  // Messages come escaped from diagnostics.ts; escaping again changes nothing, and guards a Diagnostic made elsewhere.
  const lines = [
    `${paint(opts.color, color, `${d.severity}[${d.code}]`)}${paint(opts.color, "1", `: ${terminalText(d.message)}`)}`,
  ];
  lines.push(...frame(d, sources, opts, color));
  for (const r of d.related) {
    lines.push(`   = note: ${terminalText(r.message)}`);
    lines.push(...frame(r, sources, opts, "34").map((l) => "  " + l));
  }
  if (d.hint) lines.push(`   = help: ${terminalText(d.hint)}`);
  return lines.join("\n");
}

export function renderDiagnostics(
  ds: readonly Diagnostic[],
  sources: ReadonlyMap<string, SourceText>,
  opts: RenderOptions,
  limit = 50,
): string {
  const shown = ds.slice(0, limit).map((d) => renderDiagnostic(d, sources, opts));
  if (ds.length > limit) shown.push(`… and ${ds.length - limit} more`);
  return shown.join("\n\n");
}
