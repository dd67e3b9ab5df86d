// The random crop of Cooijmans et al. 2017 (§5.2): each epoch starts at a row offset in [0, bptt) drawn from the
// seed and the epoch alone, so epochs see different window boundaries and a resumed run the same ones.
import { describe, expect, it } from "vitest";
import { batchify, lmWindows } from "../../runtime/data/batching.js";
import { cropOffset } from "../../runtime/train/train.js";

describe("random crop", () => {
  it("offsets lie in [0, bptt), depend only on (seed, epoch), and vary across epochs", () => {
    const offs = Array.from({ length: 200 }, (_, e) => cropOffset(7, e + 1, 100));
    expect(offs.every((o) => Number.isInteger(o) && o >= 0 && o < 100)).toBe(true);
    expect(Array.from({ length: 200 }, (_, e) => cropOffset(7, e + 1, 100))).toEqual(offs);
    expect(new Set(offs).size).toBeGreaterThan(80); // ~87 distinct values expected from 200 draws of 100
    expect(cropOffset(8, 1, 100) === cropOffset(7, 1, 100) && cropOffset(8, 2, 100) === cropOffset(7, 2, 100)).toBe(
      false,
    );
  });

  it("a cropped epoch's windows start at the offset and keep the window length", () => {
    const b = batchify(
      Int32Array.from({ length: 1000 }, (_, i) => i),
      4,
    ); // 250 rows
    const w = [...lmWindows(b, 30, { offset: cropOffset(1, 3, 30) })];
    expect(w[0]!.start).toBe(cropOffset(1, 3, 30));
    expect(w.slice(0, -1).every((x) => x.length === 30)).toBe(true);
  });
});
