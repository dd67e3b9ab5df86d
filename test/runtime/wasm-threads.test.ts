// XNNPACK threads on wasm (runtime/accel/wasm-threads.ts): the threaded build starts under Node, reports its thread
// count, computes what the one-thread build computes (bit for bit: XNNPACK splits a matMul into output tiles, and
// each output keeps its own summation order), and lets the process exit when the work is done. The same holds for
// rnnc's GEMM (runtime/accel/kernels/gemm.ts), which takes the thread count of the backend where the CPU has FMA.
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);
const FIXTURE = fileURLToPath(new URL("./fixtures/wasm-threads.mjs", import.meta.url));

interface ChildResult {
  description: string;
  sample: number[];
  sum: number;
  gemmSum: number;
}

async function child(threads: number, env: NodeJS.ProcessEnv = process.env): Promise<ChildResult> {
  // A pool worker left referenced would keep the child alive: the timeout turns that into a failure.
  const { stdout } = await run(process.execPath, [FIXTURE, String(threads)], { timeout: 30_000, env });
  return JSON.parse(stdout.trim().split("\n").pop()!) as ChildResult;
}

describe("threaded wasm under Node", () => {
  it("starts with 2 threads, matches the 1-thread result exactly, and exits by itself", async () => {
    const [one, two] = await Promise.all([child(1), child(2)]);
    expect(one.description).toMatch(/^wasm \(XNNPACK, SIMD, 1 thread(; matMul: relaxed-SIMD FMA GEMM, 1 thread)?\)$/);
    expect(two.description).toMatch(/^wasm \(XNNPACK, SIMD, 2 threads(; matMul: relaxed-SIMD FMA GEMM, 2 threads)?\)$/);
    expect(two.sample).toEqual(one.sample);
    expect(two.sum).toBe(one.sum);
    expect(two.gemmSum).toBe(one.gemmSum);
    expect(Math.abs(two.gemmSum - two.sum)).toBeLessThan(1e-3 * Math.abs(two.sum) + 1); // the same product
  });

  it("starts whatever package.json a folder above the temp dir holds (the pool's scripts are CommonJS)", async () => {
    // A `"type": "module"` package.json above TMPDIR made Node read the worker scripts as ES modules: exit 3.
    const root = mkdtempSync(join(tmpdir(), "rnnc-esm-above-"));
    try {
      writeFileSync(join(root, "package.json"), JSON.stringify({ type: "module" }));
      mkdirSync(join(root, "tmp"));
      const two = await child(2, { ...process.env, TMPDIR: join(root, "tmp") });
      expect(two.description).toMatch(/2 threads/);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
