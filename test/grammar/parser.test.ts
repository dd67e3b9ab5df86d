import { describe, expect, it } from "vitest";
import { parse as parseWith, type Statement } from "../../grammar/index.js";
import { VOCABULARY } from "../../compiler/schema/index.js";

/** The parser with the compiler's vocabulary, as the compiler calls it. */
const parse = (text: string) => parseWith(text, VOCABULARY);

const body = (src: string): readonly Statement[] => {
  const r = parse(src);
  expect(r.errors).toEqual([]);
  return r.file!.experiments[0]!.body.statements;
};
const keys = (sts: readonly Statement[] | undefined): string[] =>
  (sts ?? []).map((s) => `${s.key.name}/${s.values.length}`);

describe("parser", () => {
  it("separates statements by the keywords of the enclosing block", () => {
    const [reg] = body("experiment x { regularize { ar 5  tar 2 dropped  weight_decay 1e-7 } }");
    expect(keys(reg!.block!.statements)).toEqual(["ar/1", "tar/2", "weight_decay/1"]);
  });

  it("keeps modifiers that are not keywords here as values", () => {
    const [d] = body(
      "experiment x { dropout { input 0.65 locked recurrent 0.25 variational zoneout cell 0.5 hidden 0.05 } }",
    );
    expect(keys(d!.block!.statements)).toEqual(["input/2", "recurrent/2", "zoneout/4"]);
  });

  it("lets a word that is a keyword elsewhere be a value here (`norm batch` vs `data { batch }`)", () => {
    const [m] = body("experiment x { model { norm batch { on [input, recurrent, cell]  gamma 0.1 } } }");
    const norm = m!.block!.statements[0]!;
    expect(norm.values).toMatchObject([{ kind: "Name", name: "batch" }]);
    expect(keys(norm.block!.statements)).toEqual(["on/1", "gamma/1"]);
  });

  describe("keys are keys: where a statement ends", () => {
    const inBlock = (src: string): string[] => keys(body(`experiment x {\n${src}\n}`)[0]!.block!.statements);

    it("a bare word that begins a line starts a statement, key or not (`embbed` is no value of `layers`)", () => {
      expect(inBlock("model {\n  layers 2 lstm(200)\n  embbed 200\n}")).toEqual(["layers/2", "embbed/1"]);
      expect(inBlock("train {\n  epochs 3\n  lr 0.5\n}")).toEqual(["epochs/1", "lr/1"]);
      expect(inBlock("dropout {\n  input 0.5\n  recurent 0.2\n}")).toEqual(["input/1", "recurent/1"]);
    });

    it("on one line, a word that is no key of the block stays a value (`embed none`, `norm layer`, `stats per_step`)", () => {
      expect(inBlock("model { embed none  norm layer  layers 2 lstm(650) }")).toEqual([
        "embed/1",
        "norm/1",
        "layers/2",
      ]);
      expect(inBlock("dropout { recurrent 0.2 variational  input 0.5 locked  zoneout cell 0.5 hidden 0.05 }")).toEqual([
        "recurrent/2",
        "input/2",
        "zoneout/4",
      ]);
      expect(inBlock("model { norm batch { stats per_step  gamma 0.1 } }")).toEqual(["norm/1"]);
    });

    it("numbers, strings, lists and calls stay values on the next line", () => {
      expect(inBlock("model {\n  layers\n    2 lstm(650)\n}")).toEqual(["layers/2"]);
      expect(
        inBlock("train {\n  optimizer\n    sgd(lr = 1)\n  schedule decay(\n    by = 1.2,\n    after = 6)\n}"),
      ).toEqual(["optimizer/1", "schedule/1"]);
      expect(inBlock("model {\n  layers\n    [lstm(8),\n     lstm(8)]\n}")).toEqual(["layers/1"]);
    });

    it("a line break inside a comment counts; a comment on one line does not", () => {
      expect(inBlock("dropout {\n  input 0.5 // per sequence:\n  locked\n}")).toEqual(["input/1", "locked/0"]);
      expect(inBlock("dropout {\n  input 0.5 /* per sequence: */ locked\n}")).toEqual(["input/2"]);
      expect(inBlock("dropout {\n  input 0.5 /* a\n  b */ locked\n}")).toEqual(["input/1", "locked/0"]);
    });

    it("a key of the block starts a statement even before `(`; another word before `(` is a call", () => {
      // `seed` starts a statement, whose `(` is then a syntax error at the `(`.
      expect(parse("experiment x { train { epochs 3 seed(1) } }").errors[0]).toMatchObject({
        kind: "unexpected-token",
        found: "(",
        span: { start: 36 },
      });
      expect(inBlock("train { optimizer\n  adam(lr = 0.01)  epochs 3 }")).toEqual(["optimizer/1", "epochs/1"]);
    });

    it("CRLF line ends are line breaks", () => {
      expect(inBlock("model {\r\n  layers 2 lstm(200)\r\n  embbed 200\r\n}")).toEqual(["layers/2", "embbed/1"]);
    });
  });

  it("says what may follow the last experiment", () => {
    const r = parse("experiment a {}\nexperimnet b {}");
    expect(r.errors[0]).toMatchObject({
      kind: "unexpected-token",
      found: "experimnet",
      expected: ["'experiment'", "end of file"],
      span: { start: 16, end: 26 },
    });
  });

  it("parses calls with positional and named arguments, lists and sweeps", () => {
    const [t] = body("experiment x { train { optimizer sgd(1, momentum = sweep(0, 0.9),) } }");
    const call = t!.block!.statements[0]!.values[0]!;
    expect(call).toMatchObject({
      kind: "Call",
      callee: { name: "sgd" },
      args: [{ value: { value: 1 } }, { name: { name: "momentum" }, value: { kind: "Call" } }],
    });
  });

  it("reads all extends forms", () => {
    const r = parse('experiment a extends "b.rnn" {} experiment c extends a {} experiment d extends "e.rnn" f {}');
    expect(r.file!.experiments.map((e) => [e.extends?.path?.value, e.extends?.name?.name])).toEqual([
      ["b.rnn", undefined],
      [undefined, "a"],
      ["e.rnn", "f"],
    ]);
  });

  it("keeps comments, with spans, for fmt", () => {
    const src = "// a\nexperiment x { /* b */ }";
    expect(parse(src).file!.comments).toEqual([
      { text: "// a", span: { start: 0, end: 4 } },
      { text: "/* b */", span: { start: 20, end: 27 } },
    ]);
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
