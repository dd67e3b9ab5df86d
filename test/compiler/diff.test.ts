import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { diff } from "../../compiler/cli/commands.js";
import { irHash } from "../../compiler/codegen/index.js";
import { compile } from "../../compiler/compile.js";
import { diffExperiments, renderDiff } from "../../compiler/diff.js";
import type { ExperimentIR } from "../../compiler/ir.js";
import { fsHost } from "../../compiler/cli/fs-host.js";
import { memoryHost } from "../../compiler/host.js";
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
    const ab = JSON.parse(run(`${DIR}/flat.rnn`, `${DIR}/changed.rnn`, true).stdout) as {
      differences: { setting: string; kind: string }[];
    };
    const ba = JSON.parse(run(`${DIR}/changed.rnn`, `${DIR}/flat.rnn`, true).stdout) as {
      differences: { setting: string; kind: string }[];
    };
    const flip = { added: "removed", removed: "added", changed: "changed" } as Record<string, string>;
    expect(ba.differences.map((d) => [d.setting, d.kind]).sort()).toEqual(
      ab.differences.map((d) => [d.setting, flip[d.kind]]).sort(),
    );
  });
});

describe("rnnc diff of two spellings of one meaning", () => {
  const spec = (stats: string, extra = ""): string => `experiment bn {
  data ptb_char { batch 32  bptt 16 }
  model { layers lstm(64)  norm batch { stats ${stats} } }
  dropout { ${extra} }
}
`;
  const files = {
    "implicit.rnn": spec("per_step"),
    "explicit.rnn": spec("per_step(max_steps = 16)", "input 0 locked"),
    "shorter.rnn": spec("per_step(max_steps = 8)"),
  };
  const mem = { ...ws, host: memoryHost(files) };
  const irOf = (path: string) => compile(path, memoryHost(files)).document!.experiments[0]!;

  it("`stats per_step` and `per_step(max_steps = 16)` at bptt 16: no difference, one irHash", () => {
    const out = diff(mem, "implicit.rnn", "explicit.rnn", { json: false }, { color: false });
    expect(out.exitCode).toBe(0);
    expect(out.stdout).toContain("no semantic difference");
    expect(irHash(irOf("explicit.rnn"))).toBe(irHash(irOf("implicit.rnn")));
  });

  it("a T_max below the BPTT length is a difference", () => {
    const out = diff(mem, "implicit.rnn", "shorter.rnn", { json: false }, { color: false });
    expect(out.stdout).toMatch(/~ norm\s+.*stats = per_step, .*→ .*stats = per_step\(8\)/);
    expect(irHash(irOf("shorter.rnn"))).not.toBe(irHash(irOf("implicit.rnn")));
  });
});

describe("rnnc diff of the divergence rule", () => {
  const irOf = (train: string) =>
    compile(
      "d.rnn",
      memoryHost({ "d.rnn": `experiment d { data ptb  model { layers lstm(10) }  train { ${train} } }` }),
    ).document!.experiments[0]!;

  it("shows a changed rule with where it was set, and none for the default written out", () => {
    const base = irOf("epochs 2");
    expect(diffExperiments(base, irOf("epochs 2  divergence above_uniform(margin = 1, windows = 20)"))).toEqual([]);
    const [off] = diffExperiments(base, irOf("epochs 2  divergence off"));
    expect(off).toMatchObject({
      setting: "train.divergence",
      kind: "changed",
      before: { value: "above_uniform(margin = 1, windows = 20)", origin: "default" },
      after: { value: "off" },
    });
    expect(
      renderDiff(
        base,
        irOf("divergence above_uniform(windows = 50)"),
        diffExperiments(base, irOf("divergence above_uniform(windows = 50)")),
      ),
    ).toMatch(
      /~ divergence\s+above_uniform\(margin = 1, windows = 20\) → above_uniform\(margin = 1, windows = 50\)\s+\(default → d.rnn:1\)/,
    );
  });

  it("reads an IR from before the rule (a run directory's ir.json without the field) as off", () => {
    const { divergence: _, ...old } = irOf("epochs 2").train;
    const before = { ...irOf("epochs 2"), train: old } as unknown as ExperimentIR;
    expect(diffExperiments(before, irOf("epochs 2")).map((d) => [d.setting, d.before?.value, d.after?.value])).toEqual([
      ["train.divergence", "off", "above_uniform(margin = 1, windows = 20)"],
    ]);
  });
});

