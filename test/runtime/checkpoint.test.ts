// runtime/train/checkpoint.ts on its own: format 2's checksums (a flipped byte anywhere in a tensor or the header is
// refused, naming the file and the tensor), format 1 still read (with a note, and non-finite values refused), and
// RunCheckpoints' recovery on the next start: an interrupted save finished or dropped, a replaced best.ckpt refused,
// a format-1 run whose last and best disagree repaired, dead writers' temp files removed and live ones kept.
// The kills themselves are in test/e2e/checkpoint-kill.test.ts.
import { spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  CheckpointError,
  formatNote,
  readCheckpoint,
  readCheckpointHeader,
  removeStaleTempFiles,
  RunCheckpoints,
  writeCheckpoint,
  type Checkpoint,
} from "../../runtime/train/checkpoint.js";
import { flipBytes, formatOne, headerBytes, tensorBytes } from "./checkpoint-files.js";

const root = mkdtempSync(join(tmpdir(), "rnnc-ckpt-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const fresh = (): string => {
  const d = join(root, `d${n++}`);
  mkdirSync(d);
  return d;
};

interface Meta {
  gen: number;
  bestEpoch: number | null;
}

/** A checkpoint whose values are a function of `gen`: two tensors, one of them 2-D. */
function ckptOf(gen: number, bestEpoch: number | null = null): Checkpoint<Meta> {
  const a = Float32Array.from({ length: 6 }, (_, i) => gen + i / 8);
  const b = Float32Array.from({ length: 5 }, (_, i) => -gen - i);
  return {
    meta: { gen, bestEpoch },
    tensors: [
      { name: "param/a", shape: [2, 3], data: a },
      { name: "opt/b", shape: [5], data: b },
    ],
  };
}

const refusal = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(CheckpointError);
    return (e as Error).message;
  }
  throw new Error("not refused");
};

describe("format 2", () => {
  it("round-trips meta, names, shapes and values; the digest names the content", () => {
    const file = join(fresh(), "x.ckpt");
    const digest = writeCheckpoint(file, ckptOf(3), "ab".repeat(32));
    const ck = readCheckpoint<Meta>(file);
    expect(ck.format).toBe(2);
    expect(ck.meta).toEqual({ gen: 3, bestEpoch: null });
    expect(ck.digest).toBe(digest);
    expect(ck.best).toBe("ab".repeat(32));
    expect(ck.tensors.map((t) => [t.name, t.shape, [...t.data]])).toEqual(
      ckptOf(3).tensors.map((t) => [t.name, t.shape, [...t.data]]),
    );
    expect(readCheckpointHeader<Meta>(file)).toEqual({ meta: ck.meta, format: 2, digest, best: ck.best });
    expect(formatNote(file, ck)).toBeNull();
    // Same content, same digest; other content, another.
    expect(writeCheckpoint(join(fresh(), "y.ckpt"), ckptOf(3), "ab".repeat(32))).toBe(digest);
    expect(writeCheckpoint(join(fresh(), "y.ckpt"), ckptOf(4), "ab".repeat(32))).not.toBe(digest);
  });

  it("refuses a flipped byte in any tensor, naming the file and the tensor", () => {
    for (const name of ["param/a", "opt/b"]) {
      const file = join(fresh(), "x.ckpt");
      writeCheckpoint(file, ckptOf(1));
      const at = tensorBytes(file, name);
      for (const k of [0, at.bytes - 1]) {
        const copy = `${file}.${k}`;
        writeFileSync(copy, readFileSync(file));
        flipBytes(copy, at.offset + k, 1);
        expect(refusal(() => readCheckpoint(copy))).toBe(
          `${copy} is corrupt: tensor ${name} fails its SHA-256 check (the file changed after it was written); it was not loaded`,
        );
      }
    }
  });

  it("refuses a damaged header, a truncated file, trailing bytes and a newer format", () => {
    const file = join(fresh(), "x.ckpt");
    writeCheckpoint(file, ckptOf(1));
    const h = headerBytes(file);
    const bad = `${file}.h`;
    writeFileSync(bad, readFileSync(file));
    flipBytes(bad, h.offset + 3, 1);
    expect(refusal(() => readCheckpoint(bad))).toMatch(/x\.ckpt\.h is corrupt: its header fails its SHA-256 check/);
    expect(refusal(() => readCheckpointHeader(bad))).toMatch(/its header fails its SHA-256 check/);
    // The stored checksum itself damaged: the same refusal.
    writeFileSync(bad, readFileSync(file));
    flipBytes(bad, 12, 1);
    expect(refusal(() => readCheckpoint(bad))).toMatch(/its header fails its SHA-256 check/);
    // The header length damaged: past the end, or a wrong cut.
    writeFileSync(bad, readFileSync(file));
    flipBytes(bad, 11, 1);
    expect(refusal(() => readCheckpoint(bad))).toMatch(/truncated \(header\)/);
    writeFileSync(bad, readFileSync(file));
    flipBytes(bad, 8, 1);
    expect(refusal(() => readCheckpoint(bad))).toMatch(/header fails its SHA-256 check|truncated/);

    const size = readFileSync(file).length;
    writeFileSync(bad, readFileSync(file));
    truncateSync(bad, size - 4);
    expect(refusal(() => readCheckpoint(bad))).toBe(`${bad} is truncated or has trailing bytes`);
    writeFileSync(bad, Buffer.concat([readFileSync(file), Buffer.alloc(4)]));
    expect(refusal(() => readCheckpoint(bad))).toBe(`${bad} is truncated or has trailing bytes`);
    writeFileSync(bad, Buffer.concat([Buffer.from("RNNCKPT7"), readFileSync(file).subarray(8)]));
    expect(refusal(() => readCheckpoint(bad))).toBe(
      `${bad} is a checkpoint of format 7, newer than this rnnc reads (formats 1 and 2): use the rnnc that wrote it`,
    );
    writeFileSync(bad, "not a checkpoint");
    expect(refusal(() => readCheckpoint(bad))).toBe(`${bad} is not an rnnc checkpoint`);
  });
});

