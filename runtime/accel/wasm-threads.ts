// XNNPACK threads for the wasm backend under Node.
//
// tfjs-backend-wasm 4.22 ships a threaded SIMD build (emscripten pthreads over worker_threads) but never selects
// it in Node (tensorflow/tfjs#3830). The build itself runs in Node; what stops it is its loader, written for
// browsers. Four things stand in the way, and each is bridged here only while the backend initializes:
//   1. the pthread worker script is handed to `new Worker()` as a blob: URL, which Node's Worker refuses:
//      Blobs created during init are recorded, and URL.createObjectURL returns a file holding their text;
//   2. the module factory reaches each worker as a Blob, which the worker cannot import: its load message is
//      rewritten to carry that file's path;
//   3. the factory's source is a function from tfjs's rollup bundle, which names the bundle's module variables
//      (require$$0 = fs, …): the file defines them first;
//   4. the thread pool is sized logical cores / 2 (one core per hyperthread pair), so on a 2-core machine it
//      has one thread: os.cpus() reports twice the requested count during init.
// The pool's workers are then unref'd, so that they do not keep the process alive after training.
// Training maths is unchanged: the same kernels run, with XNNPACK splitting each matMul across threads.
import * as tf from "@tensorflow/tfjs";
import * as wasm from "@tensorflow/tfjs-backend-wasm";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { Worker } from "node:worker_threads";

/** The tfjs version whose bundle this bridges (the names of point 3 belong to that bundle). */
export const THREADED_TFJS_VERSION = "4.22.0";
const FACTORY_PREFIX = "var WasmBackendModuleThreadedSimd";
const BUNDLE_NAMES =
  "var require$$0 = require('fs'), require$$1 = require('path'), require$$3 = require('perf_hooks'), require$$4 = require('os'), commonjsGlobal = globalThis;\n";

interface PThreadPool {
  unusedWorkers: Worker[];
  runningWorkers: Worker[];
}

/** Initialize the wasm backend with `threads` XNNPACK threads. Rejects (and undoes its patches) on failure. */
export async function initThreadedWasm(threads: number): Promise<number> {
  if (tf.version.tfjs !== THREADED_TFJS_VERSION)
    throw new Error(`threaded wasm is bridged for tfjs ${THREADED_TFJS_VERSION}, not ${tf.version.tfjs}`);
  const dir = mkdtempSync(join(os.tmpdir(), "rnnc-wasm-threads-"));
  process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
  const sources = new WeakMap<Blob, string>();
  const files = new WeakMap<Blob, string>();
  let count = 0;
  const fileOf = (blob: Blob): string => {
    let path = files.get(blob);
    if (!path) {
      const text = sources.get(blob)!;
      // .cjs: the script is CommonJS (it calls require), whatever package.json a folder above the temp dir holds.
      path = join(dir, `script${count++}.cjs`);
      writeFileSync(path, text.startsWith(FACTORY_PREFIX) ? BUNDLE_NAMES + text : text); // (3)
      files.set(blob, path);
    }
    return path;
  };
  const OriginalBlob = globalThis.Blob;
  const originalCreate = URL.createObjectURL;
  const originalCpus = os.cpus;
  const originalPost = Worker.prototype.postMessage;
  globalThis.Blob = class RecordedBlob extends OriginalBlob {
    constructor(parts?: BlobPart[], options?: BlobPropertyBag) {
      super(parts, options);
      if (parts?.every((p) => typeof p === "string")) sources.set(this, parts.join(""));
    }
  };
  URL.createObjectURL = (obj: Blob) => (sources.has(obj) ? fileOf(obj) : originalCreate(obj)); // (1)
  Worker.prototype.postMessage = function (this: Worker, msg: unknown, transfer?: readonly Transferable[]) {
    const m = msg as { cmd?: string; urlOrBlob?: unknown } | null;
    if (m?.cmd === "load" && m.urlOrBlob instanceof OriginalBlob && sources.has(m.urlOrBlob))
      msg = { ...m, urlOrBlob: fileOf(m.urlOrBlob) }; // (2)
    return originalPost.call(this, msg, transfer as never);
  };
  const cpus = originalCpus();
  os.cpus = () => Array.from({ length: 2 * threads }, (_, i) => cpus[i % cpus.length]!); // (4)
  tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", true);
  wasm.setThreadsCount(threads);
  try {
    const ok = await tf.setBackend("wasm");
    await tf.ready();
    if (!ok || tf.getBackend() !== "wasm") throw new Error("the threaded wasm backend failed to initialize");
  } catch (e) {
    tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", false);
    Worker.prototype.postMessage = originalPost;
    throw e;
  } finally {
    globalThis.Blob = OriginalBlob;
    URL.createObjectURL = originalCreate;
    os.cpus = originalCpus;
  }
  const pool = (tf.backend() as unknown as { wasm: { PThread?: PThreadPool } }).wasm.PThread;
  for (const w of [...(pool?.unusedWorkers ?? []), ...(pool?.runningWorkers ?? [])]) {
    w.ref = () => w; // emscripten re-refs a worker when it starts a pthread; the pool's threads live until exit
    w.unref();
  }
  return wasm.getThreadsCount();
}
