// Checkpoints you can trust: one file holding a checksummed JSON header and raw float32 tensors, each with its own
// SHA-256, written atomically (a temp file in the same directory, fsync, rename, fsync of the directory), so a
// crash or a kill during a write leaves the previous file intact, and a file damaged afterwards is refused on load
// instead of training or evaluating on garbage. specs/language.md, "Checkpoints", documents the format.
//
// Format 2: "RNNCKPT2" | u32 LE header length | SHA-256 of the header JSON (32 bytes) | header JSON (UTF-8) |
//           zero padding to 4 bytes | float32 LE data.
// Format 1 (before checksums): "RNNCKPT1" | u32 LE header length | header JSON | padding | data. Still read.
//
// A run directory's two checkpoints, last.ckpt and best.ckpt, change together at the end of an epoch that is the
// new best. RunCheckpoints makes that one commit: the new best is staged under a hidden name, last.ckpt (the commit
// point) records the staged file's digest, and only then is the staged file renamed to best.ckpt. The next start
// finishes (or drops) a save a kill interrupted, so the best epoch last.ckpt reports and the weights in best.ckpt
// always agree.
import { createHash } from "node:crypto";
import {
  closeSync,
  existsSync,
  fstatSync,
  fsyncSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { basename, dirname, join, resolve } from "node:path";

const MAGIC_PREFIX = "RNNCKPT";
const MAGIC = `${MAGIC_PREFIX}2`;
const MAGIC_V1 = `${MAGIC_PREFIX}1`;
/** The format this runtime writes; it reads this one and format 1. */
export const CHECKPOINT_FORMAT = 2;
const SHA_BYTES = 32;

export interface StoredTensor {
  readonly name: string;
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

export interface Checkpoint<M> {
  readonly meta: M;
  readonly tensors: readonly StoredTensor[];
}

/** The header of a checkpoint that was read: its metadata and what identifies it. */
export interface CheckpointHeader<M> {
  readonly meta: M;
  readonly format: 1 | 2;
  /** Hex SHA-256 of the header, which holds every tensor's SHA-256: names this exact content. null for format 1. */
  readonly digest: string | null;
  /** Format 2, a run's last.ckpt: the digest of the run's best.ckpt when this file was written (null: none yet). */
  readonly best: string | null;
}

export interface LoadedCheckpoint<M> extends Checkpoint<M>, CheckpointHeader<M> {}

export class CheckpointError extends Error {
  override readonly name = "CheckpointError";
  /** Its message is for the user as it stands: the CLI prints it without a stack trace. */
  readonly userFacing = true;
}

interface TensorEntry {
  readonly name: string;
  readonly shape: readonly number[];
  /** In float32 elements from the start of the data. */
  readonly offset: number;
  readonly length: number;
  /** Format 2: hex SHA-256 of the tensor's bytes. */
  readonly sha256?: string;
}

interface Header<M> {
  readonly meta: M;
  readonly best?: string | null;
  readonly tensors: readonly TensorEntry[];
}

const sha256 = (bytes: Uint8Array): Buffer => createHash("sha256").update(bytes).digest();
const bytesOf = (d: Float32Array): Uint8Array => new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
const padTo4 = (n: number): number => (4 - (n % 4)) % 4;

// ---------------------------------------------------------------------------------------------------------------
// The steps of a save, counted, so a test can kill the process after any one of them (RNNC_TEST_CHECKPOINT_KILL=k:
// SIGKILL after the k-th step of this process; RNNC_TEST_CHECKPOINT_TRACE=1: each step's number and name on stderr).
// A SIGKILL is what a crash, the OOM killer or a power cut looks like to the files: nothing after it runs.
let steps = 0;
function step(what: string): void {
  steps++;
  const env = process.env;
  if (env["RNNC_TEST_CHECKPOINT_TRACE"] === "1") writeSync(2, `checkpoint step ${steps}: ${what}\n`);
  if (env["RNNC_TEST_CHECKPOINT_KILL"] !== undefined && Number(env["RNNC_TEST_CHECKPOINT_KILL"]) === steps) {
    writeSync(2, `killed after checkpoint step ${steps}: ${what}\n`);
    process.kill(process.pid, "SIGKILL");
  }
}

/** Make a rename or unlink in `dir` durable: without it, a power cut can undo a rename that already returned. */
function fsyncDir(dir: string): void {
  if (process.platform === "win32") return; // directories cannot be opened for fsync there; NTFS journals renames
  const fd = openSync(dir, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  step(`fsync directory ${dir}`);
}

/** The hidden name a write goes to first; its writer's PID tells a later start whether the writer is gone. */
const tempName = (path: string): string => join(dirname(path), `.${basename(path)}.tmp-${process.pid}`);
const TEMP = /^\..+\.tmp-(\d+)$/;

/**
 * Write `ckpt` to `path` atomically and durably; returns its digest. `best` is the digest of the run's best
 * checkpoint that this one records (RunCheckpoints).
 */
export function writeCheckpoint<M>(path: string, ckpt: Checkpoint<M>, best: string | null = null): string {
  const index: TensorEntry[] = [];
  let offset = 0;
  for (const t of ckpt.tensors) {
    index.push({
      name: t.name,
      shape: t.shape,
      offset,
      length: t.data.length,
      sha256: sha256(bytesOf(t.data)).toString("hex"),
    });
    offset += t.data.length;
  }
  const header = Buffer.from(JSON.stringify({ meta: ckpt.meta, best, tensors: index } satisfies Header<M>), "utf8");
  const digest = sha256(header);
  const start = MAGIC.length + 4 + SHA_BYTES;
  const head = Buffer.alloc(start + header.length + padTo4(start + header.length));
  head.write(MAGIC, 0, "latin1");
  head.writeUInt32LE(header.length, MAGIC.length);
  digest.copy(head, MAGIC.length + 4);
  header.copy(head, start);

  const tmp = tempName(path);
  const fd = openSync(tmp, "w");
  step(`open ${basename(tmp)}`);
  try {
    writeAll(fd, head);
    step(`write the header of ${basename(tmp)}`);
    for (const t of ckpt.tensors) {
      writeAll(fd, bytesOf(t.data));
      step(`write ${t.name} to ${basename(tmp)}`);
    }
    fsyncSync(fd);
    step(`fsync ${basename(tmp)}`);
  } catch (e) {
    closeSync(fd);
    unlinkSync(tmp);
    throw e;
  }
  closeSync(fd);
  step(`close ${basename(tmp)}`);
  renameSync(tmp, path); // atomic on POSIX: readers see the old file or the new one, never a part
  step(`rename ${basename(tmp)} to ${basename(path)}`);
  fsyncDir(dirname(path));
  return digest.toString("hex");
}

/** writeSync may write less than asked (large buffers): loop until all of it is out. */
function writeAll(fd: number, bytes: Uint8Array): void {
  for (let done = 0; done < bytes.length;) done += writeSync(fd, bytes, done, bytes.length - done);
}

/** The layout of a file's start: its format and where its header and data lie. */
interface Frame {
  readonly format: 1 | 2;
  readonly headerStart: number;
  readonly headerLength: number;
  /** Format 2: the SHA-256 the header must have. */
  readonly headerSha: Buffer | null;
  readonly dataStart: number;
}

/** The frame, from the file's first bytes (`head`, at least the fixed prefix) and its size. */
function frameOf(path: string, head: Buffer, size: number): Frame {
  const magic = head.length >= MAGIC.length ? head.toString("latin1", 0, MAGIC.length) : "";
  if (!magic.startsWith(MAGIC_PREFIX)) throw new CheckpointError(`${path} is not an rnnc checkpoint`);
  if (magic !== MAGIC && magic !== MAGIC_V1) {
    const v = magic.slice(MAGIC_PREFIX.length);
    throw new CheckpointError(
      /^[0-9]$/.test(v)
        ? `${path} is a checkpoint of format ${v}, newer than this rnnc reads (formats 1 and ${CHECKPOINT_FORMAT}): use the rnnc that wrote it`
        : `${path} is not an rnnc checkpoint`,
    );
  }
  const format = magic === MAGIC ? 2 : 1;
  const headerStart = MAGIC.length + 4 + (format === 2 ? SHA_BYTES : 0);
  if (size < headerStart || head.length < headerStart) throw new CheckpointError(`${path} is truncated (header)`);
  const headerLength = head.readUInt32LE(MAGIC.length);
  if (headerStart + headerLength > size) throw new CheckpointError(`${path} is truncated (header)`);
  const headerSha = format === 2 ? Buffer.from(head.subarray(MAGIC.length + 4, headerStart)) : null;
  const end = headerStart + headerLength;
  return { format, headerStart, headerLength, headerSha, dataStart: end + padTo4(end) };
}

/** Parse and (format 2) verify the header bytes. */
function parseHeader<M>(path: string, frame: Frame, bytes: Buffer): { header: Header<M>; digest: string | null } {
  let digest: string | null = null;
  if (frame.headerSha) {
    const sha = sha256(bytes);
    if (!sha.equals(frame.headerSha))
      throw new CheckpointError(
        `${path} is corrupt: its header fails its SHA-256 check (the file changed after it was written); it was not loaded`,
      );
    digest = sha.toString("hex");
  }
  let header: Header<M>;
  try {
    header = JSON.parse(bytes.toString("utf8")) as Header<M>;
  } catch {
    throw new CheckpointError(`${path} has a corrupt header`);
  }
  if (typeof header !== "object" || header === null || !Array.isArray(header.tensors))
    throw new CheckpointError(`${path} has a corrupt header`);
  return { header, digest };
}

const headerOf = <M>(frame: Frame, header: Header<M>, digest: string | null): CheckpointHeader<M> => ({
  meta: header.meta,
  format: frame.format,
  digest,
  best: header.best ?? null,
});

/** Read and verify a whole checkpoint: the header's checksum, every tensor's, and the file's length. */
export function readCheckpoint<M>(path: string): LoadedCheckpoint<M> {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (e) {
    throw new CheckpointError(`cannot read checkpoint ${path}: ${(e as Error).message}`);
  }
  const frame = frameOf(path, buf, buf.length);
  const { header, digest } = parseHeader<M>(
    path,
    frame,
    buf.subarray(frame.headerStart, frame.headerStart + frame.headerLength),
  );
  const total = header.tensors.reduce((n, t) => n + t.length, 0);
  if (frame.dataStart + total * 4 !== buf.length)
    throw new CheckpointError(`${path} is truncated or has trailing bytes`);
  // Copy into an aligned buffer: Buffer's pool offset need not be a multiple of 4.
  const all = new Float32Array(total);
  const raw = new Uint8Array(all.buffer);
  raw.set(buf.subarray(frame.dataStart, frame.dataStart + total * 4));
  const tensors = header.tensors.map((t) => {
    const data = all.subarray(t.offset, t.offset + t.length);
    if (frame.format === 2 && sha256(bytesOf(data)).toString("hex") !== t.sha256)
      throw new CheckpointError(
        `${path} is corrupt: tensor ${t.name} fails its SHA-256 check (the file changed after it was written); it was not loaded`,
      );
    // Format 1 has no checksums; training never saves a non-finite value, so one is damage (or a bad write).
    if (frame.format === 1) {
      const bad = data.findIndex((x) => !Number.isFinite(x));
      if (bad >= 0)
        throw new CheckpointError(
          `${path} is corrupt: tensor ${t.name} holds ${data[bad]} at index ${bad}, which training never saves (a format-1 checkpoint, without checksums); it was not loaded`,
        );
    }
    return { name: t.name, shape: t.shape, data };
  });
  return { ...headerOf(frame, header, digest), tensors };
}

/** Read and verify only a checkpoint's header (its tensors are not read): cheap, for its metadata and digest. */
export function readCheckpointHeader<M>(path: string): CheckpointHeader<M> {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (e) {
    throw new CheckpointError(`cannot read checkpoint ${path}: ${(e as Error).message}`);
  }
  try {
    const read = (at: number, n: number): Buffer => {
      const b = Buffer.alloc(n);
      let got = 0;
      for (let r; got < n && (r = readSync(fd, b, got, n - got, at + got)) > 0;) got += r;
      return b.subarray(0, got);
    };
    const frame = frameOf(path, read(0, MAGIC.length + 4 + SHA_BYTES), fstatSync(fd).size);
    const bytes = read(frame.headerStart, frame.headerLength);
    if (bytes.length < frame.headerLength) throw new CheckpointError(`${path} is truncated (header)`);
    const { header, digest } = parseHeader<M>(path, frame, bytes);
    return headerOf(frame, header, digest);
  } finally {
    closeSync(fd);
  }
}

/** For the user, when a checkpoint predates checksums (null otherwise). */
export function formatNote(path: string, ck: Pick<CheckpointHeader<unknown>, "format">): string | null {
  return ck.format === 1
    ? `note: ${path} is a format-1 checkpoint (written before rnnc checksummed its checkpoints): its tensors cannot be verified, only checked for non-finite values`
    : null;
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM"; // exists, but another user's
  }
};

/**
 * Remove the temp files of writes that a kill or crash left unfinished in `dir`: only those whose writer (the PID
 * in the name) is gone, so a run writing there right now is never disturbed. Returns the names removed.
 */
export function removeStaleTempFiles(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const n of names) {
    const m = TEMP.exec(n);
    if (!m || Number(m[1]) === process.pid || alive(Number(m[1]))) continue;
    try {
      unlinkSync(join(dir, n));
      removed.push(n);
    } catch {
      // already gone (another start cleaned it)
    }
  }
  if (removed.length) fsyncDir(dir);
  return removed;
}

/** What a resume starts from: last.ckpt, verified, and the best epoch that agrees with best.ckpt. */
export interface Resumed<M> {
  readonly ck: LoadedCheckpoint<M>;
  readonly bestEpoch: number | null;
  /** For the user: a format-1 file, a save finished or dropped, temp files removed. */
  readonly notes: readonly string[];
}

/**
 * A run directory's checkpoints: last.ckpt (the latest state; the commit point of every save) and best.ckpt (the
 * weights of the best validation epoch), kept in agreement across kills.
 *
 * A save at the end of an epoch that is the new best, in this order, each step durable (fsync of the file, then
 * of the directory) before the next:
 *   1. the new best goes to .best.ckpt.next (temp file, fsync, rename: that file is whole or absent);
 *   2. last.ckpt is replaced, recording the staged file's digest: this rename commits the save;
 *   3. .best.ckpt.next is renamed to best.ckpt.
 * A kill before 2 leaves the previous state (last and best agree; the staged file is dropped on the next start); a
 * kill after 2 leaves last.ckpt committed to the staged file, which the next start renames to best.ckpt.
 */
export class RunCheckpoints {
  readonly last: string;
  readonly best: string;
  /** The staged best of a save in progress (step 1 above). */
  readonly next: string;
  /** The digest of the best checkpoint, as last.ckpt records it: every save of last.ckpt carries it forward. */
  private bestDigest: string | null = null;

  constructor(readonly dir: string) {
    this.last = join(dir, "last.ckpt");
    this.best = join(dir, "best.ckpt");
    this.next = join(dir, ".best.ckpt.next");
  }

  /**
   * Start from `file` (normally this directory's last.ckpt), verified, taking over the directory: removes temp
   * files of dead writers, finishes or drops an interrupted save, and verifies best.ckpt against last.ckpt. A
   * damaged file is refused (CheckpointError), as is a checkpoint that `accept` throws on, before anything else in
   * the directory has changed.
   */
  resume<M extends { bestEpoch: number | null }>(file: string, accept: (meta: M) => void = () => {}): Resumed<M> {
    const notes: string[] = [];
    const removed = removeStaleTempFiles(this.dir);
    if (removed.length)
      notes.push(
        `removed ${removed.length} temp file(s) of an unfinished checkpoint write in ${this.dir}: ${removed.join(", ")}`,
      );
    const ck = readCheckpoint<M>(file);
    accept(ck.meta); // the caller's own checks (the experiment's name), before anything changes
    const note = formatNote(file, ck);
    if (note) notes.push(note);
    const from = dirname(resolve(file));
    const own = from === resolve(this.dir);
    const stagedDigest = (path: string): string | null => {
      try {
        return existsSync(path) ? readCheckpointHeader(path).digest : null;
      } catch {
        return null; // unreadable: it cannot be the file last.ckpt committed to
      }
    };
    // The best checkpoint that `file` records lies beside it: best.ckpt, or, if a kill came between the commit
    // and the rename of a save, the staged file.
    const committed = ck.best !== null && stagedDigest(join(from, basename(this.next))) === ck.best;
    const bestFile = committed ? join(from, basename(this.next)) : join(from, basename(this.best));
    let best: LoadedCheckpoint<M> | null = null;
    if (ck.best !== null) {
      if (!existsSync(bestFile))
        throw new CheckpointError(`${bestFile} is missing, but ${file} records it as the best checkpoint`);
      best = readCheckpoint<M>(bestFile);
      if (best.digest !== ck.best)
        throw new CheckpointError(
          `${bestFile} is not the best checkpoint that ${file} records (it was replaced after it was written)`,
        );
    }
    let bestEpoch = ck.meta.bestEpoch;
    if (ck.best === null && bestEpoch !== null) {
      // Format 1 wrote last.ckpt, then best.ckpt, with no record linking them: a kill between the two left last
      // naming a best epoch whose weights never reached best.ckpt. Adopt the epoch best.ckpt really holds.
      best = existsSync(bestFile) ? readCheckpoint<M>(bestFile) : null;
      const held = best?.meta.bestEpoch ?? null;
      if (held !== bestEpoch) {
        notes.push(
          `${file} names epoch ${bestEpoch} as the best, but ${bestFile} holds ${held === null ? "none" : `epoch ${held}`} (a format-1 save was interrupted): continuing with ${held === null ? "no best epoch" : `epoch ${held}`} as the best`,
        );
        bestEpoch = held;
      }
    }

    // Everything verified: now the directory may change.
    if (own && existsSync(this.next)) {
      if (committed) {
        renameSync(this.next, this.best);
        step(`rename ${basename(this.next)} to ${basename(this.best)}`);
        notes.push(`finished the save of ${this.best} (epoch ${bestEpoch}) that a kill interrupted`);
      } else {
        unlinkSync(this.next);
        notes.push(
          `dropped ${this.next}, the best checkpoint of a save that a kill interrupted before it was committed`,
        );
      }
      fsyncDir(this.dir);
    }
    if (own) this.bestDigest = ck.best;
    // A checkpoint from elsewhere: its best comes along, so this directory's best.ckpt matches the run's record.
    else if (best) this.bestDigest = writeCheckpoint(this.best, best);
    return { ck, bestEpoch, notes };
  }

  /**
   * The header of a new best that last.ckpt has committed to but a kill kept from becoming best.ckpt (the next
   * start puts it in place), or null. Read-only: for `rnnc eval`, which must not finish another process's save.
   */
  pendingBest<M>(): CheckpointHeader<M> | null {
    try {
      if (!existsSync(this.next)) return null;
      const staged = readCheckpointHeader<M>(this.next);
      return staged.digest !== null && readCheckpointHeader(this.last).best === staged.digest ? staged : null;
    } catch {
      return null; // unreadable: the next start reports it
    }
  }

  /** Replace last.ckpt (mid-epoch, on Ctrl-C, or at the end of an epoch that is not the best). */
  saveLast<M>(ck: Checkpoint<M>): void {
    writeCheckpoint(this.last, ck, this.bestDigest);
  }

  /** The end of an epoch that is the new best: last.ckpt and best.ckpt as one commit (see the class comment). */
  saveLastAndBest<M>(last: Checkpoint<M>, best: Checkpoint<M>): void {
    const digest = writeCheckpoint(this.next, best);
    writeCheckpoint(this.last, last, digest);
    this.bestDigest = digest;
    renameSync(this.next, this.best);
    step(`rename ${basename(this.next)} to ${basename(this.best)}`);
    fsyncDir(this.dir);
  }

  /** best.ckpt, verified, and checked to be the one last.ckpt records (the run's reported figures come from it). */
  readBest<M>(): LoadedCheckpoint<M> {
    const ck = readCheckpoint<M>(this.best);
    if (this.bestDigest !== null && ck.digest !== this.bestDigest)
      throw new CheckpointError(
        `${this.best} is not the best checkpoint that ${this.last} records (it was replaced during the run)`,
      );
    return ck;
  }
}
