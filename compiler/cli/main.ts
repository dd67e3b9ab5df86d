#!/usr/bin/env node
// The entry point: parses arguments, runs one command, prints, exits. Nothing below this file prints.
// Exit codes: 0 ok · 1 errors in the input · 2 usage · 3 internal error (reported in one line, no stack trace).
//
// `runCli(argv, io)` is the same program in-process (the fuzz test runs thousands of cases through it, ~100× cheaper
// than a process each): it returns the exit code and writes through `io`. Only the process-level part at the end
// (crash handlers, process.exit) is the binary's own.
import { readdirSync, statSync, writeFileSync, type Stats } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { check, diff, EXIT, fmt, irCommand, type Outcome, type Workspace } from "./commands.js";
import { installCodeCache } from "./code-cache.js";
import { displayPath, fsHost } from "./fs-host.js";
import { InputError, reasonOf, realPath, writeFileAtomic } from "./fs.js";
import { formatBytes } from "../checks/index.js";
import type { CompileOptions } from "../compile.js";
import { DEFAULTS } from "../defaults.js";
import { memoryBudget } from "./memory.js";
import { listRuns, RUN_STATES, type RunState } from "./runs.js";
import { terminalLines, terminalText } from "../terminal-text.js";
import { VERSION } from "../version.js";

/**
 * Directories to the `.rnn` files under them. A folder reached twice (a symbolic link to an ancestor) is walked once,
 * and an entry that cannot be inspected (a dangling link) is kept only if it is named like a spec, for the compiler
 * to report as unreadable.
 */
function expand(paths: readonly string[]): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  const walk = (dir: string): void => {
    const real = realPath(dir) ?? dir;
    if (seen.has(real)) return;
    seen.add(real);
    let names: string[];
    try {
      names = readdirSync(dir).sort();
    } catch (e) {
      throw new InputError(`cannot read the folder ${displayPath(dir)}: ${reasonOf(e)}`);
    }
    for (const name of names) {
      if (name.startsWith(".") || name === "node_modules") continue;
      const p = join(dir, name);
      let st: Stats | null = null;
      try {
        st = statSync(p);
      } catch {
        // a dangling or looping link: a spec by its name is reported as unreadable, anything else is skipped
      }
      if (st?.isDirectory()) walk(p);
      // Not a pipe or a device named like a spec: opening a pipe nobody writes to waits forever. Named on the
      // command line, one is read (`rnnc check <(…)`).
      else if (name.endsWith(".rnn") && (st === null || st.isFile())) out.push(displayPath(p));
    }
  };
  for (const p of paths) {
    let dir = false;
    try {
      dir = statSync(p).isDirectory();
    } catch {
      /* a missing path is reported by the compiler as an unreadable file */
    }
    if (dir) walk(p);
    else out.push(displayPath(p));
  }
  return out;
}

const workspace: Workspace = {
  host: fsHost(),
  expand,
  // Atomic: a crash mid-write never leaves a half-formatted spec.
  writeText: writeFileAtomic,
};

const color = (): boolean => Boolean(process.stderr.isTTY) && !process.env["NO_COLOR"];

function parseBytes(s: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?$/i.exec(s.trim());
  if (!m) throw new InvalidArgumentError(`expected a size such as 8GiB or 512MiB`);
  return Number(m[1]) * 1024 ** " kmgt".indexOf((m[2] || " ").toLowerCase());
}

const BACKENDS = ["auto", "wasm", "cpu", "tensorflow", "webgpu"];

interface MemoryFlags {
  readonly maxMemory?: number;
  readonly backend: string;
}

/** The memory check of a compiling command: against --max-memory when given, else the backend's limit here. */
const compileOptions = (o: MemoryFlags): CompileOptions => ({
  maxMemoryBytes: o.maxMemory,
  memory: memoryBudget(o.backend),
});

/** Where the program's text goes: the process's stdout and stderr for the binary, buffers for runCli's callers. */
export interface CliIO {
  stdout(text: string): void;
  stderr(text: string): void;
  /** Colored diagnostics (the binary: when stderr is a terminal and NO_COLOR is unset). */
  readonly color: boolean;
}

