// Typed reading of statement values, with located diagnostics. Lowering uses these and nothing else to look
// at values, so every value check (range, type, name, arguments) reads and reports the same way.
import { own, type Call, type CallArg, type Span, type Statement, type Value } from "../grammar/index.js";
import { Diag, type ArgumentHome, type Diagnostic, type Loc } from "./diagnostics.js";
import type { Origin } from "./ir.js";
import {
  EXPERIMENT_BLOCK,
  STATEMENT_KEYWORDS,
  type BlockName,
  type IRPath,
  type ParamDecl,
  type Setting,
  type Variants,
} from "./schema/index.js";
import type { Check } from "./schema/ranges.js";
import type { RBlock, REntry } from "./resolve.js";
import type { SourceText } from "./source.js";
import { didYouMean } from "./suggest.js";

export { checks, type Check } from "./schema/ranges.js";

/** One parameter of a call-shaped value: declared in the schema (compiler/schema/settings.ts). */
export type Param = ParamDecl;

/** A statement and the file it was written in. */
export interface Placed {
  readonly file: string;
  readonly stmt: Statement;
}

/** Where a word that is an argument of one of a block's calls belongs (lower.ts: `argumentHome`). */
export type ArgumentHomes = (
  block: string,
  name: string,
  value: Value | undefined,
  siblings: readonly Placed[],
) => ArgumentHome | undefined;

/** Shared state of one lowering: diagnostics, origins, and the sweep point being lowered. */
export class LowerContext {
  readonly diagnostics: Diagnostic[] = [];
  readonly origins: Record<string, Origin> = {};
  /** Where each IR path was set, for checks that relate two settings. */
  readonly locs = new Map<string, Loc>(); // keys are IRPaths (written by `origin`); read by string in checks
  /**
   * The span of every statement written, by block and key (`data.vocab`), whether or not its value is read: a rule
   * that a setting has no effect where it is written (vocab on ptb) must locate a statement lowering ignores.
   */
  private readonly statements = new Map<string, Loc>();
  /** The IR paths whose number this variant took from a `sweep(…)`: a swept 0 is a baseline, not a mistake (W0401). */
  readonly swept = new Set<IRPath>();
  /** The block each statement stands in (`experiment`, `model`, …) and its statements, for what a stray word may mean. */
  private readonly blocks = new Map<Statement, { readonly block: string; readonly siblings: readonly Placed[] }>();

  constructor(
    private readonly sources: ReadonlyMap<string, SourceText>,
    /** The value chosen for each `sweep(…)` call in this variant. */
    readonly sweepChoice: ReadonlyMap<Call, Value>,
    /** The lowering's call tables, asked where a stray argument belongs (passed in: lower.ts imports this module). */
    readonly argumentHome: ArgumentHomes = () => undefined,
  ) {}

  report(d: Diagnostic | undefined): void {
    if (d) this.diagnostics.push(d);
  }

  origin(path: IRPath, at: Loc): void {
    const src = this.sources.get(at.file);
    const pos = src?.position(at.span.start) ?? { line: 1, col: 1 };
    this.origins[path] = { file: at.file, line: pos.line, col: pos.col, start: at.span.start, end: at.span.end };
    this.locs.set(path, at);
  }

  /** Records the block of every statement of a resolved experiment; a nested block is named by its key. */
  indexBlocks(body: RBlock, block: string = EXPERIMENT_BLOCK): void {
    const siblings = [...body.values()].map((e) => ({ file: e.file, stmt: e.stmt }));
    for (const e of body.values()) {
      this.blocks.set(e.stmt, { block, siblings });
      this.statements.set(`${block}.${e.key}`, { file: e.file, span: e.stmt.span });
      if (e.block) this.indexBlocks(e.block, e.key);
    }
  }

  /** Where the statement `key` of `block` was written (its whole statement), or undefined. */
  written(block: BlockName, key: string): Loc | undefined {
    return this.statements.get(`${block}.${key}`);
  }

  blockOf(stmt: Statement): { readonly block: string; readonly siblings: readonly Placed[] } {
    return this.blocks.get(stmt) ?? { block: EXPERIMENT_BLOCK, siblings: [] };
  }

