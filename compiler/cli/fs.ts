// The CLI's writes and its reads of what earlier runs wrote, made safe for hostile paths: every failure becomes an
// InputError that names the path and says why in words (exit 1 in main.ts), never an internal error, and nothing
// here can loop or wait without end. Every fs call here that can fail on a user's path has its error turned into
// words naming that path. Messages of these errors are spelled only in this file; main.ts shows them through
// terminalText (a path may hold a newline).
import {
  chmodSync,
  closeSync,
  constants,
  fstatSync,
  lstatSync,
  mkdirSync,
  openSync,
  readlinkSync,
  readSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  unlinkSync,
  writeFileSync,
  type Stats,
} from "node:fs";
import { dirname, isAbsolute, relative, resolve } from "node:path";

/** An error in the user's input or environment (a path, a damaged run directory): main.ts prints it, exit 1. */
export class InputError extends Error {
  override readonly name = "InputError";
  readonly userFacing = true;
}

const REASONS: Readonly<Record<string, string>> = {
  ENOENT: "no such file or folder",
  ENOTDIR: "a part of the path is a file, not a folder",
  EISDIR: "it is a folder",
  EACCES: "permission denied",
  EPERM: "the operation is not permitted there",
  EROFS: "the file system is read-only",
  ENOSPC: "no space left on the device",
  EDQUOT: "the disk quota is exceeded",
  EEXIST: "it exists already",
  ENAMETOOLONG: "the path is too long",
  ELOOP: "too many symbolic links (a link loop?)",
  EBUSY: "it is busy",
  EMFILE: "too many open files",
  EINVAL: "the file system does not accept it",
};

/** A file-system error in words: "permission denied", "the file system is read-only", … */
export function reasonOf(e: unknown): string {
  const code = (e as NodeJS.ErrnoException | null)?.code;
  return (code && REASONS[code]) ?? (code ? `${code}` : String((e as Error)?.message ?? e));
}

/** An absolute path as the user would write it: relative to the working folder when inside it. */
function shownPath(abs: string): string {
  const rel = relative(process.cwd(), abs);
  return rel === "" || rel.startsWith("..") || isAbsolute(rel) ? abs : rel;
}

/**
 * Why `p` cannot be followed, when statSync said ENOENT although something is there: a symbolic link whose target
 * does not exist (`-o out` where out → nowhere). Null when nothing is there at all.
 */
function danglingLink(p: string): string | null {
  try {
    if (!lstatSync(p).isSymbolicLink()) return null;
  } catch {
    return null;
  }
  let target = "";
  try {
    target = ` to ${readlinkSync(p)}`;
  } catch {
    // unreadable link: said without its target
  }
  return `a dangling link is in the way: ${shownPath(p)} is a link${target}, which does not exist`;
}

/** statSync that fails as an InputError: "cannot `doing` `path`: `reason`". */
function statOrFail(p: string, doing: string, shown: string): Stats {
  try {
    return statSync(p);
  } catch (e) {
    throw new InputError(
      `${doing} ${shown}: ${((e as NodeJS.ErrnoException).code === "ENOENT" && danglingLink(p)) || reasonOf(e)}`,
    );
  }
}

/** The first ancestor of `path` (itself included) that exists, and the folders below it that do not. */
function existingAncestor(path: string): { existing: string; missing: string[] } {
  const missing: string[] = [];
  let p = resolve(path);
  for (;;) {
    try {
      statSync(p);
      return { existing: p, missing: missing.reverse() };
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== "ENOENT")
        throw new InputError(
          `cannot create the folder ${path}: ${code === "ENOTDIR" ? `${shownPath(firstFile(p))} is a file, not a folder` : reasonOf(e)}`,
        );
      const dangling = danglingLink(p);
      if (dangling) throw new InputError(`cannot create the folder ${path}: ${dangling}`);
      const up = dirname(p);
      if (up === p) return { existing: p, missing: missing.reverse() };
      missing.push(p);
      p = up;
    }
  }
}

