// A kill -9 at any point of any save leaves checkpoints that load, verify and agree. A child process
// (fixtures/checkpoint-writer.mjs, the built runtime's RunCheckpoints) saves a run's checkpoints: the ends of two
// epochs that are a new best (last.ckpt and best.ckpt as one commit) and, between them, a mid-epoch save (last.ckpt
// alone, as is the end of an epoch that is not the best). It is SIGKILLed after its k-th step (an open, a write of the header or of one tensor, an
// fsync, a close, a rename, an fsync of the directory: runtime/train/checkpoint.ts counts them), for every k from 1 until
// it finishes. After each kill:
// - what is left under a checkpoint's name loads, verifies and is one whole generation, never a torn mix;
// - the next start (RunCheckpoints.resume, as `rnnc run --resume` calls it) leaves exactly last.ckpt and best.ckpt, no temp or
//   staged file, and best.ckpt is the checkpoint last.ckpt records: the best epoch the run reports is the one whose
//   weights best.ckpt holds.
import { mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readCheckpoint, RunCheckpoints } from "../../runtime/train/checkpoint.js";
import { node, requireBuild, ROOT, tempDir } from "./cli.js";

const WRITER = join(ROOT, "test/e2e/fixtures/checkpoint-writer.mjs");
const value = (gen: number, i: number): number => gen * 1000 + (i % 997);
/** After the writer's save of generation G: [the best epoch, the generation best.ckpt holds] (the fixture's SAVES). */
const AFTER: Record<number, [number, number]> = { 1: [1, 1], 2: [1, 1], 3: [2, 3] };

const dir = tempDir("ckpt-kill");
beforeAll(requireBuild);
afterAll(() => dir.remove());

interface Meta {
  gen: number;
  bestEpoch: number | null;
}

/** Checks that `file` loads, verifies, and is one whole generation (value(gen, i) across its tensors); returns it. */
function wholeGeneration(file: string): Meta {
  const ck = readCheckpoint<Meta>(file);
  expect(ck.tensors.map((t) => t.name)).toEqual(["param/a", "param/b", "opt/a/m"]);
  let i = 0;
  let bad = -1;
  for (const t of ck.tensors)
    for (let k = 0; k < t.data.length; k++, i++) if (bad < 0 && t.data[k] !== value(ck.meta.gen, i)) bad = i;
  expect(bad, `${file}, generation ${ck.meta.gen}: value ${bad} is not ${value(ck.meta.gen, bad)}`).toBe(-1);
  return ck.meta;
}

const TEMP = /^\..+\.tmp-\d+$/;

type Outcome = "before the first commit" | "staged best dropped" | "committed best finished" | "consistent";