function program(done: (o: Outcome) => void, io: CliIO): Command {
  const color = (): boolean => io.color;
  const memory = new Option(
    "--max-memory <size>",
    `refuse models whose training memory estimate exceeds this (default: the backend's memory, at most ${formatBytes(DEFAULTS.maxMemoryBytes)}: wasm's 4 GiB heap, this machine's memory for cpu and tensorflow)`,
  ).argParser(parseBytes);
  // The backend whose memory the check assumes, for the commands that compile without training.
  const checkBackend = new Option(
    "--backend <name>",
    "the backend whose memory the check assumes (default: the one --backend auto picks on this machine)",
  )
    .choices(BACKENDS)
    .default("auto");
  const cmd = new Command("rnnc")
    .description("Compile declarative recurrent-model specs (.rnn) to TypeScript training code.")
    .version(VERSION)
    .exitOverride() // before the subcommands, which copy it: every usage error reaches the catch below
    // commander's errors quote what the user typed (`unknown option '--\u202ex'`): each of their lines is shown
    // through terminalText. A newline a user typed still breaks such a line; it cannot be told from commander's own.
    .configureOutput({
      writeErr: (s) => io.stderr(s),
      writeOut: (s) => io.stdout(s),
      outputError: (s, write) => write(s.split("\n").map(terminalText).join("\n")),
    })
    .showHelpAfterError("(run with --help for usage)")
    .hook("preAction", (_, action) => {
      running = action.name();
    });
  cmd
    .command("check")
    .description("check specs and report diagnostics with code frames")
    .argument("<paths...>", ".rnn files or directories to search")
    .addOption(memory)
    .addOption(checkBackend)
    .action((paths: string[], o: MemoryFlags) => done(check(workspace, paths, { color: color() }, compileOptions(o))));
  cmd
    .command("fmt")
    .description("rewrite specs in the canonical layout (comments are kept)")
    .argument("<paths...>", ".rnn files or directories")
    .option("--check", "only report files that are not formatted; exit 1 if any")
    .action((paths: string[], o: { check?: boolean }) =>
      done(fmt(workspace, paths, { check: Boolean(o.check) }, { color: color() })),
    );
  cmd
    .command("ir")
    .description("print the resolved IR of a spec as JSON")
    .argument("<file>", "a .rnn file")
    .addOption(memory)
    .addOption(checkBackend)
    .action((file: string, o: MemoryFlags) =>
      done(irCommand(workspace, displayPath(file), { color: color() }, compileOptions(o))),
    );
  cmd
    .command("diff")
    .description(
      "show the semantic difference of two resolved experiments (FILE, FILE#EXPERIMENT, or a run directory: then with its results)",
    )
    .argument("<a>", "the first spec or run directory")
    .argument("<b>", "the second spec or run directory")
    .option("--json", "print the differences as JSON")
    .addOption(memory)
    .addOption(checkBackend)
    .action((a: string, b: string, o: { json?: boolean } & MemoryFlags) =>
      done(
        diff(
          workspace,
          displayPath(a),
          displayPath(b),
          { json: Boolean(o.json) },
          { color: color() },
          compileOptions(o),
        ),
      ),
    );
  cmd
    .command("build")
    .description("generate the TypeScript training code of an experiment (FILE or FILE#EXPERIMENT)")
    .argument("<spec>", "a .rnn file")
    .option(
      "-o, --out <dir>",
      "write model.ts with a package.json and tsconfig.json to DIR, instead of printing it",
      nonEmptyPath,
    )
    .option("--set <block.key=value>", "override a setting, checked like the spec (repeatable)", collect, [])
    .addOption(memory)
    .addOption(checkBackend)
    .action(async (spec: string, o: { out?: string; set: string[] } & MemoryFlags) => {
      // Loaded on demand: code generation pulls in ts-morph, prettier and TypeScript (~0.5 s even with the code
      // cache), which check, fmt, ir and diff never need.
      installCodeCache();
      const { build } = await import("./build.js");
      done(
        await build(workspace, displayPath(spec), { out: o.out, set: o.set }, { color: color() }, compileOptions(o)),
      );
    });
  cmd
    .command("run")
    .description("build an experiment and train it; progress on stderr, the final valid and test metric last on stdout")
    .argument("[spec]", "a .rnn file (FILE or FILE#EXPERIMENT)")
    .option("--resume <run_dir>", "continue a run from its last checkpoint, with its own generated code", nonEmptyPath)
    .option("--set <block.key=value>", "override a setting, checked like the spec (repeatable)", collect, [])
    .option("--epochs <n>", "train for N epochs instead of the spec's", positiveInt)
    .option("--limit-batches <n>", "stop each epoch and each evaluation after N batches (quick runs)", positiveInt)
    .option(
      "--train-batches <n>",
      "stop each epoch after N training batches, but evaluate on the whole sets (reduced budgets)",
      positiveInt,
    )
    .addOption(
      new Option("--backend <name>", "tfjs backend (the memory check assumes it)").choices(BACKENDS).default("auto"),
    )
    .option("--threads <n>", "wasm: XNNPACK threads (default: one per core)", positiveInt)
    .option(
      "--data <dir>",
      "the data folder (default: $RNNC_DATA, else ~/.cache/rnnc/data; --resume: the run's)",
      nonEmptyPath,
    )
    .option("--runs <dir>", "where run directories go", nonEmptyPath, "runs")
    .addOption(memory)
    .action(
      async (
        spec: string | undefined,
        o: {
          resume?: string;
          set: string[];
          epochs?: number;
          limitBatches?: number;
          trainBatches?: number;
          backend: string;
          threads?: number;
          data?: string;
          runs: string;
          maxMemory?: number;
        },
      ) => {
        installCodeCache();
        const { run } = await import("./run.js");
        done(
          await run(
            workspace,
            spec === undefined ? undefined : displayPath(spec),
            o,
            { color: color() },
            compileOptions(o),
          ),
        );
      },
    );
  cmd
    .command("eval")
    .description(
      "evaluate a run's checkpoint on the validation and test sets, as the end of `rnnc run` does; nothing is written",
    )
    .argument("<run_dir>", "a run directory (runs/EXPERIMENT/TIMESTAMP)")
    .option("--checkpoint <which>", "best, last, or a checkpoint file", nonEmptyPath, "best")
    .option("--limit-batches <n>", "stop each evaluation after N batches (quick checks)", positiveInt)
    .option(
      "--bptt <n>",
      "language models: evaluate with windows of N steps (longer sequences than training's; batch norm uses T_max's statistics beyond T_max)",
      positiveInt,
    )
    .addOption(new Option("--backend <name>", "tfjs backend").choices(BACKENDS).default("auto"))
    .option("--threads <n>", "wasm: XNNPACK threads (default: one per core)", positiveInt)
    .option("--data <dir>", "the data folder (default: $RNNC_DATA, else the one the run recorded)", nonEmptyPath)
    .action(
      async (
        runDir: string,
        o: {
          checkpoint: string;
          limitBatches?: number;
          bptt?: number;
          backend: string;
          threads?: number;
          data?: string;
        },
      ) => {
        const { evaluateRun } = await import("./run.js");
        done(await evaluateRun(runDir, o));
      },
    );
  cmd
    .command("sample")
    .description("generate text from a trained language model's checkpoint (the same seed gives the same text)")
    .argument("<run_dir>", "a run directory (runs/EXPERIMENT/TIMESTAMP)")
    .option("--checkpoint <which>", "best, last, or a checkpoint file", nonEmptyPath, "best")
    .option("--tokens <n>", "how many tokens (words or characters) to draw", positiveInt, 200)
    .option("--temperature <t>", "divide the logits by T: below 1 safer, above 1 more varied", positiveNumber, 1)
    .option("--prime <text>", "text the model reads first (its tokens must be in the vocabulary, or <unk> is used)")
    .option("--seed <s>", "the sampling seed", nonNegativeInt, 0)
    .addOption(new Option("--backend <name>", "tfjs backend").choices(BACKENDS).default("auto"))
    .option("--threads <n>", "wasm: XNNPACK threads (default: one per core)", positiveInt)
    .option("--data <dir>", "the data folder (default: $RNNC_DATA, else the one the run recorded)", nonEmptyPath)
    .action(
      async (
        runDir: string,
        o: {
          checkpoint: string;
          tokens: number;
          temperature: number;
          prime?: string;
          seed: number;
          backend: string;
          threads?: number;
          data?: string;
        },
      ) => {
        const { sampleRun } = await import("./run.js");
        done(await sampleRun(runDir, o));
      },
    );
  cmd
    .command("export")
    .description(
      "write a language model's checkpoint as TensorFlow.js weights (model.json + weights.bin) with model.js, a module that runs it in Node or a browser without rnnc",
    )
    .argument("<run_dir>", "a run directory (runs/EXPERIMENT/TIMESTAMP)")
    .requiredOption("-o, --out <dir>", "the folder to write", nonEmptyPath)
    .option("--checkpoint <which>", "best, last, or a checkpoint file", nonEmptyPath, "best")
    .option("--data <dir>", "the data folder, for the vocabulary (default: $RNNC_DATA, else the run's)", nonEmptyPath)
    .action(async (runDir: string, o: { out: string; checkpoint: string; data?: string }) => {
      const { exportRun } = await import("./run.js");
      done(await exportRun(runDir, o));
    });
  cmd
    .command("report")
    .description(
      "write one self-contained HTML page about runs: the settings that differ (with file:line), the results, the learning curves and each run's environment",
    )
    .argument("<runs...>", "run directories, or folders of them")
    .requiredOption("-o, --out <file>", "the page to write, e.g. report.html", nonEmptyPath)
    .option("--title <text>", "the page's title (default: the experiments' names)")
    .action(async (paths: string[], o: { out: string; title?: string }) => {
      const { report } = await import("./report.js");
      done(await report(paths, o.out, o.title));
    });
  cmd
    .command("runs")
    .description(
      "list the runs under folders as a table: experiment, status (running, finished, stopped, diverged, failed), epochs, results, speed, time",
    )
    .argument("[dirs...]", "folders to search for run directories", ["runs"])
    .option(
      "--experiment <name>",
      "only runs of this experiment (a sweep point's full name, such as merity_ar_sweep[ar=2])",
    )
    .option("--sweep <name>", "only the points of this sweep (the experiment's name without its [...])")
    .addOption(new Option("--status <state>", "only runs in this state").choices([...RUN_STATES]))
    .option("--json", "print the rows as JSON")
    .option("--csv", "print the rows as CSV")
    .action(
      (
        dirs: string[],
        o: { experiment?: string; sweep?: string; status?: RunState; json?: boolean; csv?: boolean },
      ) => {
        if (o.json && o.csv) throw new InvalidArgumentError("--json and --csv: choose one");
        done(listRuns(dirs, o, o.json ? "json" : o.csv ? "csv" : "table"));
      },
    );
  cmd
    .command("plot")
    .description(
      "draw the learning curves of runs (training metric per logging interval, validation per epoch) to an SVG or PNG, or write their data as CSV",
    )
    .argument(
      "<runs...>",
      "run directories, or folders of them (a sweep's points are coloured by the values that vary)",
    )
    .requiredOption("-o, --out <file>", "curves.svg, curves.png or curves.csv", nonEmptyPath)
    .option("--title <text>", "the chart's title (default: the experiments' names)")
    .action(async (paths: string[], o: { out: string; title?: string }) => {
      const { plot } = await import("./plot.js");
      done(await plot(paths, o.out, o.title));
    });
  return cmd;
}

