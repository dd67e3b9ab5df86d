import { describe, expect, it } from "vitest";
import { Rng } from "../../../runtime/base/rng.js";
import {
  batchify,
  exampleRows,
  lmBatch,
  lmWindows,
  shuffledExamples,
  sliceRows,
  windowCount,
} from "../../../runtime/data/batching.js";
import { DataError } from "../../../runtime/data/data-error.js";

const range = (n: number): Int32Array => Int32Array.from({ length: n }, (_, i) => i);
const column = (data: Int32Array, batch: number, b: number): number[] =>
  Array.from(data.filter((_, i) => i % batch === b));

describe("batchify (pytorch: data[:nbatch * bsz].view(bsz, -1).t())", () => {
  it("drops the tail and makes column b the b-th contiguous slice", () => {
    const b = batchify(range(26), 4);
    expect([b.steps, b.batch, b.data.length]).toEqual([6, 4, 24]);
    expect(column(b.data, 4, 0)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(column(b.data, 4, 1)).toEqual([6, 7, 8, 9, 10, 11]);
    expect(column(b.data, 4, 3)).toEqual([18, 19, 20, 21, 22, 23]);
    expect(Array.from(b.data.subarray(0, 8))).toEqual([0, 6, 12, 18, 1, 7, 13, 19]); // rows: time-major
  });

  it("refuses a bad batch size and a stream too short for it", () => {
    expect(() => batchify(range(10), 0)).toThrow(RangeError);
    expect(() => batchify(range(10), 2.5)).toThrow(RangeError);
    expect(() => batchify(range(7), 4)).toThrow(DataError);
    expect(batchify(range(8), 4).steps).toBe(2);
  });
});

describe("lmWindows and the input/target blocks", () => {
  const b = batchify(range(26), 4); // 6 rows

  it("walks bptt rows at a time, the last window shorter, never past row steps - 1", () => {
    expect([...lmWindows(b, 2)]).toEqual([
      { start: 0, length: 2 },
      { start: 2, length: 2 },
      { start: 4, length: 1 },
    ]);
    expect([...lmWindows(b, 5)]).toEqual([{ start: 0, length: 5 }]);
    expect([...lmWindows(b, 10)]).toEqual([{ start: 0, length: 5 }]);
    for (const bptt of [1, 2, 3, 4, 7]) {
      const windows = [...lmWindows(b, bptt)];
      expect(windows.reduce((n, w) => n + w.length, 0)).toBe(b.steps - 1); // every target scored once
      expect(windowCount(b, bptt)).toBe(windows.length);
      for (const w of windows) expect(w.start + 1 + w.length).toBeLessThanOrEqual(b.steps);
    }
  });

  it("gives targets shifted by one row: the next token of every column", () => {
    const [first, , last] = [...lmWindows(b, 2)];
    const { input, target } = lmBatch(b, first!);
    expect(Array.from(input)).toEqual([0, 6, 12, 18, 1, 7, 13, 19]);
    expect(Array.from(target)).toEqual([1, 7, 13, 19, 2, 8, 14, 20]);
    const tail = lmBatch(b, last!);
    expect(Array.from(tail.input)).toEqual([4, 10, 16, 22]);
    expect(Array.from(tail.target)).toEqual([5, 11, 17, 23]);
    expect(Array.from(sliceRows(b, 5, 1))).toEqual([5, 11, 17, 23]);
    expect(() => sliceRows(b, 5, 2)).toThrow(RangeError);
  });

  it("supports an offset (random crop) and dropping the short window (Zaremba's ptb_producer)", () => {
    expect([...lmWindows(b, 2, { offset: 1 })]).toEqual([
      { start: 1, length: 2 },
      { start: 3, length: 2 },
    ]);
    expect([...lmWindows(b, 2, { dropLast: true })]).toEqual([
      { start: 0, length: 2 },
      { start: 2, length: 2 },
    ]);
    expect(windowCount(b, 2, { dropLast: true })).toBe(2);
    expect(windowCount(b, 2, { offset: 1 })).toBe(2);
    // ptb_producer's epoch_size = (batch_len - 1) // num_steps
    expect(windowCount(b, 3, { dropLast: true })).toBe(Math.floor((b.steps - 1) / 3));
    expect(() => lmWindows(b, 0)).toThrow(RangeError);
    expect(() => lmWindows(b, 2, { offset: -1 })).toThrow(RangeError);
  });

  it("can be iterated again, once per epoch", () => {
    const windows = lmWindows(b, 4);
    expect([...windows]).toEqual([...windows]);
  });
});

describe("shuffledExamples (Cooijmans et al. 2017, §5.2: independent examples, shuffled every epoch)", () => {
  it("cuts nonoverlapping examples of bptt inputs from the offset, each in exactly one full batch", () => {
    // 103 tokens, offset 2, bptt 10: examples start at 2, 12, …, 92 (the last reads tokens 92..102): 10 examples;
    // batch 3 gives 3 batches and drops 1 example.
    const batches = shuffledExamples(103, 10, 3, 2, new Rng(5));
    expect(batches).toHaveLength(3);
    expect(batches.every((b) => b.length === 3)).toBe(true);
    const starts = batches.flatMap((b) => Array.from(b));
    expect(new Set(starts).size).toBe(9);
    expect(starts.every((s) => s >= 2 && s <= 92 && (s - 2) % 10 === 0)).toBe(true);
  });

  it("draws the same order from the same stream and another from another; the order is not the stream's", () => {
    const a = shuffledExamples(10_001, 10, 4, 0, new Rng(1)).flatMap((b) => Array.from(b));
    expect(shuffledExamples(10_001, 10, 4, 0, new Rng(1)).flatMap((b) => Array.from(b))).toEqual(a);
    expect(shuffledExamples(10_001, 10, 4, 0, new Rng(2)).flatMap((b) => Array.from(b))).not.toEqual(a);
    expect(a).not.toEqual([...a].sort((x, y) => x - y));
  });

  it("gathers each example's inputs and its targets one token later, time-major", () => {
    const ids = range(50).map((v) => v * 10);
    const starts = Int32Array.from([20, 0]);
    expect(Array.from(exampleRows(ids, starts, 3, 0))).toEqual([200, 0, 210, 10, 220, 20]);
    expect(Array.from(exampleRows(ids, starts, 3, 1))).toEqual([210, 10, 220, 20, 230, 30]);
    expect(() => exampleRows(ids, Int32Array.from([48]), 3, 0)).toThrow(RangeError);
  });

  it("refuses a split with fewer examples than one batch, and bad sizes", () => {
    expect(() => shuffledExamples(50, 10, 5, 0, new Rng(0))).toThrow(DataError); // 4 examples
    expect(() => shuffledExamples(500, 0, 5, 0, new Rng(0))).toThrow(RangeError);
    expect(() => shuffledExamples(500, 10, 0, 0, new Rng(0))).toThrow(RangeError);
  });
});
