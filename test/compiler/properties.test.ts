// Property tests: the front end never throws, never hangs, and locates every diagnostic inside its file, on
// any input — mutated specs, random text, random bytes, absurd nesting. `rnnc fmt` is idempotent and keeps
// comments, syntax (modulo positions) and meaning.
//
// Seeded, so a failure reproduces: FC_SEED=<n> overrides the seed, FC_RUNS=<factor> scales the run counts.
import { readFileSync } from "node:fs";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { compile, type CompileResult } from "../../compiler/compile.js";
import { decodeUtf8 } from "../../compiler/cli/fs-host.js";
import { renderDiagnostics } from "../../compiler/cli/render.js";
import { format } from "../../compiler/fmt.js";
import { memoryHost, resolveRelative, type CompilerHost } from "../../compiler/host.js";
import { editDistance } from "../../compiler/suggest.js";
import { MAX_NESTING, parse as parseWith, RESERVED_WORDS } from "../../grammar/index.js";
import { VOCABULARY, EXPERIMENT_BLOCK, STATEMENT_KEYWORDS } from "../../compiler/schema/index.js";
import { specFiles } from "../spec-files.js";

/** The parser with the compiler's vocabulary, as the compiler calls it. */
const parse = (text: string) => parseWith(text, VOCABULARY);

const SEED = Number(process.env["FC_SEED"] ?? 20_240_611);
const SCALE = Number(process.env["FC_RUNS"] ?? 1);
const runs = (n: number): number => Math.max(1, Math.round(n * SCALE));
const params = (numRuns: number): fc.Parameters<unknown> => ({ seed: SEED, numRuns: runs(numRuns), verbose: 1 });

// ── the corpus: the repository's examples (whatever exists at test time) and specs of our own ───────────────

const INLINE: Record<string, string> = {
  "inline/base.rnn": `// A plain base: Zaremba-style medium LSTM.
experiment base {
  data ptb { batch 20  bptt 35 }
  model {
    embed 650
    layers 2 lstm(650)
    init uniform(0.05)
  }
  dropout { input 0.5  between 0.5  output 0.5 }
  train {
    epochs 39
    loss sum_steps // summed over the window
    optimizer sgd(lr = 1.0)
    schedule decay(by = 1.2, after = 6)
    clip 5
  }
}
`,
  "inline/child.rnn": `/* Inherits from another file and overrides block by block. */
experiment child extends "base.rnn" {
  dropout { between 0.4 } // only this site changes
  regularize { ar 2 dropped  tar 1 raw  weight_decay 1.2e-6 }
  train {
    epochs 10
    optimizer adam(lr = 0.001, beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8)
  }
}
`,
  "inline/multi.rnn": `// Several experiments, a sibling extends, a sweep, normalization and a classifier.
experiment mnist_bn {
  data pmnist { batch 64  permutation_seed 3 }
  task classify
  model {
    layers lstm(100)
    norm batch { on [input, recurrent, cell]  gamma 0.1  stats per_step(max_steps = 784) }
  }
  train { epochs 2  optimizer rmsprop(lr = 0.001)  clip 1 }
}

experiment mnist_ln extends mnist_bn {
  model { norm layer { on [input, recurrent] } }
  train { optimizer rmsprop(lr = sweep(0.001, 0.0005)) }
}

experiment tiny {
  data synthetic { vocab 16  order 2  tokens 1000  seed 7 }
  model { embed 8  layers [lstm(16), gru(16), rnn(8, tanh)]  init orthogonal  recurrent_init identity(0.5) }
  train { epochs 1  schedule plateau(divide = 4, patience = 2)  bptt variable(p = 0.95, std = 5) }
}
`,
  "inline/awd.rnn": `experiment awd {
  data ptb { batch 80  bptt 70  eval_batch 10 }
  model {
    embed 400
    layers [lstm(1150), lstm(1150), lstm(400)]
    tie true
    init uniform(0.1)
  }
  dropout {
    input 0.4 locked
    between 0.25 locked
    output 0.4 locked
    embedding 0.1
    weight 0.5
  }
  regularize { ar 2  tar 1 }
  train {
    epochs 500
    optimizer ntasgd(lr = 30, nonmono = 5)
    clip 0.25
    seed 141
    loss mean
    bptt variable(p = 0.95, std = 5)
  }
}
`,
};

function loadCorpus(): Record<string, string> {
  const files: Record<string, string> = { ...INLINE };
  for (const path of specFiles("examples")) files[path] = readFileSync(path, "utf8");
  return files;
}

const CORPUS = loadCorpus();
const CORPUS_PATHS = Object.keys(CORPUS).sort();

