// `rnnc build SPEC [-o DIR]`: print the generated TypeScript, or write it as a project of its own (model.ts,
// model.mjs, spec.rnn, package.json, tsconfig.json, README.md) that trains with `npm install && npm start`.
import { commentText } from "../codegen/emit-text.js";
import { standaloneFiles } from "../codegen/standalone.js";
import type { CompileOptions, CompileResult } from "../compile.js";
import { EXIT, type Outcome, type Workspace } from "./commands.js";
import { PACKAGE_ROOT, transpile } from "./module-files.js";
import { compileSpec, dirNameOf, experimentsIn, fileOf, isOutcome, prepare } from "./prepare.js";
import type { RenderOptions } from "./render.js";
import { terminalText } from "../terminal-text.js";

interface BuildFlags {
  readonly out?: string;
  readonly set: readonly string[];
}

/** The spec file is compiled once, here; every experiment built from it shares that result. */
export async function build(
  ws: Workspace,
  spec: string,
  opts: BuildFlags,
  render: RenderOptions,
  options: CompileOptions,
): Promise<Outcome> {
  const compiled = compileSpec(ws, spec, options);
  const several = opts.set.length ? null : experimentsIn(compiled, spec);
  if (several) return buildEach(ws, fileOf(spec), several, opts.out, render, options, compiled);
  return buildOne(ws, spec, opts, render, options, compiled);
}

async function buildOne(
  ws: Workspace,
  spec: string,
  opts: BuildFlags,
  render: RenderOptions,
  options: CompileOptions,
  compiled: CompileResult,
): Promise<Outcome> {
  const p = await prepare(ws, spec, opts.set, render, options, "build", compiled);
  if (isOutcome(p)) return p;
  if (opts.out === undefined) return { stdout: p.code, stderr: p.warnings, exitCode: EXIT.ok };
  // The spec as compiled (not read again), and the module Node runs without TypeScript (module-files.ts).
  const files: Record<string, string> = {
    "model.ts": p.code,
    "model.mjs": transpile(p.code),
    "spec.rnn": p.result.sources.get(p.specFile)?.text ?? "",
    ...standaloneFiles({ experiment: p.exp.name, rnncRoot: PACKAGE_ROOT, specFile: p.specFile }),
  };
  for (const [name, text] of Object.entries(files)) ws.writeText(`${opts.out}/${name}`, text);
  return {
    stdout: `wrote ${Object.keys(files)
      .map((f) => terminalText(`${opts.out}/${f}`))
      .join(", ")}\n`,
    stderr: p.warnings,
    exitCode: EXIT.ok,
  };
}

/**
 * A file of several experiments (a sweep): each one's module, printed one after the other under a header line, or
 * written to DIR/<experiment>/. Stops at the first that cannot be built.
 */
async function buildEach(
  ws: Workspace,
  file: string,
  names: readonly string[],
  out: string | undefined,
  render: RenderOptions,
  options: CompileOptions,
  compiled: CompileResult,
): Promise<Outcome> {
  let stdout = "";
  let stderr = "";
  for (const name of names) {
    const r = await buildOne(
      ws,
      `${file}#${name}`,
      { out: out === undefined ? undefined : `${out}/${dirNameOf(name)}`, set: [] },
      render,
      options,
      compiled,
    );
    stderr += r.stderr;
    if (r.exitCode !== EXIT.ok) return { stdout, stderr, exitCode: r.exitCode };
    stdout += out === undefined ? `// ---- ${commentText(`${file}#${name}`)} ----\n${r.stdout}` : r.stdout;
  }
  return { stdout, stderr, exitCode: EXIT.ok };
}
