// From a spec argument to generated code: compile (with `--set` overrides checked like the spec), pick the
// experiment, refuse what code generation cannot do yet, and generate. Shared by `rnnc build` and `rnnc run`.
import { rnnString } from "../codegen/emit-text.js";
import { generate } from "../codegen/generate.js";
import { compile, type CompileOptions, type CompileResult } from "../compile.js";
import { Diag, sortDiagnostics, type Diagnostic, type Loc } from "../diagnostics.js";
import { dirname, type CompilerHost } from "../host.js";
import type { ExperimentIR } from "../ir.js";
import { EXPERIMENT_BLOCK, STATEMENT_KEYWORDS, VOCABULARY } from "../schema/index.js";
import { SourceText } from "../source.js";
import { parse, type Statement, type Value } from "../../grammar/index.js";
import { EXIT, type Outcome, type Workspace } from "./commands.js";
import { renderDiagnostics, type RenderOptions } from "./render.js";
import { terminalText } from "../terminal-text.js";

export interface Prepared {
  readonly exp: ExperimentIR;
  readonly code: string;
  readonly result: CompileResult;
  /** The spec file (without `#name`), and the file that holds the `--set` overrides, if any. */
  readonly specFile: string;
  /** Warnings, rendered. */
  readonly warnings: string;
}

const BLOCKS: readonly string[] = STATEMENT_KEYWORDS[EXPERIMENT_BLOCK]; // the schema's blocks of an experiment

/** A stretch of the generated override spec that is a stretch of a `--set` argument, character for character. */
interface Segment {
  /** Offset in the generated spec. */
  readonly spec: number;
  /** Offset in the arguments' text (each argument a line of it: see SET_FILE). */
  readonly arg: number;
  readonly length: number;
}

/** The name under which the `--set` arguments appear in diagnostics: `--> --set:2:7` is the second one, column 7. */
export const SET_FILE = "--set";

/** One `--set` argument as a statement of the generated spec: where it stands there, and what it said. */
interface SetEntry {
  readonly block: string;
  readonly key: string;
  readonly value: string;
  readonly start: number;
  readonly end: number;
}

/**
 * `--set block.key=value …` as a spec of its own that extends the experiment: `train.epochs=5` becomes
 * `train { epochs 5 }`. It is compiled like any spec, so a bad key or value gets the usual diagnostic; `segments`
 * lets that diagnostic point at the argument the user typed instead of at the generated text.
 */
function overrideSpec(
  base: string,
  name: string,
  sets: readonly string[],
): { text: string; args: string; segments: Segment[]; entries: SetEntry[] } | { error: string } {
  const byBlock = new Map<string, { stmt: string; from: Segment[]; block: string; key: string; value: string }[]>();
  let argAt = 0;
  const args: string[] = [];
  for (const s of sets) {
    const arg = s.trim();
    const m = /^([a-z_]+)\.([a-z_]+)=(.*)$/s.exec(arg);
    if (!m || !BLOCKS.includes(m[1]!))
      return {
        error: `--set ${JSON.stringify(s)}: expected BLOCK.KEY=VALUE with BLOCK one of ${BLOCKS.join(", ")} (e.g. train.epochs=5)`,
      };
    const [, block, key, value] = m as unknown as [string, string, string, string];
    // Offsets below are relative to the statement; they become absolute once its place in the text is known.
    // `task.kind=classify` is the statement `task classify`; `train.epochs=5` is `epochs 5` inside `train { }`.
    const entry =
      block === "task"
        ? {
            stmt: `task ${value}`,
            from: [
              { spec: 0, arg: argAt, length: 4 },
              { spec: 5, arg: argAt + block.length + key.length + 2, length: value.length },
            ],
            block,
            key,
            value,
          }
        : {
            stmt: `${key} ${value}`,
            from: [{ spec: 0, arg: argAt + block.length + 1, length: key.length + 1 + value.length }],
            block,
            key,
            value,
          };
    byBlock.set(block, block === "task" ? [entry] : [...(byBlock.get(block) ?? []), entry]);
    args.push(arg);
    argAt += arg.length + 1;
  }
  let text = `// rnnc --set overrides\nexperiment ${name} extends ${rnnString(base.split("/").pop()!)} ${name} {\n`;
  const segments: Segment[] = [];
  const entries: SetEntry[] = [];
  const put = (
    indent: string,
    e: { stmt: string; from: Segment[]; block: string; key: string; value: string },
  ): void => {
    const at = text.length + indent.length;
    segments.push(...e.from.map((g) => ({ ...g, spec: at + g.spec })));
    entries.push({ block: e.block, key: e.key, value: e.value, start: at, end: at + e.stmt.length });
    text += `${indent}${e.stmt}\n`;
  };
  for (const [block, entries] of byBlock) {
    if (block === "task") put("  ", entries[0]!);
    else {
      text += `  ${block} {\n`;
      for (const e of entries) put("    ", e);
      text += "  }\n";
    }
  }
  return { text: text + "}\n", args: args.join("\n"), segments: segments.sort((x, y) => x.spec - y.spec), entries };
}

