// The runtime's folders are layers (runtime/README.md): model/ never imports train/, data/ never imports model/ or
// train/, accel/ and base/ import no other layer, and no module imports itself through a cycle. Read from the
// sources' relative imports (type-only ones included: a type cycle is still a cycle for a reader).
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const RUNTIME = resolve(dirname(fileURLToPath(import.meta.url)), "../../runtime");
const walk = (d: string): string[] =>
  readdirSync(d).flatMap((f) =>
    statSync(join(d, f)).isDirectory() ? walk(join(d, f)) : f.endsWith(".ts") ? [join(d, f)] : [],
  );
const imports = (file: string): string[] =>
  [...readFileSync(file, "utf8").matchAll(/(?:from\s+|import\()"(\.[^"]+)\.js"/g)].map((m) =>
    resolve(dirname(file), `${m[1]}.ts`),
  );
const graph = new Map(walk(RUNTIME).map((f) => [f, imports(f)]));
const layer = (f: string): string => relative(RUNTIME, f).split("/")[0]!;
const rel = (f: string): string => relative(RUNTIME, f);

/** What each layer must not import. */
const FORBIDDEN: Record<string, readonly string[]> = {
  model: ["train"],
  data: ["model", "train"],
  accel: ["model", "train", "data"],
  base: ["model", "train", "data", "accel"],
};

describe("runtime layers", () => {
  it("has the four layers and the public entry", () => {
    for (const d of ["model", "train", "data", "accel", "base"])
      expect(statSync(join(RUNTIME, d)).isDirectory()).toBe(true);
    expect(graph.has(join(RUNTIME, "index.ts"))).toBe(true);
  });

  it("imports only downwards", () => {
    const bad = [...graph].flatMap(([f, deps]) =>
      deps.filter((d) => (FORBIDDEN[layer(f)] ?? []).includes(layer(d))).map((d) => `${rel(f)} -> ${rel(d)}`),
    );
    expect(bad).toEqual([]);
  });

  it("every relative import names a file that exists", () => {
    expect(
      [...graph].flatMap(([f, deps]) => deps.filter((d) => !graph.has(d)).map((d) => `${rel(f)} -> ${rel(d)}`)),
    ).toEqual([]);
  });

  it("has no import cycle", () => {
    const cycles: string[] = [];
    const state = new Map<string, "open" | "done">();
    const stack: string[] = [];
    const visit = (f: string): void => {
      state.set(f, "open");
      stack.push(f);
      for (const d of graph.get(f) ?? []) {
        if (state.get(d) === "open") cycles.push([...stack.slice(stack.indexOf(d)), d].map(rel).join(" -> "));
        else if (!state.has(d)) visit(d);
      }
      stack.pop();
      state.set(f, "done");
    };
    for (const f of graph.keys()) if (!state.has(f)) visit(f);
    expect(cycles).toEqual([]);
  });
});
