import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { compile } from "../../compiler/compile.js";
import { format } from "../../compiler/fmt.js";
import { memoryHost } from "../../compiler/host.js";
import { parse as parseWith } from "../../grammar/index.js";
import { VOCABULARY } from "../../compiler/schema/index.js";
import { expectGolden } from "../golden.js";
import { specFiles } from "../spec-files.js";

/** The parser with the compiler's vocabulary, as the compiler calls it. */
const parse = (text: string) => parseWith(text, VOCABULARY);

const DIR = "test/compiler/fmt";
const formatted = (text: string): string => {
  const r = format(text);
  if (!r.ok) throw new Error(`does not parse: ${JSON.stringify(r.errors)}`);
  return r.text;
};

/** The IR without positions: what formatting must not change. */
const meaning = (path: string, text: string): unknown => {
  const r = compile(path, memoryHost({ [path]: text }));
  return JSON.parse(
    JSON.stringify(r.document ?? r.diagnostics.map((d) => d.code), (k, v) =>
      k === "origins" || k === "source" ? undefined : v,
    ),
  );
};

describe("rnnc fmt", () => {
  for (const name of readdirSync(DIR).filter((f) => f.endsWith(".input.rnn"))) {
    it(`formats ${name} as its golden`, () => {
      const input = readFileSync(`${DIR}/${name}`, "utf8");
      expectGolden(`${DIR}/${name.replace(".input.rnn", ".expected.rnn")}`, formatted(input));
    });
  }

  it("leaves canonical text byte for byte", () => {
    const text = readFileSync(`${DIR}/canonical.input.rnn`, "utf8");
    expect(formatted(text)).toBe(text);
  });

  const all = [...specFiles("examples"), ...specFiles(DIR)];
  it.each(all)("is idempotent, keeps comments and meaning: %s", (path) => {
    const text = readFileSync(path, "utf8");
    const once = formatted(text);
    expect(formatted(once)).toBe(once);
    const comments = (t: string) => parse(t).file!.comments.map((c) => c.text.trim());
    expect(comments(once)).toEqual(comments(text));
    if (!path.startsWith(DIR)) expect(meaning("x.rnn", once)).toEqual(meaning("x.rnn", text));
  });

  it("keeps a block inline only when every statement starts on the line of `{`", () => {
    // Joined onto one line, `embbed` (no key) would become a value of `layers`: the block stays expanded.
    const text = "experiment x {\n  model { layers 2 lstm(200)\n    embbed 200 }\n}\n";
    const once = formatted(text);
    expect(once).toBe("experiment x {\n  model {\n    layers 2 lstm(200)\n    embbed 200\n  }\n}\n");
    expect(parse(once).file!.experiments[0]!.body.statements[0]!.block!.statements.map((s) => s.key.name)).toEqual([
      "layers",
      "embbed",
    ]);
    expect(formatted("experiment x {\n  model { layers 2 lstm(200)  embed 200 }\n}\n")).toContain(
      "model { layers 2 lstm(200)  embed 200 }",
    );
  });

  it("refuses text that does not parse, with located errors", () => {
    const r = format("experiment x { model { layers 2 lstm(650 } }");
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors[0]!.span.start).toBe(41);
  });
});
