// What every emitter shares while one module is generated: the experiment, the model class's name, the runtime
// names the module imports (each emitter declares those it writes, through `use`), and the spec lines it cites.
import type { ExperimentIR, InitIR, Origin } from "../../ir.js";
import type { IRPath } from "../../schema/index.js";
import { commentText as c, identifier } from "../emit-text.js";
import { RUNTIME_EXPORTS, type RuntimeName } from "../runtime-exports.js";
import { originLabels } from "./origins.js";

/**
 * Names the module declares itself (`experiment`, `run`) and the locals and parameters of its functions: the model
 * class, named after the experiment, must not be any of them nor a runtime name (`experiment language` would
 * otherwise give `class LanguageModel implements LanguageModel`).
 */
const DECLARED = [
  "experiment",
  "run",
  "setup",
  "options",
  "vocab",
  "classes",
  "params",
  "batch",
  "tokens",
  "pixels",
  "state",
  "ctx",
  "out",
  "embedded",
  "x",
  "hidden",
  "B",
  "ar",
  "tar",
];
const RESERVED_NAMES: ReadonlySet<string> = new Set([...Object.keys(RUNTIME_EXPORTS), ...DECLARED]);

/** `zaremba_small` → `ZarembaSmall`; a sweep point `ar_sweep[ar=2]` → `ArSweepAr2`. */
const pascal = (name: string): string =>
  name
    .replace(/\[[\s\S]*\]$/, (v) => `_${v.replace(/[^A-Za-z0-9]+/g, "_")}`)
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join("");

/** A number as code: integers and ordinary decimals as written, tiny ones in exponent form (1e-5, not 0.00001). */
export const num = (x: number): string => (Number.isInteger(x) || Math.abs(x) >= 1e-3 ? String(x) : x.toExponential());

/**
 * A cited spec file stands in the text as NUL, its index, NUL until the whole module is written: only then is it
 * known which cited files share a base name. No user text can hold a raw NUL here (emit-text escapes it).
 */
const PLACEHOLDER = /\u0000(\d+)\u0000/g;

export class EmitContext {
  readonly className: string;
  private readonly used = new Set<RuntimeName>();
  private readonly cited: string[] = [];

  constructor(readonly e: ExperimentIR) {
    this.className = identifier(`${pascal(e.name)}Model`, RESERVED_NAMES);
  }

  /** Declares runtime names the text being written refers to; they, and only they, are imported. */
  use(...names: readonly RuntimeName[]): void {
    for (const n of names) this.used.add(n);
  }

  /** The import list: sorted as before (code point order), type-only names marked. */
  imports(): { name: string; isTypeOnly: boolean }[] {
    return [...this.used].sort().map((name) => ({ name, isTypeOnly: RUNTIME_EXPORTS[name] === "type" }));
  }

  /** `(file.rnn:12)` for the places the given IR paths were set; `(default)` when none was. */
  at(...paths: IRPath[]): string {
    const places = new Set<string>();
    for (const p of paths) {
      const o: Origin | undefined = this.e.origins[p];
      if (!o || o === "default") continue;
      let k = this.cited.indexOf(o.file);
      if (k < 0) k = this.cited.push(o.file) - 1;
      places.add(`\u0000${k}\u0000:${o.line}`);
    }
    return places.size ? `(${[...places].join(", ")})` : "(default)";
  }

  /** The module's text with each cited file named: its base name, or a longer path where base names collide. */
  resolveOrigins(text: string, specPath: string): string {
    const labels = originLabels(this.cited, specPath);
    return text.replace(PLACEHOLDER, (_, k: string) => c(labels[Number(k)]!));
  }

  /** An initializer as code (`init.uniform(0.1)`). */
  init(i: InitIR): string {
    this.use("init");
    switch (i.kind) {
      case "uniform":
        return `init.uniform(${num(i.scale)})`;
      case "uniform_inv_sqrt_hidden":
        return "init.uniformInvSqrtHidden()";
      case "normal":
        return `init.normal(${num(i.std)})`;
      case "orthogonal":
        return `init.orthogonal(${num(i.gain)})`;
      case "identity":
        return `init.identity(${num(i.scale)})`;
      case "xavier_uniform":
        return "init.xavierUniform()";
    }
  }

  /** The embedding's width: its own, or the first layer's. */
  get embed(): number {
    return this.e.model.embed ?? this.e.model.layers[0]!.hidden;
  }
}