  /** A value with any sweep replaced by this variant's choice. */
  value(v: Value): Value {
    return this.sweepChoice.get(v as Call) ?? v;
  }

  /** Was this value chosen from a sweep? (A swept 0 is a baseline, not a mistake.) */
  fromSweep(v: Value | undefined): boolean {
    return v !== undefined && this.sweepChoice.has(v as Call);
  }
}

const describe = (v: Value): string => {
  switch (v.kind) {
    case "Number":
      return `the number ${v.text}`;
    case "String":
      return "a string";
    case "Name":
      return `'${v.name}'`;
    case "Call":
      return `'${v.callee.name}(…)'`;
    case "List":
      return "a list";
  }
};

/** Reads the values of one statement left to right; `done()` reports whatever is left over. */
export class StatementReader {
  private index = 0;
  /** A misspelled key was found among the values: it was reported, and nothing after it is. */
  private stray = false;
  readonly values: readonly Value[];
  readonly stmt: Statement;

  constructor(
    readonly cx: LowerContext,
    readonly entry: REntry,
    /** The statement's shape, for hints: "ar α [dropped | raw]". */
    readonly shape: string,
  ) {
    this.stmt = entry.stmt;
    this.values = entry.stmt.values.map((v) => cx.value(v));
  }

  at(span: Span): Loc {
    return { file: this.entry.file, span };
  }

  get keyLoc(): Loc {
    return this.at(this.stmt.key.span);
  }

  get loc(): Loc {
    return this.at(this.stmt.span);
  }

  peek(): Value | undefined {
    return this.values[this.index];
  }

  /** The raw (unsubstituted) next value, to ask whether it is a sweep. */
  peekRaw(): Value | undefined {
    return this.stmt.values[this.index];
  }

  hasMore(): boolean {
    return this.index < this.values.length;
  }

  take(): Value | undefined {
    return this.values[this.index++];
  }

  number(path: IRPath, what: string, check: Check): number | undefined {
    if (this.cx.fromSweep(this.peekRaw())) this.cx.swept.add(path);
    const v = this.take();
    if (!v) {
      this.cx.report(Diag.missingValue(this.keyLoc, this.stmt.key.name, this.shape));
      return undefined;
    }
    if (this.strayKey(v)) return undefined;
    return readNumber(this.cx, this.at(v.span), v, path, what, check);
  }

  /** A bare word among `options`. */
  word<T extends string>(path: IRPath, what: string, options: readonly T[]): T | undefined {
    const v = this.take();
    if (!v) {
      this.cx.report(Diag.missingValue(this.keyLoc, this.stmt.key.name, this.shape));
      return undefined;
    }
    if (this.strayKey(v, options)) return undefined;
    return readWord(this.cx, this.at(v.span), v, path, what, options);
  }

  /** A bare word among `options` if the next value is one, else the default. */
  optionalWord<T extends string>(path: IRPath, what: string, options: readonly T[], fallback: T): T {
    const v = this.peek();
    if (!v || v.kind !== "Name") return fallback;
    this.index++;
    if (this.strayKey(v, options)) return fallback;
    return readWord(this.cx, this.at(v.span), v, path, what, options) ?? fallback;
  }

  /**
   * A bare word where a value goes that is no value here but a likely misspelling of a key of the block, or an
   * argument of one of its calls: the grammar keeps a word on the same line as a value (only the compiler knows
   * `none` is a value of `embed` and not a misspelled `norm`), so `embed 650  layrs 2 lstm(650)` and
   * `epochs 3  lr 0.5` are caught here and reported as the unknown settings they are.
   */
  private strayKey(v: Value, options: readonly string[] = []): boolean {
    if (this.stray || v.kind !== "Name" || options.includes(v.name) || didYouMean(v.name, options) !== undefined)
      return this.stray;
    const { block, siblings } = this.cx.blockOf(this.stmt);
    const keys = own(STATEMENT_KEYWORDS, block) ?? [];
    const next = this.values[this.values.indexOf(v) + 1];
    const home = block === EXPERIMENT_BLOCK ? undefined : this.cx.argumentHome(block, v.name, next, siblings);
    if (!home && didYouMean(v.name, keys) === undefined) return false;
    const at = this.at(v.span);
    this.cx.report(
      block === EXPERIMENT_BLOCK ? Diag.unknownBlock(at, v.name, keys) : Diag.unknownKey(at, block, v.name, keys, home),
    );
    return (this.stray = true);
  }