/** The first component of `path` that exists and is not a folder (for ENOTDIR). */
function firstFile(path: string): string {
  const parts = resolve(path).split("/");
  for (let i = 2; i <= parts.length; i++) {
    const p = parts.slice(0, i).join("/");
    try {
      if (!statSync(p).isDirectory()) return p;
    } catch {
      break;
    }
  }
  return path;
}

/**
 * `mkdir -p`, one level at a time. Node's own recursive mkdirSync loops forever where a folder exists but refuses
 * children with ENOENT (it then creates the parent, gets EEXIST, and retries the child: `-o /proc/x` hung for
 * minutes); here each level is made once, and a refusal is an InputError naming the folder. Returns the first
 * folder it created (null when `dir` existed), so that a caller can remove what it made.
 */
export function makeDir(dir: string): string | null {
  const { existing, missing } = existingAncestor(dir);
  const shown = (p: string): string => (p === resolve(dir) ? dir : shownPath(p));
  if (!statOrFail(existing, "cannot create the folder", dir).isDirectory())
    throw new InputError(`cannot create the folder ${dir}: ${shown(existing)} is a file, not a folder`);
  for (const m of missing) {
    try {
      mkdirSync(m);
    } catch (e) {
      // Made meanwhile by another process: fine if it is a folder (a file or a dangling link there is refused).
      if (
        (e as NodeJS.ErrnoException).code === "EEXIST" &&
        statOrFail(m, "cannot create the folder", shown(m)).isDirectory()
      )
        continue;
      // ENOENT under a folder that exists: a pseudo file system (/proc, /sys) that allows no new folders.
      const code = (e as NodeJS.ErrnoException).code;
      throw new InputError(
        `cannot create the folder ${shown(m)}: ${code === "ENOENT" ? "the file system there does not allow new folders" : code === "EEXIST" ? "a file is in the way" : reasonOf(e)}`,
      );
    }
  }
  return missing[0] ?? null;
}

/** `dir` must be a folder or not exist yet (it is then created): `-o FILE` is refused before anything is written. */
export function requireFolder(dir: string, what: string): void {
  let st;
  try {
    st = statSync(dir);
  } catch {
    makeDir(dir);
    return;
  }
  if (!st.isDirectory()) throw new InputError(`${what} ${dir} is a file, not a folder`);
}

/**
 * Writes a file atomically (a temporary file renamed over it): a crash never leaves half a file. An existing file is
 * replaced where it really lives, keeping its mode: `rnnc fmt link.rnn` formats the spec the link points at (a file
 * renamed over the link would leave that spec as it was, and its relative `extends` would then resolve from the
 * link's folder); a file nobody may write (mode a-w) is refused rather than replaced; a pipe or device is refused
 * rather than turned into a regular file.
 */
export function writeFileAtomic(path: string, text: string | Uint8Array): void {
  const real = realPath(path);
  const dangling = real === null ? danglingLink(path) : null;
  if (dangling) throw new InputError(`cannot write ${shownPath(path)}: ${dangling}`);
  const target = real ?? path;
  let existing: Stats | null = null;
  try {
    existing = statSync(target);
  } catch {
    // a new file
  }
  if (existing && !existing.isFile())
    throw new InputError(`cannot write ${shownPath(path)}: it is not a regular file (a folder, a pipe or a device)`);
  if (existing && (existing.mode & 0o222) === 0)
    throw new InputError(`cannot write ${shownPath(path)}: the file is read-only (make it writable first: chmod u+w)`);
  makeDir(dirname(target));
  const tmp = `${target}.rnnc-tmp-${process.pid}`;
  try {
    writeFileSync(tmp, text);
    if (existing) chmodSync(tmp, existing.mode & 0o7777);
    renameSync(tmp, target);
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      // it was never made
    }
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError(
      `cannot write ${path}: ${code === "ENOENT" ? "the file system there does not allow new files" : reasonOf(e)}`,
    );
  }
}

/** Writes a file in place (inside a folder this run has just made); a failure is an InputError naming it. */
export function writeFile(path: string, text: string): void {
  try {
    writeFileSync(path, text);
  } catch (e) {
    throw new InputError(`cannot write ${path}: ${reasonOf(e)}`);
  }
}

