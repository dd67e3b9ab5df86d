import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { crc32, deflateRawSync } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import { DataError } from "../../../runtime/data/data-error.js";
import { loadCorpusFiles, loadText8File, loadTextCorpus, type TokenCorpus } from "../../../runtime/data/text-corpus.js";
import { TEXT8_SYMBOLS } from "../../../runtime/data/text8.js";
import { readZipEntry } from "../../../runtime/data/zip.js";
import { tempDir } from "./helpers.js";

const temps: Array<() => void> = [];
afterAll(() => temps.forEach((remove) => remove()));

/** Writes the files into a fresh folder and returns it. */
function folderWith(files: Record<string, string | Uint8Array>): string {
  const t = tempDir();
  temps.push(t.remove);
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(join(t.dir, name, ".."), { recursive: true });
    writeFileSync(join(t.dir, name), content);
  }
  return t.dir;
}

const splitsOf = (dir: string, train = "train.txt", valid = "valid.txt", test = "test.txt") => ({
  train: join(dir, train),
  valid: join(dir, valid),
  test: join(dir, test),
});

function decode(corpus: TokenCorpus, ids: Int32Array): string[] {
  return Array.from(ids, (id) => corpus.vocab.tokens[id]!);
}

describe("word level (pytorch word_language_model conventions)", () => {
  it("appends <eos> to every line, empty ones too, with the vocabulary in order of first appearance", async () => {
    const dir = folderWith({
      "train.txt": " the cat \n\n  \n sat on the mat \n",
      "valid.txt": "the mat\n",
      "test.txt": "cat sat",
    });
    const c = await loadTextCorpus("text", { root: "/unused", path: dir });
    expect(c.name).toBe("text");
    expect(c.level).toBe("word");
    expect(c.vocab.tokens).toEqual(["the", "cat", "<eos>", "sat", "on", "mat"]);
    expect(Array.from(c.train)).toEqual([0, 1, 2, 2, 2, 3, 4, 0, 5, 2]);
    expect(decode(c, c.valid)).toEqual(["the", "mat", "<eos>"]);
    // A last line without a newline is still a line.
    expect(decode(c, c.test)).toEqual(["cat", "sat", "<eos>"]);
    expect(c.vocab.ids.get("mat")).toBe(5);
  });

  it("ends lines at \\r\\n and a lone \\r, splits on tabs and Unicode spaces, and ends a blank last line", async () => {
    const dir = folderWith({ "train.txt": "a\tb\r\nc\u00a0a\rb \u3000 c\n ", "valid.txt": "", "test.txt": "\n" });
    const c = await loadCorpusFiles("text", splitsOf(dir));
    expect(decode(c, c.train)).toEqual(["a", "b", "<eos>", "c", "a", "<eos>", "b", "c", "<eos>", "<eos>"]);
    expect(c.valid.length).toBe(0);
    expect(decode(c, c.test)).toEqual(["<eos>"]);
  });

  it("maps unseen valid/test words to <unk> when the vocabulary has it", async () => {
    const dir = folderWith({ "train.txt": "a <unk> b\n", "valid.txt": "a zebra\n", "test.txt": "yak b\n" });
    const c = await loadCorpusFiles("ptb", splitsOf(dir));
    expect(decode(c, c.valid)).toEqual(["a", "<unk>", "<eos>"]);
    expect(decode(c, c.test)).toEqual(["<unk>", "b", "<eos>"]);
    expect(c.vocab.tokens).toHaveLength(4);
  });

  it("fails on an unseen word without <unk>, naming file and line", async () => {
    const dir = folderWith({ "train.txt": "a b\n", "valid.txt": "a\nb\nb zebra\n", "test.txt": "a\n" });
    const err = await loadCorpusFiles("wikitext2", splitsOf(dir)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DataError);
    expect((err as Error).message).toContain(`${join(dir, "valid.txt")}:3: "zebra"`);
  });

  it("rejects bytes that are not UTF-8", async () => {
    const dir = folderWith({ "train.txt": Uint8Array.of(0x61, 0xff, 0x0a), "valid.txt": "", "test.txt": "" });
    await expect(loadCorpusFiles("text", splitsOf(dir))).rejects.toThrow(/train\.txt is not valid UTF-8/);
  });

  it("names the missing files of a text folder", async () => {
    const dir = folderWith({ "train.txt": "a\n" });
    const err = await loadTextCorpus("text", { root: "/unused", path: dir }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DataError);
    expect((err as Error).message).toContain(dir);
    expect((err as Error).message).toContain("valid.txt, test.txt");
  });

  it("reads a text folder at char level: every character a symbol, <eol> per line", async () => {
    const dir = folderWith({ "train.txt": "ab a\nb😀\n", "valid.txt": "ba\n", "test.txt": " \n" });
    const c = await loadTextCorpus("text", { root: "/unused", path: dir, level: "char" });
    expect(c.level).toBe("char");
    expect(c.vocab.tokens).toEqual(["a", "b", " ", "<eol>", "😀"]);
    expect(decode(c, c.train)).toEqual(["a", "b", " ", "a", "<eol>", "b", "😀", "<eol>"]);
    expect(decode(c, c.test)).toEqual([" ", "<eol>"]);
  });
});

