// Phase 2: load files, validate keys, follow `extends`, and merge overrides block by block.
// The result is one tree of statements per experiment, each remembering the file it came from.
import { own, parse, type Experiment, type SpecFile, type Statement } from "../grammar/index.js";
import { Diag, type Diagnostic, type Loc } from "./diagnostics.js";
import type { CompilerHost, ReadResult } from "./host.js";
import { argumentHome } from "./argument-home.js";
import { EXPERIMENT_BLOCK, NESTED_BLOCKS, STATEMENT_KEYWORDS, VOCABULARY } from "./schema/index.js";
import { SourceText } from "./source.js";

/** A statement after inheritance: the values of the nearest spec that set them, and the merged nested block. */
export interface REntry {
  readonly key: string;
  readonly file: string;
  readonly stmt: Statement;
  readonly block?: RBlock;
}
export type RBlock = ReadonlyMap<string, REntry>;

export interface ResolvedExperiment {
  readonly name: string;
  readonly file: string;
  readonly node: Experiment;
  readonly body: RBlock;
  /** `file:name` of each ancestor, nearest first. */
  readonly chain: readonly string[];
}

/** Longer `extends` chains are refused: real ones are 2–4 deep, and resolution recurses once per level. */
export const MAX_EXTENDS_DEPTH = 64;

export interface LoadedFile {
  readonly path: string;
  readonly source: SourceText;
  readonly ast?: SpecFile;
}

export class Program {
  readonly files = new Map<string, LoadedFile | null>();
  readonly diagnostics: Diagnostic[] = [];
  private readonly resolved = new Map<string, ResolvedExperiment | null>();

  constructor(private readonly host: CompilerHost) {}

  /** Reads, parses and validates a file once; syntax and key errors go to `diagnostics`. */
  load(path: string, requestedAt?: Loc): LoadedFile | null {
    const cached = this.files.get(path);
    if (cached !== undefined) return cached;
    const read = this.host.readFile(path);
    if (!read.ok) {
      const failed = readFailure(path, read, requestedAt);
      this.diagnostics.push(failed.diagnostic);
      this.files.set(path, failed.source ? { path, source: failed.source } : null);
      return null;
    }
    const source = new SourceText(path, read.text);
    const parsed = parse(read.text, VOCABULARY);
    for (const e of parsed.errors) this.diagnostics.push(syntaxDiagnostic(path, e));
    if (parsed.file) {
      if (parsed.file.experiments.length === 0)
        this.diagnostics.push(Diag.noExperiment({ file: path, span: { start: 0, end: 0 } }));
      this.validateFile(path, parsed.file);
    }
    const loaded: LoadedFile = { path, source, ast: parsed.file };
    this.files.set(path, loaded);
    return loaded;
  }

  /** All experiments of a file, resolved; null entries failed with diagnostics. */
  resolveFile(path: string): ResolvedExperiment[] {
    const file = this.load(path);
    if (!file?.ast) return [];
    return file.ast.experiments.flatMap((e) => this.resolveExperiment(file, e, []) ?? []);
  }

  private resolveExperiment(file: LoadedFile, exp: Experiment, stack: readonly string[]): ResolvedExperiment | null {
    const id = `${file.path}:${exp.name.name}`;
    const loc = (span: Experiment["span"]): Loc => ({ file: file.path, span });
    if (stack.includes(id)) return null; // reported by the caller that closed the cycle
    const memo = this.resolved.get(id);
    if (memo !== undefined) return memo;

    let parent: ResolvedExperiment | null = null;
    const ext = exp.extends;
    if (ext) {
      const targetFile = ext.path ? this.load(this.host.resolve(file.path, ext.path.value), loc(ext.path.span)) : file;
      if (!targetFile?.ast) return this.fail(id);
      let target: Experiment | undefined;
      if (ext.name) {
        target = this.byName(targetFile).get(ext.name.name);
        if (!target) {
          const candidates = targetFile.ast.experiments
            .filter((e) => targetFile !== file || e !== exp)
            .map((e) => e.name.name);
          this.diagnostics.push(
            Diag.extendsTargetNotFound(loc(ext.name.span), ext.name.name, targetFile.path, candidates),
          );
          return this.fail(id);
        }
      } else if (targetFile.ast.experiments.length === 1) {
        target = targetFile.ast.experiments[0];
      } else if (targetFile.ast.experiments.length > 1) {
        this.diagnostics.push(
          Diag.extendsAmbiguous(
            loc(ext.span),
            targetFile.path,
            targetFile.ast.experiments.map((e) => e.name.name),
          ),
        );
        return this.fail(id);
      }
      if (!target) return this.fail(id); // the target file reports that it defines no experiment
      const targetId = `${targetFile.path}:${target.name.name}`;
      const cycleStart = [...stack, id].indexOf(targetId);
      if (stack.length >= MAX_EXTENDS_DEPTH) {
        this.diagnostics.push(Diag.extendsTooDeep(loc(ext.span), MAX_EXTENDS_DEPTH));
        return this.fail(id);
      }
      if (cycleStart >= 0) {
        const chain = [...[...stack, id].slice(cycleStart), targetId];
        this.diagnostics.push(Diag.extendsCycle(loc(ext.span), chain));
        return this.fail(id);
      }
      parent = this.resolveExperiment(targetFile, target, [...stack, id]);
      if (!parent) return this.fail(id);
      if (parent.chain.length + 1 > MAX_EXTENDS_DEPTH) {
        this.diagnostics.push(Diag.extendsTooDeep(loc(ext.span), MAX_EXTENDS_DEPTH));
        return this.fail(id);
      }
    }
    const own = toRBlock(file.path, exp.body.statements, EXPERIMENT_BLOCK);
    const result: ResolvedExperiment = {
      name: exp.name.name,
      file: file.path,
      node: exp,
      body: parent ? merge(parent.body, own) : own,
      chain: parent ? [`${parent.file}:${parent.name}`, ...parent.chain] : [],
    };
    this.resolved.set(id, result);
    return result;
  }