describe("rnnc diff of two run directories", () => {
  // Run directories as `rnnc run` leaves them: ir.json (the resolved experiment) and metrics.jsonl (its events).
  // Run a finished three epochs; run b was interrupted in its third, mid-write (a torn last line).
  const tmp = mkdtempSync(join(tmpdir(), "rnnc-diff-runs-"));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));
  const irOf = (spec: string) => compile(`${DIR}/${spec}`, fsHost()).document!.experiments[0]!;
  const ev = (o: Record<string, unknown>): string => JSON.stringify(o);
  const runDir = (name: string, spec: string, events: string[]): string => {
    const dir = join(tmp, name);
    mkdirSync(dir);
    writeFileSync(join(dir, "ir.json"), JSON.stringify(irOf(spec), null, 2));
    writeFileSync(join(dir, "metrics.jsonl"), events.join("\n") + "\n");
    return dir;
  };
  const epoch = (n: number, validPpl: number, best: boolean, tokPerSec: number) =>
    ev({ event: "epoch", epoch: n, lr: 1, trainLoss: 5, validLoss: Math.log(validPpl), tokPerSec, seconds: 60, best });
  const a = runDir("a", "flat.rnn", [
    ev({ event: "train", epoch: 1, window: 100, loss: 6 }),
    epoch(1, 180.5, true, 1000),
    epoch(2, 140.25, true, 1100),
    epoch(3, 141, false, 1200),
    ev({ event: "final", bestEpoch: 2, metric: "perplexity", valid: 140.25, test: 133.125 }),
  ]);
  const b = runDir("b", "changed.rnn", [
    epoch(1, 170, true, 900),
    epoch(2, 150, true, 950),
    '{"event":"train","epoch":3,"win',
  ]);
  const out = (json = false) => {
    const r = run(a, b, json);
    expect(r.exitCode).toBe(0);
    return r.stdout.split(tmp).join("RUNS");
  };

  it("shows the experiments' differences, then the results side by side", () => {
    const text = out();
    expectGolden(`${DIR}/runs.expected`, text);
    expect(text).toMatch(/^--- RUNS\/a \(test\/compiler\/diff\/flat\.rnn\)  flat$/m);
    expect(text).toMatch(/^ {2}epochs +3 +2 \(unfinished\)$/m);
    expect(text).toMatch(/^ {2}valid perplexity +140\.25 +150\.00$/m); // b: its best epoch so far
    expect(text).toMatch(/^ {2}test perplexity +133\.13 +—$/m);
    expect(text).toMatch(/^ {2}tok\/s \(median\) +1100 +925$/m);
    expect(text).toMatch(/^ {2}3 +141\.00 +—$/m);
  });

  it("--json carries the same results", () => {
    const doc = JSON.parse(out(true)) as {
      a: { run: string };
      results: { a: { bestEpoch: number; final: { test: number } }; b: { final: null; epochs: unknown[] } };
    };
    expect(doc.a.run).toBe("RUNS/a");
    expect(doc.results.a.bestEpoch).toBe(2);
    expect(doc.results.a.final.test).toBe(133.125);
    expect(doc.results.b.final).toBeNull();
    expect(doc.results.b.epochs).toHaveLength(2);
  });

  it("a run directory against a spec: the differences, without results", () => {
    const r = run(a, `${DIR}/flat.rnn`);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain("no semantic difference");
    expect(r.stdout).not.toContain("results");
  });

  it("a broken ir.json is a one-line error", () => {
    const bad = join(tmp, "bad");
    mkdirSync(bad);
    writeFileSync(join(bad, "ir.json"), "{ not json");
    const r = run(bad, a);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/^rnnc diff: .+\/bad\/ir\.json is not valid JSON \(.+\)\n$/);
  });
});
