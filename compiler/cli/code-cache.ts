// A V8 code cache for ts-morph, so that `rnnc build` stays under a second (issue 4: ≤ 1 s wall per example).
//
// ts-morph is 12 MB of CommonJS (its bundled TypeScript is 9 MB). Node compiles every file from source on every
// start: ~0.4 s of a ~1 s `rnnc build`, measured with --cpu-prof (node:internal/modules). V8 can instead load the
// compiled code from a cache (vm.Script's cachedData), as Node ≥ 22.1 does by itself with module.enableCompileCache()
// and the v8-compile-cache package does for older Nodes. Node 20 is supported here, so on Node 20 we hook
// Module.prototype._compile, for these packages only, the way v8-compile-cache does.
//
// The cache lives in $RNNC_CACHE, else $XDG_CACHE_HOME/rnnc, else ~/.cache/rnnc. It is keyed by Node's version and
// the file's path, size and mtime; V8 itself rejects stale data (flags, version), and then we write it again. Any
// failure (read-only home, full disk) only costs the speed: the module is then compiled from source as usual.
import { createHash } from "node:crypto";
import { readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import Module, { createRequire } from "node:module";
import { homedir } from "node:os";
import { dirname, join, sep } from "node:path";
import { Script } from "node:vm";
import { makeDir } from "./fs.js";

/** The folder for rnnc's caches: the same per-user base as the runtime's data sets (runtime/data/locate.ts). */
function cacheDir(): string {
  const env = process.env;
  return env["RNNC_CACHE"] || join(env["XDG_CACHE_HOME"] || join(homedir(), ".cache"), "rnnc");
}

// The packages whose modules go through the cache: only large, stable, CommonJS code that the generator loads.
const CACHED = [`${sep}node_modules${sep}ts-morph${sep}`, `${sep}node_modules${sep}@ts-morph${sep}`];

interface CompilableModule {
  exports: unknown;
  _compile(content: string, filename: string): unknown;
}

let installed = false;

/**
 * Installs the cache for ts-morph's modules (once per process). Call before anything loads ts-morph: main.ts does,
 * before it imports build.js or run.js (codegen/emit/ts-morph.ts requires ts-morph as it loads).
 */
export function installCodeCache(): void {
  if (installed) return;
  installed = true;
  const enable = (Module as unknown as { enableCompileCache?: (dir: string) => unknown }).enableCompileCache;
  if (enable) {
    // Node ≥ 22.1 has it built in, for ESM as well.
    enable(join(cacheDir(), "node-compile-cache"));
    return;
  }
  const proto = (Module as unknown as { prototype: CompilableModule }).prototype;
  const original = proto._compile;
  const dir = join(cacheDir(), "v8");
  proto._compile = function (this: CompilableModule, content: string, filename: string): unknown {
    if (!CACHED.some((p) => filename.includes(p))) return original.call(this, content, filename);
    let file: string;
    let cached: Buffer | undefined;
    try {
      const st = statSync(filename);
      file = join(
        dir,
        `${createHash("sha256").update(`${process.version}\0${filename}\0${st.size}\0${st.mtimeMs}`).digest("hex").slice(0, 32)}.bin`,
      );
      try {
        cached = readFileSync(file);
      } catch {
        cached = undefined; // first use: compile from source, then write the cache
      }
    } catch {
      return original.call(this, content, filename);
    }
    const script = new Script(Module.wrap(content), { filename, cachedData: cached });
    if (cached === undefined || script.cachedDataRejected) {
      // At exit, the data also holds the functions V8 compiled lazily while generating, which is most of the win.
      process.once("exit", () => {
        try {
          makeDir(dir); // not Node's recursive mkdir, which loops forever where a folder refuses children (/proc)
          const tmp = `${file}.${process.pid}.tmp`;
          writeFileSync(tmp, script.createCachedData());
          renameSync(tmp, file); // atomic: a concurrent reader sees the old file or the whole new one
        } catch {
          /* no cache this time; correctness is unaffected */
        }
      });
    }
    const wrapper = script.runInThisContext({ displayErrors: true }) as (...args: unknown[]) => unknown;
    return wrapper.call(this.exports, this.exports, createRequire(filename), this, filename, dirname(filename));
  };
}
