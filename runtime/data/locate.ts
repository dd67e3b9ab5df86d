// Where the data sets live and how a missing one gets there.
//
// The data root is one folder holding one sub-folder per data set (dataset-files.ts names each one). A run checks only that
// the files are present with the right size: hashing ~40 MB on every start would cost more than loading them. The
// SHA-256 is checked right after a download, which is the moment bytes come from somewhere untrusted, and on demand
// through verifyDataset (tests, a `--verify` style command).
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, rmdir, stat } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { DataError } from "./data-error.js";
import { DATASET_FILES, type DatasetId, type DatasetSpec, type FileSpec, type SplitOf } from "./dataset-files.js";
import { DEFAULT_IDLE_TIMEOUT_MS, downloadVerified } from "./download.js";

export { DATASET_FILES, type DatasetId, type DatasetSpec, type FileSpec, type SplitOf } from "./dataset-files.js";

type Env = Readonly<Record<string, string | undefined>>;

const FIX = "To fix: put the files there, or point RNNC_DATA / --data at a folder that has them.";

/**
 * The data root: the explicit `--data` value, else `RNNC_DATA`, else a per-user cache folder
 * (`$XDG_CACHE_HOME/rnnc/data`, or `~/.cache/rnnc/data` when XDG_CACHE_HOME is unset), where downloads land.
 * Empty values count as unset, so `RNNC_DATA= rnnc …` falls back rather than meaning the current folder.
 */
export function dataRoot(explicit?: string, env: Env = process.env): string {
  if (explicit) return resolve(explicit);
  const fromEnv = env["RNNC_DATA"];
  if (fromEnv) return resolve(fromEnv);
  const cache = env["XDG_CACHE_HOME"] || join(homedir(), ".cache");
  return resolve(cache, "rnnc", "data");
}

export interface EnsureOptions {
  /**
   * A base URL laid out like the data root (`<mirror>/<folder>/<file>`) to download from instead of the canonical
   * URLs. Defaults to the RNNC_DATA_MIRROR environment variable: an internal mirror, or in tests a local server, or a
   * local port nothing listens on, which fails at once: the no-network error without waiting on DNS or a timeout.
   */
  readonly mirror?: string;
  /** How long a download may go without receiving a byte. */
  readonly idleTimeoutMs?: number;
  readonly env?: Env;
}

/**
 * The paths of a named data set's files, downloading the missing ones. Throws a DataError that says which folder and
 * files were expected, what was tried and how to fix it when the files are not there and cannot be fetched.
 */
export async function ensureDataset<Id extends DatasetId>(
  id: Id,
  root: string,
  opts: EnsureOptions = {},
): Promise<Record<SplitOf<Id>, string>> {
  return (await ensureFiles(DATASET_FILES[id], root, opts)) as Record<SplitOf<Id>, string>;
}

/** ensureDataset for any table entry: tests pass small specs whose files a local server serves. */
export async function ensureFiles(
  spec: DatasetSpec,
  root: string,
  opts: EnsureOptions = {},
): Promise<Record<string, string>> {
  const folder = resolve(root, spec.dir);
  const found = await findFiles(spec, folder);
  const wrongSize = found.filter(
    (f) => f.size !== null && f.path === join(folder, f.file.name) && f.file.bytes !== null && f.size !== f.file.bytes,
  );
  if (wrongSize.length > 0) {
    const lines = wrongSize.map((f) => `  ${f.file.name} has ${f.size} bytes, expected ${f.file.bytes}`);
    throw new DataError(
      `Data set "${spec.id}" in ${folder} has files of the wrong size (truncated, or another version):\n${lines.join("\n")}\n` +
        `Remove them to download them again, or replace them with the right files. ${FIX}`,
    );
  }
  const missing = found.filter((f) => f.size === null);
  if (missing.length > 0) {
    const env = opts.env ?? process.env;
    const mirror = opts.mirror ?? (env["RNNC_DATA_MIRROR"] || undefined);
    let created: string | undefined;
    try {
      created = await makeFolder(folder);
    } catch (err) {
      const why = `Cannot create ${folder} to download into: ${(err as Error).message}`;
      throw new DataError(`${missingReport(spec, folder, found)}${why}\n${FIX}`, { cause: err });
    }
    for (const f of missing) {
      const url = mirror === undefined ? f.file.url : mirrorUrl(mirror, spec.dir, f.file.name);
      try {
        f.path = await downloadVerified(url, folder, f.file, opts.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS);
        f.size = (await stat(f.path)).size;
      } catch (err) {
        // A DownloadFailure's message is the reason alone; other errors (a full disk, no write permission) are
        // reported the same way, with their own message, rather than escaping as a stack trace.
        const reason = err instanceof Error ? err.message : String(err);
        // A folder made for this download and still empty would only suggest that the data set is half there.
        if (created !== undefined) await rmdir(folder).catch(() => undefined);
        const via = url === f.file.url ? url : `${url} (mirror of ${f.file.url})`;
        throw new DataError(
          `${missingReport(spec, folder, found)}Downloading ${f.file.name} from ${via} failed: ${reason}.\n` +
            `No partial file was kept. ${FIX}`,
          { cause: err },
        );
      }
    }
  }
  return Object.fromEntries(found.map((f) => [f.split, f.path]));
}