describe("format 1 (before checksums)", () => {
  it("is read, with a note that it cannot be verified", () => {
    const file = join(fresh(), "old.ckpt");
    writeFileSync(file, formatOne(ckptOf(2, 1)));
    const ck = readCheckpoint<Meta>(file);
    expect([ck.format, ck.digest, ck.best]).toEqual([1, null, null]);
    expect(ck.meta).toEqual({ gen: 2, bestEpoch: 1 });
    expect([...ck.tensors[1]!.data]).toEqual([...ckptOf(2).tensors[1]!.data]);
    expect(readCheckpointHeader<Meta>(file)).toEqual({ meta: ck.meta, format: 1, digest: null, best: null });
    expect(formatNote(file, ck)).toBe(
      `note: ${file} is a format-1 checkpoint (written before rnnc checksummed its checkpoints): its tensors cannot be verified, only checked for non-finite values`,
    );
  });

  it("refuses a non-finite value, which training never saves, naming the tensor and the index", () => {
    const ck = ckptOf(2);
    ck.tensors[1]!.data[3] = Number.NaN;
    const file = join(fresh(), "old.ckpt");
    writeFileSync(file, formatOne(ck));
    expect(refusal(() => readCheckpoint(file))).toBe(
      `${file} is corrupt: tensor opt/b holds NaN at index 3, which training never saves (a format-1 checkpoint, without checksums); it was not loaded`,
    );
  });
});

