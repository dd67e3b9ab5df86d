// What `rnnc run` and `rnnc build -o` both write beside a generated model.ts: model.mjs, the same module with its
// types erased, which Node runs as it is (no TypeScript needed to train), and where this rnnc is installed.
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import type * as TsMorph from "ts-morph";

// require(), not import: see codegen/emit/ts-morph.ts. main.ts installs the code cache (code-cache.ts) before this loads.
const { ts } = createRequire(import.meta.url)("ts-morph") as typeof TsMorph;

/** The root of this rnnc package (dist/compiler/cli/ → ../../../): what a run folder links and a project depends on. */
export const PACKAGE_ROOT = fileURLToPath(new URL("../../../", import.meta.url));

/** model.ts → model.mjs: types erased, nothing else changed (no bundling, no down-levelling). */
export function transpile(code: string): string {
  return ts.transpileModule(code, {
    compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022, sourceMap: false },
  }).outputText;
}
