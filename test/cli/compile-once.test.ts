// Each command compiles its spec file once: `rnnc build` compiled it twice (once to list its experiments, once to
// build), `rnnc run` again for every point of a sweep, `--set` read the spec again for its override compile, and
// `rnnc diff` compiled one file once per side. Counted here as reads through the workspace's host (the real file
// system, counted): one compile reads each file once, so a second compile shows as a second read.
import { describe, expect, it } from "vitest";
import { build } from "../../compiler/cli/build.js";
import { diff, type Workspace } from "../../compiler/cli/commands.js";
import { fsHost } from "../../compiler/cli/fs-host.js";

/** The real host, counting the reads of each file. */
function counting(): { ws: Workspace; reads: Map<string, number> } {
  const host = fsHost();
  const reads = new Map<string, number>();
  const ws: Workspace = {
    host: {
      resolve: host.resolve,
      readFile: (p) => {
        reads.set(p, (reads.get(p) ?? 0) + 1);
        return host.readFile(p);
      },
    },
    expand: (p) => [...p],
    writeText: () => {},
  };
  return { ws, reads };
}

const SWEEP = "test/cli/fixtures/lr-sweep.rnn";
const plain = { color: false };

describe("one compile per command", () => {
  it("rnnc build SPEC reads the spec once", async () => {
    const { ws, reads } = counting();
    const r = await build(ws, "examples/quickstart.rnn", { set: [] }, plain, {});
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain("export class QuickstartModel");
    expect(Object.fromEntries(reads)).toEqual({ "examples/quickstart.rnn": 1 });
  });

  it("rnnc build of a file of several experiments (a sweep) reads it once for all of them", async () => {
    const { ws, reads } = counting();
    const r = await build(ws, SWEEP, { set: [] }, plain, {});
    expect(r.exitCode).toBe(0);
    expect(r.stdout.match(/^\/\/ DO NOT EDIT/gm)).toHaveLength(3);
    expect(Object.fromEntries(reads)).toEqual({ [SWEEP]: 1 });
  });

  it("--set reads the spec and its bases once: the override compile is served what the spec's compile read", async () => {
    const { ws, reads } = counting();
    const r = await build(ws, "examples/zaremba-2014/medium.rnn", { set: ["train.epochs=2"] }, plain, {});
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/epochs: 2, \/\/ \(--set\.rnn:\d+\)/);
    expect(Object.fromEntries(reads)).toEqual({
      "examples/zaremba-2014/medium.rnn": 1,
      "examples/zaremba-2014/small.rnn": 1,
    });
  });

  it("rnnc diff of two experiments of one file reads it once", () => {
    const { ws, reads } = counting();
    const r = diff(ws, `${SWEEP}#base`, `${SWEEP}#lr_sweep[lr=0.5]`, { json: true }, plain);
    expect(r.exitCode).toBe(0);
    expect(JSON.parse(r.stdout).equal).toBe(false);
    expect(Object.fromEntries(reads)).toEqual({ [SWEEP]: 1 });
  });
});