describe("RunCheckpoints: the next start", () => {
  /** A run directory after two saves: epoch 1 best, epoch 2 best (gens 1 and 2). */
  function twoEpochs(): RunCheckpoints {
    const r = new RunCheckpoints(fresh());
    r.saveLastAndBest(ckptOf(1, 1), ckptOf(1, 1));
    r.saveLastAndBest(ckptOf(2, 2), ckptOf(2, 2));
    return r;
  }
  const listing = (dir: string): string[] => readdirSync(dir).sort();

  it("leaves best.ckpt as the one last.ckpt records, and nothing else, after each save", () => {
    const r = twoEpochs();
    expect(listing(r.dir)).toEqual(["best.ckpt", "last.ckpt"]);
    expect(readCheckpoint(r.last).best).toBe(readCheckpoint(r.best).digest);
    r.saveLast(ckptOf(3, 2)); // not a new best: the record is carried forward
    expect(readCheckpoint(r.last).best).toBe(readCheckpoint(r.best).digest);
    const again = new RunCheckpoints(r.dir).resume<Meta>(r.last);
    expect([again.bestEpoch, again.notes]).toEqual([2, []]);
  });

  it("finishes a committed save whose rename to best.ckpt a kill prevented", () => {
    const r = twoEpochs();
    // The state a kill after step 2 leaves: last.ckpt records the staged epoch 3, best.ckpt is still epoch 2.
    const staged = writeCheckpoint(r.next, ckptOf(3, 3));
    writeCheckpoint(r.last, ckptOf(3, 3), staged);
    const before = new RunCheckpoints(r.dir);
    expect(before.pendingBest<Meta>()?.meta).toEqual({ gen: 3, bestEpoch: 3 }); // what `rnnc eval` notes
    const res = before.resume<Meta>(r.last);
    expect(res.bestEpoch).toBe(3);
    expect(res.notes).toEqual([`finished the save of ${r.best} (epoch 3) that a kill interrupted`]);
    expect(listing(r.dir)).toEqual(["best.ckpt", "last.ckpt"]);
    expect(before.readBest<Meta>().meta.gen).toBe(3);
    expect(before.pendingBest()).toBeNull();
  });

  it("drops a staged best that was never committed", () => {
    const r = twoEpochs();
    writeCheckpoint(r.next, ckptOf(3, 3)); // a kill after step 1: last.ckpt still records epoch 2's best
    expect(new RunCheckpoints(r.dir).pendingBest()).toBeNull();
    const res = new RunCheckpoints(r.dir).resume<Meta>(r.last);
    expect(res.bestEpoch).toBe(2);
    expect(res.notes).toEqual([
      `dropped ${r.next}, the best checkpoint of a save that a kill interrupted before it was committed`,
    ]);
    expect(listing(r.dir)).toEqual(["best.ckpt", "last.ckpt"]);
    expect(readCheckpoint<Meta>(r.best).meta.gen).toBe(2);
  });

  it("refuses a best.ckpt that is not the one last.ckpt records, or is missing, changing nothing", () => {
    const r = twoEpochs();
    writeCheckpoint(r.best, ckptOf(1, 1)); // someone put an older best back
    const files = listing(r.dir).map((f) => readFileSync(join(r.dir, f)));
    expect(refusal(() => new RunCheckpoints(r.dir).resume(r.last))).toBe(
      `${r.best} is not the best checkpoint that ${r.last} records (it was replaced after it was written)`,
    );
    expect(listing(r.dir).map((f) => readFileSync(join(r.dir, f)))).toEqual(files);
    rmSync(r.best);
    expect(refusal(() => new RunCheckpoints(r.dir).resume(r.last))).toBe(
      `${r.best} is missing, but ${r.last} records it as the best checkpoint`,
    );
  });

  it("refuses a damaged last.ckpt or best.ckpt before finishing a save, and the caller's veto too", () => {
    const r = twoEpochs();
    const staged = writeCheckpoint(r.next, ckptOf(3, 3));
    writeCheckpoint(r.last, ckptOf(3, 3), staged);
    flipBytes(r.next, tensorBytes(r.next, "opt/b").offset, 4);
    expect(refusal(() => new RunCheckpoints(r.dir).resume(r.last))).toMatch(
      /\.best\.ckpt\.next is corrupt: tensor opt\/b fails its SHA-256 check/,
    );
    expect(listing(r.dir)).toEqual([".best.ckpt.next", "best.ckpt", "last.ckpt"]); // nothing renamed or removed
    expect(() =>
      new RunCheckpoints(r.dir).resume(r.last, () => {
        throw new Error("vetoed");
      }),
    ).toThrow("vetoed");
    expect(listing(r.dir)).toEqual([".best.ckpt.next", "best.ckpt", "last.ckpt"]);
  });

  it("format 1: when last.ckpt names a best epoch best.ckpt does not hold, continues with the one it holds", () => {
    const dir = fresh();
    const r = new RunCheckpoints(dir);
    // The old write order, killed between last and best at epoch 3: last says 3, best.ckpt still holds epoch 2.
    writeFileSync(r.last, formatOne(ckptOf(3, 3)));
    writeFileSync(r.best, formatOne(ckptOf(2, 2)));
    const res = r.resume<Meta>(r.last);
    expect(res.bestEpoch).toBe(2);
    expect(res.notes).toEqual([
      `note: ${r.last} is a format-1 checkpoint (written before rnnc checksummed its checkpoints): its tensors cannot be verified, only checked for non-finite values`,
      `${r.last} names epoch 3 as the best, but ${r.best} holds epoch 2 (a format-1 save was interrupted): continuing with epoch 2 as the best`,
    ]);
    // In agreement: no repair note.
    writeFileSync(r.last, formatOne(ckptOf(3, 2)));
    expect(new RunCheckpoints(dir).resume<Meta>(r.last).notes).toHaveLength(1);
  });

  it("a checkpoint from another directory brings its best along", () => {
    const src = twoEpochs();
    const dst = new RunCheckpoints(fresh());
    const res = dst.resume<Meta>(src.last);
    expect(res.bestEpoch).toBe(2);
    expect(readCheckpoint<Meta>(dst.best).meta.gen).toBe(2);
    dst.saveLast(ckptOf(3, 2));
    expect(readCheckpoint(dst.last).best).toBe(readCheckpoint(dst.best).digest);
  });

  it("removes the temp files of dead writers only", () => {
    const dir = fresh();
    const dead = spawnSync(process.execPath, ["-e", ""]).pid!; // exited: its PID is free
    const live = process.ppid; // the test runner's parent: alive
    for (const f of [`.last.ckpt.tmp-${dead}`, `..best.ckpt.next.tmp-${dead}`, `.last.ckpt.tmp-${live}`, "notes.tmp-1"])
      writeFileSync(join(dir, f), "x");
    expect(removeStaleTempFiles(dir).sort()).toEqual([`..best.ckpt.next.tmp-${dead}`, `.last.ckpt.tmp-${dead}`]);
    expect(listing(dir)).toEqual([`.last.ckpt.tmp-${live}`, "notes.tmp-1"]);
    expect(existsSync(join(dir, `.last.ckpt.tmp-${dead}`))).toBe(false);
  });
});
