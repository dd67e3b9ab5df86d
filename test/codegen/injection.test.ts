// User text never becomes code (issue 14, "Code reaches the generated program"). Every text a user controls, in
// every place it reaches the generated module (the spec path, each `extends` path, the files of the
// `(file.rnn:12)` comments, data.path, the experiment name and a sweep point's value), is drawn at random from
// hostile pieces: every JS line terminator, quotes, backticks, `${`, `*/`, `</script>`, NUL, lone surrogates. The
// module must parse to the same statements as for plain text, hold the text exactly in its string literals, and
// type-check against the runtime. Names equal to a runtime export or to a name the module declares build too.
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { fsHost } from "../../compiler/cli/fs-host.js";
import {
  commentText,
  generate,
  identifier,
  packageName,
  rnnString,
  standaloneFiles,
  stringLiteral,
} from "../../compiler/codegen/index.js";
import { RESERVED_WORDS } from "../../compiler/codegen/emit-text.js";
import { compile } from "../../compiler/compile.js";
import type { CompilerHost } from "../../compiler/host.js";
import { parse as parseWith } from "../../grammar/index.js";
import { VOCABULARY } from "../../compiler/schema/index.js";
import type { ExperimentIR, Origin } from "../../compiler/ir.js";
import { typecheck } from "./typecheck.js";

/** The parser with the compiler's vocabulary, as the compiler calls it. */
const parse = (text: string) => parseWith(text, VOCABULARY);

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

/** Pieces that end or change a comment, a string or an HTML script, or that a file system lets a name hold. */
const HOSTILE = [
  "\n",
  "\r",
  "\r\n",
  "\u2028",
  "\u2029",
  "\u0085",
  '"',
  "'",
  "`",
  "${",
  "}",
  "*/",
  "/*",
  "/**",
  "//",
  "</script>",
  "<!--",
  "-->",
  "\0",
  "\\",
  "\\n",
  "\\u2028",
  "\ud800",
  "\udfff",
  "\udbff\udfff",
  "\u202e",
  "\u2066",
  "\ufeff",
  "\t",
  " ",
  "é",
  "𝒳",
  ';console.error("INJECTED");process.exit(3);',
  "0 ? 0 ",
  "<U+2028>",
];
const lone = fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c));
const hostile = fc
  .array(fc.oneof(fc.constantFrom(...HOSTILE), fc.string({ unit: "binary", maxLength: 3 }), lone), { maxLength: 8 })
  .map((a) => a.join(""));

/** Names the module declares or imports, and words a class cannot be named: each one an experiment name. */
const COLLIDING = [
  "language",
  "Language",
  "language_model",
  "Experiment",
  "experiment",
  "run",
  "init",
  "sgd",
  "adam",
  "decay",
  "constant",
  "embedding",
  "Embedding",
  "layer_state",
  "sequence_classifier",
  "LanguageModel",
  "_",
  "_1",
  "_1x",
  "class",
  "number",
  "Promise",
  "x",
  "B",
];
/** Experiment names the grammar lets through (an identifier, grammar/tokens.ts), and sweep points `name[key=value]`. */
const experimentName = fc
  .tuple(
    fc.oneof(fc.constantFrom(...COLLIDING), fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,12}$/)),
    fc.option(fc.tuple(fc.constantFrom("p", "path", "alpha"), hostile)),
  )
  .map(([name, point]) => (point ? `${name}[${point[0]}=${point[1]}]` : name));

function base(file: string, name?: string): ExperimentIR {
  const r = compile(file, fsHost(ROOT));
  const e = r.document?.experiments.find((x) => name === undefined || x.name === name);
  if (!e) throw new Error(`${file} does not compile`);
  return e;
}

// A language model with extends, AR and TAR; the quickstart; a classifier with batch norm.
const BASES = [
  base("examples/merity-2017/table3-650-artar.rnn"),
  base("examples/quickstart.rnn"),
  base("examples/cooijmans-2017/mnist-bnlstm.rnn"),
];

interface Placed {
  readonly name: string;
  readonly specPath: string;
  readonly extendsPaths: readonly [string, string];
  readonly originDir: string;
  readonly originFile: string;
  readonly dataPath: string;
}

