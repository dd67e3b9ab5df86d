// The schema (compiler/schema/) is the one declaration of every setting: these tests hold the tables derived from it
// to what the compiler does, and the generated settings reference in specs/language.md to the declarations.
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { compile } from "../../compiler/compile.js";
import { memoryHost } from "../../compiler/host.js";
import type { ExperimentIR } from "../../compiler/ir.js";
import {
  DATASET_FACTS,
  defaultOf,
  NESTED_BLOCKS,
  SETTINGS,
  STATEMENT_KEYWORDS,
  updateReference,
  VOCABULARY,
  type IRPath,
  type Setting,
} from "../../compiler/schema/index.js";
import { parse } from "../../grammar/index.js";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

// Compile-time test (`npm run typecheck`): a misspelled IR path does not compile, so the directive below is used.
// @ts-expect-error — `gamme` is no field of NormIR
const typo: IRPath = "model.norm.gamme";
const fine: IRPath[] = ["model.norm.gamma", "model.layers.0.hidden", "train.schedule.epochs.2", "model.init.scale"];
void [typo, fine];

/** The value at a dotted path of the IR. */
const at = (e: ExperimentIR, path: string): unknown =>
  path.split(".").reduce<unknown>((v, k) => (v as Record<string, unknown> | null)?.[k], e);

/** One experiment in which every block is written, with `stmt` placed in the block of `s`. */
function specWith(s: Setting, stmt: string): string {
  const inBlock = (b: string): string => (s.block === b ? stmt : "");
  const dataset = s.key === "permutation_seed" ? "pmnist" : "synthetic";
  return `experiment x {
  data ${dataset} { ${inBlock("data")} }
  model { layers 2 lstm(8)  norm batch { ${inBlock("norm")} }  ${inBlock("model")} }
  dropout { ${inBlock("dropout")} }
  regularize { ${inBlock("regularize")} }
  train { ${inBlock("train")} }
}
`;
}

