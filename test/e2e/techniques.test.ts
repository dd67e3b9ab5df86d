// Each technique, end to end on real PTB (and WikiText-2): `rnnc run SPEC --limit-batches 2 --epochs 1` builds the
// example, trains two windows, evaluates, and prints the result, exit 0. One example per technique: the methods/
// specs (H = 200) and the Merity et al. 2017 AR/TAR specs at h = 650 (LSTM, GRU, tanh RNN, WikiText-2). The h = 950
// and 1500 variants and the sweeps' other points only change sizes and coefficients: codegen.test.ts builds and
// type-checks all of them. Skipped, not failed, where the data is not at hand (RNNC_DATA, else ../shared/data).
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectExit, readMetrics, requireBuild, rnnc, ROOT, runDirOf, tempDir } from "./cli.js";

const data = resolve(ROOT, process.env["RNNC_DATA"] ?? "../shared/data");
const has = (set: string): boolean => existsSync(join(data, set));
const tmp = tempDir("techniques");
beforeAll(requireBuild);
afterAll(() => tmp.remove());

const SPECS: [string, string][] = [
  ["examples/methods/base.rnn", "ptb"],
  ["examples/methods/variational.rnn", "ptb"],
  ["examples/methods/naive-recurrent-dropout.rnn", "ptb"],
  ["examples/methods/weight-drop.rnn", "ptb"],
  ["examples/methods/zoneout.rnn", "ptb"],
  ["examples/methods/embedding-dropout.rnn", "ptb"],
  ["examples/merity-2017/table3-650-artar.rnn", "ptb"],
  ["examples/merity-2017/table6-gru-artar.rnn", "ptb"],
  ["examples/merity-2017/table6-rnn-artar.rnn", "ptb"],
  ["examples/merity-2017/table4-wt2-artar.rnn", "wikitext-2"],
];

describe.concurrent("every technique trains a few windows end to end", () => {
  it.each(SPECS)("%s", async (spec, set) => {
    if (!has(set)) return; // no data here: nothing to run
    const r = await rnnc(["run", spec, "--limit-batches", "2", "--epochs", "1", "--threads", "1", "--data", data, "--runs", tmp.path]);
    expectExit(r, 0);
    expect(r.stdout).toMatch(/valid perplexity \S+ {2}test perplexity \S+/);
    const epochs = readMetrics(runDirOf(r)).filter((m) => m.event === "epoch");
    expect(epochs).toHaveLength(1);
    expect(Number.isFinite(epochs[0]!["trainLoss"] as number)).toBe(true); // two windows cannot have diverged yet
  }, 120_000);
});