const PLAIN: Placed = {
  name: "plain",
  specPath: "spec.rnn",
  extendsPaths: ["base.rnn", "root.rnn"],
  originDir: "dir",
  originFile: "spec.rnn",
  dataPath: "data",
};

/** The IR with the user's texts in every place they reach: what a spec in such folders, with such names, lowers to. */
function place(e: ExperimentIR, t: Placed): ExperimentIR {
  const origins: Record<string, Origin> = {};
  for (const [k, o] of Object.entries(e.origins) as [string, Origin][])
    origins[k] = o === "default" ? o : { ...o, file: `${t.originDir}/${t.originFile}` };
  return {
    ...e,
    name: t.name,
    source: { ...e.source, file: t.specPath },
    extends: t.extendsPaths.map((p, k) => `${p}:parent${k}`),
    data: e.task.kind === "lm" ? { ...e.data, path: t.dataPath } : e.data,
    origins,
  };
}

/**
 * The module's syntax tree as node kinds, with the text of identifiers and numbers, but neither the text of string
 * literals nor the model class's name (both follow the user's text); then every comment's kind. A comment that
 * ended early, or a string that did, changes it.
 */
function shape(code: string): { tree: string[]; comments: string[]; className: string } {
  const sf = ts.createSourceFile("model.ts", code, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
  const cls = sf.statements.find(ts.isClassDeclaration)?.name?.text ?? "";
  const tree: string[] = [];
  const comments = new Map<number, string>();
  const visit = (n: ts.Node, depth: number): void => {
    const text = ts.isIdentifier(n) ? (n.text === cls ? "<class>" : n.text) : ts.isNumericLiteral(n) ? n.text : "";
    tree.push(`${depth} ${ts.SyntaxKind[n.kind]} ${text}`);
    for (const r of [
      ...(ts.getLeadingCommentRanges(code, n.getFullStart()) ?? []),
      ...(ts.getTrailingCommentRanges(code, n.getEnd()) ?? []),
    ])
      comments.set(r.pos, ts.SyntaxKind[r.kind]);
    n.forEachChild((c) => visit(c, depth + 1));
  };
  visit(sf, 0);
  return { tree, comments: [...comments.entries()].sort((a, b) => a[0] - b[0]).map(([, k]) => k), className: cls };
}

/** Syntax errors of the module, as TypeScript's parser reports them. */
function syntaxErrors(code: string): string[] {
  const out = ts.transpileModule(code, {
    reportDiagnostics: true,
    compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022 },
  });
  return (out.diagnostics ?? []).map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n"));
}

/** The string literal at a property path (`spec.file`) of `export const experiment = { … }`, read back. */
function stringAt(code: string, path: string): string | undefined {
  const sf = ts.createSourceFile("model.ts", code, ts.ScriptTarget.ES2022, true);
  const walk = (o: ts.ObjectLiteralExpression, at: string): string | undefined => {
    for (const p of o.properties) {
      if (!ts.isPropertyAssignment(p)) continue;
      const key = `${at}${p.name.getText(sf)}`;
      if (key === path && ts.isStringLiteral(p.initializer)) return p.initializer.text;
      const inner = ts.isObjectLiteralExpression(p.initializer) ? walk(p.initializer, `${key}.`) : undefined;
      if (inner !== undefined) return inner;
    }
    return undefined;
  };
  const decl = sf.statements
    .filter(ts.isVariableStatement)
    .flatMap((s) => [...s.declarationList.declarations])
    .find((d) => d.name.getText(sf) === "experiment");
  return decl?.initializer && ts.isObjectLiteralExpression(decl.initializer) ? walk(decl.initializer, "") : undefined;
}

/** Every line terminator JavaScript knows: any of them ends a `//` comment. */
const LINE_TERMINATOR = /[\n\r\u2028\u2029]/;
const LONE_SURROGATE = /[\ud800-\udfff]/u;