// ── invariants checked on every call ────────────────────────────────────────────────────────────────────────

// A hang or a blow-up fails through vitest's test timeout: no per-call time budget, which a loaded machine would
// make flaky (speed is the benchmarks' business: npm run bench:check).
function compileWith(files: Record<string, string>, entry: string): CompileResult {
  return compile(entry, memoryHost(files));
}

/** Why a result breaks the diagnostic invariants, or undefined. */
function diagnosticProblems(result: CompileResult, entry: string): string[] {
  const problems: string[] = [];
  const locate = (what: string, file: string, span: { start: number; end: number }, code?: string): void => {
    const src = result.sources.get(file);
    if (!src) {
      // The entry file itself may be unreadable; then nothing can be shown but its name.
      const aboutEntry = file === entry && code === "E0208" && span.start === 0 && span.end === 0;
      if (!aboutEntry) problems.push(`${what}: file ${JSON.stringify(file)} is not among the sources read`);
      return;
    }
    const n = src.text.length;
    const ok =
      Number.isInteger(span.start) &&
      Number.isInteger(span.end) &&
      0 <= span.start &&
      span.start <= span.end &&
      span.end <= n;
    if (!ok) problems.push(`${what}: span ${span.start}..${span.end} outside ${file} (length ${n})`);
  };
  for (const d of result.diagnostics) {
    const what = `${d.code} ${JSON.stringify(d.message)}`;
    if (!/^[EW]0\d{3}$/.test(d.code)) problems.push(`${what}: bad code`);
    if (typeof d.message !== "string" || d.message.trim() === "") problems.push(`${what}: empty message`);
    if ((d.code.startsWith("E") ? "error" : "warning") !== d.severity) problems.push(`${what}: severity ${d.severity}`);
    locate(what, d.file, d.span, d.code);
    for (const r of d.related) {
      if (r.message.trim() === "") problems.push(`${what}: related note with empty message`);
      locate(`${what} (related)`, r.file, r.span);
    }
  }
  const errors = result.diagnostics.some((d) => d.severity === "error");
  if (errors && result.document) problems.push("a document came back despite errors");
  if (!errors && !result.document) problems.push("no document and no error");
  return problems;
}

/** compile → invariants → rendering; throws with a readable reason on any violation. */
function checkCompile(files: Record<string, string>, entry: string): CompileResult {
  const result = compileWith(files, entry);
  const problems = diagnosticProblems(result, entry);
  if (problems.length) throw new Error(problems.join("\n"));
  const rendered = renderDiagnostics(result.diagnostics, result.sources, { color: false });
  for (const d of result.diagnostics.slice(0, 50)) {
    if (result.sources.has(d.file) && !rendered.includes(`${d.file}:`))
      throw new Error(`${d.code} is rendered without a location`);
  }
  return result;
}

const stripSpans = (node: unknown): unknown =>
  JSON.parse(JSON.stringify(node, (k, v) => (k === "span" || k === "comments" ? undefined : v)));

/** What formatting must not change: the IR without positions, or the diagnostics without positions. */
function meaning(result: CompileResult): unknown {
  if (result.document)
    return JSON.parse(JSON.stringify(result.document, (k, v) => (k === "origins" || k === "source" ? undefined : v)));
  return result.diagnostics.map((d) => `${d.code} ${d.message}`).sort();
}

const commentTexts = (text: string): string[] => parse(text).file!.comments.map((c) => c.text.trimEnd());

type FmtAspect = "fixed-point" | "comments" | "syntax" | "meaning";
const ALL_ASPECTS: readonly FmtAspect[] = ["fixed-point", "comments", "syntax", "meaning"];

/**
 * format() never throws; when the text parses, the output parses and — per aspect — is a fixed point, keeps
 * every comment, keeps the syntax tree modulo spans, keeps the meaning. Returns whether the text parsed.
 */
function checkFormat(
  files: Record<string, string>,
  path: string,
  aspects: readonly FmtAspect[] = ALL_ASPECTS,
): boolean {
  const text = files[path]!;
  const once = format(text);
  if (!once.ok) {
    if (once.errors.length === 0) throw new Error("format failed without an error");
    for (const e of once.errors) {
      if (!(0 <= e.span.start && e.span.start <= e.span.end && e.span.end <= text.length))
        throw new Error(`syntax error span ${e.span.start}..${e.span.end} outside the text (${text.length})`);
    }
    return false;
  }
  const reparsed = parse(once.text);
  if (!reparsed.file)
    throw new Error(
      `formatted text does not parse: ${JSON.stringify(reparsed.errors)}\n--- formatted ---\n${once.text}`,
    );
  if (aspects.includes("fixed-point")) {
    const twice = format(once.text);
    expect(twice.ok && twice.text, "format(format(x)) === format(x)").toBe(once.text);
  }
  if (aspects.includes("comments"))
    expect(commentTexts(once.text), "comments kept, in order").toEqual(commentTexts(text));
  if (aspects.includes("syntax"))
    expect(stripSpans(reparsed.file), "syntax tree kept (modulo spans)").toEqual(stripSpans(parse(text).file));
  if (aspects.includes("meaning")) {
    const before = compileWith(files, path);
    const after = compileWith({ ...files, [path]: once.text }, path);
    expect(meaning(after), "meaning kept").toEqual(meaning(before));
  }
  return true;
}

