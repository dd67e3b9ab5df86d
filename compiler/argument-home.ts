// Where a stray argument belongs: a key written as a statement that is really an argument of one of the block's
// calls (`lr 0.5` in `train`). Used by the resolver (unknown keys) and by lowering (a stray word in a value); both
// read it from here, so neither imports the other.
import { own, type Statement, type Value } from "../grammar/index.js";
import type { ArgumentHome } from "./diagnostics.js";
import { printValue } from "./fmt.js";
import { BLOCKS, settingsOf, type Variants } from "./schema/index.js";

/** The call-shaped statements of each block and the calls they take, from the schema. */
const CALL_STATEMENTS: Readonly<Record<string, Readonly<Record<string, Variants>>>> = Object.fromEntries(
  BLOCKS.map((block) => [
    block,
    Object.fromEntries(
      settingsOf(block).flatMap((s) =>
        s.shape.kind === "call" || (s.shape.kind === "custom" && s.shape.variants) ? [[s.key, s.shape.variants!]] : [],
      ),
    ),
  ]),
);

/**
 * A key that is no statement of its block but an argument of one of its calls (`lr 0.5` in `train`): the statement
 * that takes it, written with it, using the call the block already has when that call takes it
 * (`optimizer adam` + `lr 0.5` → `optimizer adam(lr = 0.5)`).
 */
export function argumentHome(
  block: string,
  name: string,
  value: Value | undefined,
  siblings: readonly { readonly file: string; readonly stmt: Statement }[],
): ArgumentHome | undefined {
  for (const [statement, calls] of Object.entries(own(CALL_STATEMENTS, block) ?? {})) {
    const takers = Object.keys(calls).filter((callee) => calls[callee]!.some((p) => p.name === name));
    if (takers.length === 0) continue;
    const written = siblings.find((s) => s.stmt.key.name === statement);
    const head = written?.stmt.values[0];
    const callee = head?.kind === "Call" ? head.callee.name : head?.kind === "Name" ? head.name : undefined;
    const use = callee !== undefined && takers.includes(callee) ? callee : takers[0]!;
    // The call as written, or else with its required arguments as placeholders, so the example is a whole call.
    const args =
      head?.kind === "Call" && callee === use
        ? head.args
            .filter((a) => a.name?.name !== name)
            .map((a) => (a.name ? `${a.name.name} = ` : "") + printValue(a.value))
        : calls[use]!.filter((p) => p.default === undefined && p.name !== name).map((p) => `${p.name} = …`);
    const given = value ? printValue(value) : "…";
    return {
      statement,
      example: `${statement} ${use}(${[...args, `${name} = ${given}`].join(", ")})`,
      at: written ? { file: written.file, span: written.stmt.span } : undefined,
    };
  }
  return undefined;
}