export type ReadOutcome =
  | { readonly ok: true; readonly bytes: Buffer }
  | { readonly ok: false; readonly missing: boolean; readonly reason: string };

/** How long a named pipe may stay without a writer before it is refused (a writer normally opens it within ms). */
export const PIPE_WRITER_WAIT_MS = 1_000;
/** How long a pipe with a writer may give no data before it is refused: no hang, but room for a slow producer. */
export const PIPE_IDLE_WAIT_MS = 10_000;

/** Blocks this thread for `ms` (the compiler host is synchronous; Atomics.wait is Node's sleep without a busy loop). */
const sleep = (ms: number): void => void Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/**
 * Reads at most `maxBytes` of a regular file or a pipe (`<(…)`, `/dev/stdin` fed by a pipe), never a device:
 * /dev/zero or /dev/urandom would be read forever, and a /proc file reports size 0 while it has content, so the size
 * is enforced while reading. A pipe is opened non-blocking (a blocking open of a named pipe waits for a writer,
 * forever if none comes: `mkfifo p.rnn; rnnc check p.rnn` hung) and read with bounded waits: no writer within
 * PIPE_WRITER_WAIT_MS, or a writer silent for PIPE_IDLE_WAIT_MS, is refused as unreadable.
 */
export function readBounded(path: string, maxBytes: number): ReadOutcome {
  let fd: number;
  let pipe: boolean;
  try {
    const st = statSync(path);
    if (st.isDirectory()) return { ok: false, missing: false, reason: "it is a directory" };
    if (!st.isFile() && !st.isFIFO()) return { ok: false, missing: false, reason: "it is not a regular file" };
    if (st.size > maxBytes)
      return { ok: false, missing: false, reason: `it is ${st.size} bytes; the limit is ${maxBytes}` };
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
    pipe = fstatSync(fd).isFIFO();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return { ok: false, missing: code === "ENOENT", reason: code === "ENOENT" ? "no such file" : reasonOf(e) };
  }
  try {
    const chunks: Buffer[] = [];
    let total = 0;
    const size = fstatSync(fd).size;
    let waited = 0;
    for (;;) {
      const buf = Buffer.alloc(Math.min(Math.max(size - total, 64 * 1024), maxBytes + 1 - total));
      let n: number;
      try {
        n = readSync(fd, buf, 0, buf.length, null);
      } catch (e) {
        // A pipe with a writer but no data yet.
        if (!pipe || (e as NodeJS.ErrnoException).code !== "EAGAIN") throw e;
        if (waited >= PIPE_IDLE_WAIT_MS)
          return {
            ok: false,
            missing: false,
            reason: `it is a pipe that gave no data for ${PIPE_IDLE_WAIT_MS / 1000} s`,
          };
        sleep(10);
        waited += 10;
        continue;
      }
      if (n === 0) {
        // End of file; or, for a pipe that has given nothing yet, no writer so far (a non-blocking read then says 0).
        if (!pipe || total > 0) break;
        if (waited >= PIPE_WRITER_WAIT_MS)
          return {
            ok: false,
            missing: false,
            reason: `it is a named pipe that nobody wrote to within ${PIPE_WRITER_WAIT_MS / 1000} s`,
          };
        sleep(10);
        waited += 10;
        continue;
      }
      waited = 0;
      chunks.push(buf.subarray(0, n));
      total += n;
      if (total > maxBytes)
        return { ok: false, missing: false, reason: `it is over ${maxBytes} bytes; the limit is ${maxBytes}` };
    }
    return { ok: true, bytes: Buffer.concat(chunks) };
  } catch (e) {
    return { ok: false, missing: false, reason: reasonOf(e) };
  } finally {
    try {
      closeSync(fd);
    } catch {
      // nothing was left to close
    }
  }
}

/** The real path of a file, or null when it has none (missing, a loop). */
export function realPath(path: string): string | null {
  try {
    return realpathSync(path);
  } catch {
    return null;
  }
}

export function isSymlink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

/** Removes a folder this process made; a failure to remove is not worth an error of its own. */
export function removeQuietly(path: string): void {
  try {
    rmSync(path, { recursive: true, force: true });
  } catch {
    // left behind; the error that made us remove it is the one to report
  }
}