// ── generators ──────────────────────────────────────────────────────────────────────────────────────────────

const KEYWORDS = [
  ...new Set([
    "experiment",
    "extends",
    "sweep",
    ...Object.keys(STATEMENT_KEYWORDS),
    ...Object.values(STATEMENT_KEYWORDS).flat(),
    "lstm",
    "gru",
    "rnn",
    "tanh",
    "relu",
    "uniform",
    "normal",
    "orthogonal",
    "identity",
    "xavier",
    "inv_sqrt_hidden",
    "sgd",
    "adam",
    "rmsprop",
    "ntasgd",
    "lr",
    "momentum",
    "decay",
    "plateau",
    "at_epochs",
    "constant",
    "variable",
    "fixed",
    "ptb",
    "ptb_char",
    "wikitext2",
    "text8",
    "mnist",
    "pmnist",
    "synthetic",
    "text",
    "lm",
    "classify",
    "true",
    "false",
    "none",
    "batch",
    "layer",
    "per_step",
    "shared",
    "locked",
    "variational",
    "raw",
    "dropped",
    "mean",
    "sum_steps",
  ]),
];

const PUNCTUATION = [
  "{",
  "}",
  "(",
  ")",
  "[",
  "]",
  '"',
  "/*",
  "*/",
  "//",
  ",",
  "=",
  "-",
  ".",
  "#",
  "\\",
  "\n",
  " ",
  "\t",
  "\r",
  "\r\n",
  "\u0000",
  "\u000b",
  "\u00a0",
  "\ufeff",
  "é",
  "日本",
  "😀",
  "\ud800",
  "\u2028",
  "/* c */",
  "// c\n",
  "/* a\n b */",
  '"x"',
  '"a\\"b"',
  '"../missing.rnn"',
  '"base.rnn"',
  '"child.rnn"',
  '"/abs.rnn"',
  '""',
];

const NUMBER_TEXT = fc.oneof(
  fc.integer({ min: -1_000_000, max: 1_000_000 }).map(String),
  fc.double({ noNaN: true }).map(String),
  fc.constantFrom(
    "0",
    "-0",
    "0.0",
    "1",
    "-1",
    ".5",
    "5.",
    "1e999",
    "-1e999",
    "1e-400",
    "1e",
    "1e+",
    "9007199254740993",
    "1e308",
    "0.999999",
    "1.5",
    "2e-7",
    "00",
    "1.2.3",
  ),
);

const WORD = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,10}$/);

const TOKEN = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...PUNCTUATION) },
  { weight: 3, arbitrary: fc.constantFrom(...KEYWORDS) },
  { weight: 2, arbitrary: NUMBER_TEXT },
  { weight: 2, arbitrary: WORD },
);

/** A token with the spacing it might have been typed with. */
const SPACED_TOKEN = fc
  .tuple(fc.constantFrom("", " ", "\n"), TOKEN, fc.constantFrom("", " ", "  ", "\n"))
  .map(([a, t, b]) => a + t + b);

type Mutation =
  | { readonly op: "delete"; readonly at: number; readonly len: number }
  | { readonly op: "duplicate"; readonly at: number; readonly len: number; readonly to: number }
  | { readonly op: "insert"; readonly at: number; readonly text: string }
  | { readonly op: "swap"; readonly a: number; readonly b: number }
  | { readonly op: "truncate"; readonly at: number };

const POS = fc.nat({ max: 1 << 20 });
const LEN = fc.nat({ max: 120 });

const MUTATION: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant("delete" as const), at: POS, len: LEN }),
  fc.record({ op: fc.constant("duplicate" as const), at: POS, len: LEN, to: POS }),
  fc.record({ op: fc.constant("insert" as const), at: POS, text: SPACED_TOKEN }),
  fc.record({
    op: fc.constant("insert" as const),
    at: POS,
    text: fc.array(SPACED_TOKEN, { minLength: 2, maxLength: 8 }).map((ts) => ts.join(" ")),
  }),
  fc.record({ op: fc.constant("swap" as const), a: POS, b: POS }),
  fc.record({ op: fc.constant("truncate" as const), at: POS }),
);

