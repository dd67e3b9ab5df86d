import { describe, expect, it } from "vitest";
import { diff } from "../../compiler/cli/commands.js";
import { fsHost } from "../../compiler/cli/fs-host.js";
import { expectGolden } from "../golden.js";

const DIR = "test/compiler/diff";
const ws = { host: fsHost(), expand: (p: readonly string[]) => [...p], writeText: () => {} };
const run = (a: string, b: string, json = false) => diff(ws, a, b, { json }, { color: false });

describe("rnnc diff", () => {
  it.each([
    ["formatting, comments, names and `1.0` vs `1`", "reformatted.rnn"],
    ["an `extends` chain that resolves to the same values", "inherited.rnn"],
  ])("shows no difference for %s", (_, other) => {
    const out = run(`${DIR}/flat.rnn`, `${DIR}/${other}`);
    expect(out.exitCode).toBe(0);
    expect(out.stdout).toContain("no semantic difference");
    expectGolden(`${DIR}/flat-vs-${other.replace(".rnn", "")}.expected`, out.stdout);
  });

  it("reports added, removed and changed settings with where they came from", () => {
    const out = run(`${DIR}/flat.rnn`, `${DIR}/changed.rnn`);
    expect(out.stdout).toMatch(/- between\s+0.5 per_step/);
    expect(out.stdout).toMatch(/\+ recurrent\s+0.2 variational\s+\(test\/compiler\/diff\/changed.rnn:4\)/);
    expectGolden(`${DIR}/flat-vs-changed.expected`, out.stdout);
  });

  it("has a JSON form", () => {
    const out = run(`${DIR}/flat.rnn`, `${DIR}/changed.rnn`, true);
    const doc = JSON.parse(out.stdout) as { equal: boolean; differences: { setting: string; kind: string }[] };
    expect(doc.equal).toBe(false);
    expect(doc.differences.find((d) => d.setting === "dropout.weight")?.kind).toBe("added");
    expectGolden(`${DIR}/flat-vs-changed.json.expected`, out.stdout);
  });

  it("is symmetric in what it lists", () => {
    const ab = JSON.parse(run(`${DIR}/flat.rnn`, `${DIR}/changed.rnn`, true).stdout) as { differences: { setting: string; kind: string }[] };
    const ba = JSON.parse(run(`${DIR}/changed.rnn`, `${DIR}/flat.rnn`, true).stdout) as { differences: { setting: string; kind: string }[] };
    const flip = { added: "removed", removed: "added", changed: "changed" } as Record<string, string>;
    expect(ba.differences.map((d) => [d.setting, d.kind]).sort()).toEqual(ab.differences.map((d) => [d.setting, flip[d.kind]]).sort());
  });
});
