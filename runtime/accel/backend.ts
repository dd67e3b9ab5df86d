// Backend selection. The default is wasm (XNNPACK, SIMD; its binary ships inside the npm package); the pure-JS
// cpu backend is the last fallback. tfjs-node / tfjs-node-gpu are used when the user has installed one: they
// cannot be a dependency, because their install script downloads libtensorflow from outside the npm registry.
// webgpu (webgpu.ts) is the GPU path on current drivers; it is chosen explicitly, never by auto, until its
// training has been verified on a GPU.
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import { cpus } from "node:os";
import { startWasmGemm } from "./kernels/matmul-wasm.js";
import { registerWasmKernels } from "./kernels/wasm.js";
import { initThreadedWasm } from "./wasm-threads.js";
import { prepareWebgpu, watchDeviceErrors, WebgpuUnavailable, type WebgpuLoader } from "./webgpu.js";

export type BackendChoice = "auto" | "wasm" | "cpu" | "tensorflow" | "webgpu";
export const BACKEND_CHOICES: readonly BackendChoice[] = ["auto", "wasm", "cpu", "tensorflow", "webgpu"];

export interface BackendInfo {
  /** The tfjs backend name now active: "wasm", "cpu", "tensorflow". */
  readonly name: string;
  /** One line for the user and the run record: what was chosen and why. */
  readonly description: string;
}

export class BackendError extends Error {
  override readonly name = "BackendError";
  /** Its message is for the user as it stands: the CLI prints it without a stack trace. */
  readonly userFacing = true;
}

/** The native TensorFlow bindings, if the user installed one (GPU build first). */
async function loadTensorflowBinding(): Promise<string | null> {
  for (const pkg of ["@tensorflow/tfjs-node-gpu", "@tensorflow/tfjs-node"]) {
    try {
      await import(pkg);
      if (tf.findBackend("tensorflow")) return pkg;
    } catch {
      // not installed, or its native library failed to load: try the next one
    }
  }
  return null;
}

export interface BackendOptions {
  /**
   * XNNPACK threads on wasm; default: one per core. The first wasm initialization in a process fixes it: later
   * calls reuse that backend.
   */
  readonly threads?: number;
  /** How webgpu's packages are loaded (tests supply their own). */
  readonly webgpuLoader?: WebgpuLoader;
}

export async function selectBackend(choice: BackendChoice, opts: BackendOptions = {}): Promise<BackendInfo> {
  switch (choice) {
    case "tensorflow": {
      const pkg = await loadTensorflowBinding();
      if (!pkg)
        throw new BackendError(
          "backend 'tensorflow' needs @tensorflow/tfjs-node-gpu or @tensorflow/tfjs-node, and neither loads here. " +
            "Install one (`npm install @tensorflow/tfjs-node`; its install script downloads libtensorflow), or use --backend wasm.",
        );
      await activate("tensorflow");
      return { name: "tensorflow", description: `tensorflow (native, from ${pkg})` };
    }
    case "wasm":
      return { name: "wasm", description: await activateWasm(opts.threads) };
    case "webgpu": {
      let adapter: string;
      try {
        adapter = await prepareWebgpu(opts.webgpuLoader);
      } catch (e) {
        throw e instanceof WebgpuUnavailable ? new BackendError(e.message) : e;
      }
      await activate("webgpu");
      watchDeviceErrors();
      return { name: "webgpu", description: `webgpu (Dawn, ${adapter})` };
    }
    case "cpu":
      await activate("cpu");
      return { name: "cpu", description: "cpu (pure JavaScript; slow, the last fallback)" };
    case "auto": {
      const pkg = await loadTensorflowBinding();
      if (pkg) {
        await activate("tensorflow");
        return { name: "tensorflow", description: `tensorflow (native, from ${pkg}; chosen by auto)` };
      }
      try {
        return {
          name: "wasm",
          description: `${await activateWasm(opts.threads)}; chosen by auto: no tfjs-node installed`,
        };
      } catch (e) {
        await activate("cpu");
        return {
          name: "cpu",
          description: `cpu (pure JavaScript; chosen by auto because wasm failed: ${(e as Error).message})`,
        };
      }
    }
  }
}

/** What the first wasm initialization of this process got: its thread count, and why not more. */
let wasmThreads: { count: number; note: string } | null = null;

/**
 * Activate wasm with XNNPACK threads (wasm-threads.ts) when more than one is asked for, falling back to one
 * thread, with the reason in the description, if the threaded build fails to start.
 */
async function activateWasm(threads = cpus().length): Promise<string> {
  registerWasmKernels();
  // (tf.findBackend would start a one-thread initialization of its own: read the engine's registry instead)
  const initialized = "wasm" in (tf.engine() as unknown as { registry: Record<string, unknown> }).registry;
  if (!wasmThreads && !initialized && threads > 1) {
    try {
      wasmThreads = { count: await initThreadedWasm(threads), note: "" };
    } catch (e) {
      wasmThreads = { count: 1, note: `; threads unavailable: ${(e as Error).message}` };
    }
  }
  await activate("wasm");
  wasmThreads ??= { count: 1, note: "" };
  const simd = tf.env().getBool("WASM_HAS_SIMD_SUPPORT");
  const n = wasmThreads.count;
  // rnnc's GEMM takes the fused ops' matMuls where the engine has a fused multiply-add (kernels/matmul-wasm.ts)
  const gemm = startWasmGemm(tf.backend(), n);
  return `wasm (XNNPACK${simd ? ", SIMD" : ""}, ${n} thread${n === 1 ? "" : "s"}${wasmThreads.note}${gemm ? `; ${gemm}` : ""})`;
}

async function activate(name: string): Promise<void> {
  const ok = await tf.setBackend(name);
  await tf.ready();
  if (!ok || tf.getBackend() !== name) throw new BackendError(`backend '${name}' failed to initialize`);
}
