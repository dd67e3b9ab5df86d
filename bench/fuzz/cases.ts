// The fuzz cases of `npm run fuzz` (issue 14): command lines of rnnc, each with the files it needs, generated from a
// seed. Case `id` under seed `S` is always the same case (its own PRNG is seeded by both), so one failing case
// reproduces alone. Four families:
//   - spec: a spec of the corpus (examples/**, test/compiler/**) mutated 1–4 times (tokens and characters deleted,
//     inserted, duplicated, swapped; numbers made huge, negative, NaN-like or garbage; two specs spliced; `extends`
//     pointed at missing files, directories, devices, symlinks, very long paths) and given to a random command;
//   - bytes: random bytes (invalid UTF-8, NUL, BOM, U+2028/U+2029, CR), or a spec with such bytes injected;
//   - argv: random flags and paths (unknown flags, missing values, `-o` to odd places, FILE#NAME selectors,
//     directories, missing files, symlinks, fake run directories for `diff`);
//   - set: `rnnc build SPEC --set …` with odd overrides (the same validation as `rnnc run --set`, without training).
// Every path a case names stays inside the fuzz workspace (a temporary folder), except /dev/null and a few
// directories that are only ever read as `extends` targets.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { compile } from "../../compiler/compile.js";
import { memoryHost } from "../../compiler/host.js";

/** A file of a case: text, or raw bytes (base64) for invalid UTF-8. Paths are relative to the workspace. */
export interface CaseFile {
  readonly path: string;
  readonly text?: string;
  readonly base64?: string;
}

export interface FuzzCase {
  readonly seed: number;
  readonly id: number;
  readonly family: "spec" | "bytes" | "argv" | "set";
  /** What the case exercises, for the counts: check, fmt, diff, build, ir, set (build --set), or usage. */
  readonly command: string;
  /** What was done to the input, for a person reading a failure. */
  readonly how: string[];
  readonly files: CaseFile[];
  readonly dirs: string[];
  readonly symlinks: { readonly path: string; readonly target: string }[];
  /**
   * Named pipes (hand-made cases only: reading one blocks until the time limit, so the generator does not make
   * them, or 10 000 cases would spend most of their time waiting).
   */
  readonly fifos?: string[];
  /** The arguments after `rnnc`. */
  readonly argv: string[];
  /** For `fmt FILE` on one spec: also check that the result is a fixed point and means the same (see oracle.ts). */
  readonly roundtrip?: string;
}

export interface Corpus {
  /** Workspace-relative path → text, every spec of the corpus (they are copied into the workspace unchanged). */
  readonly files: ReadonlyMap<string, string>;
  readonly paths: readonly string[];
  /** Every token of the corpus, for insertions. */
  readonly tokens: readonly string[];
  /** The IR (JSON) of a few corpus experiments, for fake run directories. */
  readonly irs: readonly string[];
}

/** Where case files go; removed after every case. */
export const SCRATCH = "scratch";

function specsUnder(root: string, dir: string): string[] {
  return readdirSync(join(root, dir))
    .sort()
    .flatMap((name) => {
      const p = join(dir, name);
      return statSync(join(root, p)).isDirectory() ? specsUnder(root, p) : name.endsWith(".rnn") ? [p] : [];
    });
}

export function loadCorpus(root: string): Corpus {
  const files = new Map<string, string>();
  for (const dir of ["examples", "test/compiler"])
    for (const p of specsUnder(root, dir))
      files.set(relative(root, join(root, p)).split("\\").join("/"), readFileSync(join(root, p), "utf8"));
  const tokens = new Set<string>();
  for (const text of files.values()) for (const t of tokenize(text)) if (!/^\s+$/.test(t)) tokens.add(t);
  const host = memoryHost(Object.fromEntries(files));
  const irs: string[] = [];
  for (const path of files.keys()) {
    const doc = compile(path, host).document;
    if (doc && irs.length < 12) irs.push(JSON.stringify(doc.experiments[0], null, 2));
  }
  return { files, paths: [...files.keys()], tokens: [...tokens].sort(), irs };
}

/** mulberry32: small, seedable, the same everywhere. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Rng {
  constructor(readonly next: () => number) {}
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}

/** Roughly the lexer's tokens (comments, strings, numbers, names, single characters) and the whitespace between. */
export function tokenize(text: string): string[] {
  return (
    text.match(
      /\/\/[^\n]*|\/\*[\s\S]*?\*\/|"(?:[^"\\\n]|\\.)*"|-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|[A-Za-z_][A-Za-z0-9_]*|\s+|[\s\S]/g,
    ) ?? []
  );
}

