// Sweeps at the CLI: `--set` refuses a sweep with a located diagnostic that says how to sweep (it used to train the
// first value only, silently); `FILE#SWEEP` names all the points of a sweep for build and run (as FILE alone names
// every experiment of the file), and diff, which compares one experiment, says to pick a point.
import { describe, expect, it } from "vitest";
import { diff, type Outcome } from "../../compiler/cli/commands.js";
import { fsHost } from "../../compiler/cli/fs-host.js";
import { experimentsToRun, isOutcome, prepare } from "../../compiler/cli/prepare.js";

const ws = { host: fsHost(), expand: (p: readonly string[]) => [...p], writeText: () => {} };
const FILE = "test/cli/fixtures/lr-sweep.rnn";

describe("a sweep in --set", () => {
  it.each([
    [
      "dropout.weight=sweep(0.3, 0.6)",
      " --> --set:1:16\n  |\n1 | dropout.weight=sweep(0.3, 0.6)\n  |                ^^^^^^^^^^^^^^^\n",
      "dropout { weight sweep(0.3, 0.6) }",
    ],
    [
      "train.optimizer=adam(lr = sweep(0.1, 0.2))",
      " --> --set:1:27\n",
      "train { optimizer adam(lr = sweep(0.1, 0.2)) }",
    ],
  ])("%s: refused, located on the argument, with the spec that sweeps", async (set, frame, statement) => {
    const p = await prepare(
      ws,
      "examples/quickstart.rnn",
      ["data.batch=8", set].reverse(),
      { color: false },
      {},
      "run",
    );
    expect(isOutcome(p)).toBe(true);
    const err = (p as Outcome).stderr;
    expect((p as Outcome).exitCode).toBe(1);
    expect(err).toMatch(
      /^error\[E0312\]: invalid sweep: --set takes one value, and a sweep makes one experiment per value$/m,
    );
    expect(err).toContain(frame);
    expect(err).toContain(
      `= help: sweep in a spec instead: \`experiment quickstart_sweep extends "quickstart.rnn" quickstart { ${statement} }\``,
    );
    expect(err).not.toContain("--set.rnn");
  });

  it("--set on FILE#SWEEP: a usage error naming the sweep", async () => {
    const p = await prepare(ws, `${FILE}#lr_sweep`, ["data.batch=4"], { color: false }, {}, "run");
    expect(isOutcome(p) && p.exitCode).toBe(2);
    expect((p as Outcome).stderr).toBe(
      "rnnc run: --set applies to a plain experiment, not to the sweep lr_sweep (its 2 points)\n",
    );
  });
});

describe("FILE#SWEEP", () => {
  it("names the sweep's points; FILE#NAME of one experiment or one point names itself alone", () => {
    expect(experimentsToRun(ws, `${FILE}#lr_sweep`, {})?.names).toEqual(["lr_sweep[lr=0.5]", "lr_sweep[lr=1]"]);
    expect(experimentsToRun(ws, `${FILE}#lr_sweep[lr=1]`, {})).toBeNull();
    expect(experimentsToRun(ws, `${FILE}#base`, {})).toBeNull();
    expect(experimentsToRun(ws, FILE, {})?.names).toEqual(["base", "lr_sweep[lr=0.5]", "lr_sweep[lr=1]"]);
  });

  it("diff: a usage error that says to pick a point", () => {
    const r = diff(ws, `${FILE}#lr_sweep`, `${FILE}#base`, { json: false }, { color: false });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toBe(
      `rnnc diff: 'lr_sweep' is a sweep of 2 experiments; diff compares one: name it as ${FILE}#NAME\n  experiments: base, lr_sweep[lr=0.5], lr_sweep[lr=1]\n`,
    );
  });
});
