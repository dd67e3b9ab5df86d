// The one way text that a user controls (a path, a name, a value, a line of a spec) is shown in a line of terminal
// output: a diagnostic's message, its `--> path:line:col` header and source line, or a CLI message. A path such as
// $'a\nb.rnn' printed raw splits a message from its `-->` line; U+2028/U+2029 end a line in some terminals and
// editors; an escape sequence (ESC, CSI) would drive the terminal itself; and bidirectional or invisible characters
// make a line read differently from what it says (Trojan Source, Boucher & Anderson 2021, CVE-2021-42574).
// Each of these is written as an escape (`\n`, `\t`, `\u2028`, `\u202e`); ordinary Unicode (é, 中, emoji) is kept.
//
// Generated code has its own equivalent, compiler/codegen/emit-text.ts (string literals, comments): a different
// target with different rules. Do not use one for the other.
//
// A backslash is kept as it is, so the function is idempotent (escaping escaped text changes nothing) and a message
// can pass through it at more than one layer. Readable, not reversible: it is for a person to read.

/**
 * C0 controls (tab, line feed, carriage return and ESC included), DEL and the C1 controls (NEL U+0085 among them),
 * the soft hyphen, Arabic letter mark, Mongolian vowel separator, zero-width and direction marks, the line and
 * paragraph separators, bidi embeddings, overrides and isolates, word joiners and invisible operators, the BOM, the
 * interlinear annotation controls, and lone surrogates (with the `u` flag a surrogate range matches only unpaired
 * ones).
 */
const UNSAFE =
  /[\u0000-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb\ud800-\udfff]/gu;

const SHORT: Readonly<Record<string, string>> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };

/** `text` as one terminal line: line terminators, controls, bidi and invisible characters escaped; all else as is. */
export function terminalText(text: string): string {
  return text.replace(UNSAFE, (c) => SHORT[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/**
 * A message of several lines that rnnc composed (a data set's missing files, one a line), with user text inside: each
 * line as terminalText, the message's own line breaks kept. A line break inside the user's text breaks its line, but
 * nothing else it holds can move the cursor, recolour or reorder what follows.
 */
export function terminalLines(text: string): string {
  return text.split("\n").map(terminalText).join("\n");
}
