// Checkpoints you can trust, through the CLI and real training (the quickstart, small):
// - `rnnc run` SIGKILLed inside the save at the end of its last epoch, a new best (RNNC_TEST_CHECKPOINT_KILL, at
//   steps found from the uninterrupted run's trace), then `rnnc run --resume`: the resumed run reports exactly the
//   uninterrupted run's best epoch and final figures, and best.ckpt holds that epoch's weights, bit for bit. Once
//   killed with the new best staged and last.ckpt half written (the save is dropped and the epoch retrained), once
//   right after last.ckpt committed it (the save is finished). The old write order (last.ckpt, then best.ckpt)
//   reported epoch 3 but evaluated epoch 2's weights after the second kill.
// - A tensor's bytes overwritten (same size) in last.ckpt or best.ckpt: `rnnc eval` and `rnnc run --resume` exit 1
//   naming the file and the tensor, nothing is trained, and no file of the run directory changes.
// - A format-1 checkpoint (before checksums) is still evaluated, with a note.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFileSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readCheckpoint } from "../../runtime/train/checkpoint.js";
import { flipBytes, tensorBytes, toFormatOne } from "../runtime/checkpoint-files.js";
import {
  cloneRunDir,
  expectExit,
  lastLine,
  readMetrics,
  requireBuild,
  rnnc,
  runDirOf,
  tempDir,
  type Result,
} from "./cli.js";

const ARGS = [
  "run",
  "examples/quickstart.rnn",
  "--set",
  "data.tokens=24000",
  "--set",
  "data.batch=8",
  "--set",
  "data.bptt=16",
  "--set",
  "model.layers=1 lstm(32)",
  "--epochs",
  "3",
  "--limit-batches",
  "40",
  "--backend",
  "wasm",
];

const tmp = tempDir("ckpt-trust");
let a: Result;
let dirA = "";
/** The uninterrupted run's checkpoint steps, in order (runtime/train/checkpoint.ts's trace). */
let steps: string[] = [];

beforeAll(async () => {
  requireBuild();
  a = await rnnc([...ARGS, "--runs", join(tmp.path, "a")], { env: { RNNC_TEST_CHECKPOINT_TRACE: "1" } });
  expectExit(a, 0);
  dirA = runDirOf(a);
  steps = [...a.stderr.matchAll(/^checkpoint step (\d+): (.*)$/gm)].map((m, i) => {
    expect(Number(m[1])).toBe(i + 1);
    return m[2]!;
  });
}, 300_000);
afterAll(() => tmp.remove());

/** The 1-based number of the last step matching `re`. */
const lastStep = (re: RegExp): number => steps.reduce((at, s, i) => (re.test(s) ? i + 1 : at), 0);
const bytes = (file: string): Buffer => readFileSync(file);
const TEMP = /^\..+\.tmp-\d+$/;

describe("rnnc run killed inside the save of a new best, then resumed", () => {
  it("the last epoch is a new best (else these kills would not test the case)", () => {
    const epochs = readMetrics(dirA).filter((m) => m.event === "epoch");
    expect(epochs.map((m) => m["best"])).toEqual([true, true, true]);
    expect(readMetrics(dirA).find((m) => m.event === "final")!["bestEpoch"]).toBe(3);
  });

  const cases = [
    {
      what: "new best staged, last.ckpt half written: the save is dropped and epoch 3 retrained",
      // two tensors into the temp file of the last save's last.ckpt
      step: () => lastStep(/^open \.last\.ckpt\.tmp-\d+$/) + 3,
      note: /^dropped .*\.best\.ckpt\.next, the best checkpoint of a save that a kill interrupted before it was committed$/m,
      temps: 1,
      evalNote: null,
    },
    {
      what: "last.ckpt committed, best.ckpt not yet renamed: the save is finished",
      step: () => lastStep(/^rename \.last\.ckpt\.tmp-\d+ to last\.ckpt$/),
      note: /^finished the save of .*best\.ckpt \(epoch 3\) that a kill interrupted$/m,
      temps: 0,
      // Before the resume, `rnnc eval` evaluates best.ckpt as it is, and says that a newer one waits.
      evalNote:
        /^note: the run stopped while saving a newer best checkpoint \(epoch 3\); this evaluates .*best\.ckpt as it is \(epoch 2\)\. rnnc run --resume .* puts the newer one in place\.$/m,
    },
  ];
  for (const c of cases)
    it(
      c.what,
      async () => {
        const k = c.step();
        expect(k).toBeGreaterThan(0);
        const b = await rnnc([...ARGS, "--runs", join(tmp.path, `k${k}`)], {
          env: { RNNC_TEST_CHECKPOINT_KILL: String(k) },
        });
        expect(b.signal, b.stderr.slice(-2000)).toBe("SIGKILL");
        const pidless = (t: string): string => t.replace(/tmp-\d+/g, "tmp-PID"); // the temp files carry the writer's PID
        expect(pidless(b.stderr)).toContain(pidless(`killed after checkpoint step ${k}: ${steps[k - 1]}`));
        const dir = runDirOf(b);
        expect(readdirSync(dir).filter((f) => TEMP.test(f))).toHaveLength(c.temps);
        if (c.evalNote) {
          const e = await rnnc(["eval", dir]);
          expectExit(e, 0);
          expect(e.stderr).toMatch(c.evalNote);
          expect(e.stdout.split("\n")[0]).toMatch(/best\.ckpt: after epoch 2; /);
        }

        const r = await rnnc(["run", "--resume", dir]);
        expectExit(r, 0);
        expect(r.stderr).toMatch(c.note);
        if (c.temps) expect(r.stderr).toMatch(/^removed 1 temp file\(s\) of an unfinished checkpoint write in /m);
        // The uninterrupted run's figures and best epoch; best.ckpt is its best.ckpt, bit for bit.
        expect(lastLine(r.stdout)).toBe(lastLine(a.stdout));
        expect(r.stdout).toMatch(/; best epoch 3$/m);
        expect(
          readMetrics(dir)
            .filter((m) => m.event === "final")
            .map((m) => m["bestEpoch"]),
        ).toEqual([3]);
        const best = readCheckpoint<{ bestEpoch: number }>(join(dir, "best.ckpt"));
        expect(best.meta.bestEpoch).toBe(3);
        // (Not its digest: the metadata holds wall-clock seconds.)
        const want = readCheckpoint(join(dirA, "best.ckpt")).tensors;
        expect(best.tensors.map((t) => t.name)).toEqual(want.map((t) => t.name));
        best.tensors.forEach((t, i) =>
          expect(
            Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength).equals(
              Buffer.from(want[i]!.data.buffer, want[i]!.data.byteOffset, want[i]!.data.byteLength),
            ),
            t.name,
          ).toBe(true),
        );
        expect(readCheckpoint(join(dir, "last.ckpt")).best).toBe(best.digest);
        expect(readdirSync(dir).filter((f) => f.startsWith("."))).toEqual([]);
      },
      300_000,
    );
});

