// Simple per-layer settings that the schema declares with `emit` (compiler/schema/settings.ts). Each one that is not
// at its default becomes the RecurrentLayer option it names, with a comment built from its declaration (key, meaning,
// paper) and its origin. No emitter names these settings one by one, so adding one touches only the schema, the
// runtime piece that reads the option, and tests.
import type { CodeBlockWriter } from "ts-morph";
import { DATASET_FACTS, defaultOf, SETTINGS, valueAt, type Setting } from "../../schema/index.js";
import { commentText as c, stringLiteral as str } from "../emit-text.js";
import { num, type EmitContext } from "./context.js";

const LAYER_OPTIONS: readonly Setting[] = SETTINGS.filter((s) => s.emit?.piece === "RecurrentLayer");

/** A number, flag or word of the IR as code; the schema allows `emit` only on those (test/compiler/schema.test.ts). */
function literal(s: Setting, v: unknown): string {
  if (typeof v === "number") return num(v);
  if (typeof v === "boolean") return String(v);
  if (typeof v === "string") return str(v);
  throw new Error(`codegen: ${s.block}.${s.key} is declared with emit but its IR value is not a number, flag or word`);
}

/** The options, e.g. `["initialState: \"learned\""]`, each preceded in `w` by its comment line. */
export function emitDeclaredLayerOptions(x: EmitContext, w: CodeBlockWriter): string[] {
  const out: string[] = [];
  const context = { facts: DATASET_FACTS[x.e.data.dataset], norm: x.e.model.norm?.kind };
  for (const s of LAYER_OPTIONS) {
    const value = valueAt(x.e, s.path!);
    if (value === defaultOf(s, context)) continue;
    const paper = s.paper ? ` (${c(s.paper)})` : "";
    w.writeLine(`//   ${c(s.key)} ${c(String(value))} ${x.at(s.path!)}: ${c(s.meaning)}${paper}`);
    out.push(`${s.emit!.option}: ${literal(s, value)}`);
  }
  return out;
}
