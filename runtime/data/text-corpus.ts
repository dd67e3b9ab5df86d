// The language-modelling corpora: a vocabulary and the three splits as token-id streams, ready for batchify.
//
// Conventions, chosen so perplexities are comparable with the papers:
// - word level (ptb, wikitext2, `text "dir"`): pytorch/examples word_language_model, one `<eos>` per line, the
//   vocabulary of the training split in order of first appearance (PTB 10 000 types, WikiText-2 33 278);
// - ptb_char: Mikolov's space-separated symbols with "_" for word boundaries, plus `<eol>` per line (50 symbols);
// - text8: fixed 27 symbols and a 90/5/5 split of the single stream (text8.ts).
// A valid or test token that the training split lacks maps to `<unk>` when the vocabulary has it (it never happens on
// the standard sets, whose OOV count is 0) and is an error otherwise, naming file and line. (pytorch's Corpus would
// add it to the vocabulary instead: an embedding row that training never updates, and a softmax that depends on the
// evaluation files.)
import { readFile, stat } from "node:fs/promises";
import { basename, join, resolve } from "node:path";
import { DataError } from "./data-error.js";
import { ensureDataset, type EnsureOptions } from "./locate.js";
import { readText8, splitText8, text8Ids, TEXT8_SYMBOLS } from "./text8.js";
import { decodeUtf8, tokenize, VocabularyBuilder, type TokenizeOptions, type Vocabulary } from "./tokenize.js";

export type { Vocabulary } from "./tokenize.js";

export type TextDataset = "ptb" | "ptb_char" | "wikitext2" | "text8" | "text";

export interface TokenCorpus {
  readonly name: TextDataset;
  readonly level: "word" | "char";
  readonly vocab: Vocabulary;
  readonly train: Int32Array;
  readonly valid: Int32Array;
  readonly test: Int32Array;
}

export interface TextCorpusOptions {
  /** The data root (dataRoot()); the named sets live in its sub-folders. */
  readonly root: string;
  /** `text` only: the folder holding train.txt, valid.txt and test.txt. */
  readonly path?: string;
  /** `text` only (the spec's `level` key): word (default), or char where every character of a line is a symbol. */
  readonly level?: "word" | "char";
  /** Download settings for the named sets. */
  readonly ensure?: EnsureOptions;
}

/** The word-level end-of-sentence token (pytorch, Zaremba) and the char-level end-of-line symbol. */
export const EOS = "<eos>";
export const EOL = "<eol>";

export async function loadTextCorpus(dataset: TextDataset, opts: TextCorpusOptions): Promise<TokenCorpus> {
  switch (dataset) {
    case "ptb":
    case "wikitext2":
    case "ptb_char":
      return loadCorpusFiles(dataset, await ensureDataset(dataset, opts.root, opts.ensure));
    case "text8":
      return loadText8File((await ensureDataset(dataset, opts.root, opts.ensure)).corpus);
    case "text": {
      if (opts.path === undefined) throw new DataError(`The "text" data set needs a folder: data text "dir".`);
      const folder = resolve(opts.path);
      const paths = {
        train: join(folder, "train.txt"),
        valid: join(folder, "valid.txt"),
        test: join(folder, "test.txt"),
      };
      const missing = await missingFiles(Object.values(paths));
      if (missing.length > 0) {
        throw new DataError(
          `The "text" data set in ${folder} needs train.txt, valid.txt and test.txt; missing: ` +
            `${missing.map((p) => basename(p)).join(", ")}. Put the files there, or point data text "…" at a folder that has them.`,
        );
      }
      return loadCorpusFiles("text", paths, opts.level);
    }
  }
}

export interface SplitPaths {
  readonly train: string;
  readonly valid: string;
  readonly test: string;
}

/**
 * Tokenizes three files with the conventions of a data set, wherever they are: loadTextCorpus after the files are
 * found, and tests on small files in the same format. `level` applies to "text" only.
 */
export async function loadCorpusFiles(
  name: Exclude<TextDataset, "text8">,
  paths: SplitPaths,
  level: "word" | "char" = name === "ptb_char" ? "char" : "word",
): Promise<TokenCorpus> {
  const options = name === "ptb_char" ? mikolovCharOptions : level === "word" ? wordOptions : userCharOptions;
  const [train, valid, test] = await Promise.all([readFile(paths.train), readFile(paths.valid), readFile(paths.test)]);
  const vocab = new VocabularyBuilder();
  const ids = (bytes: Uint8Array, file: string, grow: boolean): Int32Array =>
    tokenize(decodeUtf8(bytes, file), vocab, { ...options, file, grow });
  // Train first: it alone grows the vocabulary, in order of first appearance.
  const trainIds = ids(train, paths.train, true);
  return {
    name,
    level: name === "ptb_char" ? "char" : level,
    vocab: { tokens: vocab.tokens, ids: vocab.ids },
    train: trainIds,
    valid: ids(valid, paths.valid, false),
    test: ids(test, paths.test, false),
  };
}

/** text8 from `text8` or `text8.zip`, with its fixed 27 symbols and 90/5/5 split (text8.ts). */
export async function loadText8File(path: string): Promise<TokenCorpus> {
  const splits = splitText8(text8Ids(await readText8(path), path));
  const tokens = [...TEXT8_SYMBOLS];
  return { name: "text8", level: "char", vocab: { tokens, ids: new Map(tokens.map((t, i) => [t, i])) }, ...splits };
}

type SplitOptions = Omit<TokenizeOptions, "file" | "grow">;

const wordOptions: SplitOptions = { unit: "word", eol: EOS, blankLastLineEnds: true };
// Mikolov's ptb.char files end in "\n ": that last space is not a line, or the counts would exceed the published ones.
const mikolovCharOptions: SplitOptions = { unit: "word", eol: EOL, blankLastLineEnds: false };
// A user's char-level text is plain text: every character is a symbol, spaces included, plus <eol> per line.
const userCharOptions: SplitOptions = { unit: "char", eol: EOL, blankLastLineEnds: true };

async function missingFiles(paths: readonly string[]): Promise<string[]> {
  const present = await Promise.all(
    paths.map((p) =>
      stat(p).then(
        (s) => s.isFile(),
        () => false,
      ),
    ),
  );
  return paths.filter((_, i) => !present[i]);
}
