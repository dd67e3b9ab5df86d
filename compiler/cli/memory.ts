// What the backend that will train can hold, found on this machine for the compiler's memory guard (checks/memory.ts,
// E0311): the compiler itself does no I/O. The backend is the one `--backend` names, or the one `auto` picks here
// (runtime/accel/backend.ts: tfjs-node when installed, else wasm; webgpu never).
import { createRequire } from "node:module";
import { totalmem } from "node:os";
import type { MemoryBudget } from "../checks/index.js";

/**
 * wasm32 addresses at most 4 GiB: the wasm backend's heap, for its tensors and XNNPACK's buffers alike, cannot grow
 * past it (a model over it aborts the module mid-run).
 */
const WASM_HEAP_BYTES = 4 * 2 ** 30;

/** The machine's memory, or the container's limit (cgroup) when lower. */
function machineMemory(): number {
  const total = totalmem();
  const constrained = (process as { constrainedMemory?: () => number | undefined }).constrainedMemory?.() ?? 0;
  return constrained > 0 && constrained < total ? constrained : total;
}

/** Whether a package resolves from rnnc's own install, as the runtime's dynamic import resolves it. */
function installed(pkg: string): boolean {
  try {
    createRequire(import.meta.url).resolve(pkg);
    return true;
  } catch {
    return false;
  }
}

/**
 * The budget of `choice` (auto, wasm, cpu, tensorflow, webgpu):
 * - wasm: its heap, 4 GiB (or the machine's memory, if less);
 * - cpu: the machine's memory: tfjs's cpu backend keeps tensors in typed arrays, whose buffers live outside the
 *   JavaScript heap, so V8's heap limit does not bound them;
 * - tensorflow (tfjs-node): the machine's memory;
 * - webgpu: unknown until its adapter opens (the GPU's memory), so only --max-memory and the default apply.
 */
export function memoryBudget(choice: string): MemoryBudget {
  const machine = machineMemory();
  const tfjsNode = installed("@tensorflow/tfjs-node-gpu") || installed("@tensorflow/tfjs-node");
  const backend = choice === "auto" ? (tfjsNode ? "tensorflow" : "wasm") : choice;
  const limitOf = (b: string): number | null =>
    b === "wasm" ? Math.min(WASM_HEAP_BYTES, machine) : b === "webgpu" ? null : machine;
  // The advice names the backends that train large models at a usable speed: not cpu (pure JavaScript).
  const others = ["tensorflow", "wasm"]
    .filter((b) => b !== backend)
    .map((b) => ({ backend: b, limitBytes: limitOf(b)!, installed: b !== "tensorflow" || tfjsNode }));
  return { backend, limitBytes: limitOf(backend), auto: choice === "auto", others };
}
