// The built binary on hostile input: every bad file gets exit code 1 and a located diagnostic with a code,
// never a stack trace, and quickly; usage mistakes get exit code 2 and a message; `--help` works everywhere.
import { execSync, spawn } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { prng } from "../../bench/fuzz/cases.js"; // seeded (mulberry32): the random files are the same on every run

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const BIN = join(ROOT, "bin/rnnc.js");
interface Run {
  readonly status: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

let dir = "";

/**
 * A run that has not finished by then is killed (and fails `expectClean`): a bound on hangs and blow-ups (rnnc
 * starts in about 0.5 s), never a speed assertion, which a loaded CI machine would make flaky. Speed is measured
 * by the benchmarks.
 */
const KILL_MS = 12_000;

/**
 * Runs the binary without blocking this worker: a synchronous spawn per test starves vitest's own messages, and
 * after 60 s of them it reports a timeout ("Timeout calling onTaskUpdate") even when every test passed.
 */
function spawnRnnc(args: readonly string[]): Promise<Run> {
  return spawnRnncEnv(args, {});
}

function spawnRnncEnv(args: readonly string[], extra: NodeJS.ProcessEnv): Promise<Run> {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: "1", ...extra };
  delete env["RNNC_DEBUG"];
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: dir, env, stdio: ["ignore", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (b: Buffer) => out.push(b));
    child.stderr.on("data", (b: Buffer) => err.push(b));
    const killer = setTimeout(() => child.kill("SIGKILL"), KILL_MS);
    child.on("error", reject);
    child.on("close", (status, signal) => {
      clearTimeout(killer);
      resolve({
        status,
        signal,
        stdout: Buffer.concat(out).toString("utf8"),
        stderr: Buffer.concat(err).toString("utf8"),
        ms: performance.now() - t0,
      });
    });
  });
}

/** Runs the binary. */
async function rnnc(...args: string[]): Promise<Run> {
  return spawnRnnc(args);
}

const STACK_FRAME = /^\s+at (?:.+ \(.*:\d+:\d+\)|\S+:\d+:\d+)$/m;
const NODE_ERROR = /^(?:Uncaught )?(?:[A-Z][A-Za-z]*)?Error(?: \[[A-Z_]+\])?: |node:internal|internal error/m;
const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** Exit code, no stack trace, no node error, finished before the kill. */
function expectClean(r: Run, code: number): void {
  const out = r.stdout + r.stderr;
  expect(r.signal, `killed by a signal (timeout?) after ${r.ms.toFixed(0)} ms\n${out.slice(0, 2000)}`).toBeNull();
  expect(r.status, out.slice(0, 4000)).toBe(code);
  expect(out, "no stack trace").not.toMatch(STACK_FRAME);
  expect(out, "no error from node itself").not.toMatch(NODE_ERROR);
}

/** Exit 1 with a diagnostic `error[CODE]` located at `file:line:col`. */
function expectLocated(r: Run, file: string, code: RegExp = /E0\d{3}/): void {
  expectClean(r, 1);
  const out = r.stdout + r.stderr;
  expect(out).toMatch(new RegExp(`error\\[${code.source}\\]: \\S`));
  expect(out, "a located diagnostic").toMatch(new RegExp(`--> ${escape(file)}:\\d+:\\d+`));
}

function randomBytes(seed: number, n: number, pick: (r: number) => number): Buffer {
  const next = prng(seed);
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = pick(next());
  return b;
}

const VALID = `experiment ok {
  data ptb { batch 20  bptt 35 }
  model { embed 200  layers 2 lstm(200) }
  train { epochs 1  optimizer sgd(lr = 1) }
}
`;

const repeatTo = (unit: string, bytes: number): string => unit.repeat(Math.ceil(bytes / unit.length));

