// The GPU path that works on current drivers: tfjs's WebGPU backend in Node, on Dawn through the `webgpu` npm
// package, which ships its native binary inside the package (no download at install, unlike tfjs-node-gpu, whose
// CUDA 11.2 pin does not run on current drivers either). Neither package is a dependency of rnnc: together they
// weigh ~130 MB for every platform. `npm install webgpu@0.6.2 @tensorflow/tfjs-backend-webgpu@4.22.0` enables it.
import * as tf from "@tensorflow/tfjs";

export const WEBGPU_PACKAGES = ["webgpu@0.6.2", "@tensorflow/tfjs-backend-webgpu@4.22.0"] as const;

interface Adapter {
  info?: { vendor?: string; architecture?: string; description?: string };
}
interface Gpu {
  requestAdapter(options?: { featureLevel?: string }): Promise<Adapter | null>;
}

/** What the `webgpu` package exports that this file uses. */
export interface DawnModule {
  create(flags: string[]): Gpu;
  globals: Record<string, unknown>;
}

/**
 * Dawn's own flags, from $RNNC_DAWN_FLAGS (separated by spaces or commas), e.g. `backend=opengles` to use
 * OpenGL ES where Vulkan is missing. With EGL_PLATFORM=surfaceless that reaches Mesa's llvmpipe on a machine
 * without a GPU: slow, but the same WebGPU code path, which is how this path is checked without a GPU.
 */
export function dawnFlags(env: NodeJS.ProcessEnv = process.env): string[] {
  return (env["RNNC_DAWN_FLAGS"] ?? "").split(/[\s,]+/).filter(Boolean);
}

/** How the two packages are loaded: `import`, unless a test supplies its own. */
export interface WebgpuLoader {
  dawn(): Promise<DawnModule>;
  backend(): Promise<unknown>;
}

const nodeLoader: WebgpuLoader = {
  dawn: async () => (await import("webgpu" as string)) as DawnModule,
  backend: () => import("@tensorflow/tfjs-backend-webgpu" as string),
};

export class WebgpuUnavailable extends Error {
  override readonly name = "WebgpuUnavailable";
}

/**
 * Make `navigator.gpu` a Dawn instance, find an adapter, and register tfjs's webgpu backend. Returns the adapter's
 * description; throws WebgpuUnavailable with what to do when a package or a GPU is missing.
 */
export async function prepareWebgpu(loader: WebgpuLoader = nodeLoader): Promise<string> {
  let dawn: DawnModule;
  try {
    dawn = await loader.dawn();
  } catch {
    throw new WebgpuUnavailable(
      `backend 'webgpu' needs the packages ${WEBGPU_PACKAGES.join(" and ")}: npm install ${WEBGPU_PACKAGES.join(" ")}`,
    );
  }
  Object.assign(globalThis, dawn.globals); // GPUBufferUsage, GPUMapMode, …: tfjs reads them as globals
  const gpu = dawn.create(dawnFlags());
  // A full ("core") WebGPU adapter first; else WebGPU's compatibility level, which is what Dawn offers on
  // OpenGL ES and on older Vulkan drivers, and which every tfjs kernel rnnc uses runs on.
  let featureLevel = "core";
  let adapter = await gpu.requestAdapter();
  if (!adapter) adapter = await gpu.requestAdapter({ featureLevel: (featureLevel = "compatibility") });
  if (!adapter)
    throw new WebgpuUnavailable(
      "backend 'webgpu': Dawn found no GPU adapter. On Linux it needs a Vulkan driver (libvulkan1 and the GPU vendor's ICD); " +
        "a CPU-only machine has none. Use --backend wasm.",
    );
  // tfjs's webgpu backend asks navigator.gpu for its adapter (Node has no navigator.gpu of its own): it gets the
  // one found above, at the same feature level.
  const forTfjs: Gpu = { requestAdapter: (options) => gpu.requestAdapter({ ...options, featureLevel }) };
  const nav = (globalThis as { navigator?: object }).navigator ?? {};
  Object.defineProperty(globalThis, "navigator", {
    value: Object.assign(Object.create(nav), { gpu: forTfjs }),
    configurable: true,
    writable: true,
  });
  try {
    await loader.backend();
  } catch {
    throw new WebgpuUnavailable(`backend 'webgpu' needs ${WEBGPU_PACKAGES[1]}: npm install ${WEBGPU_PACKAGES[1]}`);
  }
  if (!tf.findBackendFactory("webgpu"))
    throw new WebgpuUnavailable("backend 'webgpu': @tensorflow/tfjs-backend-webgpu did not register a backend");
  const i = adapter.info ?? {};
  const name = [i.vendor, i.architecture, i.description].filter(Boolean).join(" ") || "an unnamed adapter";
  return featureLevel === "core" ? name : `${name}, ${featureLevel}`;
}

// WebGPU reports an invalid pipeline or command buffer as an event, not an exception: tfjs logs it and the kernel's
// output is left as garbage (zeros), so a run would go on training on wrong numbers. The first such error is kept
// here, and the training loops stop on it (deviceError() after each step).
let firstDeviceError: string | null = null;

/** Start recording the active webgpu backend's uncaptured device errors (called once it is active). */
export function watchDeviceErrors(): void {
  const device = (
    tf.backend() as unknown as {
      device?: { addEventListener?(type: string, f: (e: { error?: { message?: string } }) => void): void };
    }
  ).device;
  device?.addEventListener?.("uncapturederror", (e) => {
    firstDeviceError ??= (e.error?.message ?? String(e)).split("\n")[0]!;
  });
}

/** The first device error since the backend started, if any (always null on other backends). */
export function deviceError(): string | null {
  return firstDeviceError;
}