/** Mutations that keep a parsing text parsing, mostly: layout and comments between tokens. */
const LAYOUT_MUTATION: fc.Arbitrary<Mutation> = fc.record({
  op: fc.constant("insert" as const),
  at: POS,
  text: fc.constantFrom(
    " ",
    "  ",
    "\n",
    "\n\n",
    "\n\n\n",
    "\t",
    "\r\n",
    " // note\n",
    "/* c */",
    " /* c */ ",
    "\n/* two\n   lines */\n",
    "// a\n// b\n",
    "/**/",
    "/* } { */",
  ),
});

function applyMutation(text: string, m: Mutation): string {
  const at = (n: number): number => n % (text.length + 1);
  switch (m.op) {
    case "delete": {
      const a = at(m.at);
      return text.slice(0, a) + text.slice(a + m.len);
    }
    case "duplicate": {
      const a = at(m.at);
      const piece = text.slice(a, a + m.len);
      const to = at(m.to);
      return text.slice(0, to) + piece + text.slice(to);
    }
    case "insert": {
      const a = at(m.at);
      return text.slice(0, a) + m.text + text.slice(a);
    }
    case "swap": {
      if (text.length < 2) return text;
      const i = m.a % text.length;
      const j = m.b % text.length;
      const cs = [...text.split("")];
      [cs[i], cs[j]] = [cs[j]!, cs[i]!];
      return cs.join("");
    }
    case "truncate":
      return text.slice(0, at(m.at));
  }
}

const mutate = (text: string, ms: readonly Mutation[]): string => ms.reduce(applyMutation, text);

// ── the properties ──────────────────────────────────────────────────────────────────────────────────────────

beforeAll(() => {
  // Build the shared chevrotain parser once, before the properties run.
  compile("inline/base.rnn", memoryHost(CORPUS));
});

describe("the corpus", () => {
  it("has examples from the repository and inline specs", () => {
    expect(CORPUS_PATHS.length).toBeGreaterThanOrEqual(Object.keys(INLINE).length);
  });

  it.each(Object.keys(INLINE))("inline spec %s compiles without errors", (path) => {
    const r = checkCompile(CORPUS, path);
    expect(r.diagnostics.filter((d) => d.severity === "error").map((d) => `${d.code} ${d.message}`)).toEqual([]);
  });
});

describe("compile() and format() on mutated specs", () => {
  it("never throw, hang, or place a diagnostic outside its file", () => {
    fc.assert(
      fc.property(fc.constantFrom(...CORPUS_PATHS), fc.array(MUTATION, { minLength: 1, maxLength: 6 }), (path, ms) => {
        const files = { ...CORPUS, [path]: mutate(CORPUS[path]!, ms) };
        checkCompile(files, path);
        format(files[path]!);
      }),
      params(6000),
    );
  });

  it("a mutated extends target is reported without breaking its children", () => {
    const parents = CORPUS_PATHS.filter((p) =>
      CORPUS_PATHS.some((c) => c !== p && /extends\s+"/.test(CORPUS[c]!) && CORPUS[c]!.includes(p.split("/").pop()!)),
    );
    const children = CORPUS_PATHS.filter((c) => /extends\s+"/.test(CORPUS[c]!));
    fc.assert(
      fc.property(
        fc.constantFrom(...parents),
        fc.constantFrom(...children),
        fc.array(MUTATION, { minLength: 1, maxLength: 4 }),
        (parent, child, ms) => {
          checkCompile({ ...CORPUS, [parent]: mutate(CORPUS[parent]!, ms) }, child);
        },
      ),
      params(1500),
    );
  });

  // One property per aspect, so that a bug in one does not hide a bug in another.
  const FMT_INPUT = fc.tuple(
    fc.constantFrom(...CORPUS_PATHS),
    fc.array(fc.oneof({ weight: 4, arbitrary: LAYOUT_MUTATION }, { weight: 1, arbitrary: MUTATION }), {
      minLength: 1,
      maxLength: 5,
    }),
  );
  const FMT_RUNS = 4000;
  it.each(ALL_ASPECTS)("fmt on mutated specs that parse: %s", (aspect) => {
    let parsed = 0;
    fc.assert(
      fc.property(FMT_INPUT, ([path, ms]) => {
        if (checkFormat({ ...CORPUS, [path]: mutate(CORPUS[path]!, ms) }, path, [aspect])) parsed++;
      }),
      params(FMT_RUNS),
    );
    // The property must not hold vacuously.
    expect(parsed).toBeGreaterThan(runs(FMT_RUNS) / 10);
  });

  it.each(CORPUS_PATHS)("fmt: idempotent, keeps comments, syntax and meaning: %s", (path) => {
    expect(checkFormat(CORPUS, path)).toBe(true);
  });
});

describe("compile() and format() on random input", () => {
  const both = (text: string): void => {
    checkCompile({ "r.rnn": text }, "r.rnn");
    checkFormat({ "r.rnn": text }, "r.rnn");
  };

  it("random strings of any code points (lone surrogates included)", () => {
    fc.assert(fc.property(fc.string({ unit: "binary", maxLength: 400 }), both), params(1000));
  });

  it("random ASCII strings", () => {
    fc.assert(fc.property(fc.string({ unit: "binary-ascii", maxLength: 400 }), both), params(1000));
  });

  it("random token soup", () => {
    fc.assert(
      fc.property(
        fc.array(SPACED_TOKEN, { maxLength: 80 }).map((ts) => ts.join(" ")),
        both,
      ),
      params(2000),
    );
  });

  it("random token soup inside an experiment", () => {
    fc.assert(
      fc.property(
        fc.array(SPACED_TOKEN, { maxLength: 40 }).map((ts) => `experiment x {\n  ${ts.join(" ")}\n}\n`),
        both,
      ),
      params(2000),
    );
  });

  it("random bytes, decoded leniently", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 4096 }), (bytes) => both(new TextDecoder("utf-8").decode(bytes))),
      params(200),
    );
  });
});

