// `--set block.key=value` overrides are compiled as a generated spec that extends the experiment; their
// diagnostics must point at the arguments as the user typed them (`--> --set:K:COL`, K the K-th --set), whatever
// order the generated spec puts them in (it groups them by block).
import { describe, expect, it } from "vitest";
import type { Outcome } from "../../compiler/cli/commands.js";
import { fsHost } from "../../compiler/cli/fs-host.js";
import { isOutcome, prepare } from "../../compiler/cli/prepare.js";

const ws = { host: fsHost(), expand: (p: readonly string[]) => [...p], writeText: () => {} };
const stderrOf = async (sets: string[]): Promise<string> => {
  const p = await prepare(ws, "examples/quickstart.rnn", sets, { color: false }, {}, "build");
  expect(isOutcome(p)).toBe(true);
  return (p as Outcome).stderr;
};

describe("diagnostics of --set overrides", () => {
  it("point at the argument that caused them, across blocks and in any order", async () => {
    // Arguments 1 and 3 are both `train` settings: the generated spec puts them together, after `data`.
    const err = await stderrOf(["train.clip=-1", "data.batch=8", "train.epoch=3"]);
    expect(err).toContain(" --> --set:1:12\n  |\n1 | train.clip=-1\n  |            ^^\n");
    expect(err).toContain(" --> --set:3:7\n  |\n3 | train.epoch=3\n  |       ^^^^^\n");
    expect(err).not.toContain("--set.rnn");
  });

  it("a misspelled key is suggested from the schema, whatever block it is in", async () => {
    // The keys a `--set` may name are the schema's (compiler/schema/settings.ts): no list of the CLI's own.
    expect(await stderrOf(["model.forget_bais=1"])).toContain(
      "unknown setting 'forget_bais' in model; did you mean 'forget_bias'?",
    );
    expect(await stderrOf(["dropout.zonout=0.1"])).toContain("did you mean 'zoneout'?");
  });

  it("task.kind=VALUE: the caret under the value", async () => {
    const err = await stderrOf(["task.kind=classify"]);
    expect(err).toContain(" --> --set:1:11\n  |\n1 | task.kind=classify\n  |           ^^^^^^^^\n");
  });

  it("surrounding spaces are dropped from the shown argument, and the columns follow", async () => {
    const err = await stderrOf(["  data.tokens=0 "]);
    expect(err).toContain(" --> --set:1:13\n  |\n1 | data.tokens=0\n");
  });

  it("a valid override compiles to the experiment with it applied", async () => {
    const p = await prepare(
      ws,
      "examples/quickstart.rnn",
      ["data.batch=8", "train.epochs=2"],
      { color: false },
      {},
      "build",
    );
    expect(isOutcome(p)).toBe(false);
    if (!isOutcome(p)) expect([p.exp.data.batch, p.exp.train.epochs]).toEqual([8, 2]);
  });
});
