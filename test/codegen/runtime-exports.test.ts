// The table of runtime names that generated code may import (compiler/codegen/runtime-exports.ts) against what
// runtime/index.ts really exports, read with the TypeScript compiler (the compiler never imports the runtime): a
// "value" must be exported as a value (not through `export type`), a "type" must name a type. A runtime export
// renamed or made type-only fails here, not in a user's build.
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { RUNTIME_EXPORTS } from "../../compiler/codegen/runtime-exports.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

/** Each export of runtime/index.ts: whether it can be imported as a value, and whether it names a type. */
function runtimeExports(): Map<string, { value: boolean; type: boolean }> {
  const index = join(ROOT, "runtime/index.ts");
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    skipLibCheck: true,
    noEmit: true,
    types: [],
  };
  const program = ts.createProgram([index], options);
  const checker = program.getTypeChecker();
  const module = checker.getSymbolAtLocation(program.getSourceFile(index)!)!;
  const out = new Map<string, { value: boolean; type: boolean }>();
  for (const sym of checker.getExportsOfModule(module)) {
    // Follow the chain of re-exports; any `export type` (or `type X` specifier) along it makes the name type-only.
    let typeOnly = false;
    let s = sym;
    for (let hop = 0; s.flags & ts.SymbolFlags.Alias && hop < 20; hop++) {
      for (const d of s.declarations ?? [])
        if (ts.isExportSpecifier(d) && (d.isTypeOnly || d.parent.parent.isTypeOnly)) typeOnly = true;
      s = checker.getImmediateAliasedSymbol(s) ?? s;
      if (!(s.flags & ts.SymbolFlags.Alias)) break;
    }
    const target = sym.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(sym) : sym;
    out.set(sym.name, {
      value: !typeOnly && Boolean(target.flags & ts.SymbolFlags.Value),
      type: Boolean(target.flags & ts.SymbolFlags.Type),
    });
  }
  return out;
}

describe("runtime-exports.ts", () => {
  const exported = runtimeExports();

  it("reads the runtime's exports (a value, a class, a type-only one)", () => {
    expect(exported.get("runExperiment")).toEqual({ value: true, type: false });
    expect(exported.get("RecurrentLayer")).toEqual({ value: true, type: true });
    expect(exported.get("Tensor2D")).toEqual({ value: false, type: true });
  });

  it.each(Object.entries(RUNTIME_EXPORTS))("%s is exported by runtime/index.ts as a %s", (name, kind) => {
    const e = exported.get(name);
    expect(e, `${name} is not exported by runtime/index.ts`).toBeDefined();
    expect(kind === "value" ? e!.value : e!.type, `${name} is not exported as a ${kind}`).toBe(true);
  });
});
