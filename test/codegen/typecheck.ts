// Type-checks generated modules against the runtime's sources, as `tsc --noEmit` would in a user's project (the
// project that `rnnc build -o` writes). Shared by the code generation suites: one program for all the modules,
// so the runtime's types are loaded once.
import { join, relative } from "node:path";
import ts from "typescript";

/** The diagnostics (`file:line message`) of type-checking each module, keyed by a folder name; [] when all pass. */
export function typecheck(root: string, modules: ReadonlyMap<string, string>): string[] {
  const files = new Map<string, string>();
  for (const [name, code] of modules) {
    files.set(join(root, ".codegen-check", name, "model.ts"), code);
    // A package.json beside the virtual files makes them ES modules, as `rnnc build -o` does.
    files.set(join(root, ".codegen-check", name, "package.json"), '{ "type": "module" }');
  }
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    strict: true,
    noUncheckedIndexedAccess: true,
    skipLibCheck: true,
    noEmit: true,
    types: ["node"],
    baseUrl: root,
    // What `import … from "rnnc/runtime"` means in a user's project, pointed at the sources.
    paths: { "rnnc/runtime": ["runtime/index.ts"] },
  };
  const host = ts.createCompilerHost(options);
  const { getSourceFile, fileExists, readFile } = host;
  host.fileExists = (f) => files.has(f) || fileExists.call(host, f);
  host.readFile = (f) => files.get(f) ?? readFile.call(host, f);
  host.getSourceFile = (f, lang, ...rest) =>
    files.has(f) ? ts.createSourceFile(f, files.get(f)!, lang, true) : getSourceFile.call(host, f, lang, ...rest);
  const program = ts.createProgram(
    [...files.keys()].filter((f) => f.endsWith(".ts")),
    options,
    host,
  );
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const where = d.file
      ? `${relative(root, d.file.fileName)}:${d.file.getLineAndCharacterOfPosition(d.start ?? 0).line + 1}`
      : "";
    return `${where} ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`;
  });
}
