// The GPU path that works on current drivers: tfjs's WebGPU backend in Node, on Dawn through the `webgpu` npm
// package, which ships its native binary inside the package (no download at install, unlike tfjs-node-gpu, whose
// CUDA 11.2 pin does not run on current drivers either). Neither package is a dependency of rnnc: together they
// weigh ~130 MB for every platform. `npm install webgpu@0.6.2 @tensorflow/tfjs-backend-webgpu@4.22.0` enables it.
import * as tf from "@tensorflow/tfjs";

export const WEBGPU_PACKAGES = ["webgpu@0.6.2", "@tensorflow/tfjs-backend-webgpu@4.22.0"] as const;

/** What the `webgpu` package exports that this file uses. */
export interface DawnModule {
  create(flags: string[]): { requestAdapter(): Promise<{ info?: { vendor?: string; architecture?: string; description?: string } } | null> };
  globals: Record<string, unknown>;
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
    throw new WebgpuUnavailable(`backend 'webgpu' needs the packages ${WEBGPU_PACKAGES.join(" and ")}: npm install ${WEBGPU_PACKAGES.join(" ")}`);
  }
  Object.assign(globalThis, dawn.globals); // GPUBufferUsage, GPUMapMode, …: tfjs reads them as globals
  const gpu = dawn.create([]);
  const adapter = await gpu.requestAdapter();
  if (!adapter)
    throw new WebgpuUnavailable(
      "backend 'webgpu': Dawn found no GPU adapter. On Linux it needs a Vulkan driver (libvulkan1 and the GPU vendor's ICD); " +
        "a CPU-only machine has none. Use --backend wasm.",
    );
  // tfjs's webgpu backend asks navigator.gpu for its adapter; Node has no navigator.gpu of its own.
  const nav = (globalThis as { navigator?: object }).navigator ?? {};
  Object.defineProperty(globalThis, "navigator", { value: Object.assign(Object.create(nav), { gpu }), configurable: true, writable: true });
  try {
    await loader.backend();
  } catch {
    throw new WebgpuUnavailable(`backend 'webgpu' needs ${WEBGPU_PACKAGES[1]}: npm install ${WEBGPU_PACKAGES[1]}`);
  }
  if (!tf.findBackendFactory("webgpu")) throw new WebgpuUnavailable("backend 'webgpu': @tensorflow/tfjs-backend-webgpu did not register a backend");
  const i = adapter.info ?? {};
  return [i.vendor, i.architecture, i.description].filter(Boolean).join(" ") || "an unnamed adapter";
}