describe("schema", () => {
  it("a setting declared with `emit` is a simple value with an IR path, passed to a RecurrentLayer option that exists", () => {
    // Codegen passes these generically (compiler/codegen/emit/declared-options.ts): a composite value or an option
    // the runtime does not have would give code that does not type-check.
    const layerSource = readFileSync(join(ROOT, "runtime", "model", "recurrent-layer.ts"), "utf8");
    const optionsType = layerSource.slice(layerSource.indexOf("export interface RecurrentLayerOptions"));
    const options = optionsType.slice(0, optionsType.indexOf("\n}"));
    for (const s of SETTINGS.filter((x) => x.emit)) {
      expect(["number", "flag", "word"], `${s.key}`).toContain(s.shape.kind);
      expect(s.path, s.key).not.toBeNull();
      expect(s.emit!.option).toMatch(/^[A-Za-z_][A-Za-z0-9_]*$/);
      expect(options, `RecurrentLayerOptions has ${s.emit!.option}`).toMatch(new RegExp(`\\b${s.emit!.option}\\?:`));
    }
  });

  it("specs/language.md's settings reference is what the schema renders", () => {
    const path = join(ROOT, "specs", "language.md");
    const text = readFileSync(path, "utf8");
    const fresh = updateReference(text);
    expect(fresh === text, "specs/language.md is stale: run `npm run docs` and commit the result").toBe(true);
  });

  it("declares each key once per block, and every block a key opens has settings", () => {
    const ids = SETTINGS.map((s) => `${s.block}.${s.key}`);
    expect(new Set(ids).size).toBe(ids.length);
    for (const block of Object.values(NESTED_BLOCKS))
      expect(STATEMENT_KEYWORDS[block].length, block).toBeGreaterThan(0);
  });

  it("the parser splits statements by the vocabulary it is given, not by a list of its own", () => {
    const keys = (keywords: Record<string, string[]>) =>
      parse("experiment x { b { k 1 j 2 } }", {
        root: "experiment",
        keywords,
      }).file!.experiments[0]!.body.statements[0]!.block!.statements.map((st) => st.key.name);
    expect(keys({ experiment: ["b"], b: ["k", "j"] })).toEqual(["k", "j"]);
    expect(keys({ experiment: ["b"], b: ["k"] })).toEqual(["k"]); // `j` is a value of `k` here
    expect(VOCABULARY.keywords.train).toContain("divergence");
  });

  it("every declared IR path is a field the IR of a full spec has, with an origin", () => {
    const spec = `experiment x {
  data synthetic { batch 4 }
  model { layers 2 lstm(8)  norm batch { gamma 0.1 } }
  train { epochs 1 }
}
`;
    const r = compile("a.rnn", memoryHost({ "a.rnn": spec }));
    const e = r.document!.experiments[0]!;
    for (const s of SETTINGS) {
      if (!s.path || s.key === "permutation_seed" || s.key === "level") continue; // pmnist's / text's own fields
      expect(at(e, s.path), `${s.block}.${s.key} → ${s.path}`).not.toBeUndefined();
      expect(
        Object.keys(e.origins).some(
          (k) =>
            k === s.path ||
            k.startsWith(`${s.path}.`) ||
            s.path!.startsWith(`${k}.`) ||
            s.path === `${k.replace(/\.kind$/, "")}.kind`,
        ),
        s.path,
      ).toBe(true);
    }
  });

  it("an unwritten simple setting lowers to its declared default", () => {
    const r = compile(
      "a.rnn",
      memoryHost({ "a.rnn": "experiment x { data synthetic  model { layers 2 lstm(8)  norm batch } }\n" }),
    );
    const e = r.document!.experiments[0]!;
    const simple = SETTINGS.filter(
      (s) => ["number", "flag", "word"].includes(s.shape.kind) && s.path && s.key !== "permutation_seed",
    );
    expect(simple.length).toBeGreaterThan(15);
    for (const s of simple) {
      const context = { facts: DATASET_FACTS.synthetic, norm: "batch" as const };
      expect(at(e, s.path!), `${s.block}.${s.key}`).toEqual(defaultOf(s, context));
      // A value inside `norm batch` takes the origin of the statement that asked for the norm.
      expect(e.origins[s.path!], `${s.block}.${s.key}`).toEqual(
        s.block === "norm" ? e.origins["model.norm.kind"] : "default",
      );
    }
  });

  it("a numeric setting out of its declared range is an error located at the value", () => {
    const numeric = SETTINGS.filter((s) => s.shape.kind === "number" && s.shape.range.text !== "number");
    expect(numeric.length).toBeGreaterThan(15);
    for (const s of numeric) {
      const text = specWith(s, `${s.key} -1`);
      const r = compile("a.rnn", memoryHost({ "a.rnn": text }));
      const errors = r.diagnostics.filter((d) => d.severity === "error");
      expect(errors.length, `${s.block}.${s.key} -1`).toBe(1);
      expect(text.slice(errors[0]!.span.start, errors[0]!.span.end), `${s.block}.${s.key}`).toBe("-1");
    }
  });

  it("an argument of any declared call, written as a key of its block, is sent to the statement that takes it", () => {
    // `train { windows 5 }` → "'windows' is an argument of `divergence`": the call tables are the schema's.
    for (const s of SETTINGS) {
      const variants = s.shape.kind === "call" || s.shape.kind === "custom" ? s.shape.variants : undefined;
      for (const p of Object.values(variants ?? {}).flat()) {
        if (STATEMENT_KEYWORDS[s.block].includes(p.name)) continue; // a key of the block itself (`epochs`)
        const r = compile("a.rnn", memoryHost({ "a.rnn": specWith(s, `${p.name} 1`) }));
        const d = r.diagnostics.find((x) => x.code === "E0206");
        expect(d?.hint, `${s.block}: ${p.name}`).toMatch(/is an argument of `\w+`/);
      }
    }
  });

  it("a misspelled key of any block is suggested from the schema", () => {
    for (const s of SETTINGS.filter((x) => x.block !== "experiment" && x.key.length >= 5)) {
      const typo = s.key.slice(0, -1) + "q"; // one substitution
      const r = compile("a.rnn", memoryHost({ "a.rnn": specWith(s, `${typo} 1`) }));
      expect(
        r.diagnostics.some((d) => d.code === "E0206" && d.message.includes(`did you mean '${s.key}'`)),
        `${s.block}.${typo}`,
      ).toBe(true);
    }
  });
});
