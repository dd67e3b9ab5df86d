// Run directories are files on disk that anyone may edit, truncate or half-delete: `rnnc eval`, `rnnc run --resume`
// and `rnnc diff` on a damaged one say which file is wrong and exit 1, never an internal error (exit 3). A run that
// fails before training begins leaves no run directory. A run records the data folder it read, and eval and
// --resume find the data there when neither --data nor RNNC_DATA says otherwise.
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { isAbsolute, join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dataRoot } from "../../runtime/data/locate.js";
import { expectExit, lastLine, requireBuild, rnnc, ROOT, runDirOf, tempDir, type Result } from "./cli.js";

const tmp = tempDir("damaged");
afterAll(() => tmp.remove());

// One quick run (two windows of a small quickstart), copied and damaged in each test.
const QUICK = [
  "examples/quickstart.rnn",
  "--set",
  "data.tokens=24000",
  "--set",
  "model.layers=1 lstm(16)",
  "--epochs",
  "1",
  "--limit-batches",
  "2",
  "--backend",
  "wasm",
  "--threads",
  "1",
];
let dir = "";
let n = 0;

beforeAll(async () => {
  requireBuild();
  const r = await rnnc(["run", ...QUICK, "--runs", join(tmp.path, "runs")]);
  expectExit(r, 0);
  dir = runDirOf(r);
}, 120_000);

/** A copy of the run directory, with `damage` done to it. */
function copy(damage: (d: string) => void): string {
  const d = join(tmp.path, `copy-${n++}`);
  cpSync(dir, d, { recursive: true, verbatimSymlinks: true });
  damage(d);
  return d;
}

/** Exit 1, one line naming the file, on eval and on --resume alike. */
async function expectRefused(
  d: string,
  message: RegExp,
  commands: readonly ("eval" | "resume")[] = ["eval", "resume"],
): Promise<void> {
  for (const c of commands) {
    const r: Result = await rnnc(c === "eval" ? ["eval", d] : ["run", "--resume", d]);
    expectExit(r, 1);
    expect(r.stderr).toMatch(new RegExp(`^rnnc ${c === "eval" ? "eval" : "run"}: ${message.source}`, "m"));
  }
}

