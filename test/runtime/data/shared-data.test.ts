// The loaders on the real data sets, when they are at hand in the data root as rnnc finds it: RNNC_DATA (where CI
// points it at its copy), else the per-user cache. Each suite is skipped, not failed, on a machine without that data set.
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { dataRoot, verifyDataset } from "../../../runtime/data/locate.js";
import { loadMnist } from "../../../runtime/data/mnist.js";
import { loadTextCorpus } from "../../../runtime/data/text-corpus.js";

const root = dataRoot();
const has = (...files: string[]): boolean => files.every((f) => existsSync(join(root, f)));

/** SHA-256 of the ids as little-endian int32, the bytes of `array.array('i', ids)` in the Python reference. */
const idsHash = (ids: Int32Array): string =>
  createHash("sha256")
    .update(new Uint8Array(ids.buffer, ids.byteOffset, ids.byteLength))
    .digest("hex");
const count = (ids: Int32Array, id: number | undefined): number => ids.reduce((n, x) => (x === id ? n + 1 : n), 0);

// The ids that pytorch/examples' `Corpus` gives (its data.py run on these files, ids hashed as above): identical
// tokens, <eos> placement and vocabulary order, not just equal counts.
const PYTORCH_IDS = {
  ptb: [
    "b9488a18b214862469a298e9054553287d157d2e196e3ed3345ab343bfc59549",
    "4262c34e1a26e4e43cfff2b9876716f9c4b3d7533f74ed3b4181da1f0fd6c34e",
    "33ecddd6be0160ba47c1af93d5442f0a1924106cb5b96e756796ebaf69e9c63c",
  ],
  wikitext2: [
    "f0f1a9d18a658ea927c8bee3188f3830109c9d1f4d61d6f22ddea5ac136c156e",
    "b6dc736e28ad52825723503918513ea99e72d19747f4c56ce8c50f3b0b0c9d65",
    "776f31f4be794ed94bca7389b81a3f11b742a876ec973fcd6590632ddb1f77a3",
  ],
};

describe.skipIf(!has("ptb/ptb.train.txt", "ptb/ptb.valid.txt", "ptb/ptb.test.txt"))(
  "PTB word level (shared data)",
  () => {
    it("has 10 000 types and 929 589 / 73 760 / 82 430 tokens with <eos>, as pytorch numbers them", async () => {
      const c = await loadTextCorpus("ptb", { root });
      expect(c.vocab.tokens).toHaveLength(10_000);
      expect([c.train.length, c.valid.length, c.test.length]).toEqual([929_589, 73_760, 82_430]);
      expect(c.vocab.tokens.slice(0, 3)).toEqual(["aer", "banknote", "berlitz"]);
      expect(count(c.train, c.vocab.ids.get("<unk>"))).toBe(45_020);
      expect(count(c.train, c.vocab.ids.get("<eos>"))).toBe(42_068);
      expect([c.train, c.valid, c.test].map(idsHash)).toEqual(PYTORCH_IDS.ptb);
    });

    it("verifies against the recorded SHA-256", async () => {
      const paths = await verifyDataset("ptb", root);
      expect(paths.train).toBe(join(root, "ptb", "ptb.train.txt"));
    });
  },
);

const PTB_CHAR_FILES = ["ptb.char.train.txt", "ptb.char.valid.txt", "ptb.char.test.txt"].map((f) => `ptb-char/${f}`);
describe.skipIf(!has(...PTB_CHAR_FILES))("PTB char level (shared data)", () => {
  it("has 50 symbols and 5 017 482 / 393 042 / 442 423 symbols with one <eol> per line", async () => {
    const c = await loadTextCorpus("ptb_char", { root });
    expect(c.level).toBe("char");
    expect(c.vocab.tokens).toHaveLength(50);
    expect([c.train.length, c.valid.length, c.test.length]).toEqual([5_017_482, 393_042, 442_423]);
    expect(count(c.train, c.vocab.ids.get("<eol>"))).toBe(42_068);
    expect(count(c.train, c.vocab.ids.get("_"))).toBe(845_453);
    expect(
      [...c.vocab.tokens]
        .filter((t) => t !== "<eol>")
        .sort()
        .join(""),
    ).toBe("#$&'*-./0123456789<>N\\_abcdefghijklmnopqrstuvwxyz");
  });
});

describe.skipIf(!has("wikitext-2/train.txt", "wikitext-2/valid.txt", "wikitext-2/test.txt"))(
  "WikiText-2 (shared data)",
  () => {
    it("has 33 278 types and 2 088 628 / 217 646 / 245 569 tokens with <eos>, as pytorch numbers them", async () => {
      const c = await loadTextCorpus("wikitext2", { root });
      expect(c.vocab.tokens).toHaveLength(33_278);
      expect([c.train.length, c.valid.length, c.test.length]).toEqual([2_088_628, 217_646, 245_569]);
      // The file opens with an empty line, so <eos> is id 0 in pytorch's order.
      expect(c.vocab.tokens.slice(0, 4)).toEqual(["<eos>", "=", "Valkyria", "Chronicles"]);
      expect(count(c.train, c.vocab.ids.get("<unk>"))).toBe(54_625);
      expect([c.train, c.valid, c.test].map(idsHash)).toEqual(PYTORCH_IDS.wikitext2);
    });
  },
);

const MNIST_FILES = [
  "train-images-idx3-ubyte.gz",
  "train-labels-idx1-ubyte.gz",
  "t10k-images-idx3-ubyte.gz",
  "t10k-labels-idx1-ubyte.gz",
];
describe.skipIf(!has(...MNIST_FILES.map((f) => `mnist/${f}`)))("MNIST (shared data)", () => {
  it("has 60 000 + 10 000 images of 28×28 and the published labels", async () => {
    const m = await loadMnist(root);
    expect([m.train.count, m.train.images.length, m.train.labels.length]).toEqual([60_000, 60_000 * 784, 60_000]);
    expect([m.test.count, m.test.images.length, m.test.labels.length]).toEqual([10_000, 10_000 * 784, 10_000]);
    expect(Array.from(m.test.labels.subarray(0, 5))).toEqual([7, 2, 1, 0, 4]);
    expect(Array.from(m.train.labels.subarray(0, 5))).toEqual([5, 0, 4, 1, 9]);
    const histogram = (labels: Uint8Array): number[] =>
      labels.reduce((h, l) => (h[l]!++, h), new Array<number>(10).fill(0));
    expect(histogram(m.test.labels)).toEqual([980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]);
    expect(histogram(m.train.labels)).toEqual([5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]);
    // The first test image is a 7: ink in the middle rows, blank borders.
    const first = m.test.images.subarray(0, 784);
    expect(first.subarray(0, 28).every((p) => p === 0)).toBe(true);
    expect(first.reduce((n, p) => n + (p > 128 ? 1 : 0), 0)).toBeGreaterThan(50);
  });
});
