// Golden files: compare output with a stored expectation, or rewrite it when UPDATE_GOLDEN=1.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { expect } from "vitest";

export const UPDATE = process.env["UPDATE_GOLDEN"] === "1";

export function expectGolden(path: string, actual: string): void {
  if (UPDATE || !existsSync(path)) {
    if (!UPDATE) throw new Error(`missing golden file ${path}; run with UPDATE_GOLDEN=1 to create it`);
    writeFileSync(path, actual);
    return;
  }
  expect(actual, `golden ${path} (UPDATE_GOLDEN=1 rewrites it)`).toBe(readFileSync(path, "utf8"));
}
