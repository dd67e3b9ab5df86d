// How a run stops with a message for the user: TrainingError (printed without a stack trace), the one stop path
// for NaN and divergence, the webgpu health check, and the diagnosis of a wasm heap exhausted.
import { appendFileSync, existsSync } from "node:fs";
import { takeHeapExhaustion, WasmHeapExhausted } from "../accel/kernels/wasm-heap.js";
import { deviceError } from "../accel/webgpu.js";
import { RecurrentLayer } from "../model/recurrent-layer.js";
import { describeVerdict, verdictRecord, type DivergenceDetector, type DivergenceVerdict } from "./divergence.js";
import type { Owned } from "./task.js";

export class TrainingError extends Error {
  override readonly name = "TrainingError";
  /** Its message is for the user as it stands: the CLI prints it without a stack trace. */
  readonly userFacing = true;
  /** "diverged": the divergence or NaN stop (stopRun); status.json records it as such, not as a failure. */
  constructor(
    message: string,
    readonly kind: "diverged" | "error" = "error",
  ) {
    super(message);
  }
}

/**
 * The one way a run stops on a NaN, an infinite or a diverged loss (every task, through driver.ts): the reason goes to
 * metrics.jsonl, and the error says what was seen, where, against which limit, and what to try. Nothing is saved on
 * the way out, so the last checkpoint on disk stays the last good one.
 */
export function stopRun(
  v: DivergenceVerdict,
  det: DivergenceDetector,
  at: {
    readonly epoch: number;
    readonly window?: number;
    readonly windows?: number;
    readonly unit: "window" | "batch";
  },
  files: { readonly metrics: string; readonly last: string },
  measure: "token" | "image",
): TrainingError {
  const where =
    at.window === undefined ? `after epoch ${at.epoch}` : `at epoch ${at.epoch}, ${at.unit} ${at.window}/${at.windows}`;
  const position: Record<string, number> =
    at.window === undefined ? { epoch: at.epoch } : { epoch: at.epoch, [at.unit]: at.window };
  appendFileSync(files.metrics, JSON.stringify(verdictRecord(v, position)) + "\n");
  const off =
    v.kind === "above_uniform" ? " To let such a run go on regardless, set `divergence off` in its train block." : "";
  return new TrainingError(
    `${describeVerdict(v, where, det, measure, at.unit)} ${keptNote(files.last)}${off}`,
    "diverged",
  );
}

/** Where the last good checkpoint is, after a stop. --resume reruns the run's own code and settings, so it would
 *  diverge again: the way on is a new run. */
export function keptNote(lastPath: string): string {
  return existsSync(lastPath)
    ? `The last good checkpoint is ${lastPath} (not overwritten). Lower the learning rate or add clipping in the spec (or with --set) and start a new run.`
    : "No checkpoint had been written yet. Lower the learning rate or add clipping in the spec (or with --set).";
}

/** Stops a run whose GPU rejected a kernel (accel/webgpu.ts: such a kernel's output is garbage, and nothing throws). */
export function assertDeviceHealthy(): void {
  const e = deviceError();
  if (e)
    throw new TrainingError(
      `the webgpu device rejected a kernel, so its results are wrong and the run stopped before they reached the weights: ${e}\n` +
        "  This is a limit of tfjs's webgpu backend on this adapter; train with --backend wasm, and please report it with the spec.",
    );
}

/**
 * The wasm backend's module aborts (an emscripten `Aborted()` RuntimeError) when its allocator cannot grow the heap,
 * which wasm32 caps at 4 GiB: a training window keeps the gates and states of every step for the backward. Nothing
 * else in rnnc's use of it aborts, so the user is told it is memory, with the sizes that matter and the ways out.
 * rnnc's own kernels throw WasmHeapExhausted where they see it first (an output past 4 GiB); a trap after one
 * (tfjs's cleanup freeing on the exhausted heap) is that same failure.
 * Any other error is returned as it is.
 */
export function explainWasmAbort(
  e: unknown,
  window: { batch: number; steps: string },
  owned: Owned,
  runDir: string,
): unknown {
  const exhausted = takeHeapExhaustion();
  const trap = e instanceof Error && e.name === "RuntimeError";
  const aborted = trap && /^Aborted\(/.test(e.message);
  if (!aborted && !(e instanceof WasmHeapExhausted) && !(trap && exhausted)) return e;
  const layers = owned.model
    ? Object.values(owned.model).filter((v): v is RecurrentLayer => v instanceof RecurrentLayer)
    : [];
  const through = layers.length ? ` through ${layers.map((l) => `${l.cell}(${l.hidden})`).join(", ")}` : "";
  return new TrainingError(
    `the wasm backend ran out of memory (its heap is at most 4 GiB). This experiment trains on windows of batch ${window.batch} × ${window.steps}${through}.\n` +
      "  To fix: lower data.batch or data.bptt (for example --set data.batch=32), or train on a backend without that\n" +
      `  limit (--backend tensorflow, with @tensorflow/tfjs-node installed). Checkpoints already saved in ${runDir} are intact.`,
  );
}