/** Kill the writer after step k; check what it leaves and what the next start makes of it. Null: it finished. */
async function killAt(k: number): Promise<{ outcome: Outcome; temps: number } | null> {
  const sub = join(dir.path, `k${k}`);
  mkdirSync(sub);
  const w = await node(WRITER, [sub], { env: { RNNC_TEST_CHECKPOINT_KILL: String(k) } });
  if (w.signal === null) {
    expect(w.status, w.stderr).toBe(0);
    expect(w.stdout.endsWith("done\n")).toBe(true);
    return null;
  }
  expect(w.signal).toBe("SIGKILL");
  expect(w.stderr).toMatch(new RegExp(`^killed after checkpoint step ${k}: `, "m"));
  const last = (re: RegExp): number => Math.max(0, ...[...w.stdout.matchAll(re)].map((m) => Number(m[1])));
  const started = last(/^saving (\d+)$/gm);
  const finished = last(/^saved (\d+)$/gm);
  const what = `killed after step ${k} (${w.stderr.trim()}), in the save of generation ${started}`;

  // What the kill left: only checkpoints, the staged best and temp files; every file under a checkpoint's name
  // whole. A temp file is whole or refused (truncated), never loaded as a mix.
  const left = readdirSync(sub).sort();
  for (const n of left)
    expect(["best.ckpt", "last.ckpt", ".best.ckpt.next"].includes(n) || TEMP.test(n), `${what}: ${n}`).toBe(true);
  const gen = (n: string): number | null => (left.includes(n) ? wholeGeneration(join(sub, n)).gen : null);
  expect([finished, started], what).toContain(gen("last.ckpt") ?? 0);
  expect([AFTER[finished]?.[1] ?? null, started], what).toContain(gen("best.ckpt")); // the previous best, or the new
  expect([null, started], what).toContain(gen(".best.ckpt.next"));
  for (const n of left.filter((x) => TEMP.test(x))) {
    try {
      expect(wholeGeneration(join(sub, n)).gen).toBe(started);
    } catch (e) {
      expect((e as Error).message, `${what}: ${n}`).toMatch(/truncated|not an rnnc checkpoint/);
    }
  }
  const temps = left.filter((x) => TEMP.test(x)).length;
  if (!left.includes("last.ckpt")) {
    // Nothing was committed yet: nothing to resume (`rnnc run --resume` says so).
    expect(finished, what).toBe(0);
    return { outcome: "before the first commit", temps };
  }

  // The next start, as `rnnc run --resume` makes it (in this process: the writer is dead either way).
  const { bestEpoch, notes } = new RunCheckpoints(sub).resume<Meta>(join(sub, "last.ckpt"));
  expect(readdirSync(sub).sort(), what).toEqual(["best.ckpt", "last.ckpt"]);
  const lastMeta = wholeGeneration(join(sub, "last.ckpt"));
  const bestMeta = wholeGeneration(join(sub, "best.ckpt"));
  expect([finished, started], what).toContain(lastMeta.gen);
  const [wantEpoch, wantGen] = AFTER[lastMeta.gen]!;
  // last.ckpt, the resumed run and best.ckpt agree on the best epoch, and best.ckpt holds that epoch's weights.
  expect([lastMeta.bestEpoch, bestEpoch, bestMeta.bestEpoch, bestMeta.gen], what).toEqual([
    wantEpoch,
    wantEpoch,
    wantEpoch,
    wantGen,
  ]);
  expect(readCheckpoint(join(sub, "best.ckpt")).digest, what).toBe(readCheckpoint(join(sub, "last.ckpt")).best);
  // A second start finds nothing to do.
  const again = new RunCheckpoints(sub).resume<Meta>(join(sub, "last.ckpt"));
  expect([again.bestEpoch, again.notes], what).toEqual([bestEpoch, []]);

  const outcome: Outcome = notes.some((n) => n.startsWith("finished the save"))
    ? "committed best finished"
    : notes.some((n) => n.startsWith("dropped"))
      ? "staged best dropped"
      : "consistent";
  if (temps)
    expect(
      notes.some((n) => n.startsWith(`removed ${temps} temp file(s)`)),
      `${what}: ${JSON.stringify(notes)}`,
    ).toBe(true);
  return { outcome, temps };
}

describe("kill -9 after every step of a run's checkpoint saves", () => {
  it("leaves checkpoints that load, verify and agree on the best epoch, and no temp file after the next start", async () => {
    const seen = new Map<Outcome, number>();
    let withTemps = 0;
    let k = 1;
    for (; ; k++) {
      const r = await killAt(k);
      if (r === null) break;
      seen.set(r.outcome, (seen.get(r.outcome) ?? 0) + 1);
      if (r.temps) withTemps++;
      expect(k, "the writer never finishes").toBeLessThan(500);
    }
    // Every save was cut after each of its steps. A write of 3 tensors is 9 steps (open, header, 3 tensors, fsync,
    // close, rename, fsync of the directory); a save of both files is 2 writes and the staged file's rename and
    // fsync (20 steps), a save of last.ckpt alone one write (9). Saves: both, last, both.
    expect(k - 1).toBe(20 + 9 + 20);
    // Each kind of interrupted state, as often as the steps say: the first save leaves no last.ckpt until its
    // rename (16 kills); a later save of both is dropped if killed from its staged file's rename to just before
    // last.ckpt's (9 kills), and finished if killed from there to its final rename (2 each, the first too).
    expect(Object.fromEntries(seen)).toEqual({
      "before the first commit": 16,
      "staged best dropped": 9,
      "committed best finished": 2 * 2,
      consistent: 49 - 16 - 9 - 4,
    });
    expect(withTemps).toBeGreaterThan(0);
  }, 180_000);
});
