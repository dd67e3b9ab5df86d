// The webgpu backend's host-side logic (runtime/accel/webgpu.ts). No GPU is reachable in CI, and the two packages are
// not installed there: what can be checked is that each missing piece is named with what to do, through the
// real selection path, and that a present adapter makes the backend register. Training on a GPU is not tested here.
import { describe, expect, it } from "vitest";
import { BackendError, selectBackend } from "../../runtime/accel/backend.js";
import { prepareWebgpu, WebgpuUnavailable, type DawnModule, type WebgpuLoader } from "../../runtime/accel/webgpu.js";

const dawnWith = (adapter: object | null): DawnModule => ({
  create: () => ({ requestAdapter: async () => adapter }),
  globals: {},
});

describe("--backend webgpu", () => {
  it("without the packages: a user-facing BackendError naming both and the install command", async () => {
    const missing: WebgpuLoader = {
      dawn: () => Promise.reject(new Error("Cannot find package 'webgpu'")),
      backend: () => Promise.reject(new Error("no")),
    };
    const e = await selectBackend("webgpu", { webgpuLoader: missing }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(BackendError);
    expect((e as BackendError).userFacing).toBe(true);
    expect((e as Error).message).toContain("npm install webgpu@0.6.2 @tensorflow/tfjs-backend-webgpu@4.22.0");
  });

  it("with the packages but no GPU adapter (a CPU-only machine): says what the adapter needs", async () => {
    const e = await prepareWebgpu({ dawn: async () => dawnWith(null), backend: async () => ({}) }).catch(
      (x: unknown) => x,
    );
    expect(e).toBeInstanceOf(WebgpuUnavailable);
    expect((e as Error).message).toMatch(/no GPU adapter.*Vulkan/);
  });

  it("with an adapter, but the tfjs backend package missing: names that package", async () => {
    const e = await prepareWebgpu({
      dawn: async () => dawnWith({ info: { vendor: "nvidia" } }),
      backend: () => Promise.reject(new Error("missing")),
    }).catch((x: unknown) => x);
    expect((e as Error).message).toContain("npm install @tensorflow/tfjs-backend-webgpu@4.22.0");
  });

  it("with an adapter and a backend package that registers nothing: refuses rather than running elsewhere", async () => {
    const e = await prepareWebgpu({
      dawn: async () => dawnWith({ info: { vendor: "nvidia", architecture: "hopper" } }),
      backend: async () => ({}),
    }).catch((x: unknown) => x);
    expect((e as Error).message).toMatch(/did not register a backend/);
  });
});