describe("decodeUtf8 (the CLI's reader)", () => {
  // Chunks of valid UTF-8, and the classic malformations: stray continuation bytes, overlong forms,
  // surrogates, code points past U+10FFFF, truncated sequences, bytes that never occur.
  const VALID = fc.string({ unit: "grapheme", maxLength: 6 }).map((s) => [...new TextEncoder().encode(s)]);
  const BAD = fc.constantFrom(
    [0x80],
    [0xbf],
    [0xc0, 0x80],
    [0xc1, 0xbf],
    [0xe0, 0x80, 0x80],
    [0xe0, 0x9f, 0xbf],
    [0xed, 0xa0, 0x80],
    [0xed, 0xbf, 0xbf],
    [0xf0, 0x80, 0x80, 0x80],
    [0xf0, 0x8f, 0xbf, 0xbf],
    [0xf4, 0x90, 0x80, 0x80],
    [0xf5, 0x80, 0x80, 0x80],
    [0xff],
    [0xfe],
    [0xe2, 0x82],
    [0xf0, 0x9f, 0x98],
    [0xc3],
  );
  const BYTES = fc
    .array(fc.oneof({ weight: 4, arbitrary: VALID }, { weight: 1, arbitrary: BAD }), { maxLength: 12 })
    .map((cs) => Uint8Array.from(cs.flat()));

  const strict = (b: Uint8Array): boolean => {
    try {
      new TextDecoder("utf-8", { fatal: true }).decode(b);
      return true;
    } catch {
      return false;
    }
  };

  // Found by this property; kept as explicit examples so they run on every seed.
  const FOUND: Uint8Array[] = [
    [0xf0, 0x8f, 0xbf, 0xbf], // overlong 4-byte form
    [0xed, 0xa0, 0x80], // a UTF-16 surrogate
    [0xe0, 0x9f, 0xbf], // overlong 3-byte form
    [0xf4, 0x90, 0x80, 0x80], // past U+10FFFF
    [0xf0, 0x9f, 0x98, 0x20], // a truncated 4-byte sequence, then ASCII
    [0x61, 0xe2, 0x82, 0x61], // a truncated 3-byte sequence, then ASCII
    [0xc3, 0x41], // a truncated 2-byte sequence, then ASCII
  ].map((b) => Uint8Array.from(b));

  it("accepts exactly valid UTF-8, and points at the first bad byte", () => {
    fc.assert(
      fc.property(BYTES, (bytes) => {
        const r = decodeUtf8(bytes);
        expect(r.ok, "ok iff the bytes are valid UTF-8").toBe(strict(bytes));
        if (!r.ok) {
          const at = r.byteOffset ?? -1;
          expect(at, "the bad byte is inside the file").toBeGreaterThanOrEqual(0);
          expect(at, "the bad byte is inside the file").toBeLessThan(bytes.length);
          expect(strict(bytes.subarray(0, at)), "everything before it is valid").toBe(true);
          // The place shown in the leniently decoded text is the same place.
          const { charOffset, lenientText } = r as { charOffset?: number; lenientText?: string };
          if (charOffset !== undefined && lenientText !== undefined) {
            expect(lenientText.slice(0, charOffset)).toBe(
              new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(0, at)),
            );
          }
        }
      }),
      { ...params(1000), examples: FOUND.map((b) => [b] as [Uint8Array]) },
    );
  });

  it("never throws on arbitrary bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 4096 }), (bytes) => {
        const r = decodeUtf8(bytes);
        if (!r.ok) expect(r.kind).toBe("invalid-utf8");
      }),
      params(300),
    );
  });
});