/**
 * The diagnostics of the generated override spec, moved onto the `--set` arguments (SET_FILE). An offset between
 * or after the mapped stretches (a syntax error at the next token) goes to the end of the stretch before it; one
 * before them all (in the generated header) cannot come from an argument, and stays.
 */
function onArguments(ds: readonly Diagnostic[], specFile: string, segments: readonly Segment[]): Diagnostic[] {
  const offset = (o: number): number | null => {
    let before: Segment | null = null;
    for (const g of segments) {
      if (o >= g.spec && o <= g.spec + g.length) return g.arg + (o - g.spec);
      if (g.spec + g.length < o) before = g;
    }
    return before ? before.arg + before.length : null;
  };
  const move = <L extends Loc>(l: L): L => {
    if (l.file !== specFile) return l;
    const start = offset(l.span.start);
    if (start === null) return l;
    return { ...l, file: SET_FILE, span: { ...l.span, start, end: Math.max(start, offset(l.span.end) ?? start) } };
  };
  return ds.map((d) => ({ ...move(d), related: d.related.map(move) }));
}

/**
 * `sweep(…)` in a `--set` value: refused, located on the argument. A sweep makes several experiments, and one run of
 * `--set` trains one (it trained only the first value, silently); the hint writes the spec that sweeps instead.
 */
function sweepsInOverrides(
  text: string,
  file: string,
  experiment: string,
  specFile: string,
  entries: readonly SetEntry[],
): Diagnostic[] {
  const parsed = parse(text, VOCABULARY);
  if (!parsed.file) return [];
  const found: Diagnostic[] = [];
  const visit = (v: Value): void => {
    if (v.kind === "Call") {
      if (v.callee.name === "sweep") {
        const e = entries.find((x) => x.start <= v.span.start && v.span.start < x.end);
        const stmt = e ? (e.block === "task" ? `task ${e.value}` : `${e.block} { ${e.key} ${e.value} }`) : "…";
        found.push(Diag.sweepInSet({ file, span: v.span }, experiment, specFile.split("/").pop() ?? specFile, stmt));
        return;
      }
      for (const a of v.args) visit(a.value);
    } else if (v.kind === "List") v.items.forEach(visit);
  };
  const walk = (statements: readonly Statement[]): void => {
    for (const st of statements) {
      st.values.forEach(visit);
      if (st.block) walk(st.block.statements);
    }
  };
  for (const e of parsed.file.experiments) walk(e.body.statements);
  return found;
}

/** A spec argument without its `#NAME`. */
export const fileOf = (specArg: string): string => splitSpec(specArg).file;

/** The points of sweep `name` in a document (its variants `name[key=value]`), in spec order. */
export const sweepPointsOf = (exps: readonly ExperimentIR[], name: string): ExperimentIR[] =>
  exps.filter((e) => e.variant && e.name.startsWith(`${name}[`));

/**
 * The host of the `--set` compile: the override spec at `path`, and every file the spec's own compile read served
 * from that compile (`sources`), not read again: both compiles see the same bytes, even if a file changes meanwhile.
 */
function overlay(host: CompilerHost, path: string, text: string, sources: CompileResult["sources"]): CompilerHost {
  return {
    resolve: host.resolve,
    readFile: (p) => {
      if (p === path) return { ok: true, text };
      const read = sources.get(p);
      return read ? { ok: true, text: read.text } : host.readFile(p);
    },
  };
}

function fail(result: Pick<CompileResult, "diagnostics" | "sources">, render: RenderOptions): Outcome {
  return {
    stdout: "",
    stderr: renderDiagnostics(sortDiagnostics(result.diagnostics), result.sources, render) + "\n",
    exitCode: EXIT.inputError,
  };
}

/**
 * `compiled`: the spec file's compile result, which build and run pass (each command compiles a file once; see
 * compileSpec); without it, the file is compiled here.
 */
