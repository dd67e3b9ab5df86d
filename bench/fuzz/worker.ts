// A fuzz worker process (started by driver.ts, never by hand): runs the cases it is sent through rnnc's CLI
// in-process (runCli of compiler/cli/main.ts, ~1 ms a case instead of a ~0.3 s process), and some of them through
// the real binary as well, in a workspace of its own, and sends back what each gave.
//
// An in-process case must not hide what the binary would show: an exception out of runCli is the binary's exit 3;
// a rejection or exception that surfaces after runCli returned (the binary's unhandledRejection handler) is caught
// here after two turns of the event loop; process.exit called by a command is turned into an exception and
// recorded; text written straight to process.stdout/stderr is captured with the rest. A hang or a crash of this
// process is seen by the driver, which kills it and records the case.
import { spawnSync } from "node:child_process";
import {
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { CliIO } from "../../compiler/cli/main.js";
import { SCRATCH, type FuzzCase } from "./cases.js";
import type { CaseResult, RunOutput } from "./oracle.js";

export interface WorkerInit {
  readonly corpus: Record<string, string>;
  /** A folder of the driver's, removed by it at the end (so a killed worker leaves nothing behind). */
  readonly tmp: string;
  readonly binaryTimeoutMs: number;
}

export type ToWorker =
  | { readonly type: "init"; readonly init: WorkerInit }
  | { readonly type: "case"; readonly c: FuzzCase; readonly binary: boolean };
export type FromWorker =
  { readonly type: "ready" } | { readonly type: "result"; readonly id: number; readonly result: CaseResult };

const ROOT = fileURLToPath(new URL("../../../", import.meta.url)); // dist/bench/fuzz/ → the package
const BIN = join(ROOT, "bin/rnnc.js");

class ExitCalled extends Error {
  constructor(readonly code: number) {
    super(`process.exit(${code})`);
  }
}

type RunCli = (argv: readonly string[], io: CliIO) => Promise<number>;

let pendingAsync: { message: string; stack: string } | undefined;
const noteAsync = (e: unknown): void => {
  pendingAsync ??= {
    message: e instanceof Error ? e.message : String(e),
    stack: e instanceof Error ? (e.stack ?? "") : "",
  };
};

async function inProcess(runCli: RunCli, argv: readonly string[]): Promise<RunOutput> {
  let stdout = "";
  let stderr = "";
  const write = process.stdout.write.bind(process.stdout);
  const writeErr = process.stderr.write.bind(process.stderr);
  const exit = process.exit.bind(process);
  let exitCalled: number | undefined;
  process.stdout.write = ((chunk: string | Uint8Array) => (
    (stdout += String(chunk)),
    true
  )) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array) => (
    (stderr += String(chunk)),
    true
  )) as typeof process.stderr.write;
  process.exit = ((code?: number) => {
    exitCalled = code ?? 0;
    throw new ExitCalled(exitCalled);
  }) as typeof process.exit;
  pendingAsync = undefined;
  let code: number | null = null;
  let exception: RunOutput["exception"];
  try {
    code = await runCli(argv, { stdout: (s) => void (stdout += s), stderr: (s) => void (stderr += s), color: false });
  } catch (e) {
    if (e instanceof ExitCalled) code = e.code;
    else
      exception = {
        message: e instanceof Error ? e.message : String(e),
        stack: e instanceof Error ? (e.stack ?? "") : String(e),
      };
  }
  // A rejection nobody awaited is reported after the current microtasks; give it two turns to show.
  await new Promise((r) => setImmediate(r));
  await new Promise((r) => setTimeout(r, 0));
  process.stdout.write = write;
  process.stderr.write = writeErr;
  process.exit = exit;
  if (exitCalled !== undefined) code = exitCalled;
  return {
    code,
    stdout,
    stderr,
    ...(exception ? { exception } : {}),
    ...(pendingAsync ? { asyncError: pendingAsync } : {}),
    ...(exitCalled !== undefined ? { exitCalled } : {}),
  };
}

