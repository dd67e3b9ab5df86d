// The layering of rnnc, checked by `npm run lint` (dependency-cruiser) as part of `npm test`.
//
//   grammar/  <-  compiler/  <-  compiler/cli/ (+ bin/)        the compiler: text -> IR -> TypeScript
//   runtime/ accel, base <- model <- train, base <- data <- train; index.ts re-exports them for generated code,
//   which imports only "rnnc/runtime" (runtime/README.md draws the same layers)
//
// compiler/ and runtime/ never import each other: the compiler only writes code that imports the runtime, so
// either can change inside without the other noticing. test/ and bench/ sit above everything and may import
// anything. Each rule names the break it prevents; a rule on a folder that does not exist yet matches nothing.
// (.cjs: package.json says "type": "module" and dependency-cruiser loads its configuration with require.)

/** Node's modules that reach the file system, other processes or the network. */
const IO_MODULES = "^(node:)?(fs|fs/promises|child_process|net|dgram|http|https|http2|readline|worker_threads|tty)$";

/** @type {import("dependency-cruiser").IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "no-circular",
      severity: "error",
      comment:
        "An import cycle makes module load order matter (a class read before its module ran is undefined) and " +
        "ties files that should change alone. Type-only imports count: a cycle in types is the same coupling.",
      from: { path: "^(grammar|compiler|runtime)/" },
      to: { circular: true },
    },
    {
      name: "grammar-imports-only-grammar",
      severity: "error",
      comment:
        "grammar/ is the bottom layer: the parser takes its keyword vocabulary as an argument, so adding a " +
        "setting never touches the grammar, and the grammar never reaches into the compiler or the runtime.",
      from: { path: "^grammar/" },
      to: { path: "^(compiler|runtime)/" },
    },
    {
      name: "compiler-does-not-import-cli",
      severity: "error",
      comment:
        "compiler/cli/ is the edge (arguments, the file system, exit codes). The pure pipeline under it reads " +
        "through a CompilerHost so it runs the same in tests, the fuzz and any other host.",
      from: { path: "^compiler/", pathNot: "^compiler/cli/" },
      to: { path: "^compiler/cli/" },
    },
    {
      name: "compiler-does-not-import-runtime",
      severity: "error",
      comment:
        "The compiler writes code that imports the runtime by its public name (rnnc/runtime); it never loads the " +
        "runtime itself, which would drag TensorFlow.js into every `rnnc check`.",
      from: { path: "^compiler/" },
      to: { path: "^runtime/" },
    },
    {
      name: "runtime-does-not-import-compiler",
      severity: "error",
      comment:
        "Generated training code runs on the runtime alone (an `rnnc build -o` package ships without the " +
        "compiler), so nothing in runtime/ may need compiler/ (compiler/cli/ included) or grammar/.",
      from: { path: "^runtime/" },
      to: { path: "^(compiler|grammar)/" },
    },
    {
      name: "runtime-model-imports-only-accel-and-base",
      severity: "error",
      comment:
        "runtime/model/ (the papers' concepts: cells, dropout sites, normalization) sits under runtime/train/ " +
        "(driver, tasks, optimizers, checkpoints), never the reverse: a model is buildable and testable without a " +
        "training driver or a data set.",
      from: { path: "^runtime/model/" },
      to: { path: "^runtime/", pathNot: "^runtime/(model|accel|base)/" },
    },
    {
      name: "runtime-data-imports-only-base",
      severity: "error",
      comment:
        "runtime/data/ (data sets, batching) feeds any model and any driver; it knows neither, so a new data set " +
        "never depends on how a model is built or trained.",
      from: { path: "^runtime/data/" },
      to: { path: "^runtime/", pathNot: "^runtime/(data|base)/" },
    },
    {
      name: "runtime-accel-imports-only-accel",
      severity: "error",
      comment:
        "runtime/accel/ is speed machinery behind names the model uses (kernels, backends); it computes, it does not " +
        "know what a layer or a run is, so a faster kernel cannot change the model's meaning.",
      from: { path: "^runtime/accel/" },
      to: { path: "^runtime/", pathNot: "^runtime/accel/" },
    },
    {
      name: "runtime-base-imports-only-base",
      severity: "error",
      comment: "runtime/base/ (the seeded RNG, scoped tidy) is under everything, so it imports nothing above it.",
      from: { path: "^runtime/base/" },
      to: { path: "^runtime/", pathNot: "^runtime/base/" },
    },
    {
      name: "runtime-inside-does-not-import-its-index",
      severity: "error",
      comment:
        "runtime/index.ts is the public surface for generated code and only re-exports; a file inside importing it " +
        "would depend on every layer at once (and close a cycle through it).",
      from: { path: "^runtime/.+/" },
      to: { path: "^runtime/index\\.ts$" },
    },
    {
      name: "sources-do-not-import-tests",
      severity: "error",
      comment: "What ships (grammar, compiler, runtime) never needs test/ or bench/, which are not in the package.",
      from: { path: "^(grammar|compiler|runtime|bin)/" },
      to: { path: "^(test|bench)/" },
    },
    {
      name: "io-only-at-the-compiler-edge",
      severity: "error",
      comment:
        "Only compiler/cli/ (and bin/, which loads it) touches files, processes or the terminal; grammar/ and the " +
        "rest of compiler/ read through a CompilerHost, so they are pure and safe to run on hostile input in-process.",
      from: { path: "^(grammar|compiler)/", pathNot: "^compiler/cli/" },
      to: { dependencyTypes: ["core"], path: IO_MODULES },
    },
  ],
  options: {
    // Our own sources only: node_modules is a dependency, dist/ is tsc's output, runs/ holds training runs and
    // test/**/golden, test/**/fixtures hold generated code and inputs (checked as text by their tests).
    doNotFollow: { path: "(^|/)node_modules/" },
    exclude: { path: "(^|/)(node_modules|dist|runs)/|^test/.*/(golden|fixtures)/|\\.expected$" },
    // Type-only imports are dependencies of the design even though tsc erases them.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: { extensions: [".ts", ".js", ".mjs", ".cjs", ".json"] },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
