// `model { initial_state learned }` end to end (Cooijmans et al. 2017, §2.1: "the initial states h0 ∈ R^dh,
// c0 ∈ R^dh are model parameters"): the generated layers take the option, training moves h_0 and c_0 of every
// layer away from their zero start, and the checkpoint holds them, so resume and eval get them back.
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readCheckpoint } from "../../runtime/train/checkpoint.js";
import { expectExit, requireBuild, rnnc, ROOT, runDirOf, tempDir } from "./cli.js";

const SPEC = join(ROOT, "test/e2e/fixtures/initial-state/learned.rnn");
const runs = tempDir("learned-start");

beforeAll(() => requireBuild());
afterAll(() => runs.remove());

describe("initial_state learned", () => {
  it("rnnc build passes it to every layer, with its paper and origin", async () => {
    const r = await rnnc(["build", SPEC]);
    expectExit(r, 0);
    const layers = r.stdout.match(/new RecurrentLayer\([^;]*initialState: "learned"/g) ?? [];
    expect(layers).toHaveLength(2);
    expect(r.stdout).toMatch(/\/\/ +initial_state learned \(learned\.rnn:6\): .*\(Cooijmans et al\. 2017 §2\.1\)/);
  });

  it("rnnc run trains h_0 and c_0 of both layers and checkpoints them", async () => {
    const r = await rnnc([
      "run",
      SPEC,
      "--set",
      "data.tokens=24000",
      "--epochs",
      "1",
      "--limit-batches",
      "4",
      "--backend",
      "wasm",
      "--runs",
      runs.path,
    ]);
    expectExit(r, 0);
    const ck = readCheckpoint(join(runDirOf(r), "last.ckpt"));
    for (const name of ["layer1.h0", "layer1.c0", "layer2.h0", "layer2.c0"]) {
      const t = ck.tensors.find((x) => x.name.endsWith(name));
      expect(t, name).toBeDefined();
      expect(t!.shape).toEqual([32]);
      // They start at zero; the first window's gradient moved them (Adam, lr 0.02: about 0.02 per unit)
      expect(Math.max(...Array.from(t!.data, Math.abs)), name).toBeGreaterThan(1e-3);
    }
  });
});
