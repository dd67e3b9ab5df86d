// `rnnc build SPEC [-o DIR]`: print the generated TypeScript, or write it with a package.json and tsconfig.json so
// that DIR trains on its own (`npm install && npm start`).
import { standaloneFiles } from "../codegen/standalone.js";
import type { CompileOptions } from "../compile.js";
import { EXIT, type Outcome, type Workspace } from "./commands.js";
import { isOutcome, prepare } from "./prepare.js";
import type { RenderOptions } from "./render.js";

export async function build(ws: Workspace, spec: string, opts: { out?: string; set: readonly string[] }, render: RenderOptions, options: CompileOptions): Promise<Outcome> {
  const p = await prepare(ws, spec, opts.set, render, options, "build");
  if (isOutcome(p)) return p;
  if (opts.out === undefined) return { stdout: p.code, stderr: p.warnings, exitCode: EXIT.ok };
  const files: Record<string, string> = { "model.ts": p.code, ...standaloneFiles(p.exp.name) };
  for (const [name, text] of Object.entries(files)) ws.writeText(`${opts.out}/${name}`, text);
  return { stdout: `wrote ${Object.keys(files).map((f) => `${opts.out}/${f}`).join(", ")}\n`, stderr: p.warnings, exitCode: EXIT.ok };
}
