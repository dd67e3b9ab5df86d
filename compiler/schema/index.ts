// The language's schema: the IR types, typed IR paths, value ranges, the declarations of every block and setting,
// and the settings reference rendered from them.
export * from "./ir.js";
export * from "./ranges.js";
export * from "./settings.js";
export * from "./datasets.js";
export { renderReference, updateReference, REFERENCE_BEGIN, REFERENCE_END } from "./reference.js";