/** A copy of run A's directory, checkpoints and records included. */
function copyOfA(name: string): string {
  const dir = join(tmp.path, name);
  cloneRunDir(dirA, dir);
  for (const f of ["last.ckpt", "best.ckpt", "metrics.jsonl", "env.json"]) copyFileSync(join(dirA, f), join(dir, f));
  return dir;
}

/** Every file of a run directory with its size, modification time and content hash. */
function listing(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f !== "node_modules")
    .sort()
    .map(
      (f) =>
        `${f} ${statSync(join(dir, f)).size} ${statSync(join(dir, f)).mtimeMs} ${createHash("sha256")
          .update(bytes(join(dir, f)))
          .digest("hex")}`,
    );
}

describe("a checkpoint whose tensor bytes were overwritten (same size)", () => {
  for (const which of ["last", "best"] as const)
    it(`${which}.ckpt: rnnc eval and rnnc run --resume exit 1 naming the file and the tensor; nothing changes`, async () => {
      const dir = copyOfA(`corrupt-${which}`);
      const file = join(dir, `${which}.ckpt`);
      const tensor = "param/layer1.U";
      const at = tensorBytes(file, tensor);
      flipBytes(file, at.offset + Math.floor(at.bytes / 2), 4);
      const damaged = bytes(file);
      // A temp file of a writer that is gone: eval removes it, as it is cheap and safe.
      const dead = spawnSync(process.execPath, ["-e", ""]).pid!;
      writeFileSync(join(dir, `.last.ckpt.tmp-${dead}`), "torn");
      const message = `${file} is corrupt: tensor ${tensor} fails its SHA-256 check (the file changed after it was written); it was not loaded`;

      const before = listing(dir).filter((f) => !TEMP.test(f.split(" ")[0]!));
      const e = await rnnc(["eval", dir, "--checkpoint", which]);
      expectExit(e, 1);
      expect(e.stderr).toBe(`rnnc eval: ${message}\n`);
      expect(listing(dir)).toEqual(before); // the dead writer's temp file is gone, nothing else changed

      // --epochs 4: were it not refused, it would train a fourth epoch.
      const r = await rnnc(["run", "--resume", dir, "--epochs", "4"]);
      expectExit(r, 1);
      expect(r.stderr).toBe(`rnnc run: ${message}. Nothing was trained, and no checkpoint was changed.\n`);
      expect(r.stdout).toBe("");
      expect(listing(dir)).toEqual(before);
      expect(bytes(file).equals(damaged)).toBe(true);
    }, 120_000);
});

describe("a format-1 checkpoint (before checksums)", () => {
  it("is evaluated, with a note that it cannot be verified", async () => {
    const dir = copyOfA("format-1");
    toFormatOne(join(dirA, "best.ckpt"), join(dir, "best.ckpt"));
    const r = await rnnc(["eval", dir]);
    expectExit(r, 0);
    expect(r.stderr).toContain(
      `note: ${join(dir, "best.ckpt")} is a format-1 checkpoint (written before rnnc checksummed its checkpoints): its tensors cannot be verified, only checked for non-finite values\n`,
    );
    expect(lastLine(r.stdout)).toBe(lastLine(a.stdout));
  }, 120_000);
});
