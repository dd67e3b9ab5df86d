// `rnnc report`: one self-contained HTML page about runs, checked in a real headless Chromium (Debian's `chromium`,
// driven by playwright-core; .ci/run installs it): it renders, shows every run with its figures, the settings that
// differ with where they were set, the curves and the environment, loads nothing from elsewhere, logs no console
// error, and shows a hostile title as text.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { chromium, type Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectExit, requireBuild, rnnc, ROOT, tempDir } from "./cli.js";

const CHROMIUM = process.env["RNNC_CHROMIUM"] ?? "/usr/bin/chromium";
const tmp = tempDir("report");
const SMALL = join(ROOT, "runs/zaremba_small/20261202-134128");
const page = join(tmp.path, "report.html");
let browser: Browser | null = null;

// CI installs Chromium (.ci/run) and must run this; elsewhere a machine without it skips.
describe.skipIf(!existsSync(CHROMIUM) && !process.env["CI"])("rnnc report in Chromium", () => {
  beforeAll(async () => {
    requireBuild();
    const sweep = join(tmp.path, "sweep");
    expectExit(await rnnc(["run", "test/cli/fixtures/lr-sweep.rnn#lr_sweep", "--runs", sweep]), 0);
    const r = await rnnc(["report", sweep, "-o", page, "--title", "lr sweep <script>alert(1)</script>"]);
    expectExit(r, 0);
    expect(r.stdout).toMatch(/wrote .*report\.html: 2 runs/);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    tmp.remove();
  });

  it("renders every part, with no console error and no request beyond the file", async () => {
    const p = await browser!.newPage();
    const errors: string[] = [];
    const requests: string[] = [];
    p.on("console", (m) => m.type() === "error" && errors.push(m.text()));
    p.on("pageerror", (e) => errors.push(String(e)));
    p.on("request", (q) => requests.push(q.url()));
    let dialogs = 0;
    p.on("dialog", (d) => {
      dialogs++;
      void d.dismiss();
    });
    await p.goto(pathToFileURL(page).href);
    expect(await p.title()).toBe("lr sweep <script>alert(1)</script>");
    expect(await p.locator("h1").innerText()).toBe("lr sweep <script>alert(1)</script>");
    expect(dialogs).toBe(0);
    const headings = await p.locator("h2").allInnerTexts();
    expect(headings).toEqual(["Settings that differ", "Results", "Learning curves", "Environment"]);
    // the one setting that differs, with the line of the sweep that set it
    const settings = await p.locator("table").first().innerText();
    expect(settings).toMatch(/train\.optimizer/);
    expect(settings).toMatch(/lr-sweep\.rnn:9/);
    const results = await p.locator("table.results tbody tr").allInnerTexts();
    expect(results).toHaveLength(2);
    for (const r of results) expect(r).toMatch(/lr=(0\.5|1)[\s\S]*finished\s+1\/1\s+1\s+\d+\.\d\d\s+\d+\.\d\d/);
    const svg = p.locator("figure svg");
    expect(await svg.count()).toBe(1);
    expect((await svg.boundingBox())!.width).toBeGreaterThan(400);
    expect(await p.locator('figure svg [aria-roledescription="line mark"]').count()).toBeGreaterThan(0);
    expect(await p.locator("table").last().innerText()).toMatch(/wasm/);
    expect(errors).toEqual([]);
    expect(requests).toEqual([pathToFileURL(page).href]);
    await p.close();
  });

  it("the committed Zaremba-small record: its figures, as RESULTS.md gives them", async () => {
    const out = join(tmp.path, "small.html");
    expectExit(await rnnc(["report", SMALL, "-o", out]), 0);
    const p = await browser!.newPage();
    await p.goto(pathToFileURL(out).href);
    const row = await p.locator("table.results tbody tr").first().innerText();
    expect(row).toMatch(/finished\s+13\/13\s+6\s+119\.14\s+115\.51/);
    expect(readFileSync(out, "utf8")).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org)/);
    await p.close();
  });
});