const NUMBERS = [
  "1e309",
  "-1e309",
  "1e-400",
  "5e-324",
  "1.7976931348623157e308",
  "99999999999999999999999",
  "9007199254740993",
  "2147483648",
  "4294967296",
  "1000000000",
  "-0",
  "-1",
  "-1e-9",
  "-99999",
  "0",
  "0.0",
  "00",
  "007",
  ".5",
  "0.9999999999999999",
  "1e6",
  "64",
  "65",
  "784",
  "1.5",
  "2.5e3",
  ".",
  "-",
  "1e",
  "1e+",
  "0x1F",
  "1_000",
  "1,5",
  "1.2.3",
  "NaN",
  "Infinity",
  "-Infinity",
  "nan",
  "inf",
  "٣",
  "1a",
  "9".repeat(400),
];
const NAMES = [
  "__proto__",
  "constructor",
  "prototype",
  "toString",
  "hasOwnProperty",
  "valueOf",
  "none",
  "true",
  "false",
  "NaN",
  "Infinity",
  "undefined",
  "null",
  "experiment",
  "extends",
  "sweep",
  "lstm",
  "gru",
  "rnn",
  "batch",
  "layer",
  "per_step",
  "x",
  "ü",
  "x".repeat(5000),
];
const STRINGS = [
  '""',
  '"\\\\"',
  '"/"',
  '"."',
  '"/dev/null"',
  '"a\\nb"',
  '"\\t"',
  `"${"s".repeat(3000)}"`,
  '"${process.exit(1)}"',
  '"`); process.exit(3); (`"',
  '"*/ x /*"',
  '"\\u0000"',
  '"\\"',
  '"x\\nError: boom"',
  '"\\n    at f (x.js:1:1)"',
];
const CHARS = [
  "{",
  "}",
  "(",
  ")",
  "[",
  "]",
  ",",
  "=",
  '"',
  "#",
  "/",
  "*",
  "\\",
  "-",
  ".",
  "\n",
  "\r",
  "\t",
  "\u2028",
  "\u2029",
  "\u0000",
  "\ufeff",
  "\u00a0",
  "\u202e",
  "\u0301",
  "😀",
  "\ud800",
  "é",
];

/** Targets for `extends`: missing, directories, devices, symlinks (made by the case), very long, odd. */
function extendsTargets(r: Rng, corpus: Corpus, self: string): string[] {
  return [
    "nope.rnn",
    "nope/parent.rnn",
    ".",
    "..",
    "/",
    "/tmp",
    "/dev/null",
    "/proc/version",
    "",
    " ",
    "#",
    "\\",
    "a\u0000b.rnn",
    "x".repeat(300) + ".rnn",
    "a/".repeat(2500) + "x.rnn",
    `${SCRATCH}/dangling.rnn`,
    `${SCRATCH}/loop.rnn`,
    `${SCRATCH}/dir-link`,
    `${SCRATCH}/link.rnn`,
    self.split("/").pop()!,
    `/${"..".repeat(1)}/etc/hostname`,
    "examples",
    "examples/",
    "../".repeat(20) + "nope.rnn",
    r.pick(corpus.paths),
    r.pick(corpus.paths).split("/").pop()!,
  ];
}

/** The symlinks and directories that odd paths point at; made by every case that may name them. */
function oddPlaces(c: { dirs: string[]; symlinks: { path: string; target: string }[] }, corpusFile: string): void {
  c.dirs.push(SCRATCH, `${SCRATCH}/empty-dir`, `${SCRATCH}/dir.rnn`);
  c.symlinks.push(
    { path: `${SCRATCH}/dangling.rnn`, target: "nowhere.rnn" },
    { path: `${SCRATCH}/loop.rnn`, target: "loop.rnn" },
    { path: `${SCRATCH}/dir-link`, target: "empty-dir" },
    { path: `${SCRATCH}/link.rnn`, target: `../${corpusFile}` },
  );
}

type Mutation = (r: Rng, text: string, corpus: Corpus, self: string) => [string, string];

/** Token index → a non-whitespace token's index, or -1. */
function someToken(r: Rng, toks: string[]): number {
  const idx = toks.map((t, i) => (/^\s+$/.test(t) ? -1 : i)).filter((i) => i >= 0);
  return idx.length ? r.pick(idx) : -1;
}