  /** `flag`, `flag true` or `flag false`. */
  flag(path: IRPath): boolean {
    const v = this.peek();
    if (!v) {
      this.cx.origin(path, this.keyLoc);
      return true;
    }
    return this.word(path, `'${this.stmt.key.name}'`, ["true", "false"] as const) !== "false";
  }

  done(): void {
    const extra = this.values[this.index];
    if (extra && !this.strayKey(extra))
      this.cx.report(Diag.unexpectedValue(this.at(extra.span), this.stmt.key.name, this.shape));
  }
}

export function readNumber(
  cx: LowerContext,
  at: Loc,
  v: Value,
  path: IRPath,
  what: string,
  check: Check,
): number | undefined {
  if (v.kind !== "Number") {
    cx.report(Diag.typeMismatch(at, what, "a number", describe(v)));
    return undefined;
  }
  const problem = check(v.value, at);
  if (problem) {
    cx.report(problem);
    return undefined;
  }
  cx.origin(path, at);
  return v.value;
}

export function readWord<T extends string>(
  cx: LowerContext,
  at: Loc,
  v: Value,
  path: IRPath,
  what: string,
  options: readonly T[],
): T | undefined {
  if (v.kind !== "Name") {
    cx.report(Diag.typeMismatch(at, what, options.map((o) => `'${o}'`).join(" or "), describe(v)));
    return undefined;
  }
  if (!options.includes(v.name as T)) {
    cx.report(Diag.unknownName(at, what, v.name, options));
    return undefined;
  }
  cx.origin(path, at);
  return v.name as T;
}

export interface CallShape {
  readonly callee: string;
  readonly args: Record<string, number | readonly number[]>;
  readonly loc: Loc;
}

/**
 * Reads `name(arg, key = arg, …)` (or a bare `name`) against one of several known signatures.
 * Positional arguments fill parameters in order; every argument lands at `${path}.${param}`.
 */
export function readCall(
  cx: LowerContext,
  file: string,
  raw: Value,
  path: IRPath,
  what: string,
  signatures: Variants,
  /** Where the callee's origin goes: `${path}.kind` for an IR union (`train.optimizer.kind`), or a word's own field. */
  calleePath: IRPath = `${path}.kind` as IRPath,
): CallShape | undefined {
  const v = cx.value(raw);
  const at = (span: Span): Loc => ({ file, span });
  const callee = v.kind === "Call" ? v.callee : v.kind === "Name" ? { name: v.name, span: v.span } : undefined;
  if (!callee) {
    cx.report(
      Diag.typeMismatch(
        at(v.span),
        what,
        Object.keys(signatures)
          .map((s) => `'${s}'`)
          .join(" or "),
        describe(v),
      ),
    );
    return undefined;
  }
  const params = own(signatures, callee.name);
  if (!params) {
    cx.report(Diag.unknownName(at(callee.span), what, callee.name, Object.keys(signatures)));
    return undefined;
  }
  cx.origin(calleePath, at(callee.span));
  const args: Record<string, number | readonly number[]> = {};
  const given = new Set<string>();
  let ok = true;
  const callArgs: readonly CallArg[] = v.kind === "Call" ? v.args : [];
  callArgs.forEach((arg, i) => {
    const param = arg.name ? params.find((p) => p.name === arg.name!.name) : params[i];
    if (!param) {
      ok = false;
      cx.report(
        arg.name
          ? Diag.unknownArgument(
              at(arg.name.span),
              callee.name,
              arg.name.name,
              params.map((p) => p.name),
            )
          : Diag.unexpectedValue(
              at(arg.span),
              `${callee.name}(…)`,
              `${callee.name}(${params.map((p) => p.name).join(", ")})`,
            ),
      );
      return;
    }
    if (given.has(param.name)) {
      ok = false;
      cx.report(Diag.duplicateArgument(at(arg.span), callee.name, param.name));
      return;
    }
    given.add(param.name);
    const value = cx.value(arg.value);
    const argPath = `${path}.${param.name}` as IRPath;
    if (param.list) {
      const items = value.kind === "List" ? value.items : [value];
      const nums = items.map((item, j) =>
        readNumber(
          cx,
          at(item.span),
          item,
          `${argPath}.${j}` as IRPath,
          `${callee.name}(${param.name})`,
          param.range.check(param.what),
        ),
      );
      if (nums.some((n) => n === undefined)) ok = false;
      else {
        args[param.name] = nums as number[];
        cx.origin(argPath, at(value.span));
      }
    } else {
      const n = readNumber(
        cx,
        at(value.span),
        value,
        argPath,
        `${callee.name}(${param.name})`,
        param.range.check(param.what),
      );
      if (n === undefined) ok = false;
      else args[param.name] = n;
    }
  });
  for (const p of params) {
    if (given.has(p.name)) continue;
    if (p.default === undefined) {
      ok = false;
      cx.report(Diag.missingArgument(at(v.span), callee.name, p.name));
    } else {
      args[p.name] = p.default;
    }
  }
  // Parameter order, not writing order, so `decay(after = 6, by = 1.2)` lowers like `decay(by = 1.2, after = 6)`.
  const ordered = Object.fromEntries(params.map((p) => [p.name, args[p.name]!]));
  return ok ? { callee: callee.name, args: ordered, loc: at(v.span) } : undefined;
}

