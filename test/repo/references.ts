// Finds the repository paths that comments and docs cite (`compiler/codegen/generate.ts`, `specs/language.md`,
// `runtime/data/`, `runtime/kernels/gemm*.ts`) and says which do not resolve to a file or folder of the repository. A comment that points at a
// moved or deleted file sends the reader nowhere, and one that points outside the repository (a sibling checkout's
// data folder) names something another clone does not have.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { basename, dirname, extname, join, resolve, sep } from "node:path";
import ts from "typescript";

/** The folders whose comments and docs are checked (and the top-level README), and what there is not checked. */
export const CHECKED_DIRS = ["grammar", "compiler", "runtime", "test", "bench", "specs", "examples"] as const;
const CHECKED_TOP_FILES = ["README.md"];
/** Generated code and test inputs: compared byte for byte by their tests, their text is data, not a citation. */
const SKIPPED = /(^|\/)(node_modules|dist|runs|golden|fixtures)(\/|$)|\.expected$/;

/** Top-level folders of the repository: a path-like word that starts with one of them is a citation. */
const TOP_DIRS = ["grammar", "compiler", "runtime", "test", "bench", "specs", "examples", "bin", ".ci"];
/** Extensions of the files a comment cites: a path-like word ending in one of them is a citation, whatever it starts with. */
const CITED_EXTENSIONS = new Set([".ts", ".js", ".mjs", ".cjs", ".md", ".rnn", ".json", ".py", ".sh"]);
/** Paths of things that are not in a checkout by design: installed packages, training runs, caches. */
const NOT_IN_CHECKOUT = /^(node_modules|runs|\.rnnc-cache|scratch|\.bench)\//;

/**
 * A path-like word: segments of word characters, dots and dashes joined by `/`, with at least one `/`. It may not
 * continue a longer word (`…/chevrotain/lib/api.js`, `@scope/pkg`, `~/x`, `$DIR/x`, `<run>/x`, `{a,b}/x`).
 */
const PATH_WORD = /(?<![\w.\-/<>{}*$~@:%\\])(?:\.{1,2}\/)*(?:[\w.-]+\/)+[\w.-]*/g;
/** A citation of the folder named shared beside a checkout (data sets, design notes), in any spelling. */
/**
 * A file cited by its name alone (`diagnostics.ts`, `language.md`): its folder is the reader's context, so it only has
 * to name some file of the repository. Not the tail of a path, and not a call (`foo.ts(`).
 */
const BARE_NAME = /(?<![\w.\-/<>{}*$~@:%\\])[\w-]+(?:\.[\w-]+)*\.(?:ts|js|mjs|cjs|md)(?![\w/(-])/g;
/**
 * Names spelled like a file name that are not files of the repository: products, and the generated module that
 * `rnnc run` writes into a run directory and `rnnc build -o` into its output.
 */
const NOT_FILE_NAMES = new Set(["TensorFlow.js", "Node.js", "model.ts", "model.mjs", "model.js"]);
const SHARED_CITATION = /(?<![\w.\-/])(?:\.\.\/)*shared\/[\w./-]*/g;
const URL = /\b[a-z][a-z0-9+.-]*:\/\/\S+/gi;

export interface Citation {
  /** The citing file, relative to the repository root. */
  file: string;
  line: number;
  path: string;
  /** Cited as the start of a glob (`runtime/kernels/gemm*.ts`): some entry of its folder starts with its last part. */
  glob: boolean;
  /** Cited by its name alone, without a folder: some file of the repository has that name. */
  bare?: boolean;
  /**
   * The other paths of the same comment that start at a top-level folder: "examples/merity-2017/medium.rnn extends
   * ../zaremba-2014/medium.rnn" cites the second relative to the first.
   */
  context?: string[];
}

/** Every file under the checked folders whose comments or text are checked, relative to the root, sorted. */
export function checkedFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const e of readdirSync(join(root, dir), { withFileTypes: true })) {
      const rel = `${dir}/${e.name}`;
      if (SKIPPED.test(rel)) continue;
      if (e.isDirectory()) walk(rel);
      else if (e.isFile() && textKind(rel) !== undefined) out.push(rel);
    }
  };
  for (const d of CHECKED_DIRS) if (existsSync(join(root, d))) walk(d);
  for (const f of CHECKED_TOP_FILES) if (existsSync(join(root, f))) out.push(f);
  return out.sort();
}

type TextKind = "code" | "rnn" | "hash" | "doc";
function textKind(file: string): TextKind | undefined {
  const ext = extname(file);
  if ([".ts", ".js", ".mjs", ".cjs"].includes(ext)) return "code";
  if (ext === ".rnn") return "rnn";
  if (ext === ".py" || ext === ".sh") return "hash";
  if (ext === ".md") return "doc";
  return undefined;
}

