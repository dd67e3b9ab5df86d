// `rnnc plot`: learning curves as SVG (vega's renderer), PNG (resvg) or CSV, from real run directories: the
// committed Zaremba-small record (13 epochs on PTB) and a fresh two-point sweep, whose points are told apart by the
// value that varies.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectExit, requireBuild, rnnc, ROOT, tempDir } from "./cli.js";

const tmp = tempDir("plot");
const SMALL = join(ROOT, "runs/zaremba_small/20261202-134128");
const sweep = join(tmp.path, "sweep");

beforeAll(async () => {
  requireBuild();
  expectExit(await rnnc(["run", "test/cli/fixtures/lr-sweep.rnn#lr_sweep", "--runs", sweep]), 0);
}, 120_000);
afterAll(() => tmp.remove());

describe("rnnc plot", () => {
  it("CSV: every logging interval of training and every epoch's validation, on one axis of epochs", async () => {
    const out = join(tmp.path, "small.csv");
    const r = await rnnc(["plot", SMALL, "-o", out]);
    expectExit(r, 0);
    expect(r.stdout).toMatch(/^wrote .*small\.csv: 1 run, \d+ points$/m);
    const lines = readFileSync(out, "utf8").trimEnd().split("\n");
    expect(lines[0]).toBe("run,dir,split,epoch,perplexity");
    const valid = lines.filter((l) => l.includes(",valid,")).map((l) => l.split(","));
    expect(valid.map((v) => Number(v[3]))).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]);
    expect(Number(valid[5]![4])).toBeCloseTo(119.1385, 3); // epoch 6, the best: RESULTS.md's 119.14
    const train = lines.filter((l) => l.includes(",train,"));
    expect(train.length).toBeGreaterThan(13 * 20); // 2 324 windows an epoch, a line every 100
  });

  it("SVG: the curves, labelled axes and the legend", async () => {
    const out = join(tmp.path, "small.svg");
    expectExit(await rnnc(["plot", SMALL, "-o", out, "--title", "Zaremba small <PTB>"]), 0);
    const svg = readFileSync(out, "utf8");
    expect(svg.startsWith("<svg")).toBe(true);
    expect(svg).toContain("Zaremba small &lt;PTB&gt;"); // the title is text, escaped
    for (const text of ["perplexity", "epoch", "zaremba_small", "valid", "train"]) expect(svg).toContain(`>${text}<`);
    expect(svg.match(/aria-roledescription="line mark"/g)?.length).toBe(2); // validation and training
  });

  it("PNG: a picture of the sweep, its points coloured by the learning rate", async () => {
    const out = join(tmp.path, "sweep.png");
    const r = await rnnc(["plot", sweep, "-o", out]);
    expectExit(r, 0);
    expect(r.stdout).toMatch(/2 runs/);
    const png = readFileSync(out);
    expect(png.subarray(0, 8).toString("hex")).toBe("89504e470d0a1a0a");
    expect(png.readUInt32BE(16)).toBeGreaterThan(1000); // width at twice the chart's size
    const svgOut = join(tmp.path, "sweep.svg");
    expectExit(await rnnc(["plot", sweep, "-o", svgOut]), 0);
    const svg = readFileSync(svgOut, "utf8");
    expect(svg).toContain(">lr=0.5<");
    expect(svg).toContain(">lr=1<");
  });

  it("refuses an unknown format (exit 2) and a folder with no runs (exit 1), with a message", async () => {
    const bad = await rnnc(["plot", SMALL, "-o", join(tmp.path, "x.jpg")]);
    expectExit(bad, 2);
    expect(bad.stderr).toMatch(/the file's extension says the format: \.svg, \.png or \.csv/);
    const none = await rnnc(["plot", tmp.path + "/nothing-here", "-o", join(tmp.path, "x.svg")]);
    expectExit(none, 1);
    expect(none.stderr).toMatch(
      /^rnnc plot: found no run directory \(a folder with ir\.json and run\.json\) in .*nothing-here$/m,
    );
  });
});
