// `rnnc fmt`: one canonical layout for every spec, comments kept.
//   - one statement per line, two-space indent, one space between a key and its values;
//   - a block stays on one line (`data ptb { batch 20  bptt 35 }`, two spaces between statements) when it was
//     written on one line, fits in 100 columns, and holds no comment or nested block — prettier's rule for
//     object literals, so the author chooses and the output is still a fixed point;
//   - at most one blank line is kept between statements, none at the start or end of a block;
//   - a comment stays before or after the statement it was written with.
import {
  parse,
  type Block,
  type Comment,
  type Experiment,
  type SpecFile,
  type Statement,
  type Value,
} from "../grammar/index.js";
import type { SyntaxError } from "../grammar/index.js";
import { VOCABULARY } from "./schema/index.js";

const WIDTH = 100;
const INDENT = "  ";

export type FormatResult =
  { readonly ok: true; readonly text: string } | { readonly ok: false; readonly errors: readonly SyntaxError[] };

export function format(text: string): FormatResult {
  const parsed = parse(text, VOCABULARY);
  if (!parsed.file) return { ok: false, errors: parsed.errors };
  return { ok: true, text: new Printer(text, parsed.file).print() };
}

/** A string literal the lexer reads back to the same value: only `\\`, `"`, newline and tab are escaped. */
function quote(s: string): string {
  return `"${s.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n").replace(/\t/g, "\\t")}"`;
}

export function printValue(v: Value): string {
  switch (v.kind) {
    case "Number":
      return v.text;
    case "String":
      return quote(v.value);
    case "Name":
      return v.name;
    case "Call":
      return `${v.callee.name}(${v.args.map((a) => (a.name ? `${a.name.name} = ${printValue(a.value)}` : printValue(a.value))).join(", ")})`;
    case "List":
      return `[${v.items.map(printValue).join(", ")}]`;
  }
}

class Printer {
  private readonly lines: string[] = [];
  private next = 0; // index of the first comment not yet printed

  constructor(
    private readonly text: string,
    private readonly file: SpecFile,
  ) {}

  print(): string {
    this.file.experiments.forEach((exp, i) => {
      if (i > 0) this.lines.push("");
      this.experiment(exp, i === 0);
    });
    const rest = this.takeBefore(Infinity);
    if (rest.length > 0 && this.lines.length > 0) this.lines.push("");
    for (const c of rest) this.lines.push(c.text.trimEnd());
    return this.lines.length ? this.lines.join("\n") + "\n" : "";
  }

  private experiment(exp: Experiment, first: boolean): void {
    // Experiments are always one blank line apart (print()); a blank inside the header is not carried over.
    void first;
    this.leading(exp.body.span.start, "", -1, exp.span.start);
    let header = `experiment ${exp.name.name}`;
    if (exp.extends) {
      header += " extends";
      if (exp.extends.path) header += ` ${quote(exp.extends.path.value)}`;
      if (exp.extends.name) header += ` ${exp.extends.name.name}`;
    }
    this.block(header, exp.body, "", exp.span.end);
  }

  /** Prints `head { … }` inline or expanded, then the trailing comment of its closing line. */
  private block(head: string, block: Block, indent: string, end: number, nextStart = Infinity): void {
    const inline = this.inlineForm(block);
    if (inline !== undefined && (indent + head + inline).length <= WIDTH) {
      this.lines.push(indent + head + inline + this.trailing(end, nextStart));
      return;
    }
    this.lines.push(`${indent}${head} {` + this.trailing(block.span.start + 1, block.statements[0]?.span.start));
    block.statements.forEach((st, i) => {
      const prevEnd = i === 0 ? -1 : block.statements[i - 1]!.span.end;
      this.statement(st, indent + INDENT, prevEnd, block.statements[i + 1]?.span.start ?? block.span.end - 1);
    });
    const dangling = this.takeBefore(block.span.end - 1);
    if (
      dangling.length > 0 &&
      block.statements.length > 0 &&
      this.blankBefore(block.statements[block.statements.length - 1]!.span.end, dangling[0]!.span.start)
    )
      this.lines.push("");
    for (const c of dangling) this.lines.push(indent + INDENT + c.text.trimEnd());
    this.lines.push(`${indent}}` + this.trailing(end, nextStart));
  }

  /** `nextStart`: a comment after the next statement on the same line is that statement's, not this one's. */
  private statement(st: Statement, indent: string, prevEnd: number, nextStart: number): void {
    const valuesEnd = st.block ? st.block.span.start : st.span.end;
    this.leading(valuesEnd, indent, prevEnd, st.span.start);
    const head = [st.key.name, ...st.values.map(printValue)].join(" ");
    if (st.block) this.block(head, st.block, indent, st.span.end, nextStart);
    else this.lines.push(indent + head + this.trailing(st.span.end, nextStart));
  }

  /** ` { a  b }` when the block was written on one line and has nothing that needs its own line. */
  private inlineForm(block: Block): string | undefined {
    if (block.statements.length === 0) return this.commentsIn(block.span.start, block.span.end) ? undefined : " {}";
    // Written on one line: every statement starts on the line of `{`. (A word that begins a line starts a statement
    // even when it is no key, so joining lines could turn a statement into a value of the one before.)
    if (this.text.slice(block.span.start, block.statements[block.statements.length - 1]!.span.start).includes("\n"))
      return undefined;
    if (block.statements.some((s) => s.block) || this.commentsIn(block.span.start, block.span.end)) return undefined;
    return ` { ${block.statements.map((s) => [s.key.name, ...s.values.map(printValue)].join(" ")).join("  ")} }`;
  }

  /** Comments before `before`, each on its own line; a blank line kept where the source had one. */
  private leading(before: number, indent: string, prevEnd: number, nodeStart = before): void {
    const cs = this.takeBefore(before);
    let cursor = prevEnd;
    for (const c of cs) {
      if (cursor >= 0 && this.blankBefore(cursor, c.span.start)) this.lines.push("");
      this.lines.push(indent + c.text.trimEnd());
      cursor = c.span.end;
    }
    if (cursor >= 0 && this.blankBefore(cursor, Math.min(nodeStart, before))) this.lines.push("");
  }

  /** A comment that starts on the line where `after` is, before `limit`: printed after the code. */
  private trailing(after: number, limit = Infinity): string {
    const c = this.file.comments[this.next];
    if (!c || c.span.start < after || c.span.start >= limit || this.text.slice(after, c.span.start).includes("\n"))
      return "";
    if (c.text.includes("\n")) return "";
    this.next++;
    return `  ${c.text.trimEnd()}`;
  }

  private takeBefore(offset: number): Comment[] {
    const out: Comment[] = [];
    while (this.next < this.file.comments.length && this.file.comments[this.next]!.span.start < offset)
      out.push(this.file.comments[this.next++]!);
    return out;
  }

  private commentsIn(start: number, end: number): boolean {
    return this.file.comments.some((c) => c.span.start > start && c.span.start < end);
  }

  private blankBefore(from: number, to: number): boolean {
    return (this.text.slice(Math.max(0, from), to).match(/\n/g)?.length ?? 0) >= 2;
  }
}