/** A stretch of a file's text that is prose (a comment, or a whole doc), with the offset where it starts. */
interface Prose {
  start: number;
  text: string;
}

/** The comments of TypeScript or JavaScript source, found by TypeScript's own parser (never inside a string). */
function codeComments(file: string, text: string): Prose[] {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, false);
  const seen = new Map<number, Prose>();
  const take = (ranges: ts.CommentRange[] | undefined): void => {
    for (const r of ranges ?? []) seen.set(r.pos, { start: r.pos, text: text.slice(r.pos, r.end) });
  };
  const visit = (node: ts.Node): void => {
    take(ts.getLeadingCommentRanges(text, node.pos));
    take(ts.getTrailingCommentRanges(text, node.end));
    ts.forEachChild(node, visit);
  };
  visit(sf);
  take(ts.getLeadingCommentRanges(text, sf.endOfFileToken.pos));
  if (text.startsWith("#!")) seen.delete(0); // a shebang is not a comment
  // A run of `//` lines with nothing but line breaks between them is one comment (a paragraph).
  const merged: Prose[] = [];
  for (const c of [...seen.values()].sort((x, y) => x.start - y.start)) {
    const last = merged[merged.length - 1];
    if (last && /^\s*$/.test(text.slice(last.start + last.text.length, c.start))) {
      last.text = text.slice(last.start, c.start + c.text.length);
    } else merged.push({ ...c });
  }
  return merged;
}

/** The comments of a `.rnn` file (`// …`, `/* … *\/`; strings are skipped, so a path in `extends "…"` is code). */
function rnnComments(text: string): Prose[] {
  const out: Prose[] = [];
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '"') {
      for (i++; i < text.length && text[i] !== '"' && text[i] !== "\n"; i++) if (text[i] === "\\") i++;
    } else if (text.startsWith("//", i) || text.startsWith("/*", i)) {
      const end = text[i + 1] === "/" ? text.indexOf("\n", i) : text.indexOf("*/", i + 2);
      const stop = end < 0 ? text.length : end;
      out.push({ start: i, text: text.slice(i, stop) });
      i = stop;
    }
  }
  return out;
}