/** The subcommand being run, for the prefix of an InputError's message. */
let running = "";

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/**
 * A folder or file option (-o, --runs, --data, --resume, --checkpoint): an empty one is a usage error, not the
 * current folder or the root (`-o ""` wrote /model.ts: the output path is `${out}/model.ts`).
 */
function nonEmptyPath(s: string): string {
  if (s === "") throw new InvalidArgumentError("expected a path, not an empty string");
  return s;
}

function positiveInt(s: string): number {
  const n = Number(s);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError("expected a positive integer");
  return n;
}

function nonNegativeInt(s: string): number {
  const n = Number(s);
  if (s.trim() === "" || !Number.isSafeInteger(n) || n < 0) throw new InvalidArgumentError("expected an integer ≥ 0");
  return n;
}

function positiveNumber(s: string): number {
  const n = Number(s);
  if (s.trim() === "" || !Number.isFinite(n) || n <= 0) throw new InvalidArgumentError("expected a number > 0");
  return n;
}

/**
 * Runs one command line (without `node rnnc`) and returns its exit code; what it prints goes to `io`, the
 * diagnostics (stderr) before the result (stdout). An exception that escapes is an internal error (exit 3 in the
 * binary); the caller decides what to do with it.
 */
export async function runCli(argv: readonly string[], io: CliIO): Promise<number> {
  let outcome: Outcome | undefined;
  running = "";
  const cmd = program((o) => {
    outcome = o;
  }, io);
  if (argv.length === 0) {
    cmd.outputHelp({ error: true });
    return EXIT.usage;
  }
  try {
    await cmd.parseAsync([...argv], { from: "user" });
  } catch (e) {
    // --help and --version end here with exit code 0; every other commander error is a usage error.
    if (e instanceof CommanderError) return e.exitCode === 0 ? EXIT.ok : EXIT.usage;
    // A path that cannot be written or a damaged run directory: the user's to fix, said in one line.
    if (e instanceof InputError) {
      io.stderr(`rnnc${running ? ` ${running}` : ""}: ${terminalLines(e.message)}\n`); // its paths are the user's text; its own lines kept
      return EXIT.inputError;
    }
    throw e;
  }
  if (!outcome) return EXIT.ok; // no command ran (nothing to do), as when the process simply ends
  if (outcome.stderr) io.stderr(outcome.stderr);
  if (outcome.stdout) io.stdout(outcome.stdout);
  return outcome.exitCode;
}

