// The failures the fuzz (bench/fuzz/, test/cli/fuzz.test.ts) found in the CLI's file handling, each as a plain case
// of the real binary, strict on the exit code, the path named and the reason. Before the fixes each was an internal
// error (exit 3), a hang, a write to the wrong place, or a message broken across lines. What bad-input.test.ts
// already covers (check over a folder of broken links, -o onto a file, -o into new folders) is not repeated here.
import { execSync, spawnSync } from "node:child_process";
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NODE_ERROR, STACK_FRAME } from "../../bench/fuzz/oracle.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const BIN = join(ROOT, "bin/rnnc.js");
let dir = "";

const SPEC =
  "experiment ok {\n  data ptb { batch 20  bptt 35 }\n  model { embed 200  layers 2 lstm(200) }\n  train { epochs 1  optimizer sgd(lr = 1) }\n}\n";

interface Run {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** The binary (or, with `shell`, a bash command line in which `$RNNC` is the binary), killed after 30 s. */
const RNNC = '"$RNNC_NODE" "$RNNC_BIN"';
function spawnIn(file: string, args: readonly string[]): Run {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NO_COLOR: "1",
    TMPDIR: dir,
    RNNC_NODE: process.execPath,
    RNNC_BIN: BIN,
  };
  delete env["RNNC_DEBUG"];
  const r = spawnSync(file, args, { cwd: dir, env, encoding: "utf8", timeout: 30_000, killSignal: "SIGKILL" });
  const out = `${r.stderr}${r.stdout}`;
  expect(r.signal, `killed (a hang?)\n${out}`).toBeNull();
  expect(out, "no stack trace").not.toMatch(STACK_FRAME);
  expect(out, "no error from node itself, no internal error").not.toMatch(NODE_ERROR);
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
const rnnc = (...args: string[]): Run => spawnIn(process.execPath, [BIN, ...args]);
const shell = (line: string): Run => spawnIn("bash", ["-c", line]);

beforeAll(() => {
  if (!existsSync(join(ROOT, "dist/compiler/cli/main.js"))) execSync("npm run build", { cwd: ROOT, stdio: "pipe" });
  dir = mkdtempSync(join(tmpdir(), "rnnc-fuzz-fixes-"));
  writeFileSync(join(dir, "ok.rnn"), SPEC);
  mkdirSync(join(dir, "links"));
  writeFileSync(join(dir, "links", "good.rnn"), SPEC);
  symlinkSync("missing.rnn", join(dir, "links", "dangling.rnn"));
  symlinkSync("loop.rnn", join(dir, "links", "loop.rnn"));
  writeFileSync(join(dir, "a-file"), "in the way\n");
  symlinkSync("nowhere", join(dir, "dangling-out"));
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("a folder holding broken links (fuzz: `rnnc fmt DIR` crashed in expand)", () => {
  it("fmt --check: exit 1, each broken .rnn link an E0208 naming it and why; the good file is formatted", () => {
    const r = rnnc("fmt", "--check", "links");
    expect(r.status, r.stderr).toBe(1);
    expect(r.stderr).toContain("error[E0208]: cannot read 'links/dangling.rnn': no such file\n");
    expect(r.stderr).toContain("error[E0208]: cannot read 'links/loop.rnn': too many symbolic links (a link loop?)\n");
    expect(r.stdout).toBe("1 file already formatted\n");
  });
});

describe("writing where nothing can be written (fuzz: `build -o` crashed in writeText)", () => {
  it("build -o below a file: exit 1, names the folder and the file in the way", () => {
    const r = rnnc("build", "ok.rnn", "-o", "a-file/sub");
    expect(r.status, r.stderr).toBe(1);
    expect(r.stderr).toBe("rnnc build: cannot create the folder a-file/sub: a-file is a file, not a folder\n");
  });

  it("build -o onto a dangling link: exit 1, says a dangling link is in the way and where it points; the link is left alone", () => {
    const r = rnnc("build", "ok.rnn", "-o", "dangling-out");
    expect(r.status, r.stderr).toBe(1);
    expect(r.stderr).toBe(
      "rnnc build: cannot create the folder dangling-out: a dangling link is in the way: dangling-out is a link to nowhere, which does not exist\n",
    );
    expect(lstatSync(join(dir, "dangling-out")).isSymbolicLink()).toBe(true);
    expect(readlinkSync(join(dir, "dangling-out"))).toBe("nowhere");
    expect(existsSync(join(dir, "nowhere"))).toBe(false);
  });

  it("build -o below a dangling link: exit 1, names the link", () => {
    const r = rnnc("build", "ok.rnn", "-o", "dangling-out/deeper");
    expect(r.status, r.stderr).toBe(1);
    expect(r.stderr).toBe(
      "rnnc build: cannot create the folder dangling-out/deeper: a dangling link is in the way: dangling-out is a link to nowhere, which does not exist\n",
    );
  });

  it("run --runs onto a dangling link: exit 1 before anything is trained", () => {
    const r = rnnc("run", "ok.rnn", "--runs", "dangling-out", "--epochs", "1", "--limit-batches", "1");
    expect(r.status, r.stderr).toBe(1);
    expect(r.stderr).toContain(
      "rnnc run: cannot create the folder dangling-out/ok: a dangling link is in the way: dangling-out is a link to nowhere, which does not exist\n",
    );
    expect(r.stderr).not.toMatch(/run directory:|backend:/);
  });
});

describe('an empty path option is a usage error (`-o ""` wrote /model.ts)', () => {
  it.each([
    ["build -o", ["build", "ok.rnn", "-o", ""], "-o, --out <dir>"],
    ["build --out=", ["build", "ok.rnn", "--out="], "-o, --out <dir>"],
    ["run --runs", ["run", "ok.rnn", "--runs", ""], "--runs <dir>"],
    ["run --data", ["run", "ok.rnn", "--data", ""], "--data <dir>"],
    ["run --resume", ["run", "--resume", ""], "--resume <run_dir>"],
    ["eval --checkpoint", ["eval", "somewhere", "--checkpoint", ""], "--checkpoint <which>"],
  ])('%s "": exit 2, names the option, writes nothing', (_, args, option) => {
    const before = readdirSync(dir).sort();
    const r = rnnc(...args);
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr).toContain(
      `error: option '${option}' argument '' is invalid. expected a path, not an empty string\n`,
    );
    expect(readdirSync(dir).sort()).toEqual(before);
    expect(r.stdout).toBe("");
  });
});

describe("named pipes on the command line (fuzz: `mkfifo p.rnn; rnnc check p.rnn` hung)", () => {
  it("a pipe nobody writes to: exit 1 within seconds, E0208 naming it and saying why", () => {
    execSync("mkfifo silent.rnn", { cwd: dir });
    const r = rnnc("check", "silent.rnn");
    expect(r.status, r.stderr).toBe(1);
    expect(r.stderr).toBe(
      "error[E0208]: cannot read 'silent.rnn': it is a named pipe that nobody wrote to within 1 s\n  --> silent.rnn\n\n",
    );
  });

  it("a pipe whose writer comes a little later: read whole, exit 0", () => {
    execSync("mkfifo late.rnn", { cwd: dir });
    const r = shell(`(sleep 0.3; cat ok.rnn > late.rnn) & exec ${RNNC} check late.rnn`);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^ok {4}late\.rnn\n/);
  });

  it("process substitution, <(cat spec), and a slow one: each read whole, exit 0", () => {
    for (const line of [
      `${RNNC} check <(cat ok.rnn)`,
      `${RNNC} check <(sleep 0.5; cat ok.rnn)`,
      `cat ok.rnn | ${RNNC} check /dev/stdin`,
    ]) {
      const r = shell(line);
      expect(r.status, `${line}\n${r.stderr}`).toBe(0);
      expect(r.stdout, line).toMatch(/^ok {4}\/(dev|proc)\/\S+\n {8}ok {2}ptb/);
    }
  });
});

describe("user text in terminal lines (fuzz: a path holding a newline split E0208 from its --> line)", () => {
  it("check $'a\\nb.rnn': the message, the --> line and the FAIL line each stay one line, the newline shown as \\n", () => {
    const r = rnnc("check", "a\nb.rnn");
    expect(r.status, r.stderr).toBe(1);
    expect(r.stderr).toBe("error[E0208]: cannot read 'a\\nb.rnn': no such file\n  --> a\\nb.rnn\n\n");
    expect(r.stdout).toBe("FAIL  a\\nb.rnn  (1 error)\n\nchecked 1 file, 0 experiments: 1 error, 0 warnings\n");
  });

  it("usage messages quoting an experiment name, a --set argument or an unknown option show control and bidi characters escaped", () => {
    const name = rnnc("build", "ok.rnn#a\u2028b");
    expect(name.status, name.stderr).toBe(2);
    expect(name.stderr).toBe("rnnc build: ok.rnn has no experiment 'a\\u2028b'\n  experiments: ok\n");
    const set = rnnc("build", "ok.rnn", "--set", "x\u202e\x1b");
    expect(set.status, set.stderr).toBe(2);
    expect(set.stderr).toMatch(/^rnnc build: --set "x\\u202e\\u001b": expected BLOCK\.KEY=VALUE/);
    const option = rnnc("check", "--bogus\u2066", "ok.rnn");
    expect(option.status, option.stderr).toBe(2);
    expect(option.stderr).toMatch(/^error: unknown option '--bogus\\u2066'\n/);
  });

  it("a CLI message naming a path with U+2028 and a bidi override shows them escaped; ordinary Unicode is kept", () => {
    const r = rnnc("build", "ok.rnn", "-o", "a-file/é\u2028\u202e");
    expect(r.status, r.stderr).toBe(1);
    expect(r.stderr).toBe(
      "rnnc build: cannot create the folder a-file/é\\u2028\\u202e: a-file is a file, not a folder\n",
    );
  });
});

describe("rnnc fmt writes the spec where it lives, as it was allowed to be written", () => {
  const MESSY = 'experiment   a extends "../ok.rnn" {\n  train {   epochs 2 }\n}\n';
  const TIDY = 'experiment a extends "../ok.rnn" {\n  train { epochs 2 }\n}\n';

  it("through a symbolic link: formats the file it points at and leaves the link a link", () => {
    mkdirSync(join(dir, "real"), { recursive: true });
    writeFileSync(join(dir, "real", "x.rnn"), MESSY);
    symlinkSync("real/x.rnn", join(dir, "fmt-link.rnn"));
    const r = rnnc("fmt", "fmt-link.rnn");
    expect(r.status).toBe(0);
    expect(lstatSync(join(dir, "fmt-link.rnn")).isSymbolicLink()).toBe(true);
    expect(readFileSync(join(dir, "real", "x.rnn"), "utf8")).toBe(TIDY);
    // the relative extends still resolves: from the real file's folder, as before
    expect(rnnc("check", "fmt-link.rnn").status).toBe(0);
  });

  it("a read-only spec (no write bit for anyone) is refused, exit 1, and left as it was", () => {
    writeFileSync(join(dir, "ro.rnn"), "experiment   b {}\n");
    chmodSync(join(dir, "ro.rnn"), 0o444);
    const r = rnnc("fmt", "ro.rnn");
    expect(r.status).toBe(1);
    expect(r.stderr).toBe("rnnc fmt: cannot write ro.rnn: the file is read-only (make it writable first: chmod u+w)\n");
    expect(readFileSync(join(dir, "ro.rnn"), "utf8")).toBe("experiment   b {}\n");
    expect(statSync(join(dir, "ro.rnn")).mode & 0o777).toBe(0o444);
  });

  it("keeps the file's mode", () => {
    writeFileSync(join(dir, "mode.rnn"), "experiment   c {}\n");
    chmodSync(join(dir, "mode.rnn"), 0o640);
    expect(rnnc("fmt", "mode.rnn").status).toBe(0);
    expect(readFileSync(join(dir, "mode.rnn"), "utf8")).toBe("experiment c {}\n");
    expect(statSync(join(dir, "mode.rnn")).mode & 0o777).toBe(0o640);
  });
});
