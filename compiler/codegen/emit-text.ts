// The one way text that a user controls (paths, names, string values) reaches generated code: one function per
// context. Call sites never interpolate IR strings into emitted code themselves; they call
//   - stringLiteral(text) for a JavaScript string literal,
//   - commentText(text)   for text inside a `//` comment, a `/* */` block or a JSDoc comment,
//   - identifier(base, …) for a name the module declares, derived from user text,
//   - packageName(text)   for the `name` of the package.json that `rnnc build -o` writes,
//   - rnnString(text)     for a string of `.rnn` text the compiler writes itself (`--set`'s override spec).
// Each is total: any string in, a safe fragment out, including every JS line terminator, quotes, backticks, `${`,
// `*/`, `</script>`, NUL and lone surrogates. Plain text (ASCII letters, digits, punctuation) comes out as it went in,
// so the code of an ordinary spec does not change.

/** Invisible or direction-changing characters: shown as escapes so that code reads as it parses (Trojan Source, CVE-2021-42574). */
const INVISIBLE = "\\u007f-\\u009f\\u00ad\\u061c\\u180e\\u200b-\\u200f\\u202a-\\u202e\\u2060-\\u2069\\ufeff";

/**
 * Left to JSON.stringify: `"`, `\`, C0 controls and lone surrogates. Added: U+2028/U+2029, which end a string in
 * parsers before ES2019 (JSON superset proposal); `<`, so neither `</script>` nor `<!--` can end or change an HTML
 * script element the code is pasted into; and invisible characters.
 */
const UNSAFE_IN_STRING = new RegExp(`[<\\u2028\\u2029${INVISIBLE}]`, "gu");

/**
 * Inside a comment: every JS line terminator (LF, CR, U+2028, U+2029 end a `//` comment), the other C0 controls
 * but tab, `</` and `<!` (as in strings), invisible characters, and lone surrogates (which UTF-8 cannot encode:
 * written out they would silently become U+FFFD). With the `u` flag, a surrogate class matches only unpaired ones.
 */
const UNSAFE_IN_COMMENT = new RegExp(
  `[\\u0000-\\u0008\\u000a-\\u001f\\u2028\\u2029${INVISIBLE}\\ud800-\\udfff]|<(?=[/!])`,
  "gu",
);

const hex = (c: string): string => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`;
const SHORT: Readonly<Record<string, string>> = { "\n": "\\n", "\r": "\\r" };

/** A double-quoted string literal holding exactly `text`, safe in any JavaScript parser and inside an HTML script. */
export function stringLiteral(text: string): string {
  // Prettier keeps `\uXXXX` escapes as written (it drops only needless ones such as `\/`), so they survive formatting.
  return JSON.stringify(text).replace(UNSAFE_IN_STRING, hex);
}

/**
 * `text` for a comment: it cannot end the comment early, neither a `//` line (line terminators are escaped) nor a
 * block or JSDoc comment (a star followed by a slash gets a backslash between them). Readable, not reversible: a
 * comment is for the reader.
 */