function binary(argv: readonly string[], cwd: string, timeoutMs: number): RunOutput {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: "1", TMPDIR: join(cwd, SCRATCH) };
  delete env["RNNC_DEBUG"];
  const r = spawnSync(process.execPath, [BIN, ...argv], {
    cwd,
    env,
    timeout: timeoutMs,
    killSignal: "SIGKILL",
    encoding: "utf8",
    maxBuffer: 256 * 2 ** 20,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const timedOut = (r.error as NodeJS.ErrnoException | undefined)?.code === "ETIMEDOUT";
  return { code: r.status, signal: r.signal, timedOut, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
}

/** Writes the case's files, folders and links; the corpus is already there. */
function materialize(ws: string, c: FuzzCase): void {
  for (const d of c.dirs) mkdirSync(join(ws, d), { recursive: true });
  for (const f of c.files) {
    mkdirSync(dirname(join(ws, f.path)), { recursive: true });
    writeFileSync(join(ws, f.path), f.base64 !== undefined ? Buffer.from(f.base64, "base64") : (f.text ?? ""));
  }
  for (const l of c.symlinks) symlinkSync(l.target, join(ws, l.path));
  for (const f of c.fifos ?? []) {
    const r = spawnSync("mkfifo", [join(ws, f)]);
    if (r.status !== 0) throw new Error(`mkfifo ${f} failed: ${r.stderr?.toString() ?? r.error}`);
  }
}

/**
 * Removes everything in the workspace that is not a corpus file (what the case made, what `-o` wrote wherever it
 * pointed), and puts back any corpus file the case changed (`fmt` of a folder rewrites them).
 */
function cleanUp(ws: string, corpus: Record<string, string>, formatted: boolean): void {
  const dirs = new Set(
    Object.keys(corpus).flatMap((f) =>
      f
        .split("/")
        .slice(0, -1)
        .map((_, i, parts) => parts.slice(0, i + 1).join("/")),
    ),
  );
  const sweep = (dir: string): void => {
    for (const name of readdirSync(join(ws, dir))) {
      const p = dir ? `${dir}/${name}` : name;
      const st = lstatSync(join(ws, p));
      if (st.isDirectory() && dirs.has(p)) sweep(p);
      else if (!st.isFile() || !(p in corpus)) rmSync(join(ws, p), { recursive: true, force: true });
    }
  };
  sweep("");
  if (!formatted) return; // only fmt rewrites files that already exist
  for (const [p, text] of Object.entries(corpus)) {
    let now: string | undefined;
    try {
      now = readFileSync(join(ws, p), "utf8");
    } catch {
      now = undefined;
    }
    if (now !== text) {
      mkdirSync(dirname(join(ws, p)), { recursive: true });
      writeFileSync(join(ws, p), text);
    }
  }
}

const codes = (r: RunOutput): string[] =>
  [...r.stderr.matchAll(/^(?:error|warning)\[([A-Z]\d{4})\]/gm)].map((m) => m[1]!).sort();

async function runCase(
  runCli: RunCli,
  ws: string,
  c: FuzzCase,
  init: WorkerInit,
  withBinary: boolean,
): Promise<CaseResult> {
  materialize(ws, c);
  try {
    const before = c.roundtrip ? codes(await inProcess(runCli, ["check", c.roundtrip])) : [];
    const out = await inProcess(runCli, c.argv);
    let roundtrip: CaseResult["roundtrip"];
    if (c.roundtrip && out.code === 0) {
      const formatted = readFileSync(join(ws, c.roundtrip), "utf8");
      const recheck = await inProcess(runCli, ["fmt", "--check", c.roundtrip]);
      roundtrip = { recheck, before, after: codes(await inProcess(runCli, ["check", c.roundtrip])), formatted };
    }
    let bin: RunOutput | undefined;
    // A process's arguments are C strings: one holding NUL cannot be passed to the binary at all (no shell can), so
    // such a case is judged in-process only.
    if (withBinary && !c.argv.some((a) => a.includes("\0"))) {
      cleanUp(ws, init.corpus, c.argv.includes("fmt") || Boolean(c.roundtrip));
      materialize(ws, c);
      bin = binary(c.argv, ws, init.binaryTimeoutMs);
    }
    return { inProcess: out, ...(bin ? { binary: bin } : {}), ...(roundtrip ? { roundtrip } : {}) };
  } finally {
    cleanUp(ws, init.corpus, c.argv.includes("fmt") || Boolean(c.roundtrip));
  }
}

async function main(init: WorkerInit): Promise<void> {
  const home = mkdtempSync(join(init.tmp, "worker-"));
  const ws = join(home, "w");
  for (const [p, text] of Object.entries(init.corpus)) {
    mkdirSync(dirname(join(ws, p)), { recursive: true });
    writeFileSync(join(ws, p), text);
  }
  process.chdir(ws);
  process.on("unhandledRejection", noteAsync);
  process.on("uncaughtException", noteAsync);
  (globalThis as Record<symbol, unknown>)[Symbol.for("rnnc.cli.embedded")] = true;
  const { runCli } = (await import("../../compiler/cli/main.js")) as { runCli: RunCli };
  const send = (m: FromWorker): void => void process.send!(m);
  process.on("message", (m: ToWorker) => {
    if (m.type !== "case") return;
    void runCase(runCli, ws, m.c, init, m.binary).then(
      (result) => send({ type: "result", id: m.c.id, result }),
      // The harness itself failed (a file it could not make): say so rather than let the driver wait for nothing.
      (e: unknown) =>
        send({
          type: "result",
          id: m.c.id,
          result: {
            inProcess: { code: null, stdout: "", stderr: "" },
            crashed: `fuzz harness: ${e instanceof Error ? e.stack : String(e)}`,
          },
        }),
    );
  });
  process.on("disconnect", () => {
    rmSync(home, { recursive: true, force: true });
    process.exit(0);
  });
  send({ type: "ready" });
}

if (!process.send) throw new Error("fuzz worker: started without an IPC channel (driver.ts starts it)");
process.once("message", (m: ToWorker) => {
  if (m.type === "init") void main(m.init);
});
