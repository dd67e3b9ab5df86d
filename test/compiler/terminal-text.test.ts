// terminalText (compiler/terminal-text.ts): user text in a line of terminal output. Examples of each kind of
// character it escapes or keeps, then properties over random strings: its output is one safe line, it is
// idempotent, and a rendered diagnostic about a file with any name keeps its message and its `-->` line whole.
//
// Seeded, so a failure reproduces: FC_SEED=<n> overrides the seed.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { renderDiagnostics } from "../../compiler/cli/render.js";
import { compile } from "../../compiler/compile.js";
import { memoryHost } from "../../compiler/host.js";
import { terminalLines, terminalText } from "../../compiler/terminal-text.js";

const SEED = Number(process.env["FC_SEED"] ?? 20_261_203);

/** What a terminal line must not hold raw: line terminators (JS's and Unicode's), controls, bidi and invisible characters. */
const UNSAFE =
  /[\u0000-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060-\u206f\ufeff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Any UTF-16 text, lone surrogates included, with the characters of interest drawn often. */
const hostile = fc.oneof(
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.string({
    unit: fc.constantFrom(
      "a",
      "é",
      "中",
      "😀",
      "\n",
      "\r",
      "\t",
      "\x1b",
      "\u0085",
      "\u2028",
      "\u2029",
      "\u202e",
      "\u2066",
      "\u200b",
      "\ufeff",
      "\ud800",
      "\udc00",
      "\\",
      "'",
      "/",
    ),
    maxLength: 20,
  }),
);

describe("terminalText", () => {
  it.each([
    ["a\nb.rnn", "a\\nb.rnn"],
    ["a\r\nb", "a\\r\\nb"],
    ["tab\there", "tab\\there"],
    ["\x1b[31mred", "\\u001b[31mred"],
    ["nel\u0085", "nel\\u0085"],
    ["line\u2028para\u2029", "line\\u2028para\\u2029"],
    ["abc\u202edcba", "abc\\u202edcba"],
    ["\u2066isolate\u2069", "\\u2066isolate\\u2069"],
    ["zero\u200bwidth\ufeff", "zero\\u200bwidth\\ufeff"],
    ["lone \ud800 surrogate", "lone \\ud800 surrogate"],
  ])("escapes %j as %j", (text, shown) => {
    expect(terminalText(text)).toBe(shown);
  });

  it("keeps ordinary text and Unicode as is: letters, accents, CJK, emoji (a surrogate pair), quotes, backslashes", () => {
    for (const s of ["examples/zaremba-2014/small.rnn", "café.rnn", "中文/模型.rnn", "😀.rnn", `it's "x" \\n`, ""])
      expect(terminalText(s)).toBe(s);
  });

  it("property: the output holds no line terminator, control, bidi or invisible character, and escaping again changes nothing", () => {
    fc.assert(
      fc.property(hostile, (s) => {
        const shown = terminalText(s);
        expect(shown).not.toMatch(UNSAFE);
        expect(terminalText(shown)).toBe(shown);
      }),
      { seed: SEED, numRuns: 2000 },
    );
  });
});

describe("a rendered diagnostic about a file with any name", () => {
  it("property: no raw line terminator inside a line, the message line and the `-->` line stay whole and name the file", () => {
    fc.assert(
      fc.property(hostile, fc.boolean(), (name, exists) => {
        // In a folder, so that a name such as `constructor` is not a member of the host's object.
        const path = `d/${name}.rnn`;
        // Missing: E0208, whose message quotes the path; present: E0100 at the `@`, framed by the `-->` line.
        const r = compile(path, memoryHost(exists ? { [path]: `experiment a { @ }\n` } : {}));
        const rendered = renderDiagnostics(r.diagnostics, r.sources, { color: false });
        const lines = rendered.split("\n");
        for (const line of lines) expect(line).not.toMatch(/[\r\u0085\u2028\u2029\u000b\u000c]/);
        expect(lines[0]).toMatch(exists ? /^error\[E0100\]: / : /^error\[E0208\]: cannot read '.*': no such file$/);
        if (!exists) expect(lines[0]).toBe(`error[E0208]: cannot read '${terminalText(path)}': no such file`);
        expect(lines[1]).toBe(exists ? ` --> ${terminalText(path)}:1:16` : `  --> ${terminalText(path)}`);
        for (const line of lines) expect(line).not.toMatch(UNSAFE);
      }),
      { seed: SEED, numRuns: 500 },
    );
  });

  it("a source line with a bidi override and U+2028 shows both escaped, the caret under the whole escape of the bad one", () => {
    const path = "s.rnn";
    const r = compile(path, memoryHost({ [path]: "experiment a { /*\u202e*/ \u2028 @ }\n" }));
    const lines = renderDiagnostics(r.diagnostics, r.sources, { color: false }).split("\n");
    expect(lines.slice(0, 5)).toEqual([
      'error[E0100]: unexpected character "\\u2028"',
      " --> s.rnn:1:22",
      "  |",
      "1 | experiment a { /*\\u202e*/ \\u2028 @ }",
      "  |                           ^^^^^^",
    ]);
  });
});

describe("terminalLines", () => {
  it("keeps the lines rnnc composed and escapes what is inside each", () => {
    expect(terminalLines("Data set is not complete\n  a\u2028b.txt  missing\n  c\u001b[2J.txt  missing")).toBe(
      "Data set is not complete\n  a\\u2028b.txt  missing\n  c\\u001b[2J.txt  missing",
    );
    expect(terminalLines("one line")).toBe(terminalText("one line"));
  });
});