describe("deep nesting", () => {
  const N = 10_000;
  const CONTEXTS = [
    "",
    "experiment a ",
    "experiment a {",
    "experiment a { model { layers ",
    "experiment a { train { optimizer sgd(lr = ",
    "experiment a { x ",
  ];

  for (const open of ["{", "(", "[", "{([", "([{"]) {
    for (const before of CONTEXTS) {
      it(`${N} × ${JSON.stringify(open)} after ${JSON.stringify(before)}: E0104, no throw`, () => {
        const text = before + open.repeat(N);
        const r = checkCompile({ "deep.rnn": text }, "deep.rnn");
        expect(r.diagnostics.map((d) => d.code)).toContain("E0104");
        const f = format(text);
        expect(f.ok).toBe(false);
        if (!f.ok) expect(f.errors.map((e) => e.kind)).toContain("nesting-too-deep");
      });
    }
  }

  it("balanced deep nesting is refused too", () => {
    for (const [o, c] of [
      ["{", "}"],
      ["(", ")"],
      ["[", "]"],
    ] as const) {
      const text = `experiment a { x ${o.repeat(N)}${c.repeat(N)} }`;
      const r = checkCompile({ "deep.rnn": text }, "deep.rnn");
      expect(r.diagnostics.map((d) => d.code)).toContain("E0104");
    }
  });

  it("closers before openers do not defeat the depth limit", () => {
    for (const text of [
      ")".repeat(N) + "(".repeat(N),
      "experiment a { x " + "]".repeat(N) + "[".repeat(2 * N),
      "}".repeat(N) + "experiment a " + "{".repeat(N),
    ]) {
      const r = checkCompile({ "deep.rnn": text }, "deep.rnn");
      expect(r.diagnostics.some((d) => d.severity === "error")).toBe(true);
      format(text);
    }
  });

  it(`nesting up to ${MAX_NESTING} levels is syntax, one more is E0104`, () => {
    // `experiment {` and `model {` are two levels; the brackets make the rest.
    const at = (depth: number): string =>
      `experiment a { model { layers ${"[".repeat(depth - 2)}lstm${"]".repeat(depth - 2)} } }`;
    const ok = checkCompile({ "d.rnn": at(MAX_NESTING) }, "d.rnn");
    expect(ok.diagnostics.map((d) => d.code)).not.toContain("E0104");
    const deep = checkCompile({ "d.rnn": at(MAX_NESTING + 1) }, "d.rnn");
    expect(deep.diagnostics.map((d) => d.code)).toContain("E0104");
  });
});

describe("names that are Object.prototype's members", () => {
  // A lookup table is a plain object: `toString`, `constructor` or `__proto__` written where a block, key, call,
  // argument or value name goes must be an unknown name like any other, never a member of Object.prototype.
  const MEMBERS = [
    "__proto__",
    "constructor",
    "toString",
    "valueOf",
    "hasOwnProperty",
    "isPrototypeOf",
    "propertyIsEnumerable",
    "toLocaleString",
    "__defineGetter__",
    "__lookupSetter__",
  ];
  const word = /[A-Za-z_][A-Za-z0-9_]*/g;

  it("in place of any word of any spec: diagnostics, never a throw", () => {
    fc.assert(
      fc.property(fc.constantFrom(...CORPUS_PATHS), fc.nat(), fc.constantFrom(...MEMBERS), (path, k, member) => {
        const text = CORPUS[path]!;
        const words = [...text.matchAll(word)];
        const w = words[k % words.length]!;
        const files = { ...CORPUS, [path]: text.slice(0, w.index) + member + text.slice(w.index! + w[0].length) };
        checkCompile(files, path);
        format(files[path]!);
      }),
      params(3000),
    );
  });

  it.each([
    "experiment a {\n  __proto__ { x 1  y 2 }\n}\n",
    "experiment a {\n  valueOf { x 1 }\n}\n",
    "experiment a {\n  model { layers 1 toString(8) }\n}\n",
    "experiment a {\n  train { optimizer constructor(lr = 1) }\n}\n",
    "experiment a {\n  model { layers __proto__ }\n}\n",
  ])("%j is an error located in its file", (text) => {
    const r = checkCompile({ "x.rnn": text }, "x.rnn");
    expect(r.diagnostics.some((d) => d.severity === "error")).toBe(true);
  });
});

