// chevrotain, loaded from the single-file bundle it ships (chevrotain/lib/chevrotain.mjs) rather than its package
// entry (chevrotain/lib/src/api.js), which pulls in ~600 lodash-es modules: 0.13 s instead of 0.77 s at every
// `rnnc` start.
// The bundle is the same code; where it cannot be found (another layout), the package entry is used.
import type * as Chevrotain from "chevrotain";

async function load(): Promise<typeof Chevrotain> {
  try {
    const entry = import.meta.resolve("chevrotain"); // …/chevrotain/lib/src/api.js
    return (await import(new URL("../chevrotain.mjs", entry).href)) as typeof Chevrotain;
  } catch {
    return await import("chevrotain");
  }
}

export const { createToken, Lexer, EmbeddedActionsParser, EOF } = await load();