  private readonly names = new Map<LoadedFile, Map<string, Experiment>>();

  /** Experiments of a file by name (the first of duplicates), built once: files may hold thousands. */
  private byName(file: LoadedFile): Map<string, Experiment> {
    let m = this.names.get(file);
    if (!m) {
      m = new Map();
      for (const e of file.ast?.experiments ?? []) if (!m.has(e.name.name)) m.set(e.name.name, e);
      this.names.set(file, m);
    }
    return m;
  }

  private fail(id: string): null {
    this.resolved.set(id, null);
    return null;
  }

  /** Unknown keys, misplaced blocks and duplicates, checked once per file against the schema's keyword tables. */
  private validateFile(path: string, file: SpecFile): void {
    const seen = new Map<string, Experiment>();
    for (const exp of file.experiments) {
      const first = seen.get(exp.name.name);
      if (first)
        this.diagnostics.push(
          Diag.duplicateExperiment({ file: path, span: exp.name.span }, exp.name.name, {
            file: path,
            span: first.name.span,
          }),
        );
      else seen.set(exp.name.name, exp);
      this.validateBlock(path, EXPERIMENT_BLOCK, exp.body.statements);
    }
  }

  private validateBlock(path: string, block: string, statements: readonly Statement[]): void {
    const known = own(STATEMENT_KEYWORDS, block) ?? [];
    const seen = new Map<string, Statement>();
    for (const st of statements) {
      const at: Loc = { file: path, span: st.key.span };
      if (!known.includes(st.key.name)) {
        this.diagnostics.push(
          block === EXPERIMENT_BLOCK
            ? Diag.unknownBlock(at, st.key.name, known)
            : Diag.unknownKey(
                at,
                block,
                st.key.name,
                known,
                argumentHome(
                  block,
                  st.key.name,
                  st.values[0],
                  statements.map((stmt) => ({ file: path, stmt })),
                ),
              ),
        );
        continue;
      }
      const first = seen.get(st.key.name);
      if (first) this.diagnostics.push(Diag.duplicateStatement(at, st.key.name, { file: path, span: first.key.span }));
      seen.set(st.key.name, st);
      if (st.block) {
        const nested = own(NESTED_BLOCKS, `${block}/${st.key.name}`);
        if (nested) this.validateBlock(path, nested, st.block.statements);
        else this.diagnostics.push(Diag.unexpectedBlock({ file: path, span: st.block.span }, st.key.name));
      }
    }
  }
}

function toRBlock(file: string, statements: readonly Statement[], block: string): RBlock {
  const out = new Map<string, REntry>();
  for (const st of statements) {
    if (out.has(st.key.name)) continue; // the duplicate was reported; the first one wins
    const nested = own(NESTED_BLOCKS, `${block}/${st.key.name}`);
    out.set(st.key.name, {
      key: st.key.name,
      file,
      stmt: st,
      block: st.block && nested ? toRBlock(file, st.block.statements, nested) : undefined,
    });
  }
  return out;
}

/**
 * Overrides, block by block: a child statement replaces its parent's values when it has values of its own,
 * and nested blocks merge key by key. So `dropout { between 0.4 }` changes one site and keeps the others.
 */
export function merge(parent: RBlock, child: RBlock): RBlock {
  const out = new Map(parent);
  for (const [key, c] of child) {
    const p = parent.get(key);
    if (!p) {
      out.set(key, c);
      continue;
    }
    const values = c.stmt.values.length > 0 || !c.block ? c : p;
    const block = p.block && c.block ? merge(p.block, c.block) : (c.block ?? p.block);
    out.set(key, { key, file: values.file, stmt: values.stmt, block });
  }
  return out;
}

/** The diagnostic for a file that could not be read; invalid UTF-8 is shown in place in a lenient decoding. */
export function readFailure(
  path: string,
  read: Extract<ReadResult, { ok: false }>,
  requestedAt?: Loc,
): { diagnostic: Diagnostic; source?: SourceText } {
  if (read.kind === "invalid-utf8") {
    const source = new SourceText(path, read.lenientText ?? "");
    const at = Math.min(source.text.length, read.charOffset ?? 0);
    return {
      diagnostic: Diag.invalidUtf8(
        { file: path, span: { start: at, end: Math.min(source.text.length, at + 1) } },
        read.byteOffset ?? 0,
      ),
      source,
    };
  }
  const at = requestedAt ?? { file: path, span: { start: 0, end: 0 } };
  if (read.kind === "missing" && requestedAt) return { diagnostic: Diag.extendsFileNotFound(at, path) };
  return { diagnostic: Diag.unreadableFile(at, path, read.reason) };
}

function syntaxDiagnostic(file: string, e: import("../grammar/index.js").SyntaxError): Diagnostic {
  const at: Loc = { file, span: e.span };
  switch (e.kind) {
    case "unexpected-character":
      return Diag.unexpectedCharacter(at, e.found ?? "");
    case "unterminated-comment":
      return Diag.unterminatedComment(at);
    case "unterminated-string":
      return Diag.unterminatedString(at);
    case "nesting-too-deep":
      return Diag.nestingTooDeep(at, 64);
    case "unexpected-token":
      return Diag.unexpectedToken(at, e.found ?? "", e.expected ?? []);
  }
}
