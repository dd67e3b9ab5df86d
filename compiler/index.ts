// The compiler's public API: the pure pipeline, and the pieces the CLI and tools build on.
export { compile, type CompileOptions, type CompileResult } from "./compile.js";
export { format, printValue } from "./fmt.js";
export { diffExperiments, renderDiff, settingsOf, type DiffEntry } from "./diff.js";
export { Diag, hasErrors, type Diagnostic, type Severity } from "./diagnostics.js";
export { memoryHost, type CompilerHost } from "./host.js";
export * from "./ir.js";
export { DEFAULTS, DATASET_FACTS } from "./defaults.js";
export { VERSION } from "./version.js";
