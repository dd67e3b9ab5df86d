// The kernels rnnc registers on the wasm backend: the ones it lacks, replacements for ones on a slow path, and
// one fused step of its own (the LSTM cell's backward).
// Each computes exactly what tfjs's own kernel does (the tests in test/runtime/kernels/ check them against cpu).
import { getKernel, registerKernel, unregisterKernel, type KernelConfig } from "@tensorflow/tfjs";
import { gatherV2Wasm } from "./gather-wasm.js";
import { lstmBackwardWasm } from "./lstm-backward-wasm.js";
import { matMulWasm, packRightWasm } from "./matmul-wasm.js";
import { rowMaxWasm, softmaxGradWasm, subScaledWasm, sumSquaresWasm } from "./simd-passes-wasm.js";
import { sliceWasm, splitVWasm } from "./slice-wasm.js";
import { unsortedSegmentSumWasm } from "./unsorted-segment-sum-wasm.js";

const KERNELS: readonly KernelConfig[] = [
  unsortedSegmentSumWasm,
  sliceWasm,
  splitVWasm,
  gatherV2Wasm,
  lstmBackwardWasm,
  matMulWasm,
  packRightWasm,
  rowMaxWasm,
  softmaxGradWasm,
  subScaledWasm,
  sumSquaresWasm,
];

let registered = false;
export function registerWasmKernels(): void {
  if (registered) return;
  for (const k of KERNELS) {
    if (getKernel(k.kernelName, "wasm")) unregisterKernel(k.kernelName, "wasm"); // replace, without tfjs's warning
    registerKernel(k);
  }
  registered = true;
}