function internalError(e: unknown): never {
  const msg = e instanceof Error ? e.message : String(e);
  // The stack goes to a file too: a crash hours into a run should not need a rerun to be diagnosed.
  let saved = "";
  try {
    const file = join(tmpdir(), `rnnc-crash-${process.pid}.log`);
    writeFileSync(
      file,
      `${new Date().toISOString()} rnnc ${process.argv.slice(2).join(" ")}\n${e instanceof Error ? e.stack : msg}\n`,
    );
    saved = `; the stack is in ${file}`;
  } catch {
    // nowhere to write it: the one-line report stands
  }
  process.stderr.write(
    `rnnc: internal error: ${msg.split("\n")[0]}\n  this is a bug in rnnc; set RNNC_DEBUG=1 for details${saved}\n`,
  );
  if (process.env["RNNC_DEBUG"] && e instanceof Error) process.stderr.write(`${e.stack}\n`);
  process.exit(3);
}

/**
 * A program that embeds the CLI (the fuzz test's worker) sets this global before importing this module, to get
 * runCli without the process-level part below. Unset, as in bin/rnnc.js, importing the module runs the program.
 */
export const EMBEDDED = Symbol.for("rnnc.cli.embedded");

if (!(globalThis as Record<symbol, unknown>)[EMBEDDED]) {
  process.on("uncaughtException", internalError);
  process.on("unhandledRejection", internalError);
  try {
    const code = await runCli(process.argv.slice(2), {
      stdout: (s) => process.stdout.write(s),
      stderr: (s) => process.stderr.write(s),
      color: color(),
    });
    process.exitCode = code;
    process.exit(code);
  } catch (e) {
    internalError(e);
  }
}