export async function prepare(
  ws: Workspace,
  specArg: string,
  sets: readonly string[],
  render: RenderOptions,
  options: CompileOptions,
  command: string,
  compiled?: CompileResult,
): Promise<Prepared | Outcome> {
  const { file: specFile, wanted } = splitSpec(specArg);
  let result = compiled ?? compile(specFile, ws.host, options);
  if (!result.document) return fail(result, render);
  const exps = result.document.experiments;
  const exp0 = wanted === undefined ? (exps.length === 1 ? exps[0] : undefined) : exps.find((e) => e.name === wanted);
  if (!exp0) {
    const points = wanted === undefined ? [] : sweepPointsOf(exps, wanted);
    if (points.length && sets.length)
      return {
        stdout: "",
        stderr: `rnnc ${command}: --set applies to a plain experiment, not to the sweep ${terminalText(wanted!)} (its ${points.length} points)\n`,
        exitCode: EXIT.usage,
      };
    const why =
      wanted === undefined
        ? `${specFile} defines ${exps.length} experiments; name one as ${specFile}#NAME`
        : `${specFile} has no experiment '${wanted}'`;
    return {
      stdout: "",
      stderr: `rnnc ${command}: ${terminalText(why)}\n  experiments: ${exps.map((e) => e.name).join(", ")}\n`,
      exitCode: EXIT.usage,
    };
  }
  let exp = exp0;
  let toArguments = (ds: readonly Diagnostic[]): readonly Diagnostic[] => ds;
  if (sets.length) {
    if (exp.variant)
      return {
        stdout: "",
        stderr: `rnnc ${command}: --set applies to a plain experiment, not to the sweep variant ${exp.name}\n`,
        exitCode: EXIT.usage,
      };
    const spec = overrideSpec(specFile, exp.name, sets);
    if ("error" in spec)
      return { stdout: "", stderr: `rnnc ${command}: ${terminalText(spec.error)}\n`, exitCode: EXIT.usage };
    // A file beside the spec, so that its `extends` finds the spec; diagnostics are then moved onto the arguments.
    const setFile = `${dirname(specFile)}/--set.rnn`;
    const overridden = compile(setFile, overlay(ws.host, setFile, spec.text, result.sources), options);
    toArguments = (ds) => onArguments(ds, setFile, spec.segments);
    const sweeps = sweepsInOverrides(spec.text, setFile, exp.name, specFile, spec.entries);
    if (sweeps.length)
      return fail(
        { diagnostics: toArguments(sweeps), sources: new Map([[SET_FILE, new SourceText(SET_FILE, spec.args)]]) },
        render,
      );
    result = {
      ...overridden,
      diagnostics: toArguments(overridden.diagnostics),
      sources: new Map([...overridden.sources, [SET_FILE, new SourceText(SET_FILE, spec.args)]]),
    };
    if (!result.document) return fail(result, render);
    exp = result.document.experiments[0]!;
  }
  const code = await generate(exp, { specPath: specFile });
  const warnings = result.diagnostics.length
    ? renderDiagnostics(result.diagnostics, result.sources, render) + "\n"
    : "";
  return { exp, code, result, specFile, warnings };
}

/** A spec argument as its file and the experiment `#NAME` names, if any. */
export function splitSpec(specArg: string): { file: string; wanted: string | undefined } {
  const hash = specArg.lastIndexOf("#");
  return hash > 0
    ? { file: specArg.slice(0, hash), wanted: specArg.slice(hash + 1) }
    : { file: specArg, wanted: undefined };
}

/**
 * The one compile of a command's spec file (`rnnc build` and `rnnc run` compiled it twice, and `rnnc run` again for
 * each point of a sweep): build and run call this once and hand the result to experimentsIn and prepare.
 */
export function compileSpec(ws: Workspace, specArg: string, options: CompileOptions): CompileResult {
  return compile(splitSpec(specArg).file, ws.host, options);
}

/**
 * The experiments of a file named without `#NAME` that defines several (a sweep, or a file of variants), or the points
 * of the sweep that `FILE#NAME` names, for `rnnc build` and `rnnc run` to take in turn; null for one experiment, a
 * `#NAME` of one, or a file that does not compile (prepare then reports it).
 */
export function experimentsIn(result: CompileResult, specArg: string): string[] | null {
  const { wanted } = splitSpec(specArg);
  const doc = result.document;
  if (!doc) return null;
  // `FILE#NAME` of a sweep (not of one of its points): the sweep's points, as the file alone gives every experiment.
  if (wanted !== undefined) {
    if (doc.experiments.some((e) => e.name === wanted)) return null;
    const points = sweepPointsOf(doc.experiments, wanted);
    return points.length ? points.map((e) => e.name) : null;
  }
  return doc.experiments.length > 1 ? doc.experiments.map((e) => e.name) : null;
}

/** experimentsIn, compiling the file: for callers without a compile result (tests, tools). */
export function experimentsToRun(
  ws: Workspace,
  specArg: string,
  options: CompileOptions,
): { names: string[]; result: CompileResult } | null {
  const result = compileSpec(ws, specArg, options);
  const names = experimentsIn(result, specArg);
  return names ? { names, result } : null;
}

/** A directory name for an experiment (sweep variants are named like `ar_sweep[ar=2]`). */
export const dirNameOf = (experiment: string): string =>
  experiment
    .replace(/\[/g, ".")
    .replace(/\]/g, "")
    .replace(/[^A-Za-z0-9_.=,-]+/g, "_"); // ar_sweep[ar=2] → ar_sweep.ar=2

export const isOutcome = (x: Prepared | Outcome): x is Outcome => "exitCode" in x;
