import { describe, expect, it } from "vitest";
import { parse, type Statement } from "../../grammar/index.js";

const body = (src: string): readonly Statement[] => {
  const r = parse(src);
  expect(r.errors).toEqual([]);
  return r.file!.experiments[0]!.body.statements;
};
const keys = (sts: readonly Statement[] | undefined): string[] => (sts ?? []).map((s) => `${s.key.name}/${s.values.length}`);

describe("parser", () => {
  it("separates statements by the keywords of the enclosing block", () => {
    const [reg] = body("experiment x { regularize { ar 5  tar 2 dropped  weight_decay 1e-7 } }");
    expect(keys(reg!.block!.statements)).toEqual(["ar/1", "tar/2", "weight_decay/1"]);
  });

  it("keeps modifiers that are not keywords here as values", () => {
    const [d] = body("experiment x { dropout { input 0.65 locked recurrent 0.25 variational zoneout cell 0.5 hidden 0.05 } }");
    expect(keys(d!.block!.statements)).toEqual(["input/2", "recurrent/2", "zoneout/4"]);
  });

  it("lets a word that is a keyword elsewhere be a value here (`norm batch` vs `data { batch }`)", () => {
    const [m] = body("experiment x { model { norm batch { on [input, recurrent, cell]  gamma 0.1 } } }");
    const norm = m!.block!.statements[0]!;
    expect(norm.values).toMatchObject([{ kind: "Name", name: "batch" }]);
    expect(keys(norm.block!.statements)).toEqual(["on/1", "gamma/1"]);
  });

  it("parses calls with positional and named arguments, lists and sweeps", () => {
    const [t] = body("experiment x { train { optimizer sgd(1, momentum = sweep(0, 0.9),) } }");
    const call = t!.block!.statements[0]!.values[0]!;
    expect(call).toMatchObject({ kind: "Call", callee: { name: "sgd" }, args: [{ value: { value: 1 } }, { name: { name: "momentum" }, value: { kind: "Call" } }] });
  });

  it("reads all extends forms", () => {
    const r = parse('experiment a extends "b.rnn" {} experiment c extends a {} experiment d extends "e.rnn" f {}');
    expect(r.file!.experiments.map((e) => [e.extends?.path?.value, e.extends?.name?.name])).toEqual([["b.rnn", undefined], [undefined, "a"], ["e.rnn", "f"]]);
  });

  it("keeps comments, with spans, for fmt", () => {
    const src = "// a\nexperiment x { /* b */ }";
    expect(parse(src).file!.comments).toEqual([{ text: "// a", span: { start: 0, end: 4 } }, { text: "/* b */", span: { start: 20, end: 27 } }]);
  });

  it.each([
    ["experiment x { a 1 ", "unexpected-token", 19],
    ["/* never closed", "unterminated-comment", 0],
    ['experiment x { a "abc }', "unterminated-string", 17],
    ["experiment x { a @ }", "unexpected-character", 17],
    ["{".repeat(100), "nesting-too-deep", 64],
  ])("reports %j as %s at %i", (src, kind, start) => {
    const r = parse(src);
    expect(r.file).toBeUndefined();
    expect(r.errors[0]).toMatchObject({ kind, span: { start } });
  });

  it("survives 10 000 nested braces without recursion", () => {
    expect(parse("experiment x " + "{".repeat(10_000) + "}".repeat(10_000)).errors[0]!.kind).toBe("nesting-too-deep");
  });
});
