// `rnnc eval RUN_DIR --bptt N`: a language model evaluated on windows of another length than it trained on, as
// Cooijmans et al. 2017 evaluate on longer sequences (Figure 3b); steps beyond T_max use T_max's batch-norm
// statistics (test/runtime/normalization.test.ts checks that formula). A classifier refuses the flag.
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runClassifier } from "../../runtime/index.js";
import { expectExit, requireBuild, rnnc, ROOT, runDirOf, tempDir } from "./cli.js";

const SPEC = join(ROOT, "test/e2e/fixtures/eval-bptt/bn.rnn");
const runs = tempDir("eval-bptt");
let runDir = "";
let reported = "";

const figures = (stdout: string): string => /valid perplexity .*$/m.exec(stdout)?.[0] ?? "";

beforeAll(async () => {
  requireBuild();
  const r = await rnnc(["run", SPEC, "--backend", "wasm", "--runs", runs.path]);
  expectExit(r, 0);
  runDir = runDirOf(r);
  reported = figures(r.stdout);
}, 240_000);
afterAll(() => runs.remove());

describe("rnnc eval --bptt", () => {
  it("without it, gives the run's own figures; with it, evaluates windows of N steps and says so", async () => {
    const same = await rnnc(["eval", runDir, "--backend", "wasm"]);
    expectExit(same, 0);
    expect(figures(same.stdout)).toBe(reported);
    const longer = await rnnc(["eval", runDir, "--backend", "wasm", "--bptt", "32"]);
    expectExit(longer, 0);
    expect(longer.stdout).toMatch(/windows of 32 steps \(trained with 8\)/);
    expect(figures(longer.stdout)).toMatch(/^valid perplexity \d+\.\d+ {2}test perplexity \d+\.\d+$/);
    expect(figures(longer.stdout)).not.toBe(reported); // other windows, other state carried: other figures
  });

  it("refuses a length that is not a positive integer (usage, exit 2)", async () => {
    expectExit(await rnnc(["eval", runDir, "--bptt", "0"]), 2);
  });

  it("a classifier refuses it before loading anything: its sequences have one fixed length", async () => {
    const noData = { data: {}, training: {}, task: "classify" } as unknown as Parameters<typeof runClassifier>[0];
    await expect(runClassifier(noData, { runDir: join(runs.path, "c"), evalBptt: 100 })).rejects.toThrow(
      /--bptt applies to language models/,
    );
  });
});