/** The `# …` comments of a Python or shell script (a `#` inside a quoted string is rare enough to cite too). */
function hashComments(text: string): Prose[] {
  const out: Prose[] = [];
  for (const m of text.matchAll(/#.*$/gm)) out.push({ start: m.index, text: m[0] });
  return out;
}

function prose(file: string, text: string): Prose[] {
  switch (textKind(file)) {
    case "code":
      return codeComments(file, text);
    case "rnn":
      return rnnComments(text);
    case "hash":
      return hashComments(text);
    default:
      return [{ start: 0, text: withoutSampleStrings(text) }];
  }
}

/**
 * A doc with its fenced code's string literals blanked: the path of an `extends` in a `.rnn` sample is relative to
 * a spec file the sample only imagines, not to the doc. Paths in the code's prose (a command line,
 * a comment) are still checked.
 */
function withoutSampleStrings(text: string): string {
  return text.replace(/^```[^\n]*\n[\s\S]*?^```/gm, (block) =>
    block.replace(/"[^"\n]*"/g, (q) => " ".repeat(q.length)),
  );
}

const lineAt = (text: string, offset: number): number => text.slice(0, offset).split("\n").length;

/** The repository paths a file's comments (or a doc's text) cite. */
export function citations(file: string, text: string): Citation[] {
  const out: Citation[] = [];
  for (const p of prose(file, text)) {
    const body = p.text.replace(URL, (u) => " ".repeat(u.length));
    const inBlock: Citation[] = [];
    for (const m of body.matchAll(PATH_WORD)) {
      const path = m[0].replace(/\.+$/, ""); // a sentence's full stop is not part of the path
      if (!isCitation(path)) continue;
      const glob = body[m.index + m[0].length] === "*";
      inBlock.push({ file, line: lineAt(text, p.start + m.index), path, glob });
    }
    const anchors = inBlock.map((c) => c.path).filter((path) => TOP_DIRS.some((d) => path.startsWith(`${d}/`)));
    for (const c of inBlock) out.push(c.path.startsWith(".") && anchors.length ? { ...c, context: anchors } : c);
    for (const m of body.matchAll(BARE_NAME)) {
      if (NOT_FILE_NAMES.has(m[0])) continue;
      out.push({ file, line: lineAt(text, p.start + m.index), path: m[0], glob: false, bare: true });
    }
  }
  return out.sort((a, b) => a.line - b.line);
}

function isCitation(path: string): boolean {
  const bare = path.replace(/^(\.{1,2}\/)+/, "");
  if (NOT_IN_CHECKOUT.test(bare)) return false;
  if (bare.endsWith("/") && !TOP_DIRS.some((d) => bare.startsWith(`${d}/`))) return false;
  if (CITED_EXTENSIONS.has(extname(bare)) && !bare.endsWith("/")) return true;
  return TOP_DIRS.some((d) => bare === d || bare.startsWith(`${d}/`));
}

/**
 * Whether a cited path names something in the repository: relative to the citing file's folder or to any folder
 * above it up to the root (a folder's README cites the folder's files by their path inside it). The output of tsc is
 * named by its source: `dist/compiler/cli/main.js` and `main.js` (NodeNext imports spell `.js`) by `main.ts`. A path that starts with a
 * package the repository depends on (`chevrotain/lib/chevrotain.mjs`) names a file of the installed package.
 * Nothing outside the root counts.
 */
export function resolves(root: string, c: Citation): boolean {
  const rootAbs = resolve(root);
  if (c.bare) {
    const names = fileNames(rootAbs);
    return names.has(c.path) || (c.path.endsWith(".js") && names.has(c.path.replace(/\.js$/, ".ts")));
  }
  const path = c.path.startsWith("dist/") ? c.path.slice("dist/".length) : c.path;
  const exists = (p: string): boolean => {
    const inside = p === rootAbs || p.startsWith(rootAbs + sep);
    if (!inside) return false;
    if (c.glob) return existsSync(dirname(p)) && readdirSync(dirname(p)).some((e) => e.startsWith(basename(p)));
    if (path.endsWith("/")) return existsSync(p) && statSync(p).isDirectory();
    return existsSync(p) || (p.endsWith(".js") && existsSync(p.replace(/\.js$/, ".ts")));
  };
  if (dependencies(rootAbs).has(path.split("/")[0]!)) return exists(join(rootAbs, "node_modules", path));
  if (c.context?.some((anchor) => exists(resolve(rootAbs, dirname(anchor), path)))) return true;
  // A README describes the tree beneath it: within a folder's entry it cites that folder's files by their path there.
  if (
    basename(c.file) === "README.md" &&
    folders(join(rootAbs, dirname(c.file))).some((d) => exists(resolve(d, path)))
  ) {
    return true;
  }
  for (let dir = dirname(join(rootAbs, c.file)); ; dir = dirname(dir)) {
    if (exists(resolve(dir, path))) return true;
    if (dir === rootAbs) return false;
  }
}

/** A folder and every folder beneath it, except installed packages and tsc's output. */
function folders(dir: string): string[] {
  const below = readdirSync(dir, { withFileTypes: true }).filter(
    (e) => e.isDirectory() && !/^(node_modules|dist|runs|\.git)$/.test(e.name),
  );
  return [dir, ...below.flatMap((e) => folders(join(dir, e.name)))];
}

const namesByRoot = new Map<string, Set<string>>();
/** The names of the repository's files (not installed packages, tsc's output or runs), read once per root. */
function fileNames(root: string): Set<string> {
  let names = namesByRoot.get(root);
  if (names) return names;
  names = new Set<string>();
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.isDirectory() && !/^(node_modules|dist|runs|\.git)$/.test(e.name)) walk(join(dir, e.name));
      else if (e.isFile()) names!.add(e.name);
    }
  };
  walk(root);
  namesByRoot.set(root, names);
  return names;
}

/** The packages package.json depends on (their names' first segment; a scoped name is cited with its `@`). */
function dependencies(root: string): Set<string> {
  const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as Record<string, Record<string, string>>;
  return new Set([...Object.keys(pkg["dependencies"] ?? {}), ...Object.keys(pkg["devDependencies"] ?? {})]);
}

/** Every citation under the checked folders that does not resolve, as `file:line path`. */
export function unresolvedCitations(root: string): string[] {
  const out: string[] = [];
  for (const file of checkedFiles(root)) {
    for (const c of citations(file, readFileSync(join(root, file), "utf8"))) {
      if (!resolves(root, c)) out.push(`${c.file}:${c.line} ${c.path}`);
    }
  }
  return out;
}

/** Every place a checked file (code or prose, strings included) names the folder named shared beside a checkout. */
export function sharedCitations(root: string, files = checkedFiles(root)): string[] {
  return files.flatMap((file) => sharedMentions(file, readFileSync(join(root, file), "utf8")));
}

/** The places a text names the folder named shared beside a checkout, as `file:line path`. */
export function sharedMentions(file: string, text: string): string[] {
  return [...text.matchAll(SHARED_CITATION)].map((m) => `${file}:${lineAt(text, m.index)} ${m[0]}`);
}
