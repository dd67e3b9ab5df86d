// ts-morph is CommonJS around a 9 MB bundled TypeScript. Imported from ESM, Node first scans it with its CJS export
// lexer (~200 ms); require() loads it without that scan. The CLI puts a V8 code cache under it (cli/code-cache.ts)
// before this module loads. Emitters take ts-morph's values from here, and only types from "ts-morph" itself.
import { createRequire } from "node:module";
import type * as TsMorph from "ts-morph";

export const { Project, StructureKind, VariableDeclarationKind } = createRequire(import.meta.url)(
  "ts-morph",
) as typeof TsMorph;