describe("minimal counterexamples found by these properties", () => {
  // Kept as plain cases so that they run on every seed.
  it.each([
    {
      what: "a blank line between the header and `{` of a second experiment",
      text: "experiment a {}\nexperiment b\n\n{}\n",
    },
    { what: "a raw carriage return inside a string", text: 'experiment a { data text "a\rb" }\n' },
    { what: "a control character inside a string", text: 'experiment a { data text "a\u0001b" }\n' },
    { what: "a lone surrogate inside a string", text: 'experiment a { data text "a\ud800b" }\n' },
  ])("fmt: $what", ({ text }) => {
    expect(checkFormat({ "x.rnn": text }, "x.rnn")).toBe(true);
  });
});

describe("misspelled keys on their own line", () => {
  // For every key K of every block: a one-edit misspelling of K, on its own line after another statement of the
  // block (where it used to be read as that statement's values), is the unknown-setting diagnostic at exactly
  // that word, suggesting K, and the only error. An experiment's own keys are blocks: E0205.
  const HOSTS: Record<string, (line: string) => string> = {
    experiment: (l) => `experiment x {\n  data ptb\n  model { layers 2 lstm(8) }\n  ${l}\n}\n`,
    data: (l) => `experiment x {\n  data ptb {\n    batch 4\n    ${l}\n  }\n  model { layers 2 lstm(8) }\n}\n`,
    model: (l) => `experiment x {\n  data ptb\n  model {\n    layers 2 lstm(8)\n    ${l}\n  }\n}\n`,
    norm: (l) =>
      `experiment x {\n  data ptb\n  model {\n    layers 2 lstm(8)\n    norm batch {\n      gamma 0.1\n      ${l}\n    }\n  }\n}\n`,
    dropout: (l) =>
      `experiment x {\n  data ptb\n  model { layers 2 lstm(8) }\n  dropout {\n    input 0.5 locked\n    ${l}\n  }\n}\n`,
    regularize: (l) =>
      `experiment x {\n  data ptb\n  model { layers 2 lstm(8) }\n  regularize {\n    ar 1\n    ${l}\n  }\n}\n`,
    train: (l) =>
      `experiment x {\n  data ptb\n  model { layers 2 lstm(8) }\n  train {\n    epochs 1\n    ${l}\n  }\n}\n`,
  };
  const PAIRS = Object.entries(STATEMENT_KEYWORDS).flatMap(([block, keys]) => keys.map((key) => ({ block, key })));
  const VALUES = ["1", "0.5", "0.5 locked", "2 lstm(8)", "sgd(lr = 1)", "[input, cell]", "none", '"dir"', "{ }", ""];
  const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

  /** Whether `word` is a misspelling of `key` that only `key` explains: no key itself, no other key as close. */
  const onlyOf = (word: string, key: string, block: string): boolean =>
    IDENT.test(word) &&
    !RESERVED_WORDS.includes(word) &&
    (STATEMENT_KEYWORDS as Readonly<Record<string, readonly string[]>>)[block]!.every((k) =>
      k === key ? k !== word : editDistance(word, k) > 1,
    );

  const check = (block: string, key: string, word: string, value: string): void => {
    const line = value ? `${word} ${value}` : word;
    const text = HOSTS[block]!(line);
    const start = HOSTS[block]!("\u0001").indexOf("\u0001"); // where the host puts the line
    const result = checkCompile({ "k.rnn": text }, "k.rnn");
    const errors = result.diagnostics.filter((d) => d.severity === "error");
    const expected =
      block === EXPERIMENT_BLOCK
        ? `unknown block '${word}'; did you mean '${key}'?`
        : `unknown setting '${word}' in ${block}; did you mean '${key}'?`;
    expect(
      errors.map((d) => ({ code: d.code, message: d.message, span: d.span })),
      `${JSON.stringify(line)} in ${block}`,
    ).toEqual([
      {
        code: block === EXPERIMENT_BLOCK ? "E0205" : "E0206",
        message: expected,
        span: { start, end: start + word.length },
      },
    ]);
  };

  it("the host specs compile without errors, so the misspelling is the only one", () => {
    for (const [block, host] of Object.entries(HOSTS)) {
      const r = checkCompile({ "k.rnn": host("") }, "k.rnn");
      expect(
        r.diagnostics.filter((d) => d.severity === "error"),
        block,
      ).toEqual([]);
    }
    expect(Object.keys(HOSTS).sort()).toEqual(Object.keys(STATEMENT_KEYWORDS).sort());
  });

  it("every deletion, doubling and swap of adjacent letters of every key", () => {
    let n = 0;
    for (const { block, key } of PAIRS) {
      const edits = new Set<string>();
      for (let i = 0; i < key.length; i++) {
        edits.add(key.slice(0, i) + key.slice(i + 1));
        edits.add(key.slice(0, i + 1) + key.slice(i));
        if (i + 1 < key.length) edits.add(key.slice(0, i) + key[i + 1] + key[i] + key.slice(i + 2));
      }
      for (const word of edits) if (onlyOf(word, key, block)) (check(block, key, word, "1"), n++);
    }
    expect(n).toBeGreaterThan(PAIRS.length * 3);
  });

  it("random one-letter substitutions and insertions, with any value after them", () => {
    const LETTER = fc.constantFrom(..."abcdefghijklmnopqrstuvwxyz_0123456789");
    let checked = 0;
    fc.assert(
      fc.property(
        fc.constantFrom(...PAIRS),
        fc.boolean(),
        fc.nat(),
        LETTER,
        fc.constantFrom(...VALUES),
        ({ block, key }, insert, at, letter, value) => {
          const i = at % (key.length + (insert ? 1 : 0));
          const word = key.slice(0, i) + letter + key.slice(insert ? i : i + 1);
          if (!onlyOf(word, key, block)) return;
          checked++;
          check(block, key, word, value);
        },
      ),
      params(1500),
    );
    expect(checked).toBeGreaterThan(runs(1500) / 2);
  });
});

