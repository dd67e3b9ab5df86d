// text8 (Mahoney): the first 10^8 bytes of an English Wikipedia dump, cleaned to lower-case letters and single
// spaces, on one line. Char level with 27 symbols.
//
// Split: the first 90M characters train, the next 5M valid, the last 5M test (Mikolov et al. 2012, "Subword
// language modeling"; Cooijmans et al. 2017 §5.3). A shorter file (a sample, a test fixture) is split in the same
// proportions, 90% / 5% / 5% of its length, which is the same rule: on the real file it gives exactly 90M/5M/5M.
//
// The vocabulary is fixed, not built from the data: the data set defines its 27 symbols, so the ids do not depend on
// which letters a sample happens to contain. A space is shown as "_", as in Mikolov's char-level PTB.
import { readFile } from "node:fs/promises";
import { DataError } from "./data-error.js";
import { readZipEntry } from "./zip.js";

export const TEXT8_SYMBOLS: readonly string[] = ["_", ..."abcdefghijklmnopqrstuvwxyz"];

/** The bytes of text8 from the unzipped file or from text8.zip. */
export async function readText8(path: string): Promise<Uint8Array> {
  const bytes = await readFile(path);
  return path.endsWith(".zip") ? readZipEntry(bytes, path, "text8") : bytes;
}

/** Byte → id through a table: no strings, ~100M characters in well under a second. */
export function text8Ids(bytes: Uint8Array, file: string): Int32Array {
  const table = new Int32Array(256).fill(-1);
  table[32] = 0;
  for (let c = 97; c <= 122; c++) table[c] = c - 96;
  // text8 has no newline; one at the very end (a copy saved by an editor) is dropped rather than rejected.
  const n = bytes.length > 0 && bytes[bytes.length - 1] === 10 ? bytes.length - 1 : bytes.length;
  const ids = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const id = table[bytes[i]!]!;
    if (id < 0) {
      throw new DataError(
        `${file}: byte ${bytes[i]} at offset ${i} is not a lower-case letter or a space; is this text8?`,
      );
    }
    ids[i] = id;
  }
  return ids;
}

export interface Text8Splits {
  readonly train: Int32Array;
  readonly valid: Int32Array;
  readonly test: Int32Array;
}

/** 90% / 5% / 5%, as views of `ids`. */
export function splitText8(ids: Int32Array): Text8Splits {
  const n = ids.length;
  const train = Math.floor((n * 9) / 10);
  const valid = Math.floor(n / 20);
  return {
    train: ids.subarray(0, train),
    valid: ids.subarray(train, train + valid),
    test: ids.subarray(train + valid),
  };
}
