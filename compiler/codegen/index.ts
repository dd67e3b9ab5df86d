// Code generation: the IR of one experiment → the TypeScript module `rnnc build` writes and `rnnc run` trains.
export { generate, irHash, RUNTIME_MODULE, type GenerateOptions } from "./generate.js";
export { standaloneFiles } from "./standalone.js";
export { commentText, identifier, packageName, rnnString, stringLiteral } from "./emit-text.js";
