// `rnnc build -o DIR` makes a project that trains on its own: `npm install && npm start` with no registry at all
// (the project depends on this rnnc by path, never on a registry name), a README, a copy of the spec, `--help`,
// a new timestamped run folder for every run, and `--resume RUN_DIR`.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { childEnv, expectExit, requireBuild, rnnc, ROOT, tempDir } from "./cli.js";

const tmp = tempDir("standalone");
const dir = join(tmp.path, "project");
const npm = (args: string[]) =>
  spawnSync("npm", args, {
    cwd: dir,
    encoding: "utf8",
    // No registry can be reached: an install that needed one fails
    env: childEnv({ npm_config_registry: "http://127.0.0.1:9/", npm_config_audit: "false", npm_config_fund: "false" }),
    timeout: 240_000,
  });
const QUICK = ["--epochs", "1", "--limit-batches", "3", "--threads", "1"];

beforeAll(async () => {
  requireBuild();
  expectExit(await rnnc(["build", "examples/quickstart.rnn", "--set", "data.tokens=24000", "-o", dir]), 0);
}, 60_000);
afterAll(() => tmp.remove());

describe("rnnc build -o: a project of its own", () => {
  it("writes the module (TypeScript and runnable JS), the spec, a README, and depends on this rnnc by path", () => {
    expect(readdirSync(dir).sort()).toEqual([
      "README.md",
      "model.mjs",
      "model.ts",
      "package.json",
      "spec.rnn",
      "tsconfig.json",
    ]);
    const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
    expect(pkg.dependencies).toEqual({ rnnc: `file:${ROOT}` });
    expect(pkg.devDependencies).toBeUndefined();
    expect(readFileSync(join(dir, "spec.rnn"), "utf8")).toBe(
      readFileSync(join(ROOT, "examples/quickstart.rnn"), "utf8"),
    );
    expect(readFileSync(join(dir, "README.md"), "utf8")).toMatch(/npm install\nnpm start/);
  });

  it("npm install needs no registry; npm start trains into a new timestamped folder each run", () => {
    const install = npm(["install", "--offline"]);
    expect(install.status, install.stderr).toBe(0);
    for (let k = 0; k < 2; k++) {
      const r = npm(["start", "--", ...QUICK]);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/test perplexity \d/);
    }
    const runs = readdirSync(join(dir, "runs/quickstart")).sort();
    expect(runs).toHaveLength(2);
    for (const ts of runs) {
      expect(ts).toMatch(/^\d{8}-\d{6}(-\d+)?$/);
      const metrics = readFileSync(join(dir, "runs/quickstart", ts, "metrics.jsonl"), "utf8");
      expect(metrics.match(/"event":"final"/g)).toHaveLength(1); // one run per folder: nothing appended twice
      expect(existsSync(join(dir, "runs/quickstart", ts, "best.ckpt"))).toBe(true);
    }
  }, 300_000);

  it("--help lists the options; a bad option is a usage error, not a crash", () => {
    const help = execFileSync(process.execPath, ["model.mjs", "--help"], {
      cwd: dir,
      encoding: "utf8",
      env: childEnv(),
    });
    expect(help).toMatch(/^Trains the experiment quickstart/);
    for (const flag of ["--epochs", "--resume RUN", "--evaluate FILE", "--run-dir DIR", "--backend"])
      expect(help).toContain(flag);
    const bad = spawnSync(process.execPath, ["model.mjs", "--nope"], { cwd: dir, encoding: "utf8", env: childEnv() });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/^error: Unknown option '--nope'/);
    expect(bad.stderr).not.toMatch(/\n\s+at /);
  });

  it("--resume RUN_DIR continues a run in its own folder", () => {
    const run = join("runs/quickstart", readdirSync(join(dir, "runs/quickstart")).sort()[0]!);
    const r = spawnSync(process.execPath, ["model.mjs", "--resume", run, "--epochs", "2", "--limit-batches", "3"], {
      cwd: dir,
      encoding: "utf8",
      env: childEnv(),
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain(`resumed ${join(run, "last.ckpt")}: epoch 2`);
    expect(readdirSync(join(dir, "runs/quickstart"))).toHaveLength(2);
  }, 120_000);
});