describe("long extends chains", () => {
  const chain = (n: number, forward: boolean): string => {
    let text = "";
    for (let i = 1; i < n; i++) text += `experiment e${i} extends e${forward ? i + 1 : i - 1} { }\n`;
    const root = `experiment e${forward ? n : 0} { data ptb { batch 20 } model { layers lstm(8) } }\n`;
    return forward ? text + root : root + text;
  };

  it.each([
    { n: 5000, forward: true, order: "e1 extends e2 extends … e5000" },
    { n: 5000, forward: false, order: "e4999 extends … e1 extends e0" },
  ])("$n experiments, $order: no throw, resolved or refused with located errors", ({ n, forward }) => {
    const files = { "chain.rnn": chain(n, forward) };
    let r: CompileResult | undefined;
    expect(() => (r = compile("chain.rnn", memoryHost(files)))).not.toThrow();
    expect(diagnosticProblems(r!, "chain.rnn")).toEqual([]);
    if (r!.document) expect(r!.document.experiments.length).toBe(n);
  });
});

describe("hosts that fail", () => {
  // What the CLI's reader gives for a file that is not UTF-8.
  const NOT_UTF8 = decodeUtf8(Uint8Array.from([0x65, 0x78, 0x70, 0x0a, 0xff, 0xfe, 0x7b]));
  const failing = (
    files: Record<string, string>,
    bad: Record<string, "invalid-utf8" | "unreadable">,
  ): CompilerHost => ({
    readFile: (path) =>
      bad[path] === "invalid-utf8"
        ? NOT_UTF8
        : bad[path] === "unreadable"
          ? { ok: false, kind: "unreadable", reason: "EACCES" }
          : path in files
            ? { ok: true, text: files[path]! }
            : { ok: false, kind: "missing", reason: "no such file" },
    resolve: resolveRelative,
  });

  it("an entry file that cannot be read gives one diagnostic, no throw", () => {
    for (const kind of ["invalid-utf8", "unreadable"] as const) {
      const r = compile("a.rnn", failing({}, { "a.rnn": kind }));
      expect(r.diagnostics.map((d) => d.code)).toEqual([kind === "invalid-utf8" ? "E0105" : "E0208"]);
      expect(diagnosticProblems(r, "a.rnn")).toEqual([]);
    }
  });

  it("an extends target that cannot be read: every diagnostic located in a file that was read", () => {
    for (const kind of ["invalid-utf8", "unreadable"] as const) {
      const child = 'experiment c extends "p.rnn" { }\n';
      const r = compile("c.rnn", failing({ "c.rnn": child }, { "p.rnn": kind }));
      expect(r.diagnostics.length).toBeGreaterThan(0);
      expect(diagnosticProblems(r, "c.rnn"), `${kind}: every diagnostic located in a file that was read`).toEqual([]);
    }
  });

  it("a spec that extends itself, by file or by name, is a cycle", () => {
    for (const text of [
      'experiment a extends "self.rnn" { }',
      "experiment a extends a { }",
      'experiment a extends "./self.rnn" a { }',
      "experiment a extends b { }\nexperiment b extends a { }",
    ]) {
      const r = checkCompile({ "self.rnn": text }, "self.rnn");
      expect(
        r.diagnostics.map((d) => d.code),
        text,
      ).toContain("E0200");
    }
  });
});
