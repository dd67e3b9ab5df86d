// The failures the fuzz (bench/fuzz/, test/cli/fuzz.test.ts) found in compiler/cli/main.ts, each as a plain case
// of the real binary: a folder with a broken link in it, and `-o` writing where nothing can be written.
// Before the fix each was an internal error (exit 3); now each is a clean input error, or no error at all.
import { execSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NODE_ERROR, STACK_FRAME } from "../../bench/fuzz/oracle.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const BIN = join(ROOT, "bin/rnnc.js");
let dir = "";

const SPEC = "experiment ok {\n  data ptb { batch 20  bptt 35 }\n  model { embed 200  layers 2 lstm(200) }\n  train { epochs 1  optimizer sgd(lr = 1) }\n}\n";

function rnnc(...args: string[]): { status: number | null; out: string } {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: "1", TMPDIR: dir };
  delete env["RNNC_DEBUG"];
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: dir, env, encoding: "utf8", timeout: 30_000, killSignal: "SIGKILL" });
  const out = `${r.stderr}${r.stdout}`;
  expect(out, "no stack trace").not.toMatch(STACK_FRAME);
  expect(out, "no error from node itself, no internal error").not.toMatch(NODE_ERROR);
  return { status: r.status, out };
}

beforeAll(() => {
  if (!existsSync(join(ROOT, "dist/compiler/cli/main.js"))) execSync("npm run build", { cwd: ROOT, stdio: "pipe" });
  dir = mkdtempSync(join(tmpdir(), "rnnc-fuzz-fixes-"));
  writeFileSync(join(dir, "ok.rnn"), SPEC);
  mkdirSync(join(dir, "links"));
  writeFileSync(join(dir, "links", "good.rnn"), SPEC);
  symlinkSync("missing.rnn", join(dir, "links", "dangling.rnn"));
  symlinkSync("loop.rnn", join(dir, "links", "loop.rnn"));
  symlinkSync("nowhere", join(dir, "links", "dangling-other"));
  symlinkSync("..", join(dir, "links", "up")); // a cycle: links/up/links/up/…
  writeFileSync(join(dir, "a-file"), "in the way\n");
  symlinkSync("nowhere", join(dir, "dangling-out"));
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("a folder holding broken links (fuzz: `rnnc check DIR` crashed in expand)", () => {
  it("check: the broken .rnn links are reported as unreadable (E0208), other broken links are ignored, the cycle is walked once", () => {
    const r = rnnc("check", "links");
    expect(r.status, r.out).toBe(1);
    expect(r.out).toMatch(/error\[E0208\]: cannot read 'links\/dangling\.rnn': no such file/);
    expect(r.out).toMatch(/error\[E0208\]: cannot read 'links\/loop\.rnn': ELOOP/);
    expect(r.out).toContain("ok    links/good.rnn");
    expect(r.out).not.toContain("dangling-other");
    // links/up is the folder above: its specs (ok.rnn, links/…) are checked once each, under their first path.
    expect(r.out.match(/ok {4}\S*good\.rnn/g)).toHaveLength(1);
  });

  it("fmt --check: the same files, exit 1 for the unreadable ones", () => {
    const r = rnnc("fmt", "--check", "links");
    expect(r.status, r.out).toBe(1);
    expect(r.out).toMatch(/error\[E0208\]: cannot read 'links\/dangling\.rnn'/);
  });
});

describe("writing where nothing can be written (fuzz: `build -o` crashed in writeText)", () => {
  it.each([
    ["a file", "a-file", /cannot write a-file\/model\.ts: a file is in the way of a folder \(EEXIST\)/],
    ["a path through a file", "a-file/sub", /cannot write a-file\/sub\/model\.ts: a part of the path is a file, not a folder \(ENOTDIR\)/],
    ["a dangling link", "dangling-out", /cannot write dangling-out\/model\.ts: /],
  ])("build -o onto %s: exit 1, says which file and why", (_, out, message) => {
    const r = rnnc("build", "ok.rnn", "-o", out);
    expect(r.status, r.out).toBe(1);
    expect(r.out).toMatch(new RegExp(`^rnnc build: ${message.source}`, "m"));
  });

  it("build -o into a new folder still works", () => {
    const r = rnnc("build", "ok.rnn", "-o", "out/deep");
    expect(r.status, r.out).toBe(0);
    expect(readdirSync(join(dir, "out/deep")).sort()).toEqual(["model.ts", "package.json", "tsconfig.json"]);
  });
});