describe("char level PTB (Mikolov's ptb.char files)", () => {
  // The exact format: each symbol followed by a space, "_" between words, each newline followed by a space, so the
  // file ends in "\n " and lines 2..N begin with " ".
  const mikolov = (lines: string[]): string =>
    [...lines.map((l) => l.replace(/ /g, "_")).join("\n"), "\n"].map((ch) => `${ch} `).join("");

  it("reads the space-separated symbols with one <eol> per line and no extra one for the final space", async () => {
    const train = mikolov(["no it was n't", "a b"]);
    expect(train.slice(0, 12)).toBe("n o _ i t _ ");
    expect(train.endsWith("b \n ")).toBe(true);
    const dir = folderWith({
      "train.txt": train,
      "valid.txt": mikolov(["it was"]),
      "test.txt": mikolov(["a no", "<unk>"]),
    });
    const c = await loadCorpusFiles("ptb_char", splitsOf(dir, "train.txt", "valid.txt", "train.txt"));
    expect(c.level).toBe("char");
    expect(c.vocab.tokens).toEqual(["n", "o", "_", "i", "t", "w", "a", "s", "'", "<eol>", "b"]);
    expect(c.train.length).toBe("no it was n't".length + 1 + "a b".length + 1);
    expect(decode(c, c.valid).join("")).toBe("it_was<eol>");
    // There is no <unk> symbol at char level ("<unk>" is spelled out), so an unseen symbol is an error.
    await expect(loadCorpusFiles("ptb_char", splitsOf(dir))).rejects.toThrow(/test\.txt:2: "<"/);
  });
});

describe("text8", () => {
  // A text8-format sample: lower-case words separated by single spaces, on one line, no newline.
  function sample(length: number): string {
    const words = ["the", "anarchism", "of", "quixotic", "zebra", "jumps", "a", "vex", "by", "wolf", "king"];
    let s = "";
    for (let i = 0; s.length < length; i = (i * 7 + 3) % words.length) s += ` ${words[i]}`;
    return s.slice(0, length);
  }
  const text = sample(2000);

  /** A one-entry ZIP archive, stored (method 0) or deflated (8), as `zip` would write it. */
  function zipOf(name: string, data: Uint8Array, method: 0 | 8, crc = crc32(data)): Uint8Array {
    const body = method === 8 ? deflateRawSync(data) : data;
    const nameBytes = new TextEncoder().encode(name);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(method, 8);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBytes.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(method, 10);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(body.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(nameBytes.length, 28);
    central.writeUInt32LE(0, 42);
    const centralOffset = 30 + nameBytes.length + body.length;
    const end = Buffer.alloc(22);
    end.writeUInt32LE(0x06054b50, 0);
    end.writeUInt16LE(1, 8);
    end.writeUInt16LE(1, 10);
    end.writeUInt32LE(46 + nameBytes.length, 12);
    end.writeUInt32LE(centralOffset, 16);
    return Buffer.concat([local, nameBytes, body, central, nameBytes, end]);
  }

  it("maps the 27 symbols and splits 90% / 5% / 5%", async () => {
    const root = folderWith({ "text8/text8": text });
    const c = await loadTextCorpus("text8", { root });
    expect(c.level).toBe("char");
    expect(c.vocab.tokens).toEqual(TEXT8_SYMBOLS);
    expect(c.vocab.tokens).toHaveLength(27);
    expect([c.train.length, c.valid.length, c.test.length]).toEqual([1800, 100, 100]);
    const all = [...decode(c, c.train), ...decode(c, c.valid), ...decode(c, c.test)].join("");
    expect(all).toBe(text.replace(/ /g, "_"));
  });

  it("reads text8.zip, stored or deflated, to the same ids", async () => {
    const bytes = new TextEncoder().encode(text);
    const plain = await loadText8File(join(folderWith({ text8: text }), "text8"));
    for (const method of [0, 8] as const) {
      const dir = folderWith({ "text8.zip": zipOf("text8", bytes, method) });
      const zipped = await loadText8File(join(dir, "text8.zip"));
      expect(zipped.train).toEqual(plain.train);
      expect(zipped.test).toEqual(plain.test);
    }
  });

  it("rejects a damaged archive and a byte outside the alphabet", async () => {
    const bytes = new TextEncoder().encode(text);
    expect(() => readZipEntry(zipOf("text8", bytes, 8, 12345), "t.zip")).toThrow(/CRC-32/);
    expect(() => readZipEntry(bytes, "t.zip")).toThrow(/not a ZIP archive/);
    expect(() => readZipEntry(zipOf("other", bytes, 0), "t.zip", "text8")).not.toThrow(); // the only entry
    const dir = folderWith({ text8: `${text.slice(0, 50)}X${text.slice(51)}` });
    await expect(loadText8File(join(dir, "text8"))).rejects.toThrow(/byte 88 at offset 50/);
  });
});
