// The one import of the module: the runtime names its emitters declared, from the runtime's public name.
import type { SourceFile } from "ts-morph";
import { RUNTIME_MODULE } from "../runtime-exports.js";
import type { EmitContext } from "./context.js";

/** Called last, when every emitter has declared what it uses; the import goes first in the file. */
export function emitImports(x: EmitContext, sf: SourceFile): void {
  sf.insertImportDeclaration(0, { moduleSpecifier: RUNTIME_MODULE, namedImports: x.imports() });
}
