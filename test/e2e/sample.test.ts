// `rnnc sample`: text from trained language models. Word level on the committed Zaremba-small record (PTB, its
// best checkpoint: the vocabulary comes from the data set, so this needs RNNC_DATA); character level on a model
// trained here on a corpus where every line is "abcd" repeated, which it learns to continue.
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectExit, requireBuild, rnnc, ROOT, runDirOf, tempDir } from "./cli.js";
import { dataRoot } from "../../runtime/data/locate.js";

const tmp = tempDir("sample");
const SMALL = join(ROOT, "runs/zaremba_small/20261202-134128");
let charRun = "";

beforeAll(async () => {
  requireBuild();
  const corpus = join(tmp.path, "corpus");
  mkdirSync(corpus);
  const lines = (n: number) => Array.from({ length: n }, (_, k) => "abcd".repeat(5 + (k % 4))).join("\n") + "\n";
  for (const [f, n] of [
    ["train.txt", 800],
    ["valid.txt", 40],
    ["test.txt", 40],
  ] as const)
    writeFileSync(join(corpus, f), lines(n));
  writeFileSync(
    join(tmp.path, "chars.rnn"),
    `experiment chars {
  data text "corpus" { level char  batch 16  bptt 20  eval_batch 16  test_batch 16 }
  model { layers 1 lstm(32) }
  train { epochs 3  optimizer adam(lr = 0.01)  clip 1 }
}
`,
  );
  const r = await rnnc(["run", join(tmp.path, "chars.rnn"), "--threads", "1", "--runs", join(tmp.path, "runs")]);
  expectExit(r, 0);
  // `level char` reaches the runtime: characters are the tokens, measured in bits (it once trained on whole lines)
  expect(r.stdout).toMatch(/valid bpc \d/);
  charRun = runDirOf(r);
}, 300_000);
afterAll(() => tmp.remove());

describe("rnnc sample", () => {
  it("characters: continues the pattern it learned, from a prime; the same seed gives the same text", async () => {
    const args = ["sample", charRun, "--prime", "abcdab", "--tokens", "30", "--temperature", "0.2", "--seed", "3"];
    const a = await rnnc(args);
    expectExit(a, 0);
    expect(a.stdout.startsWith("abcdab")).toBe(true);
    expect(a.stdout.slice(6, 12)).toBe("cdabcd");
    expect(a.stdout.trimEnd().replace(/\n/g, "").length).toBeGreaterThanOrEqual(6 + 20); // 30 tokens, line ends included
    expect((await rnnc(args)).stdout).toBe(a.stdout);
  }, 60_000);

  it("characters: a higher temperature and another seed change the draw", async () => {
    const base = ["sample", charRun, "--tokens", "60", "--temperature", "3"];
    const a = await rnnc([...base, "--seed", "1"]);
    const b = await rnnc([...base, "--seed", "2"]);
    expectExit(a, 0);
    expectExit(b, 0);
    expect(a.stdout).not.toBe(b.stdout);
  }, 60_000);

  it.skipIf(!existsSync(join(dataRoot(), "ptb", "ptb.train.txt")))(
    "words: the committed Zaremba-small run writes PTB-like text, <unk> standing for words outside its vocabulary",
    async () => {
      const r = await rnnc(["sample", SMALL, "--prime", "the zyzzyvas said", "--tokens", "40", "--threads", "1"]);
      expectExit(r, 0);
      expect(r.stdout.startsWith("the <unk> said ")).toBe(true);
      const words = r.stdout.trim().split(/\s+/);
      expect(words.length).toBeGreaterThanOrEqual(3 + 30); // 40 tokens, some of them line ends
      const vocab = new Set(readFileSync(join(dataRoot(), "ptb/ptb.train.txt"), "utf8").split(/\s+/));
      expect(words.every((w) => vocab.has(w))).toBe(true);
    },
    120_000,
  );

  it("refuses what it cannot do, with a message: a classifier, a missing checkpoint, a bad temperature", async () => {
    const cls = join(tmp.path, "classifier");
    cpSync(charRun, cls, { recursive: true });
    const ir = JSON.parse(readFileSync(join(cls, "ir.json"), "utf8"));
    writeFileSync(join(cls, "ir.json"), JSON.stringify({ ...ir, task: { kind: "classify", classes: 10 } }));
    const c = await rnnc(["sample", cls]);
    expectExit(c, 1);
    expect(c.stderr).toMatch(/only a language model generates text/);
    const m = await rnnc(["sample", charRun, "--checkpoint", join(tmp.path, "nope.ckpt")]);
    expectExit(m, 1);
    expect(m.stderr).toMatch(/nope\.ckpt does not exist/);
    const t = await rnnc(["sample", charRun, "--temperature", "0"]);
    expectExit(t, 2);
    expect(t.stderr).toMatch(/expected a number > 0/);
  });
});