/** name → contents, and the diagnostic code expected (a pattern). */
const BAD: ReadonlyArray<{ name: string; bytes: () => string | Buffer; code: RegExp }> = [
  { name: "empty.rnn", bytes: () => "", code: /E0106/ },
  { name: "whitespace.rnn", bytes: () => " \n\t\n\r\n", code: /E0106/ },
  { name: "random.rnn", bytes: () => randomBytes(0x5eed, 4096, (r) => Math.floor(r * 256)), code: /E01\d\d/ },
  { name: "random-ascii.rnn", bytes: () => randomBytes(0xa5c1, 4096, (r) => Math.floor(r * 128)), code: /E01\d\d/ },
  {
    name: "big-valid-looking.rnn",
    bytes: () => `experiment big {\n${repeatTo("  data ptb { batch 20  bptt 35 }\n", 2 ** 20)}}\n`,
    code: /E0\d{3}/,
  },
  { name: "big-garbage.rnn", bytes: () => repeatTo("experiment x { zz 1 ( ] ", 2 ** 20), code: /E01\d\d/ },
  { name: "big-words.rnn", bytes: () => repeatTo("abc ", 2 ** 20), code: /E0103/ },
  { name: "big-one-string.rnn", bytes: () => `experiment a { data text "${"x".repeat(2 ** 20)}" }\n`, code: /E0\d{3}/ },
  { name: "nested-braces.rnn", bytes: () => "{".repeat(10_000), code: /E0104/ },
  {
    name: "nested-in-spec.rnn",
    bytes: () => `experiment a { model { layers ${"[".repeat(10_000)}lstm(8)${"]".repeat(10_000)} } }\n`,
    code: /E0104/,
  },
  {
    name: "unterminated-comment.rnn",
    bytes: () => "experiment a {\n  /* never closed\n  data ptb\n}\n",
    code: /E0102/,
  },
  { name: "unterminated-string.rnn", bytes: () => 'experiment a {\n  data text "never closed\n}\n', code: /E0101/ },
  {
    name: "invalid-utf8.rnn",
    bytes: () =>
      Buffer.concat([
        Buffer.from("experiment a {\n  data ptb "),
        Buffer.from([0xff, 0xfe, 0xc3]),
        Buffer.from("\n}\n"),
      ]),
    code: /E0105/,
  },
  {
    name: "invalid-utf8-surrogate.rnn",
    bytes: () => Buffer.concat([Buffer.from("experiment a { "), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from(" }\n")]),
    code: /E0105/,
  },
  { name: "nul.rnn", bytes: () => "experiment a {\u0000}\n", code: /E0100/ },
  { name: "self.rnn", bytes: () => 'experiment a extends "self.rnn" { }\n', code: /E0200/ },
  { name: "missing-parent.rnn", bytes: () => 'experiment a extends "nowhere/parent.rnn" { }\n', code: /E0201/ },
];

