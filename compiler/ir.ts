// The IR's types live beside the declarations of the settings that fill them (compiler/schema/); this module keeps
// the old import path working.
export * from "./schema/ir.js";