/** Reads the statement `key` of a block with `read`, then reports leftover values; undefined when unset. */
export function readKey<T>(
  cx: LowerContext,
  block: ReadonlyMap<string, REntry>,
  key: string,
  shape: string,
  read: (r: StatementReader) => T,
): T | undefined {
  const e = block.get(key);
  if (!e) return undefined;
  const r = new StatementReader(cx, e, shape);
  const v = read(r);
  r.done();
  return v;
}

/** `key N`, checked, recorded at `path`; the fallback when unset or invalid (the error is reported). */
export function readNumberKey(
  cx: LowerContext,
  block: ReadonlyMap<string, REntry>,
  key: string,
  path: IRPath,
  what: string,
  check: Check,
  fallback: number,
): number {
  return readKey(cx, block, key, `${key} N`, (r) => r.number(path, what, check)) ?? fallback;
}

/**
 * A simple setting (a number, a flag or a word) of a block, read and range-checked by its declaration in the schema;
 * undefined when it is not written or its value was refused (reported).
 */
export function readSetting(
  cx: LowerContext,
  block: ReadonlyMap<string, REntry>,
  s: Setting,
): number | boolean | string | undefined {
  const shape = s.shape;
  const path = s.path!;
  switch (shape.kind) {
    case "number":
      return readKey(cx, block, s.key, s.syntax, (r) => r.number(path, s.what, shape.range.check(s.what)));
    case "flag":
      return readKey(cx, block, s.key, s.syntax, (r) => r.flag(path));
    case "word":
      return readKey(cx, block, s.key, s.syntax, (r) => r.word(path, s.what, shape.options));
    default:
      throw new Error(`readSetting: ${s.block}.${s.key} is no simple setting`);
  }
}

/** A call-shaped setting (`optimizer adam(lr = 0.002)`) read against its declared variants; undefined when unset or refused. */
export function readCallSetting(
  cx: LowerContext,
  block: ReadonlyMap<string, REntry>,
  s: Setting,
): CallShape | undefined {
  const shape = s.shape;
  if (shape.kind !== "call") throw new Error(`readCallSetting: ${s.block}.${s.key} is no call`);
  const base = s.path!.replace(/\.kind$/, "") as IRPath;
  return readKey(cx, block, s.key, s.syntax, (r) => {
    const v = r.take();
    if (!v) return void cx.report(Diag.missingValue(r.keyLoc, s.key, shape.example));
    return readCall(cx, r.entry.file, v, base, s.what, shape.variants, s.path!);
  });
}
