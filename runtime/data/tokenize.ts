// Turning a text file into token ids the way the reference code does, fast enough for 10 MB files.
//
// The reference is pytorch/examples word_language_model (`data.py`): `for line in open(path, encoding="utf8")`,
// `line.split() + ['<eos>']`, a dictionary grown in order of first appearance. So, exactly as Python does it:
// - lines end at "\n", "\r\n" or a lone "\r" (text mode's universal newlines), and a last line without a newline
//   still counts, while the empty string after a final newline does not;
// - tokens are separated by what Python's `str.split()` treats as whitespace, which is more than the line ends
//   (also \v, \f, \x1c-\x1f, U+0085, U+00A0, U+2028…); a line holding only whitespace still yields its `<eos>`;
// - the file is strict UTF-8 and a BOM is kept as a character (Python's "utf8" codec, unlike "utf-8-sig").
// The Zaremba TF reader (`reader.py`: `f.read().replace("\n", "<eos>").split()`) gives the same token stream on PTB;
// it numbers the vocabulary by frequency instead, which changes no result.
//
// Speed: the scan works on char codes and never splits the text into lines; a token of one UTF-16 unit (every
// symbol of the char-level sets, and words like "," or "N") is found through a table indexed by its code instead of
// allocating a string and hashing it.
import { DataError } from "./data-error.js";

export interface Vocabulary {
  readonly tokens: readonly string[];
  readonly ids: ReadonlyMap<string, number>;
}

export class VocabularyBuilder implements Vocabulary {
  readonly tokens: string[] = [];
  readonly ids = new Map<string, number>();
  /** The id of each one-unit token by its char code, -1 if not in the vocabulary. */
  private readonly single = new Int32Array(0x10000).fill(-1);

  add(token: string): number {
    const known = this.ids.get(token);
    if (known !== undefined) return known;
    const id = this.tokens.length;
    this.tokens.push(token);
    this.ids.set(token, id);
    if (token.length === 1) this.single[token.charCodeAt(0)] = id;
    return id;
  }

  /** The id of the one-unit token with this char code, or -1. */
  singleId(code: number): number {
    return this.single[code] ?? -1;
  }
}

export interface TokenizeOptions {
  /** The file, for error messages. */
  readonly file: string;
  /** "word": whitespace-separated tokens (also Mikolov's space-separated char files); "char": every code point. */
  readonly unit: "word" | "char";
  /** The token appended at the end of every line. */
  readonly eol: string;
  /**
   * Whether a last line without a newline and without tokens still gets its end-of-line token. pytorch's loop gives
   * it one; Mikolov's ptb.char files end in "\n " and their published symbol counts give that space no end of line.
   */
  readonly blankLastLineEnds: boolean;
  /** Train: unseen tokens join the vocabulary. Valid/test: they map to `<unk>` if the vocabulary has it, else fail. */
  readonly grow: boolean;
}

export function tokenize(text: string, vocab: VocabularyBuilder, opts: TokenizeOptions): Int32Array {
  const n = text.length;
  let out = new Int32Array(Math.max(1024, opts.unit === "char" ? n + 1 : (n >>> 2) + 1));
  let len = 0;
  let line = 1;
  let tokensInLine = 0;
  const push = (id: number): void => {
    if (len === out.length) {
      const bigger = new Int32Array(out.length * 2);
      bigger.set(out);
      out = bigger;
    }
    out[len++] = id;
  };
  const lookup = (token: string): number => {
    if (opts.grow) return vocab.add(token);
    const id = vocab.ids.get(token) ?? vocab.ids.get("<unk>");
    if (id === undefined) {
      throw new DataError(
        `${opts.file}:${line}: ${JSON.stringify(token)} is not in the vocabulary of the training split, ` +
          `and that vocabulary has no <unk> to map it to.`,
      );
    }
    return id;
  };
  const lookupSingle = (code: number): number => {
    const id = vocab.singleId(code);
    return id >= 0 ? id : lookup(String.fromCharCode(code));
  };
  let eolId = -1;
  const endLine = (): void => {
    if (eolId < 0) eolId = lookup(opts.eol);
    push(eolId);
    tokensInLine = 0;
  };

  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 10 || c === 13) {
      endLine();
      line++;
      i += c === 13 && text.charCodeAt(i + 1) === 10 ? 2 : 1;
      continue;
    }
    if (opts.unit === "char") {
      const pair = c >= 0xd800 && c <= 0xdbff && i + 1 < n && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00;
      push(pair ? lookup(text.slice(i, i + 2)) : lookupSingle(c));
      i += pair ? 2 : 1;
      tokensInLine++;
      continue;
    }
    if (isPythonSpace(c)) {
      i++;
      continue;
    }
    let j = i + 1;
    while (j < n) {
      const d = text.charCodeAt(j);
      if (d === 10 || d === 13 || isPythonSpace(d)) break;
      j++;
    }
    push(j === i + 1 ? lookupSingle(c) : lookup(text.slice(i, j)));
    tokensInLine++;
    i = j;
  }
  const last = n > 0 ? text.charCodeAt(n - 1) : 10;
  const unterminated = last !== 10 && last !== 13;
  if (unterminated && (tokensInLine > 0 || opts.blankLastLineEnds)) endLine();
  return out.slice(0, len);
}

/** Python's str.isspace() for one UTF-16 unit: the separators of `str.split()` (no whitespace lies outside the BMP). */
function isPythonSpace(c: number): boolean {
  if (c <= 32) return c === 32 || (c >= 9 && c <= 13) || (c >= 28 && c <= 31);
  if (c < 0x85) return false;
  return (
    c === 0x85 ||
    c === 0xa0 ||
    c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 ||
    c === 0x2029 ||
    c === 0x202f ||
    c === 0x205f ||
    c === 0x3000
  );
}

const UTF8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** Strict UTF-8 decoding, as Python's open(…, encoding="utf8") reads: bad bytes are an error, not U+FFFD. */
export function decodeUtf8(bytes: Uint8Array, file: string): string {
  try {
    return UTF8.decode(bytes);
  } catch (err) {
    throw new DataError(`${file} is not valid UTF-8 text.`, { cause: err });
  }
}