beforeAll(() => {
  if (!existsSync(join(ROOT, "dist/compiler/cli/main.js"))) execSync("npm run build", { cwd: ROOT, stdio: "pipe" });
  dir = mkdtempSync(join(tmpdir(), "rnnc-bad-input-"));
  for (const f of BAD) writeFileSync(join(dir, f.name), f.bytes());
  writeFileSync(join(dir, "ok.rnn"), VALID);
  mkdirSync(join(dir, "no-specs"));
  writeFileSync(join(dir, "no-specs", "README.txt"), "not a spec\n");
  mkdirSync(join(dir, "cycle"));
  writeFileSync(join(dir, "cycle", "a.rnn"), 'experiment a extends "b.rnn" { }\n');
  writeFileSync(join(dir, "cycle", "b.rnn"), 'experiment b extends "a.rnn" { }\n');
  writeFileSync(join(dir, "too-big.rnn"), repeatTo("// filler\n", 5 * 2 ** 20));
}, 120_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("rnnc check on bad input", () => {
  it("sanity: a valid spec passes", async () => {
    const r = await rnnc("check", "ok.rnn");
    expectClean(r, 0);
    expect(r.stdout).toContain("ok    ok.rnn");
  });

  it.each(BAD)("$name: exit 1, located $code, no stack trace", async ({ name, code }) => {
    expectLocated(await rnnc("check", name), name, code);
  });

  it("random files are really what they claim (the test's own sanity)", async () => {
    expect(readFileSync(join(dir, "random.rnn")).length).toBe(4096);
    expect(readFileSync(join(dir, "big-garbage.rnn")).length).toBeGreaterThanOrEqual(2 ** 20);
  });

  // The cycle is reported at whichever `extends` closes it.
  it("an extends cycle across two files", async () => {
    const r = await rnnc("check", "cycle/a.rnn");
    expectClean(r, 1);
    expect(r.stderr).toMatch(/error\[E0200\]: .*\n\s*--> cycle\/[ab]\.rnn:\d+:\d+/);
  });

  it("a directory holding a cycle", async () => {
    const r = await rnnc("check", "cycle");
    expectClean(r, 1);
    expect(r.stderr).toMatch(/error\[E0200\]: .*\n\s*--> cycle\/[ab]\.rnn:\d+:\d+/);
  });

  it("a missing file: exit 1, E0208 naming the file", async () => {
    const r = await rnnc("check", "missing.rnn");
    expectClean(r, 1);
    expect(r.stdout + r.stderr).toMatch(/error\[E0208\]: \S/);
    expect(r.stdout + r.stderr).toMatch(/--> missing\.rnn(:\d+:\d+)?$/m);
  });

  it("a file over the size limit: exit 1, E0208 naming the file", async () => {
    const r = await rnnc("check", "too-big.rnn");
    expectClean(r, 1);
    expect(r.stdout + r.stderr).toMatch(/error\[E0208\]: .*too-big\.rnn/);
  });

  it("a directory with no specs: exit 1 and says so", async () => {
    const r = await rnnc("check", "no-specs");
    expectClean(r, 1);
    expect(r.stdout + r.stderr).toMatch(/no \.rnn files/);
  });

  it("good and bad files together: exit 1, every bad one reported", async () => {
    const r = await rnnc("check", "ok.rnn", "empty.rnn", "self.rnn", "missing.rnn");
    expectClean(r, 1);
    const out = r.stdout + r.stderr;
    for (const code of ["E0106", "E0200", "E0208"]) expect(out).toContain(`error[${code}]`);
    expect(out).toContain("ok    ok.rnn");
  });
});

describe("rnnc ir, fmt, diff on bad input", () => {
  const pick = (...names: string[]) => BAD.filter((f) => names.includes(f.name));

  it.each(
    pick(
      "empty.rnn",
      "random.rnn",
      "big-valid-looking.rnn",
      "nested-braces.rnn",
      "unterminated-comment.rnn",
      "invalid-utf8.rnn",
      "self.rnn",
      "missing-parent.rnn",
    ),
  )("ir $name: exit 1, located $code, no stack trace", async ({ name, code }) => {
    expectLocated(await rnnc("ir", name), name, code);
  });

  // fmt reports syntax errors only: an empty file or an extends cycle is simply formatted.
  it.each(
    pick(
      "random-ascii.rnn",
      "big-garbage.rnn",
      "nested-braces.rnn",
      "unterminated-comment.rnn",
      "unterminated-string.rnn",
      "nul.rnn",
      "invalid-utf8.rnn",
    ),
  )("fmt --check $name: exit 1, located $code, no stack trace", async ({ name, code }) => {
    expectLocated(await rnnc("fmt", "--check", name), name, code);
  });

  it.each(pick("unterminated-comment.rnn", "big-garbage.rnn", "invalid-utf8.rnn"))(
    "fmt $name: exit 1 and leaves the file alone",
    async ({ name, bytes }) => {
      const before = readFileSync(join(dir, name));
      expect(Buffer.from(bytes()).equals(before), "the test's own sanity").toBe(true);
      expectLocated(await rnnc("fmt", name), name);
      expect(readFileSync(join(dir, name)).equals(before), "file unchanged").toBe(true);
      expect(
        readdirSync(dir).filter((f) => f.includes(".rnnc-tmp-")),
        "no temporary file left",
      ).toEqual([]);
    },
  );

  it("fmt on a directory with no specs: exit 1, no stack trace", async () => {
    expectClean(await rnnc("fmt", "no-specs"), 1);
  });

  it("fmt --check on a file it cannot read: exit 1, E0208, and does not call it formatted", async () => {
    const r = await rnnc("fmt", "--check", "missing.rnn");
    expectClean(r, 1);
    expect(r.stdout + r.stderr).toMatch(/error\[E0208\]/);
    expect(r.stdout + r.stderr).not.toMatch(/already formatted/);
  });

  it("ir on a directory: exit 1, no stack trace", async () => {
    const r = await rnnc("ir", "no-specs");
    expectClean(r, 1);
    expect(r.stdout + r.stderr).toMatch(/error\[E0\d{3}\]/);
  });

  it("diff with a bad side: exit 1, located, no stack trace", async () => {
    expectLocated(await rnnc("diff", "ok.rnn", "self.rnn"), "self.rnn", /E0200/);
    expectLocated(await rnnc("diff", "invalid-utf8.rnn", "ok.rnn"), "invalid-utf8.rnn", /E0105/);
    expectLocated(await rnnc("diff", "nested-braces.rnn#x", "ok.rnn"), "nested-braces.rnn", /E0104/);
  });
});

describe("many experiments and long extends chains", () => {
  const head = "experiment e0 { data ptb { batch 20 } model { layers lstm(8) } }\n";
  beforeAll(() => {
    // ~1 MB: 38 000 experiments that each extend the first.
    let siblings = head;
    for (let i = 1; siblings.length < 2 ** 20; i++) siblings += `experiment e${i} extends e0 { }\n`;
    writeFileSync(join(dir, "siblings.rnn"), siblings);
    // ~170 KB: e1 extends e2 extends … e5000.
    let chain = "";
    for (let i = 1; i < 5000; i++) chain += `experiment e${i} extends e${i + 1} { }\n`;
    writeFileSync(join(dir, "chain.rnn"), chain + head.replace("e0", "e5000"));
  });

  it("a 1 MB file of experiments extending a sibling: finishes (no blow-up), no internal error", async () => {
    const r = await rnnc("check", "siblings.rnn");
    expectClean(r, 0);
  });

  it("a 5000-long extends chain: no stack overflow, no internal error", async () => {
    const r = await rnnc("check", "chain.rnn");
    expect([0, 1], (r.stdout + r.stderr).slice(0, 2000)).toContain(r.status);
    expectClean(r, r.status ?? -1);
  });
});

describe("rnnc build -o into places it cannot write: exit 1 naming the path, never a hang or an internal error", () => {
  const SPEC = join(ROOT, "examples/quickstart.rnn");
  beforeAll(() => writeFileSync(join(dir, "a-file"), "not a folder\n"));

  it("sanity: -o into folders that do not exist yet makes them and writes the project", async () => {
    const r = await rnnc("build", SPEC, "-o", "out/a/b");
    expectClean(r, 0);
    expect(readdirSync(join(dir, "out/a/b")).sort()).toEqual([
      "README.md",
      "model.mjs",
      "model.ts",
      "package.json",
      "spec.rnn",
      "tsconfig.json",
    ]);
  });

  it("-o onto an existing file: refused, the file untouched", async () => {
    const r = await rnnc("build", SPEC, "-o", "a-file");
    expectClean(r, 1);
    expect(r.stderr).toBe("rnnc build: cannot create the folder a-file: a-file is a file, not a folder\n");
    expect(readFileSync(join(dir, "a-file"), "utf8")).toBe("not a folder\n");
  });

  it("-o below a file (/dev/null/x)", async () => {
    const r = await rnnc("build", SPEC, "-o", "/dev/null/x");
    expectClean(r, 1);
    expect(r.stderr).toBe("rnnc build: cannot create the folder /dev/null/x: /dev/null is a file, not a folder\n");
  });

  // Node's recursive mkdirSync loops forever on /proc (ENOENT for the child, EEXIST for the parent): it hung for
  // minutes. KILL_MS bounds the run, so a hang fails here as a signal.
  it.skipIf(!existsSync("/proc/self"))("-o into /proc: refused at once", async () => {
    for (const out of ["/proc/rnnc-x", "/proc/self/rnnc-x/y"]) {
      const r = await rnnc("build", SPEC, "-o", out);
      expectClean(r, 1);
      expect(r.stderr).toMatch(
        new RegExp(
          `^rnnc build: cannot create the folder /proc/\\S+: the file system there does not allow new folders\n$`,
        ),
      );
    }
    const r = await rnnc("build", SPEC, "-o", "/proc");
    expectClean(r, 1);
    expect(r.stderr).toMatch(/^rnnc build: cannot write \/proc\/model\.ts: /);
  });

  // A read-only place that stays read-only for root too (chmod does not stop root): sysfs.
  it.skipIf(!existsSync("/sys/kernel"))("-o into a read-only place", async () => {
    const r = await rnnc("build", SPEC, "-o", "/sys/rnnc-x");
    expectClean(r, 1);
    expect(r.stderr).toMatch(
      /^rnnc build: cannot create the folder \/sys\/rnnc-x: (permission denied|the operation is not permitted there|the file system is read-only)\n$/,
    );
  });

  it.skipIf(!existsSync("/proc/self"))(
    "RNNC_CACHE under /proc: the code cache is skipped, the build is not held up",
    async () => {
      const r = await spawnRnncEnv(["build", SPEC], { RNNC_CACHE: "/proc/rnnc-cache" });
      expectClean(r, 0);
      expect(r.stdout).toContain("export");
    },
  );

  it("--runs onto a file: refused before anything is trained", async () => {
    const r = await rnnc("run", SPEC, "--runs", "a-file", "--epochs", "1", "--limit-batches", "1");
    expectClean(r, 1);
    expect(r.stderr).toContain("rnnc run: cannot create the folder a-file/quickstart: a-file is a file, not a folder");
    expect(r.stderr).not.toMatch(/run directory:|backend:/);
  });
});

describe("specs that are not files, and links", () => {
  it.each(["/dev/zero", "/dev/urandom"].filter((d) => existsSync(d)))(
    "check %s: refused unread (it never ends), exit 1",
    async (device) => {
      const r = await rnnc("check", device);
      expectClean(r, 1);
      expect(r.stderr).toContain(`error[E0208]: cannot read '${device}': it is not a regular file`);
    },
  );

  it("a folder with a link to its own parent and dangling or looping links: each spec once, no hang, exit 1", async () => {
    mkdirSync(join(dir, "links", "sub"), { recursive: true });
    writeFileSync(join(dir, "links", "sub", "ok.rnn"), VALID);
    symlinkSync("..", join(dir, "links", "sub", "up"));
    symlinkSync("nowhere.rnn", join(dir, "links", "dangling.rnn"));
    symlinkSync("loop-b.rnn", join(dir, "links", "loop-a.rnn"));
    symlinkSync("loop-a.rnn", join(dir, "links", "loop-b.rnn"));
    execSync(`mkfifo ${JSON.stringify(join(dir, "links", "pipe.rnn"))}`); // nobody writes to it: opening it would wait forever
    const r = await rnnc("check", "links");
    expectClean(r, 1);
    expect(r.stdout.match(/^ok {4}links\/sub\/ok\.rnn$/gm)).toHaveLength(1);
    expect(r.stderr).toContain("error[E0208]: cannot read 'links/dangling.rnn': no such file");
    expect(r.stderr).toContain("error[E0208]: cannot read 'links/loop-a.rnn': too many symbolic links (a link loop?)");
  });

  it("a symlinked spec resolves its relative extends beside the real file, not beside the link", async () => {
    mkdirSync(join(dir, "real", "bases"), { recursive: true });
    mkdirSync(join(dir, "elsewhere"));
    writeFileSync(join(dir, "real", "bases", "base.rnn"), VALID.replace("experiment ok", "experiment base"));
    writeFileSync(join(dir, "real", "child.rnn"), 'experiment child extends "bases/base.rnn" { train { epochs 2 } }\n');
    symlinkSync(join(dir, "real", "child.rnn"), join(dir, "elsewhere", "child.rnn"));
    const r = await rnnc("ir", "elsewhere/child.rnn");
    expectClean(r, 0);
    const ir = JSON.parse(r.stdout) as { experiments: { extends: string[]; train: { epochs: number } }[] };
    expect(ir.experiments[0]!.extends).toEqual(["real/bases/base.rnn:base"]);
    expect(ir.experiments[0]!.train.epochs).toBe(2);
    // A file of the same name beside the link is not the one meant.
    mkdirSync(join(dir, "elsewhere", "bases"));
    writeFileSync(join(dir, "elsewhere", "bases", "base.rnn"), "experiment decoy { data nowhere }\n");
    expectClean(await rnnc("check", "elsewhere/child.rnn"), 0);
  });
});

describe("a model too large for the backend's memory", () => {
  // ~8 GiB with Adam: within the 12 GiB default, over wasm's 4 GiB heap.
  const BIG =
    "experiment big {\n  data ptb { batch 20  bptt 35 }\n  model { layers 1 lstm(7000) }\n  train { epochs 1  optimizer adam(lr = 0.001) }\n}\n";
  beforeAll(() => writeFileSync(join(dir, "big.rnn"), BIG));

  it("check --backend wasm: E0311 at the layer, naming the wasm heap, advising a computed size and not a smaller batch", async () => {
    const r = await rnnc("check", "big.rnn", "--backend", "wasm");
    expectLocated(r, "big.rnn", /E0311/);
    expect(r.stderr).toMatch(/error\[E0311\]: .* over the 4\.0 GiB heap of the wasm backend/);
    expect(r.stderr).toContain(" --> big.rnn:3:25\n");
    expect(r.stderr).toMatch(/= help: .*so a smaller batch cannot help; to fit: `lstm\(\d+\)` instead of lstm\(7000\)/);
  });

  it("run --backend wasm: refused before a run directory is made or anything allocated", async () => {
    const runs = join(dir, "big-runs");
    const r = await rnnc("run", "big.rnn", "--backend", "wasm", "--runs", runs);
    expectLocated(r, "big.rnn", /E0311/);
    expect(r.stderr).not.toMatch(/run directory:|backend:/);
    expect(existsSync(runs)).toBe(false);
  });

  it("--max-memory given replaces the backend's limit", async () => {
    expectClean(await rnnc("check", "big.rnn", "--backend", "wasm", "--max-memory", "9GiB"), 0);
  });
});

describe("usage errors: exit 2 with a message", () => {
  const USAGE: ReadonlyArray<readonly string[]> = [
    [],
    ["bogus"],
    ["--bogus"],
    ["check"],
    ["check", "--bogus", "ok.rnn"],
    ["check", "--max-memory", "lots", "ok.rnn"],
    ["ir", "ok.rnn", "extra.rnn"],
    ["diff", "ok.rnn"],
  ];
  it.each(USAGE.map((a) => [a.join(" ") || "(no arguments)", a] as const))("rnnc %s", async (_, args) => {
    const r = await rnnc(...args);
    expectClean(r, 2);
    expect((r.stdout + r.stderr).trim(), "says what is wrong").not.toBe("");
  });
});

describe("--help", () => {
  const HELP: ReadonlyArray<readonly string[]> = [
    ["--help"],
    ["help"],
    ["help", "check"],
    ...["check", "fmt", "ir", "diff"].map((c) => [c, "--help"]),
  ];
  it.each(HELP.map((a) => [a.join(" "), a] as const))("rnnc %s: exit 0 and usage", async (_, args) => {
    const r = await rnnc(...args);
    expectClean(r, 0);
    const sub = args.find((a) => !a.startsWith("-") && a !== "help");
    expect(r.stdout).toMatch(new RegExp(`^Usage: rnnc${sub ? ` ${sub}` : ""} `, "m"));
  });

  it("rnnc --version: exit 0", async () => {
    const r = await rnnc("--version");
    expectClean(r, 0);
    expect(r.stdout).toMatch(/^\d+\.\d+\.\d+/);
  });
});
