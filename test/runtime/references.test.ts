// Every file a comment or README in runtime/ or test/runtime/ cites resolves inside the repository: relative to the
// citing file's folder, to runtime/, or to the repository root. A file moved or removed leaves no stale pointer,
// and nothing outside the repository (a sibling checkout's notes) is cited.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const walk = (d: string): string[] =>
  readdirSync(d).flatMap((f) =>
    statSync(join(d, f)).isDirectory()
      ? f === "fixtures"
        ? []
        : walk(join(d, f))
      : /\.(ts|md)$/.test(f)
        ? [join(d, f)]
        : [],
  );
/** A path-like token ending in a source or document extension, not part of a longer path or a package name. */
const REF = /(?<![\w@/.-])((?:\.{1,2}\/)*[A-Za-z0-9_][\w.-]*(?:\/[\w.-]+)*\.(?:ts|md|cjs))(?![\w/]|\.\w)/g;
/** The runtime's folders: its README names files by their base names (unique across runtime/). */
const RUNTIME_DIRS = ["", "model", "train", "data", "accel", "accel/kernels", "base"];

it("every cited file exists in the repository", () => {
  const missing: string[] = [];
  for (const file of [...walk(join(ROOT, "runtime")), ...walk(join(ROOT, "test/runtime"))]) {
    readFileSync(file, "utf8")
      .split("\n")
      .forEach((line, i) => {
        if (/^\s*(import|export)\b.*from\s+"/.test(line)) return; // imports: the type checker resolves them
        for (const [, ref] of line.matchAll(REF)) {
          const bases = file.endsWith("README.md")
            ? RUNTIME_DIRS.map((d) => join(ROOT, "runtime", d))
            : [join(ROOT, "runtime")];
          const found = [dirname(file), ROOT, ...bases].some((base) => existsSync(resolve(base, ref!)));
          if (!found) missing.push(`${relative(ROOT, file)}:${i + 1}: ${ref}`);
        }
      });
  }
  expect(missing).toEqual([]);
});
