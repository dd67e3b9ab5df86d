// `sweep(a, b, c)` in value position makes one variant per value; several sweeps make their product
// (Merity et al. 2017, Tables 1 and 2 are one spec each). Variants are lowered independently.
import type { Call, Value } from "../grammar/index.js";
import { DEFAULTS } from "./defaults.js";
import { Diag, type Diagnostic } from "./diagnostics.js";
import type { RBlock } from "./resolve.js";

export interface SweepAxis {
  readonly call: Call;
  readonly file: string;
  /** `regularize.ar`, or `train.optimizer.lr` for a sweep inside a call. */
  readonly label: string;
  readonly values: readonly Value[];
}

export function findSweeps(body: RBlock, diagnostics: Diagnostic[], prefix = ""): SweepAxis[] {
  const axes: SweepAxis[] = [];
  for (const entry of body.values()) {
    const label = prefix ? `${prefix}.${entry.key}` : entry.key;
    const visit = (v: Value, at: string, inSweep: boolean): void => {
      if (v.kind === "Call" && v.callee.name === "sweep") {
        const where = { file: entry.file, span: v.span };
        if (inSweep) return void diagnostics.push(Diag.invalidSweep(where, { kind: "nested" }));
        if (v.args.length === 0) return void diagnostics.push(Diag.invalidSweep(where, { kind: "empty" }));
        const named = v.args.find((a) => a.name);
        if (named)
          return void diagnostics.push(Diag.invalidSweep({ file: entry.file, span: named.span }, { kind: "named" }));
        for (const a of v.args) visit(a.value, at, true);
        axes.push({ call: v, file: entry.file, label: at, values: v.args.map((a) => a.value) });
      } else if (v.kind === "Call") {
        for (const a of v.args) visit(a.value, a.name ? `${at}.${a.name.name}` : at, inSweep);
      } else if (v.kind === "List") {
        for (const item of v.items) visit(item, at, inSweep);
      }
    };
    for (const v of entry.stmt.values) visit(v, label, false);
    if (entry.block) axes.push(...findSweeps(entry.block, diagnostics, label));
  }
  return axes;
}

export interface SweepPoint {
  readonly choice: ReadonlyMap<Call, Value>;
  readonly variant: Record<string, number | string> | null;
}

/** The Cartesian product of the axes, in spec order; null when it is too large (reported). */
export function sweepPoints(axes: readonly SweepAxis[], diagnostics: Diagnostic[]): SweepPoint[] | null {
  if (axes.length === 0) return [{ choice: new Map(), variant: null }];
  const total = axes.reduce((n, a) => n * a.values.length, 1);
  if (total > DEFAULTS.maxSweepVariants) {
    const a = axes[0]!;
    diagnostics.push(
      Diag.invalidSweep(
        { file: a.file, span: a.call.span },
        { kind: "tooMany", variants: total, max: DEFAULTS.maxSweepVariants },
      ),
    );
    return null;
  }
  let points: SweepPoint[] = [{ choice: new Map(), variant: {} }];
  for (const axis of axes) {
    points = points.flatMap((p) =>
      axis.values.map((v) => ({
        choice: new Map([...p.choice, [axis.call, v]]),
        variant: {
          ...p.variant,
          [axis.label]:
            v.kind === "Number" ? v.value : v.kind === "Name" ? v.name : v.kind === "String" ? v.value : "…",
        },
      })),
    );
  }
  return points;
}