/**
 * `mkdir -p`, one level at a time; returns the first folder it made, as `mkdir(…, { recursive: true })` does. Node's
 * recursive mkdir loops forever where a folder exists but refuses children with ENOENT (/proc: it makes the parent,
 * gets EEXIST, retries the child): `--data /proc/x` hung. Here that ENOENT is an error.
 */
async function makeFolder(folder: string): Promise<string | undefined> {
  const missing: string[] = [];
  for (let p = folder; ; p = dirname(p)) {
    const there = await stat(p).then(
      () => true,
      (e: NodeJS.ErrnoException) => (e.code === "ENOENT" ? false : Promise.reject(e)),
    );
    if (there || dirname(p) === p) break;
    missing.unshift(p);
  }
  for (const p of missing)
    await mkdir(p).catch((e: NodeJS.ErrnoException) => (e.code === "EEXIST" ? undefined : Promise.reject(e)));
  return missing[0];
}

/**
 * Hashes every file of a named data set and checks it against the table; returns the paths, or throws a DataError
 * listing every missing file and every mismatch. Files without a recorded SHA-256 (text8) are checked by size only.
 */
export async function verifyDataset<Id extends DatasetId>(id: Id, root: string): Promise<Record<SplitOf<Id>, string>> {
  return (await verifyFiles(DATASET_FILES[id], root)) as Record<SplitOf<Id>, string>;
}

export async function verifyFiles(spec: DatasetSpec, root: string): Promise<Record<string, string>> {
  const folder = resolve(root, spec.dir);
  const found = await findFiles(spec, folder);
  const problems: string[] = [];
  for (const f of found) {
    if (f.size === null) {
      problems.push(`  ${f.file.name} is missing (${f.file.url})`);
      continue;
    }
    // An alternative (the unzipped text8) is another content than the recorded file: nothing to compare it with.
    if (f.path !== join(folder, f.file.name)) continue;
    if (f.file.bytes !== null && f.size !== f.file.bytes) {
      problems.push(`  ${f.file.name} has ${f.size} bytes, expected ${f.file.bytes}`);
    } else if (f.file.sha256 !== null) {
      const actual = await sha256File(f.path);
      if (actual !== f.file.sha256) problems.push(`  ${f.file.name} has SHA-256 ${actual}, expected ${f.file.sha256}`);
    }
  }
  if (problems.length > 0) {
    throw new DataError(`Data set "${spec.id}" in ${folder} does not verify:\n${problems.join("\n")}\n${FIX}`);
  }
  return Object.fromEntries(found.map((f) => [f.split, f.path]));
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

interface Found {
  readonly split: string;
  readonly file: FileSpec;
  /** The file in use: the recorded name, or the first alternative present. */
  path: string;
  /** null when neither the file nor an alternative is present. */
  size: number | null;
}

async function findFiles(spec: DatasetSpec, folder: string): Promise<Found[]> {
  const found: Found[] = [];
  for (const [split, file] of Object.entries(spec.files)) {
    let hit: Found = { split, file, path: join(folder, file.name), size: null };
    for (const name of [file.name, ...(file.alternatives ?? [])]) {
      const size = await fileSize(join(folder, name));
      if (size !== null) {
        hit = { split, file, path: join(folder, name), size };
        break;
      }
    }
    found.push(hit);
  }
  return found;
}

async function fileSize(path: string): Promise<number | null> {
  try {
    const s = await stat(path);
    return s.isFile() ? s.size : null;
  } catch {
    return null;
  }
}

function mirrorUrl(mirror: string, dir: string, name: string): string {
  const base = mirror.endsWith("/") ? mirror : `${mirror}/`;
  return new URL(`${encodeURIComponent(dir)}/${encodeURIComponent(name)}`, base).href;
}

function missingReport(spec: DatasetSpec, folder: string, found: readonly Found[]): string {
  const width = Math.max(...found.map((f) => displayName(f.file).length));
  const lines = found.map((f) => {
    const name = displayName(f.file).padEnd(width);
    return f.size === null ? `  ${name}  missing  (${f.file.url})` : `  ${name}  present`;
  });
  return `Data set "${spec.id}" is not complete. Expected folder: ${folder}\n${lines.join("\n")}\n`;
}

function displayName(file: FileSpec): string {
  return file.alternatives?.length ? `${file.name} (or ${file.alternatives.join(", ")})` : file.name;
}
