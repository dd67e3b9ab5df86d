// The file-system compiler host: the only place the compiler's inputs touch the disk.
import { isAbsolute, relative, resolve as resolvePath, sep } from "node:path";
import { isSymlink, readBounded, realPath } from "./fs.js";
import { resolveRelative, type CompilerHost, type ReadResult } from "../host.js";

/** Spec files larger than this are refused unread; no spec is anywhere near it. */
export const MAX_SPEC_BYTES = 4 * 2 ** 20;

export function decodeUtf8(bytes: Uint8Array): ReadResult {
  try {
    const text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    return { ok: true, text: text.charCodeAt(0) === 0xfeff ? text.slice(1) : text };
  } catch {
    const byteOffset = firstInvalidUtf8(bytes);
    const charOffset = new TextDecoder("utf-8").decode(bytes.subarray(0, byteOffset)).length; // valid up to there
    return {
      ok: false,
      kind: "invalid-utf8",
      reason: "not valid UTF-8",
      byteOffset,
      charOffset,
      lenientText: new TextDecoder("utf-8").decode(bytes),
    };
  }
}

/**
 * Offset of the first byte that breaks UTF-8, by the same decoder that rejected the file (so overlong forms and
 * surrogates count too): the shortest prefix a streaming strict decode rejects ends inside the bad sequence,
 * which starts at its lead byte.
 */
export function firstInvalidUtf8(b: Uint8Array): number {
  const rejects = (n: number): boolean => {
    try {
      new TextDecoder("utf-8", { fatal: true }).decode(b.subarray(0, n), { stream: true });
      return false;
    } catch {
      return true;
    }
  };
  if (!rejects(b.length)) {
    // Only the end is incomplete: the bad sequence is the trailing lead byte and its continuations.
    let i = b.length - 1;
    while (i > 0 && b.length - i < 4 && ((b[i] ?? 0) & 0xc0) === 0x80) i--;
    return i;
  }
  let lo = 1;
  let hi = b.length; // rejects(hi) holds
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (rejects(mid)) hi = mid;
    else lo = mid + 1;
  }
  // The decoder noticed at byte `bad`; the sequence it broke starts at the nearest lead byte before it,
  // if that lead's sequence would reach `bad` (`C3 41`: the C3; `C3 A9 A9`: the second A9 itself).
  const bad = hi - 1;
  let k = ((b[bad] ?? 0) & 0xc0) === 0x80 ? bad - 1 : bad - 1;
  while (k >= 0 && bad - k < 4 && ((b[k] ?? 0) & 0xc0) === 0x80) k--;
  const lead = b[k] ?? 0;
  const length = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
  return k >= 0 && lead >= 0xc0 && k + length > bad ? k : bad;
}

export function fsHost(cwd = process.cwd()): CompilerHost {
  return {
    readFile(path) {
      const read = readBounded(resolvePath(cwd, path), MAX_SPEC_BYTES);
      if (read.ok) return decodeUtf8(read.bytes);
      return read.missing
        ? { ok: false, kind: "missing", reason: "no such file" }
        : { ok: false, kind: "unreadable", reason: read.reason.replace(/the limit is/, "specs are limited to") };
    },
    resolve: (from, relative) => resolveRelative(realFrom(from, cwd), relative),
  };
}

/**
 * The file that a relative `extends` is resolved against: the spec itself, or, when the spec is a symbolic link, the
 * file it links to. A spec linked in from elsewhere keeps finding its bases beside its real self, as it does when
 * run where it lives. The result is shown as a path from `cwd` (absolute when outside it).
 */
function realFrom(from: string, cwd: string): string {
  const abs = resolvePath(cwd, from);
  if (!isSymlink(abs)) return from;
  const real = realPath(abs);
  if (real === null) return from;
  const base = realPath(cwd) ?? cwd;
  const rel = relative(base, real);
  return (rel.startsWith("..") || isAbsolute(rel) ? real : rel).split(sep).join("/");
}

/** A path as the user would write it from `cwd`: relative when inside, with `/` separators. */
export function displayPath(path: string, cwd = process.cwd()): string {
  const rel = relative(cwd, resolvePath(cwd, path));
  const shown = rel.startsWith("..") || rel === "" ? resolvePath(cwd, path) : rel;
  return shown.split(sep).join("/");
}