export function commentText(text: string): string {
  return text.replace(/\*\//g, "*\\/").replace(UNSAFE_IN_COMMENT, (c) => SHORT[c] ?? hex(c));
}

/** Words a declared name must not be: JS reserved words (strict and module code), TS type keywords, and globals the code uses. */
export const RESERVED_WORDS: ReadonlySet<string> = new Set([
  // ECMAScript reserved words, future reserved words (strict mode), and names strict code cannot bind
  ...[
    "break",
    "case",
    "catch",
    "class",
    "const",
    "continue",
    "debugger",
    "default",
    "delete",
    "do",
    "else",
    "enum",
    "export",
    "extends",
  ],
  ...[
    "false",
    "finally",
    "for",
    "function",
    "if",
    "import",
    "in",
    "instanceof",
    "new",
    "null",
    "return",
    "super",
    "switch",
    "this",
  ],
  ...[
    "throw",
    "true",
    "try",
    "typeof",
    "var",
    "void",
    "while",
    "with",
    "yield",
    "await",
    "let",
    "static",
    "implements",
    "interface",
  ],
  ...["package", "private", "protected", "public", "arguments", "eval"],
  // TypeScript: a class cannot be named after a predefined type; contextual keywords, for a reader's sake
  ...[
    "any",
    "bigint",
    "boolean",
    "never",
    "number",
    "object",
    "string",
    "symbol",
    "undefined",
    "unknown",
    "abstract",
    "as",
    "asserts",
  ],
  ...[
    "async",
    "accessor",
    "constructor",
    "declare",
    "from",
    "get",
    "global",
    "infer",
    "intrinsic",
    "is",
    "keyof",
    "module",
    "namespace",
  ],
  ...["of", "out", "override", "readonly", "require", "satisfies", "set", "type", "unique"],
  // Globals generated code refers to (a number may print as Infinity or NaN)
  ...["Promise", "Infinity", "NaN", "globalThis"],
]);

/**
 * A JavaScript identifier from `base` (any text): characters outside [A-Za-z0-9_$] become `_`, a leading digit
 * gets a `_` before it, and a name in `reserved` (or a reserved word) gets the first free numeric suffix
 * (`LanguageModel` → `LanguageModel2`). Deterministic: the same base and set give the same name.
 */
export function identifier(base: string, reserved: ReadonlySet<string>): string {
  let name = base.replace(/[^A-Za-z0-9_$]/g, "_");
  if (!/^[A-Za-z_$]/.test(name)) name = `_${name}`;
  const taken = (n: string): boolean => reserved.has(n) || RESERVED_WORDS.has(n);
  if (!taken(name)) return name;
  for (let k = 2; ; k++) if (!taken(`${name}${k}`)) return `${name}${k}`;
}

/**
 * Names a package.json cannot take: npm's blacklist, Node's core modules (validate-npm-package-name refuses them for
 * a new package), and `rnnc`, which the package depends on.
 */
const NPM_REFUSED: ReadonlySet<string> = new Set([
  ...["node_modules", "favicon.ico", "rnnc"],
  ...[
    "assert",
    "async_hooks",
    "buffer",
    "child_process",
    "cluster",
    "console",
    "constants",
    "crypto",
    "dgram",
    "diagnostics_channel",
  ],
  ...[
    "dns",
    "domain",
    "events",
    "fs",
    "http",
    "http2",
    "https",
    "inspector",
    "module",
    "net",
    "os",
    "path",
    "perf_hooks",
    "process",
  ],
  ...[
    "punycode",
    "querystring",
    "readline",
    "repl",
    "stream",
    "string_decoder",
    "sys",
    "timers",
    "tls",
    "trace_events",
    "tty",
    "url",
  ],
  ...["util", "v8", "vm", "wasi", "worker_threads", "zlib"],
]);

/**
 * A valid npm package name for an experiment (lowercase, URL-safe, at most 214 characters, starting with a letter
 * or digit, none of NPM_REFUSED): its name with each run of other characters as `-` (`ar_sweep[ar=2]` →
 * `ar-sweep-ar-2-`), prefixed `rnnc-` where that alone would not be valid (`_x` → `rnnc-x`, `http` → `rnnc-http`).
 */
export function packageName(experiment: string): string {
  const slug = experiment.replace(/[^a-z0-9-]+/gi, "-").toLowerCase();
  const name = /^[a-z0-9]/.test(slug) && !NPM_REFUSED.has(slug) ? slug : `rnnc-${slug.replace(/^-+/, "")}`;
  return name.slice(0, 214);
}

/**
 * A `.rnn` string literal holding exactly `text`, as grammar/parser.ts reads it back: a string holds any character
 * raw but `"`, `\` and LF, and `\c` means `c` except `\n` (LF) and `\t` (tab). JSON.stringify is not this: its `\r`
 * or `\u0001` would come back as `r` or `u0001`.
 */
export function rnnString(text: string): string {
  return `"${text.replace(/[\\"]/g, "\\$&").replace(/\n/g, "\\n")}"`;
}