describe("a damaged run directory: exit 1 naming the file", () => {
  it("run.json that is not JSON, or has a field of the wrong type", async () => {
    await expectRefused(
      copy((d) => writeFileSync(join(d, "run.json"), '{"epochs": 1,')),
      /\S+\/run\.json is damaged: it is not valid JSON \(/,
    );
    await expectRefused(
      copy((d) => writeFileSync(join(d, "run.json"), '{"epochs": "many"}')),
      /\S+\/run\.json is damaged: "epochs" must be a positive integer, not "many"$/,
    );
    await expectRefused(
      copy((d) => writeFileSync(join(d, "run.json"), "[1, 2]")),
      /\S+\/run\.json is damaged: it is not a JSON object$/,
    );
  }, 60_000);

  it("model.mjs cut short, or edited into a module that throws", async () => {
    await expectRefused(
      copy((d) =>
        writeFileSync(
          join(d, "model.mjs"),
          ((t) => t.slice(0, t.length >> 1))(readFileSync(join(d, "model.mjs"), "utf8")),
        ),
      ),
      /\S+\/model\.mjs was changed after rnnc run wrote it, and it fails: /,
    );
    await expectRefused(
      copy((d) =>
        writeFileSync(join(d, "model.mjs"), 'export async function run() { throw new TypeError("edited"); }\n'),
      ),
      /\S+\/model\.mjs was changed after rnnc run wrote it, and it fails: edited$/,
    );
    await expectRefused(
      copy((d) => writeFileSync(join(d, "model.mjs"), "export const x = 1;\n")),
      /\S+\/model\.mjs is not a module rnnc generated: it exports no run\(\)$/,
    );
  }, 60_000);

  it("checkpoints removed: named as missing, not 'no epoch has finished'", async () => {
    const d = copy((d) => ["best.ckpt", "last.ckpt"].forEach((f) => rmSync(join(d, f))));
    let r = await rnnc(["eval", d]);
    expectExit(r, 1);
    expect(r.stderr).toBe(
      `rnnc eval: ${join(d, "best.ckpt")} is missing, though ${join(d, "metrics.jsonl")} records 1 finished epoch: the checkpoint was removed; ${join(d, "last.ckpt")} is missing too\n`,
    );
    r = await rnnc(["run", "--resume", d]);
    expectExit(r, 1);
    expect(r.stderr).toBe(
      `rnnc run: cannot resume: ${join(d, "last.ckpt")} is missing, though ${join(d, "metrics.jsonl")} records 1 finished epoch: the checkpoint was removed; ${join(d, "best.ckpt")} is missing too\n`,
    );
    // Only best.ckpt gone: the way on is last.ckpt.
    const e = copy((d) => rmSync(join(d, "best.ckpt")));
    r = await rnnc(["eval", e]);
    expectExit(r, 1);
    expect(r.stderr).toContain("the checkpoint was removed; --checkpoint last evaluates the latest weights");
  }, 60_000);

  it("a checkpoint that is a folder or a device: refused unread (/dev/zero would be read forever)", async () => {
    for (const [file, what] of [
      [tmp.path, "a folder"],
      ["/dev/zero", "not a regular file"],
    ] as const) {
      if (!existsSync(file)) continue;
      const r = await rnnc(["eval", dir, "--checkpoint", file], { killMs: 30_000 });
      expectExit(r, 1);
      expect(r.stderr).toBe(`rnnc eval: ${file} is not a checkpoint file: it is ${what}\n`);
    }
    const d = copy((d) => {
      rmSync(join(d, "last.ckpt"));
      mkdirSync(join(d, "last.ckpt"));
    });
    const r = await rnnc(["run", "--resume", d]);
    expectExit(r, 1);
    expect(r.stderr).toBe(`rnnc run: ${join(d, "last.ckpt")} is not a checkpoint file: it is a folder\n`);
  }, 60_000);

  it("diff of a run whose ir.json or metrics.jsonl has another shape", async () => {
    const d = copy((d) =>
      writeFileSync(
        join(d, "ir.json"),
        JSON.stringify({ name: "x", origins: {}, model: { layers: 3 }, train: {}, source: { file: "a.rnn" } }),
      ),
    );
    let r = await rnnc(["diff", d, dir]);
    expectExit(r, 1);
    expect(r.stderr).toMatch(/^rnnc diff: \S+\/ir\.json is not an experiment's IR \(/);
    // Lines that are JSON but not records (null, a number) are skipped like lines cut by a kill.
    const e = copy((d) =>
      writeFileSync(join(d, "metrics.jsonl"), `null\n5\n"x"\n${readFileSync(join(d, "metrics.jsonl"), "utf8")}`),
    );
    r = await rnnc(["diff", e, dir]);
    expectExit(r, 0);
    expect(r.stdout).toContain("no semantic difference");
  }, 60_000);
});

describe("a run that fails before training begins leaves no run directory", () => {
  it("missing data: the error, and the runs folder as it was", async () => {
    const runs = join(tmp.path, "runs-no-data");
    const r = await rnnc([
      "run",
      "examples/zaremba-2014/small.rnn",
      "--data",
      join(tmp.path, "no-data"),
      "--epochs",
      "1",
      "--limit-batches",
      "1",
      "--runs",
      runs,
    ]);
    expectExit(r, 1);
    expect(r.stderr).toMatch(/^rnnc run: Data set "ptb" is not complete\./m);
    expect(r.stderr).toMatch(/^rnnc run: removed \S+: the run stopped before training began$/m);
    expect(existsSync(runs), "the runs folder it made is gone too").toBe(false);
  }, 60_000);

  // Node's recursive mkdir loops forever under /proc; the data folder is made one level at a time instead.
  it.skipIf(!existsSync("/proc/self"))(
    "a data folder under /proc: an error at once, not a hang",
    async () => {
      const runs = join(tmp.path, "runs-proc-data");
      const r = await rnnc(
        [
          "run",
          "examples/zaremba-2014/small.rnn",
          "--data",
          "/proc/rnnc-data",
          "--epochs",
          "1",
          "--limit-batches",
          "1",
          "--runs",
          runs,
        ],
        { killMs: 60_000 },
      );
      expectExit(r, 1);
      expect(r.stderr).toContain("Cannot create /proc/rnnc-data/ptb to download into: ");
      expect(existsSync(runs)).toBe(false);
    },
    90_000,
  );

  const hasTfjsNode = ["@tensorflow/tfjs-node", "@tensorflow/tfjs-node-gpu"].some((p) => {
    try {
      createRequire(join(ROOT, "package.json")).resolve(p);
      return true;
    } catch {
      return false;
    }
  });
  it.skipIf(hasTfjsNode)(
    "a backend that is not installed: the error, and an existing runs folder left as it was",
    async () => {
      const runs = join(tmp.path, "runs-backend");
      cpSync(join(tmp.path, "runs"), runs, { recursive: true, verbatimSymlinks: true });
      const before = readdirSync(join(runs, "quickstart"));
      const r = await rnnc([
        "run",
        ...QUICK.filter((a) => a !== "wasm" && a !== "--backend"),
        "--backend",
        "tensorflow",
        "--runs",
        runs,
      ]);
      expectExit(r, 1);
      expect(r.stderr).toContain(
        "rnnc run: backend 'tensorflow' needs @tensorflow/tfjs-node-gpu or @tensorflow/tfjs-node",
      );
      expect(readdirSync(join(runs, "quickstart"))).toEqual(before);
    },
    60_000,
  );
});

// The data root as rnnc finds it (RNNC_DATA, else the per-user cache).
const data = dataRoot();
describe.skipIf(!existsSync(join(data, "ptb", "ptb.train.txt")))("the data folder a run used", () => {
  it("is recorded, and eval and --resume use it when neither --data nor RNNC_DATA is given; --data still wins", async () => {
    // A tiny PTB model through RNNC_DATA, one window of training and of each evaluation.
    const noCache = { XDG_CACHE_HOME: join(tmp.path, "empty-cache"), RNNC_DATA: "" };
    const tiny = [
      "examples/zaremba-2014/small.rnn",
      "--set",
      "model.layers=1 lstm(16)",
      "--set",
      "model.embed=16",
      "--epochs",
      "1",
      "--limit-batches",
      "1",
      "--backend",
      "wasm",
      "--threads",
      "1",
    ];
    const r = await rnnc(["run", ...tiny, "--runs", join(tmp.path, "runs-ptb")], { env: { RNNC_DATA: data } });
    expectExit(r, 0);
    const d = runDirOf(r);
    // Stored relative to the run directory, so that a run directory means the same on another machine.
    const stored = (JSON.parse(readFileSync(join(d, "run.json"), "utf8")) as { data: string }).data;
    expect(isAbsolute(stored)).toBe(false);
    expect(resolve(d, stored)).toBe(resolve(data));
    const ev = await rnnc(["eval", d], { env: noCache });
    expectExit(ev, 0);
    expect(lastLine(ev.stdout)).toBe(lastLine(r.stdout));
    const wrong = join(tmp.path, "no-ptb-here");
    const ev2 = await rnnc(["eval", d, "--data", wrong], { env: noCache });
    expectExit(ev2, 1);
    expect(ev2.stderr).toContain(`Expected folder: ${join(wrong, "ptb")}`);
    const re = await rnnc(["run", "--resume", d, "--epochs", "2"], { env: noCache });
    expectExit(re, 0);
  }, 180_000);
});