describe("emit-text: one function per context", () => {
  it("a string literal holds exactly the text, on one line, with no `<` and no lone surrogate", () => {
    fc.assert(
      fc.property(hostile, (s) => {
        const lit = stringLiteral(s);
        expect(lit).not.toMatch(LINE_TERMINATOR);
        expect(lit).not.toMatch(LONE_SURROGATE);
        expect(lit).not.toContain("<");
        const sf = ts.createSourceFile("x.ts", `x = ${lit};`, ts.ScriptTarget.ES2022, true);
        const init = (sf.statements[0] as ts.ExpressionStatement).expression as ts.BinaryExpression;
        expect(sf.statements).toHaveLength(1);
        expect(ts.isStringLiteral(init.right) && init.right.text).toBe(s);
        expect(JSON.parse(lit)).toBe(s); // and it is JSON: the same text for any JSON reader
      }),
      { numRuns: 500 },
    );
  });

  it("comment text cannot end a `//`, `/* */` or JSDoc comment", () => {
    fc.assert(
      fc.property(hostile, (s) => {
        const t = commentText(s);
        expect(t).not.toMatch(LINE_TERMINATOR);
        expect(t).not.toContain("*/");
        expect(t).not.toMatch(LONE_SURROGATE);
        for (const code of [`// ${t}\nx;`, `/* ${t} */ x;`, `/** ${t} */\nx;`]) {
          const sf = ts.createSourceFile("x.ts", code, ts.ScriptTarget.ES2022, true);
          expect(sf.statements.map((st) => st.getText(sf))).toEqual(["x;"]);
        }
      }),
      { numRuns: 500 },
    );
  });

  it("plain text passes through comments and string literals unchanged", () => {
    for (const s of ["examples/merity-2017/table3-650-artar.rnn", "zaremba_small[p=0.3]", "a ← b: c (d.rnn:12), ≈ γ"]) {
      expect(commentText(s)).toBe(s);
      expect(stringLiteral(s)).toBe(JSON.stringify(s));
    }
  });

  it("an identifier is valid, never reserved or taken, and the same for the same input", () => {
    const taken = new Set(["LanguageModel", "LanguageModel2", "experiment"]);
    fc.assert(
      fc.property(fc.oneof(hostile, fc.constantFrom(...taken, ...RESERVED_WORDS, "1abc", "")), (s) => {
        const id = identifier(s, taken);
        expect(id).toMatch(/^[A-Za-z_$][A-Za-z0-9_$]*$/);
        expect(taken.has(id) || RESERVED_WORDS.has(id)).toBe(false);
        expect(identifier(s, taken)).toBe(id);
      }),
      { numRuns: 300 },
    );
    expect(identifier("LanguageModel", taken)).toBe("LanguageModel3");
    expect(identifier("QuickstartModel", taken)).toBe("QuickstartModel");
  });

  it("a .rnn string (the `extends` of `--set`'s override spec) reads back as exactly the text", () => {
    fc.assert(
      fc.property(hostile, (s) => {
        const r = parse(`experiment a extends ${rnnString(s)} b {\n}\n`);
        expect(r.errors).toEqual([]);
        expect(r.file?.experiments[0]?.extends?.path?.value).toBe(s);
      }),
      { numRuns: 300 },
    );
  });

  it("a package name is one npm accepts, for any experiment name", () => {
    fc.assert(
      fc.property(
        fc.oneof(experimentName, hostile, fc.constantFrom("rnnc", "http", "fs", "node_modules", "_x", "-")),
        (name) => {
          const p = packageName(name);
          expect(p).toMatch(/^[a-z0-9][a-z0-9-]*$/);
          expect(p.length).toBeLessThanOrEqual(214);
          expect(["rnnc", "http", "fs", "node_modules"]).not.toContain(p);
          const pkg = JSON.parse(
            standaloneFiles({ experiment: name, rnncRoot: "/opt/rnnc/", specFile: "x.rnn" })["package.json"]!,
          );
          expect(pkg.name).toBe(p);
          // never a registry name: the rnnc that built it, by path
          expect(pkg.dependencies).toEqual({ rnnc: "file:/opt/rnnc" });
        },
      ),
      { numRuns: 300 },
    );
    expect(packageName("zaremba_small")).toBe("zaremba-small"); // ordinary names as before
    expect(packageName("rnnc")).toBe("rnnc-rnnc"); // a package cannot depend on itself
  });
});

