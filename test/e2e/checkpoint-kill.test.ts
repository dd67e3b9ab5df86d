// A kill -9 during a checkpoint write leaves the previous checkpoint loadable. A child process
// (fixtures/checkpoint-writer.mjs, the built runtime's writeCheckpoint) writes a small first checkpoint, then 32 MB
// ones in a loop, and is killed as a write begins. The file under the checkpoint's name must then load and be one
// whole generation, never a torn mix; what the killed write leaves behind (its temp file) is neither named like a
// checkpoint nor readable as one.
import { mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CheckpointError, readCheckpoint } from "../../runtime/checkpoint.js";
import { requireBuild, ROOT, start, tempDir } from "./cli.js";

const WRITER = join(ROOT, "test/e2e/fixtures/checkpoint-writer.mjs");
/** 32 MB a write (tens of milliseconds with the fsync), so a kill right after "writing G" lands inside it. */
const FLOATS = 8_000_000;
const value = (gen: number, i: number): number => gen * 1000 + (i % 997);

const dir = tempDir("ckpt-kill");
beforeAll(requireBuild);
afterAll(() => dir.remove());

/** Checks that `file` is one whole generation (every value is value(gen, i) across both tensors); returns it. */
function wholeGeneration(file: string): number {
  const ck = readCheckpoint<{ gen: number; floats: number }>(file);
  const { gen, floats } = ck.meta;
  expect(ck.tensors.map((t) => t.name)).toEqual(["param/a", "param/b"]);
  expect(ck.tensors.reduce((n, t) => n + t.data.length, 0)).toBe(floats);
  let i = 0;
  let bad = -1;
  for (const t of ck.tensors) {
    expect(t.shape).toEqual([t.data.length]);
    for (let k = 0; k < t.data.length; k++, i++) if (bad < 0 && t.data[k] !== value(gen, i)) bad = i;
  }
  expect(bad, `generation ${gen}: value ${bad} is not ${value(gen, bad)}`).toBe(-1);
  return gen;
}

interface Trial {
  readonly delayMs: number;
  /** The generation that loads after the kill. */
  readonly gen: number;
  /** The last "writing G" and "wrote G" the writer printed before it died. */
  readonly started: number;
  readonly finished: number;
  /** A temp file of an unfinished write was left behind: the kill landed inside a write. */
  readonly torn: boolean;
}

async function trial(k: number, delayMs: number): Promise<Trial> {
  const sub = join(dir.path, `t${k}`);
  mkdirSync(sub);
  const file = join(sub, "last.ckpt");
  const child = start([file, String(FLOATS)], { script: WRITER });
  await child.waitForStdout(new RegExp(`^writing ${1 + (k % 2)}$`, "m")); // during the first or second big write
  if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
  child.kill("SIGKILL");
  const r = await child.done;
  expect(r.signal).toBe("SIGKILL");
  expect(r.stdout.startsWith("ready\n")).toBe(true);
  const last = (re: RegExp): number => Math.max(0, ...[...r.stdout.matchAll(re)].map((m) => Number(m[1])));
  const started = last(/^writing (\d+)$/gm);
  const finished = last(/^wrote (\d+)$/gm);

  // The checkpoint loads and is whole: the last finished generation, or the one in progress if the kill came
  // between its rename and its "wrote" line.
  const gen = wholeGeneration(file);
  expect([finished, started]).toContain(gen);

  // Leftovers: at most the killed write's temp file, hidden and not named *.ckpt. An unfinished one must not load.
  const names = readdirSync(sub).sort();
  expect(names.filter((n) => n.endsWith(".ckpt"))).toEqual(["last.ckpt"]);
  let torn = false;
  for (const n of names.filter((x) => x !== "last.ckpt")) {
    expect(n).toMatch(/^\.last\.ckpt\.tmp-\d+$/);
    let complete = false;
    try {
      readCheckpoint(join(sub, n));
      complete = true;
    } catch (e) {
      expect(e).toBeInstanceOf(CheckpointError);
      expect((e as Error).message).toMatch(/truncated|not an rnnc checkpoint/);
    }
    if (complete) expect(wholeGeneration(join(sub, n))).toBe(started); // written in full, killed before the rename
    else torn = true;
  }
  return { delayMs, gen, started, finished, torn };
}

describe("kill -9 during a checkpoint write", () => {
  it("leaves the previous checkpoint loadable and whole, never a torn file", async () => {
    const trials: Trial[] = [];
    // Kills right as a write begins and a little later; at least 4 trials, and more (up to 8) until one kill is
    // seen to have landed inside a write, the case under test.
    const delays = [0, 5, 20, 2, 10, 0, 40, 1];
    for (const [k, delay] of delays.entries()) {
      trials.push(await trial(k, delay));
      if (trials.length >= 4 && trials.some((t) => t.torn)) break;
    }
    expect(trials.some((t) => t.torn), `no kill landed inside a write: ${JSON.stringify(trials)}`).toBe(true);
    // A kill inside the write of generation G leaves generation G − 1: for G = 1, the small first checkpoint.
    for (const t of trials.filter((x) => x.torn)) expect(t.gen, JSON.stringify(t)).toBe(t.started - 1);
  }, 120_000);
});
