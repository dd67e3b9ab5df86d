import { describe, expect, it } from "vitest";
import { DataError } from "../../../runtime/data/data-error.js";
import { loadMnist, parseImages, parseLabels } from "../../../runtime/data/mnist.js";
import { refusingUrl, tempDir } from "./helpers.js";

function idx(header: number[], body: Uint8Array): Uint8Array {
  const out = Buffer.alloc(4 * header.length + body.length);
  header.forEach((v, i) => out.writeUInt32BE(v, 4 * i));
  out.set(body, 4 * header.length);
  return out;
}

describe("idx parsing", () => {
  const pixels = Uint8Array.from({ length: 3 * 784 }, (_, i) => i % 256);

  it("returns the pixels and labels after the header", () => {
    expect(parseImages(idx([2051, 3, 28, 28], pixels), "img", 3)).toEqual(pixels);
    expect(Array.from(parseLabels(idx([2049, 3], Uint8Array.of(7, 2, 1)), "lab", 3))).toEqual([7, 2, 1]);
  });

  it("names the file on a wrong magic number, shape, count, length or label", () => {
    const cases: Array<[() => unknown, RegExp]> = [
      [() => parseImages(idx([2049, 3, 28, 28], pixels), "a.gz", 3), /a\.gz: magic number 2049, expected 2051/],
      [
        () => parseImages(idx([2051, 3, 28, 27], pixels), "b.gz", 3),
        /b\.gz: holds 3 images of 28×27, expected 3 of 28×28/,
      ],
      [() => parseImages(idx([2051, 3, 28, 28], pixels), "c.gz", 60000), /c\.gz: holds 3 images/],
      [
        () => parseImages(idx([2051, 3, 28, 28], pixels.subarray(1)), "d.gz", 3),
        /d\.gz: 2367 bytes after decompression, expected 2368/,
      ],
      [() => parseLabels(idx([2051, 2], Uint8Array.of(1, 2)), "e.gz", 2), /e\.gz: magic number 2051, expected 2049/],
      [() => parseLabels(idx([2049, 2], Uint8Array.of(1, 12)), "f.gz", 2), /f\.gz: label 1 is 12/],
      [() => parseLabels(Uint8Array.of(0, 0), "g.gz", 2), /g\.gz: 2 bytes is too short/],
    ];
    for (const [run, message] of cases) {
      expect(run).toThrow(DataError);
      expect(run).toThrow(message);
    }
  });
});

describe("loadMnist", () => {
  it("fails with a DataError naming the folder when the files are absent", async () => {
    const t = tempDir();
    try {
      const err = await loadMnist(t.dir, { mirror: await refusingUrl() }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DataError);
      expect((err as Error).message).toContain(`${t.dir}/mnist`);
      expect((err as Error).message).toContain("t10k-labels-idx1-ubyte.gz");
    } finally {
      t.remove();
    }
  });
});