describe("hostile text in every place it reaches the generated module", () => {
  // Filled by the property below: the first modules of each base, type-checked together at the end.
  const toCheck = new Map<string, string>();
  let cases = 0;

  it.each(BASES.map((e) => [e.name, e] as const))(
    "%s: the same statements as for plain text, whatever the text",
    async (_n, e) => {
      const plain = shape(await generate(place(e, PLAIN), { specPath: PLAIN.specPath }));
      expect(plain.className).toBe("PlainModel");
      await fc.assert(
        fc.asyncProperty(
          experimentName,
          hostile,
          hostile,
          hostile,
          hostile,
          hostile,
          hostile,
          async (name, specPath, ext1, ext2, dir, file, dataPath) => {
            const t: Placed = {
              name,
              specPath,
              extendsPaths: [ext1, ext2],
              originDir: dir,
              originFile: file,
              dataPath,
            };
            const code = await generate(place(e, t), { specPath });
            cases++;
            expect(syntaxErrors(code)).toEqual([]);
            const got = shape(code);
            expect(got.tree).toEqual(plain.tree);
            expect(got.comments).toEqual(plain.comments);
            expect(got.className).toMatch(/^[A-Za-z_$][A-Za-z0-9_$]*$/);
            // The texts a program reads back are held exactly.
            expect(stringAt(code, "name")).toBe(name);
            expect(stringAt(code, "spec.file")).toBe(specPath);
            if (e.task.kind === "lm") expect(stringAt(code, "data.path")).toBe(dataPath);
            // Nothing anywhere in the module can end a string or a script, or hide what it does from a reader.
            expect(code).not.toMatch(/[\u2028\u2029\u202a-\u202e\u2066-\u2069\0]|<\/script|<!--/i);
            expect(code).not.toMatch(LONE_SURROGATE);
            // Comments stay on their line; the header keeps its four lines.
            for (const line of code.split("\n").slice(0, 4)) expect(line.startsWith("// ")).toBe(true);
            expect(code.split("\n")[4]).toBe("");
            if (toCheck.size < 6 * BASES.length) toCheck.set(`hostile-${toCheck.size}`, code);
          },
        ),
        { numRuns: 50 },
      );
    },
    120_000,
  );

  it("`experiment language`, compiled from spec text, declares a model class that does not shadow the runtime's LanguageModel", async () => {
    const text = 'experiment language extends "examples/quickstart.rnn" quickstart {\n}\n';
    const files = fsHost(ROOT);
    const host: CompilerHost = {
      resolve: files.resolve,
      readFile: (p) => (p === "language.rnn" ? { ok: true, text } : files.readFile(p)),
    };
    const e = compile("language.rnn", host).document?.experiments[0];
    expect(e?.name).toBe("language");
    const code = await generate(e!, { specPath: "language.rnn" });
    expect(code).toContain("export class LanguageModel2 implements LanguageModel {");
    expect(code).toContain("createModel: (setup) => new LanguageModel2(setup),");
    toCheck.set("language-from-spec", code); // type-checked below
  });

  it("the modules built from hostile text and from colliding names type-check against the runtime", async () => {
    const quickstart = BASES[1]!;
    // Folders by index: names that differ only in case would collide on a case-insensitive file system.
    for (const [k, name] of COLLIDING.entries())
      toCheck.set(`name-${k}`, await generate({ ...quickstart, name }, { specPath: "examples/quickstart.rnn" }));
    for (const [k, name] of ["language", "Experiment", "run", "init"].entries())
      toCheck.set(`classify-${k}`, await generate({ ...BASES[2]!, name }, { specPath: "c.rnn" }));
    expect(toCheck.size).toBeGreaterThan(COLLIDING.length);
    expect(typecheck(ROOT, toCheck)).toEqual([]);
    console.log(`injection property: ${cases} generated modules checked, ${toCheck.size} type-checked`);
  }, 180_000);
});