const MUTATIONS: ReadonlyArray<readonly [string, Mutation]> = [
  [
    "delete a token",
    (r, text) => {
      const toks = tokenize(text);
      const i = someToken(r, toks);
      if (i >= 0) toks.splice(i, 1);
      return [toks.join(""), `token ${i}`];
    },
  ],
  [
    "insert a token",
    (r, text, corpus) => {
      const toks = tokenize(text);
      const i = r.int(toks.length + 1);
      const t = r.pick([...corpus.tokens, ...NAMES, ...NUMBERS, ...STRINGS, ...CHARS]);
      toks.splice(i, 0, ` ${t} `);
      return [toks.join(""), `${JSON.stringify(t.slice(0, 40))} at token ${i}`];
    },
  ],
  [
    "duplicate a token",
    (r, text) => {
      const toks = tokenize(text);
      const i = someToken(r, toks);
      if (i >= 0) toks.splice(i, 0, toks[i]!, " ");
      return [toks.join(""), `token ${i}`];
    },
  ],
  [
    "swap two tokens",
    (r, text) => {
      const toks = tokenize(text);
      const i = someToken(r, toks);
      const j = someToken(r, toks);
      if (i >= 0 && j >= 0) [toks[i], toks[j]] = [toks[j]!, toks[i]!];
      return [toks.join(""), `tokens ${i} and ${j}`];
    },
  ],
  [
    "delete a character",
    (r, text) => {
      const i = r.int(text.length);
      return [text.slice(0, i) + text.slice(i + 1), `at ${i}`];
    },
  ],
  [
    "insert a character",
    (r, text) => {
      const i = r.int(text.length + 1);
      const ch = r.chance(0.7) ? r.pick(CHARS) : String.fromCharCode(r.int(0x3000));
      return [text.slice(0, i) + ch + text.slice(i), `${JSON.stringify(ch)} at ${i}`];
    },
  ],
  [
    "duplicate a character",
    (r, text) => {
      const i = r.int(text.length);
      return [text.slice(0, i + 1) + text.slice(i), `at ${i}`];
    },
  ],
  [
    "swap two characters",
    (r, text) => {
      const i = r.int(text.length);
      const j = r.int(text.length);
      const a = [...text];
      if (a[i] !== undefined && a[j] !== undefined) [a[i], a[j]] = [a[j]!, a[i]!];
      return [a.join(""), `at ${i} and ${j}`];
    },
  ],
  [
    "change a number",
    (r, text) => {
      const toks = tokenize(text);
      const nums = toks.map((t, i) => (/^-?(\d|\.\d)/.test(t) ? i : -1)).filter((i) => i >= 0);
      if (!nums.length) return [text, "no number"];
      const i = r.pick(nums);
      const to = r.pick(NUMBERS);
      const from = toks[i]!;
      toks[i] = to;
      return [toks.join(""), `${from} → ${to.slice(0, 40)}`];
    },
  ],
  [
    "change a name or string",
    (r, text) => {
      const toks = tokenize(text);
      const idx = toks.map((t, i) => (/^[A-Za-z_"]/.test(t) ? i : -1)).filter((i) => i >= 0);
      if (!idx.length) return [text, "no name"];
      const i = r.pick(idx);
      const to = r.pick([...NAMES, ...STRINGS]);
      const from = toks[i]!;
      toks[i] = to;
      return [toks.join(""), `${from.slice(0, 40)} → ${to.slice(0, 40)}`];
    },
  ],
  [
    "splice two specs",
    (r, text, corpus) => {
      const other = corpus.files.get(r.pick(corpus.paths))!;
      const a = tokenize(text);
      const b = tokenize(other);
      const i = r.int(a.length + 1);
      const j = r.int(b.length + 1);
      return [a.slice(0, i).join("") + b.slice(j).join(""), `first ${i} tokens + another spec from token ${j}`];
    },
  ],
  ["append another spec", (r, text, corpus) => [text + "\n" + corpus.files.get(r.pick(corpus.paths))!, ""]],
  [
    "point extends elsewhere",
    (r, text, corpus, self) => {
      const target = r.pick(extendsTargets(r, corpus, self));
      const name = r.chance(0.3) ? ` ${r.pick(["nope", "quickstart", "base", "e", "__proto__"])}` : "";
      const clause = r.chance(0.2)
        ? ` extends ${r.pick(["nope", "__proto__", "constructor", "self"])}`
        : ` extends ${JSON.stringify(target)}${name}`;
      const m =
        /experiment\s+([A-Za-z_][A-Za-z0-9_]*)(\s+extends\s+(?:"(?:[^"\\\n]|\\.)*"(?:\s+[A-Za-z_][A-Za-z0-9_]*)?|[A-Za-z_][A-Za-z0-9_]*))?/g;
      const heads = [...text.matchAll(m)];
      if (!heads.length) return [`experiment fuzzed${clause} { }\n` + text, clause];
      const h = r.pick(heads);
      return [
        text.slice(0, h.index!) + `experiment ${h[1]}${clause}` + text.slice(h.index! + h[0].length),
        clause.slice(0, 80),
      ];
    },
  ],
  [
    "delete a line",
    (r, text) => {
      const lines = text.split("\n");
      const i = r.int(lines.length);
      lines.splice(i, 1);
      return [lines.join("\n"), `line ${i + 1}`];
    },
  ],
  [
    "duplicate a line",
    (r, text) => {
      const lines = text.split("\n");
      const i = r.int(lines.length);
      lines.splice(i, 0, lines[i]!);
      return [lines.join("\n"), `line ${i + 1}`];
    },
  ],
  [
    "blow up a value",
    (r, text) => {
      const toks = tokenize(text);
      const i = someToken(r, toks);
      const big = r.pick([
        `sweep(${Array.from({ length: 70 }, (_, k) => k).join(", ")})`,
        `sweep(1, 2, 3, 4, 5, 6, 7, 8) sweep(1, 2, 3, 4, 5, 6, 7, 8, 9)`,
        `[${Array.from({ length: 2000 }, () => "lstm(8)").join(", ")}]`,
        "[".repeat(80) + "]".repeat(80),
        "(".repeat(80) + ")".repeat(80),
        "{".repeat(70) + "}".repeat(70),
        `lstm(${"9".repeat(30)})`,
        "1000000 lstm(1000000)",
        "a ".repeat(20000),
      ]);
      toks.splice(Math.max(0, i), 0, ` ${big} `);
      return [toks.join(""), `${big.slice(0, 40)}… at token ${i}`];
    },
  ],
  [
    "line endings",
    (r, text) => {
      const to = r.pick(["\r\n", "\r", "\u2028", "\u2029", "\u0085", "\n\n\n"]);
      return [text.replace(/\n/g, to), JSON.stringify(to)];
    },
  ],
];

function mutateSpec(r: Rng, corpus: Corpus, path: string, self: string): { text: string; how: string[] } {
  let text = corpus.files.get(path)!;
  const how = [`from ${path}`];
  const n = 1 + r.int(4);
  for (let k = 0; k < n; k++) {
    const [name, m] = r.pick(MUTATIONS);
    const [t, detail] = m(r, text, corpus, self);
    text = t;
    how.push(detail ? `${name}: ${detail}` : name);
  }
  return { text, how };
}

/** Random bytes, or a valid spec with bad bytes injected. */
function hostileBytes(r: Rng, corpus: Corpus): { bytes: Buffer; how: string } {
  const kind = r.int(6);
  const n = r.int(r.chance(0.1) ? 20000 : 1500);
  if (kind === 0) return { bytes: Buffer.from(Array.from({ length: n }, () => r.int(256))), how: `${n} random bytes` };
  if (kind === 1)
    return {
      bytes: Buffer.from(
        Array.from({ length: n }, () => r.pick([9, 10, 13, 32, ...Array.from({ length: 95 }, (_, i) => 32 + i)])),
      ),
      how: `${n} random ASCII bytes`,
    };
  if (kind === 2) {
    const toks = corpus.tokens;
    const text = Array.from(
      { length: 1 + r.int(200) },
      () => r.pick([...toks, ...CHARS]) + r.pick([" ", "\n", "", "  "]),
    ).join("");
    return { bytes: Buffer.from(text), how: "random corpus tokens" };
  }
  const spec = Buffer.from(corpus.files.get(r.pick(corpus.paths))!);
  const bad = r.pick([
    [0xef, 0xbb, 0xbf],
    [0xef, 0xbb, 0xbf, 0xef, 0xbb, 0xbf],
    [0xff],
    [0xfe, 0xff],
    [0x80],
    [0xc3],
    [0xc0, 0xaf],
    [0xe0, 0x80, 0xaf],
    [0xed, 0xa0, 0x80],
    [0xf4, 0x90, 0x80, 0x80],
    [0xf8, 0x88, 0x80, 0x80, 0x80],
    [0x00],
    [0x0d],
    [0xe2, 0x80, 0xa8],
    [0xe2, 0x80, 0xa9],
    [0xc2, 0x85],
    [0x1b, 0x5b, 0x32, 0x4a],
  ]);
  const at = kind === 3 ? 0 : kind === 4 ? spec.length : r.int(spec.length + 1);
  return {
    bytes: Buffer.concat([spec.subarray(0, at), Buffer.from(bad), spec.subarray(at)]),
    how: `bytes ${Buffer.from(bad).toString("hex")} at ${at}`,
  };
}

/** The names `experiment NAME` of a text, for FILE#NAME selectors. */
const experimentNames = (text: string): string[] =>
  [...text.matchAll(/experiment\s+([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1]!);

/** A spec argument, maybe with a selector. */
function specArg(r: Rng, path: string, text: string): string {
  if (!r.chance(0.3)) return path;
  const names = experimentNames(text);
  return r.pick([
    `${path}#${names.length ? r.pick(names) : "x"}`,
    `${path}#nope`,
    `${path}#`,
    `${path}##`,
    `${path}#a#b`,
    `${path}#${names[0] ?? "x"}[ar=1]`,
    `#${names[0] ?? "x"}`,
    `${path}#__proto__`,
  ]);
}

const OUT = [
  `${SCRATCH}/out`,
  `${SCRATCH}/out/deep/er`,
  `${SCRATCH}/file.txt`,
  `${SCRATCH}/file.txt/sub`,
  `${SCRATCH}/dir-link`,
  `${SCRATCH}/dangling.rnn`,
  `${SCRATCH}/out/`,
  `${SCRATCH}/${"o".repeat(300)}`,
  `${SCRATCH}/new\nline`,
  `${SCRATCH}/-`,
  `${SCRATCH}/--json`,
  `${SCRATCH}/empty-dir`,
];

/** A command line for one spec file (given as `arg`), picking among the commands. */
function commandFor(r: Rng, arg: string, other: string): { command: string; argv: string[] } {
  const command = r.pick(["check", "check", "fmt", "fmt --check", "ir", "diff", "diff --json", "build", "build -o"]);
  switch (command) {
    case "fmt --check":
      return { command: "fmt", argv: ["fmt", "--check", arg] };
    case "diff":
    case "diff --json": {
      const sides = r.chance(0.5) ? [arg, other] : [other, arg];
      return { command: "diff", argv: ["diff", ...sides, ...(command === "diff --json" ? ["--json"] : [])] };
    }
    case "build -o":
      return { command: "build", argv: ["build", arg, "-o", r.pick(OUT)] };
    default:
      return { command, argv: [command, arg] };
  }
}

// ── --set ──────────────────────────────────────────────────────────────────────────────────────────────────────
const SET_KEYS: Readonly<Record<string, readonly string[]>> = {
  data: [
    "batch",
    "bptt",
    "eval_batch",
    "test_batch",
    "stateful",
    "random_crop",
    "shuffle",
    "level",
    "vocab",
    "order",
    "tokens",
    "seed",
    "permutation_seed",
  ],
  task: ["kind"],
  model: [
    "layers",
    "embed",
    "init",
    "recurrent_init",
    "embed_init",
    "forget_bias",
    "tie",
    "initial_state_noise",
    "norm",
  ],
  dropout: ["input", "between", "output", "embedding", "recurrent", "weight", "zoneout"],
  regularize: ["ar", "tar", "weight_decay"],
  train: ["epochs", "optimizer", "schedule", "clip", "seed", "loss", "bptt"],
};
const SET_VALUES = [
  "5",
  "0.5",
  "1",
  "0",
  "lstm(8)",
  "2 lstm(8)",
  "[lstm(8), gru(8)]",
  "adam(lr = 0.01)",
  "sgd(lr=1)",
  "true",
  "false",
  "none",
  "lm",
  "classify",
  "sweep(1, 2)",
  "uniform(0.1)",
  "layer",
  "batch { on [input] }",
  "0.5 variational",
  "decay(by = 2, after = 1)",
  "word",
  "char",
  "",
  " ",
  "5 } experiment evil {",
  "1 } model { layers 1 lstm(8)",
  '"',
  "/*",
  "//",
  "{",
  "}",
  "(",
  "\n",
  "5\ntrain.clip=1",
  "\u2028",
  "\u0000",
  "x".repeat(5000),
  "__proto__",
  "constructor",
  "${x}",
  "`",
  "'",
  "\\",
];

function setArg(r: Rng): string {
  if (r.chance(0.15))
    return r.pick([
      "train.epochs",
      "=5",
      "train.epochs==5",
      "TRAIN.EPOCHS=5",
      " train.epochs=5 ",
      "train..epochs=5",
      ".=",
      "=",
      "",
      "train.epochs =5",
      "train.=5",
      "__proto__.x=1",
      "constructor.name=1",
      "data.=",
      "task=lm",
      "train.epochs=5=6",
    ]);
  const block = r.chance(0.9)
    ? r.pick(Object.keys(SET_KEYS))
    : r.pick(["foo", "Data", "__proto__", "constructor", "experiment"]);
  const key = r.chance(0.85)
    ? r.pick(SET_KEYS[block] ?? ["x"])
    : r.pick(["x", "__proto__", "constructor", "toString", "kind", "hasOwnProperty"]);
  const value = r.chance(0.5) ? r.pick(SET_VALUES) : r.pick(NUMBERS);
  return `${block}.${key}=${value}`;
}

// ── random flags and paths ─────────────────────────────────────────────────────────────────────────────────────
const FLAGS = [
  "--bogus",
  "-x",
  "--",
  "-",
  "--json",
  "--check",
  "--check=yes",
  "--csv",
  "--status",
  "--sweep",
  "--experiment",
  "--temperature",
  "--tokens",
  "--prime",
  "--json=1",
  "--help",
  "-h",
  "--version",
  "-V",
  "--max-memory",
  "--set",
  "-o",
  "--out",
  "--resume",
  "--epochs",
  "-o=",
  "--no-color",
  "-oo",
]; // -oo: -o with the value "o"
const MEMORY = [
  "",
  "lots",
  "-1",
  "0",
  "1e999",
  "99999999999TiB",
  "NaN",
  "1.5GiB",
  "8gb",
  "1 kb",
  "12GiB",
  "0.0000001",
  "9".repeat(400),
  "1k",
  "1kib",
  "0b",
];

function oddPath(r: Rng, corpus: Corpus): string {
  return r.pick([
    r.pick(corpus.paths),
    r.pick(corpus.paths),
    "examples",
    "examples/methods",
    "test/compiler",
    ".",
    "..",
    SCRATCH,
    `${SCRATCH}/empty-dir`,
    `${SCRATCH}/dir.rnn`,
    "nope.rnn",
    "nope/",
    `${SCRATCH}/dangling.rnn`,
    `${SCRATCH}/loop.rnn`,
    `${SCRATCH}/dir-link`,
    `${SCRATCH}/link.rnn`,
    `${SCRATCH}/file.txt`,
    `${SCRATCH}/broken-links`,
    `${SCRATCH}/run`,
    `${SCRATCH}/run/`,
    "/dev/null",
    "",
    " ",
    "-",
    "a\nb.rnn",
    "x".repeat(300) + ".rnn",
    "a/".repeat(2500) + "x.rnn",
    "ü.rnn",
    "#",
    "nope.rnn#x",
    `${r.pick(corpus.paths)}#nope`,
    `${r.pick(corpus.paths)}#`,
    "README.md",
  ]);
}

/** A fake run directory for `diff`: an ir.json that is broken, truncated or of the wrong shape, and odd metrics. */
function fakeRun(r: Rng, corpus: Corpus, dir: string): { files: CaseFile[]; how: string } {
  const ir = r.pick(corpus.irs);
  const kind = r.int(6);
  let text: string;
  let how: string;
  if (kind === 0) [text, how] = [ir.slice(0, r.int(ir.length)), "ir.json truncated"];
  else if (kind === 1)
    [text, how] = [
      r.pick([
        "null",
        "[]",
        "{}",
        "1",
        '""',
        '{"name": "x"}',
        '{"name": "x", "origins": {}, "model": {}, "train": {}}',
        "\ufeff{}",
      ]),
      "ir.json of the wrong shape",
    ];
  else if (kind === 2) {
    const o = JSON.parse(ir) as Record<string, unknown>;
    const path = mangle(r, o);
    [text, how] = [JSON.stringify(o), `ir.json with ${path}`];
  } else [text, how] = [ir, "a valid ir.json"];
  const metrics = Array.from({ length: r.int(5) }, () =>
    r.pick([
      '{"event":"epoch","epoch":1,"validLoss":4.5,"best":true}',
      '{"event":"epoch","epoch":-1,"validLoss":1e308}',
      '{"event":"final","valid":1,"test":2}',
      '{"event":"final"}',
      '{"event":"epoch","epoch":"1","validLoss":"x"}',
      "{",
      "null",
      "[]",
      '{"event":"epoch","epoch":1e309,"validLoss":-1e309,"tokPerSec":null}',
      '{"event":"epoch","epoch":2,"validAccuracy":2,"best":true}',
      '{"__proto__":{"event":"epoch"}}',
    ]),
  ).join("\n");
  // What `rnnc runs` reads besides: run.json (it marks a run directory), status.json and env.json, odd or broken.
  const odd = () =>
    r.pick([
      "{",
      "null",
      "[]",
      '{"epochs":"many"}',
      '{"epochs":1e309}',
      '{"state":"running","pid":1,"host":"elsewhere"}',
      `{"state":"running","pid":${2 ** 31},"host":"${"h".repeat(3)}"}`,
      '{"state":"failed","message":"\\u001b[31mred\\u0007"}',
      '{"state":"sleeping"}',
      '{"state":"finished"}',
      '{"started":"\\u202e2026"}',
      '{"started":17}',
    ]);
  return {
    files: [
      { path: `${dir}/ir.json`, text },
      ...(r.chance(0.7) ? [{ path: `${dir}/metrics.jsonl`, text: metrics }] : []),
      ...(r.chance(0.8) ? [{ path: `${dir}/run.json`, text: odd() }] : []),
      ...(r.chance(0.5) ? [{ path: `${dir}/status.json`, text: odd() }] : []),
      ...(r.chance(0.5) ? [{ path: `${dir}/env.json`, text: odd() }] : []),
    ],
    how,
  };
}

/** Deletes or replaces one nested field of an object; returns its path. */
function mangle(r: Rng, o: Record<string, unknown>): string {
  let cur: Record<string, unknown> = o;
  const path: string[] = [];
  for (;;) {
    const keys = Object.keys(cur);
    if (!keys.length) break;
    const k = r.pick(keys);
    path.push(k);
    const v = cur[k];
    if (v && typeof v === "object" && r.chance(0.6)) {
      cur = v as Record<string, unknown>;
      continue;
    }
    const to = r.pick([undefined, null, 0, -1, 1e308, "x", [], {}, true]);
    if (to === undefined) delete cur[k];
    else cur[k] = to;
    return `${path.join(".")} ${to === undefined ? "deleted" : `= ${JSON.stringify(to)}`}`;
  }
  return "nothing changed";
}

// ── cases ──────────────────────────────────────────────────────────────────────────────────────────────────────
export function caseSeed(seed: number, id: number): number {
  return (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(id + 1, 0xc2b2ae35)) >>> 0;
}

export function generateCase(corpus: Corpus, seed: number, id: number): FuzzCase {
  const r = new Rng(prng(caseSeed(seed, id)));
  const base = r.pick(corpus.paths);
  const c = {
    seed,
    id,
    how: [] as string[],
    files: [] as CaseFile[],
    dirs: [] as string[],
    symlinks: [] as { path: string; target: string }[],
  };
  oddPlaces(c, base);
  c.files.push({ path: `${SCRATCH}/file.txt`, text: "not a spec\n" });
  c.dirs.push(`${SCRATCH}/broken-links`);
  c.symlinks.push({ path: `${SCRATCH}/broken-links/gone.rnn`, target: "missing-target.rnn" });
  const roll = r.next();
  if (roll < 0.5) {
    // Beside the spec it comes from, so that its relative `extends` still resolve.
    const path = base.replace(/[^/]*$/, "fuzz-case.rnn");
    const { text, how } = mutateSpec(r, corpus, base, path);
    c.files.push({ path, text });
    c.how.push(...how);
    const other = r.chance(0.5) ? r.pick(corpus.paths) : specArg(r, base, corpus.files.get(base)!);
    const { command, argv } = commandFor(r, specArg(r, path, text), other);
    const roundtrip = argv.length === 2 && argv[0] === "fmt" ? path : undefined;
    return { ...c, family: "spec", command, argv, ...(roundtrip ? { roundtrip } : {}) };
  }
  if (roll < 0.65) {
    const path = r.chance(0.5) ? `${SCRATCH}/random.rnn` : base.replace(/[^/]*$/, "fuzz-bytes.rnn");
    const { bytes, how } = hostileBytes(r, corpus);
    c.files.push({ path, base64: bytes.toString("base64") });
    c.how.push(how);
    const { command, argv } = commandFor(r, path, r.pick(corpus.paths));
    return { ...c, family: "bytes", command, argv };
  }
  if (roll < 0.85) {
    const run = fakeRun(r, corpus, `${SCRATCH}/run`);
    c.files.push(...run.files);
    c.how.push(run.how);
    const cmd = r.pick([
      "check",
      "fmt",
      "ir",
      "diff",
      "diff",
      "build",
      "bogus",
      "",
      "help",
      "run",
      "runs",
      "runs",
      "plot",
      "plot",
      "sample",
      "export",
      "report",
    ]);
    // `run` only as a usage error (a SPEC and --set given with --resume), so that it stops before training.
    if (cmd === "run")
      return {
        ...c,
        family: "argv",
        command: "usage",
        argv: ["run", oddPath(r, corpus), "--resume", `${SCRATCH}/run`, "--set", "train.epochs=1"],
      };
    // Groups: a flag and its value stay together, so that `-o` never takes a path meant as a positional (`-o ""`
    // would write /model.ts). A value-less `-o` goes last.
    const groups: string[][] = [];
    const positionals = cmd === "diff" ? 2 : cmd === "ir" || cmd === "build" ? 1 : 1 + r.int(3);
    for (let k = 0; k < positionals; k++)
      groups.push([
        r.chance(cmd === "runs" || cmd === "plot" ? 0.7 : 0.3) &&
        (cmd === "diff" || cmd === "runs" || cmd === "plot" || cmd === "sample" || cmd === "export" || cmd === "report")
          ? r.pick([`${SCRATCH}/run`, `${SCRATCH}/run/`, SCRATCH])
          : oddPath(r, corpus),
      ]);
    for (let k = r.chance(0.7) ? 1 + r.int(2) : 0; k > 0; k--) {
      const g = flagWithValue(r, corpus);
      if (g.length === 1 && (g[0] === "-o" || g[0] === "--out")) groups.push(g);
      else groups.splice(r.int(groups.length + 1), 0, g);
    }
    // plot writes its chart where -o says, the format by the extension (odd ones included)
    // first, so that a value-less -o among the random flags (kept last) never takes this one as its value
    if (cmd === "export" && r.chance(0.9)) groups.unshift(["-o", r.pick(OUT)]);
    if (cmd === "report" && r.chance(0.9)) groups.unshift(["-o", `${r.pick(OUT)}${r.pick([".html", "", "/"])}`]);
    if (cmd === "plot" && r.chance(0.9))
      groups.unshift(["-o", `${r.pick(OUT)}${r.pick([".svg", ".png", ".csv", ".jpg", "", "/x.svg"])}`]);
    const argv = [...(cmd ? [cmd] : []), ...groups.flat()];
    const command = ["check", "fmt", "ir", "diff", "build", "runs", "plot", "sample", "export", "report"].includes(cmd)
      ? cmd
      : "usage";
    return { ...c, family: "argv", command, argv };
  }
  const text = corpus.files.get(base)!;
  const sets = Array.from({ length: 1 + r.int(3) }, () => setArg(r));
  const argv = ["build", specArg(r, base, text), ...sets.flatMap((s) => ["--set", s])];
  if (r.chance(0.2)) argv.push("-o", r.pick(OUT));
  c.how.push(`--set on ${base}`);
  return { ...c, family: "set", command: "set", argv };
}

function flagWithValue(r: Rng, corpus: Corpus): string[] {
  const f = r.pick(FLAGS);
  if (f === "--max-memory") return r.chance(0.9) ? [f, r.pick(MEMORY)] : [f];
  if (f === "--set") return r.chance(0.9) ? [f, setArg(r)] : [f];
  if (f === "-o" || f === "--out") return r.chance(0.9) ? [f, r.pick(OUT)] : [f];
  if (f === "--resume" || f === "--epochs") return [f, oddPath(r, corpus)];
  if (f === "--temperature" || f === "--tokens") return [f, r.pick(["0", "-1", "1e999", "NaN", "2", "", "0.5"])];
  if (f === "--prime") return [f, r.pick(["", "\u0000", "the", "\u202e<eos>", "a\nb"])];
  if (f === "--status") return [f, r.pick(["running", "failed", "", "sleeping", "--json"])];
  if (f === "--sweep" || f === "--experiment") return [f, r.pick(["x", "lr_sweep", "", "a[b=1]", "\u202e"])];
  return [f];
}
