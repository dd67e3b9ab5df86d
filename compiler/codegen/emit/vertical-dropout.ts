// A vertical dropout site (Zaremba et al. 2014, §3.2): a mask on a layer's input sequence x_t, never on h_{t-1}.
import type { CodeBlockWriter } from "ts-morph";
import type { MaskMode } from "../../ir.js";
import { stringLiteral as str } from "../emit-text.js";
import { num, type EmitContext } from "./context.js";

/**
 * `decl target = ctx.dropout(from, p, mask)` with a comment on what it drops, or a plain assignment where the layer
 * plan has no mask (`s` null: the layer's `sites.dropoutBefore` or `dropoutAfter`).
 */
export function emitVerticalSite(
  x: EmitContext,
  w: CodeBlockWriter,
  name: "input" | "between" | "output",
  s: { readonly p: number; readonly mask: MaskMode } | null,
  decl: string,
  from: string,
  what: string,
): void {
  if (!s) {
    w.writeLine(`${decl} = ${from}; // no ${name} dropout`);
    return;
  }
  const mode =
    s.mask === "locked" ? "one mask per sequence, shared by every step (locked)" : "a fresh mask at every step";
  w.writeLine(`// dropout ${name} ${num(s.p)} ${x.at(`dropout.${name}.p`, `dropout.${name}.mask`)}: ${what}; ${mode}.`);
  w.writeLine(`${decl} = ctx.dropout(${from}, ${num(s.p)}, ${str(s.mask)});`);
}

/** The comment above a stack with vertical masks: what they multiply, and what they leave alone. */
export function emitVerticalPreamble(x: EmitContext, w: CodeBlockWriter): void {
  const d = x.e.dropout;
  if (d.input.p > 0 || d.between.p > 0 || d.output.p > 0) {
    w.writeLine(
      "// Every mask here is vertical (Zaremba et al. 2014, §3.2): it multiplies a layer's input sequence x_t.",
    );
    w.writeLine("// None touches h_{t-1} or c_{t-1}, which each layer carries through time inside its forward.");
  }
}
