// Fetching one data file: stream it to a temporary file in the target folder while hashing it, check its size and
// SHA-256, and only then rename it into place. The rename is atomic within a folder, so a reader (or a second
// process downloading the same file) never sees a partial file under the real name, and a failed or interrupted
// download leaves nothing behind that a later run would take for the data set.
import { createHash, randomBytes } from "node:crypto";
import { open, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import type { FileSpec } from "./dataset-files.js";

/** A download that did not produce the expected file; `message` is the reason alone, the caller adds the context. */
export class DownloadFailure extends Error {
  override readonly name = "DownloadFailure";
}

/**
 * Aborts when no bytes arrive for this long. It is an idle limit, not a total one: a dead network fails fast, while
 * a slow but steady download of a 10 MB file is not cut off. There is no retry: a second try rarely helps, and the
 * error tells the user how to provide the files.
 */
export const DEFAULT_IDLE_TIMEOUT_MS = 30_000;

/** Downloads `file` from `url` into `folder` under its name, or throws; returns the final path. */
export async function downloadVerified(
  url: string,
  folder: string,
  file: FileSpec,
  idleTimeoutMs = DEFAULT_IDLE_TIMEOUT_MS,
): Promise<string> {
  const target = join(folder, file.name);
  const temp = join(folder, `.${file.name}.${process.pid}.${randomBytes(4).toString("hex")}.part`);
  const controller = new AbortController();
  const limit = idleTimeoutMs < 1000 ? `${idleTimeoutMs} ms` : `${Math.round(idleTimeoutMs / 1000)} s`;
  const idle = new Error(`no data received for ${limit}`);
  let timer = setTimeout(() => controller.abort(idle), idleTimeoutMs);
  const touch = (): void => {
    clearTimeout(timer);
    timer = setTimeout(() => controller.abort(idle), idleTimeoutMs);
  };
  let renamed = false;
  try {
    let response: Response;
    try {
      response = await fetch(url, { signal: controller.signal, redirect: "follow" });
    } catch (err) {
      throw new DownloadFailure(describeFetchError(err, controller.signal));
    }
    if (!response.ok || response.body === null) {
      // Release the connection now rather than when the unread body is collected.
      await response.body?.cancel().catch(() => undefined);
      throw new DownloadFailure(
        `the server answered HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ""}`,
      );
    }
    const hash = createHash("sha256");
    let bytes = 0;
    const handle = await open(temp, "wx");
    try {
      const reader = response.body.getReader();
      for (;;) {
        let chunk: ReadableStreamReadResult<Uint8Array>;
        try {
          chunk = await reader.read();
        } catch (err) {
          throw new DownloadFailure(
            `the transfer broke off after ${bytes} bytes: ${describeFetchError(err, controller.signal)}`,
          );
        }
        if (chunk.done) break;
        touch();
        hash.update(chunk.value);
        bytes += chunk.value.byteLength;
        await handle.write(chunk.value);
      }
    } finally {
      await handle.close();
    }
    const sha256 = hash.digest("hex");
    if (file.bytes !== null && bytes !== file.bytes) {
      const expected = file.sha256 ?? "not recorded";
      throw new DownloadFailure(
        `the download has ${bytes} bytes, expected ${file.bytes} (SHA-256 ${sha256}, expected ${expected})`,
      );
    }
    if (file.sha256 !== null && sha256 !== file.sha256) {
      throw new DownloadFailure(
        `checksum mismatch: the downloaded bytes have SHA-256 ${sha256}, expected ${file.sha256}`,
      );
    }
    await rename(temp, target);
    renamed = true;
    return target;
  } finally {
    clearTimeout(timer);
    if (!renamed) await rm(temp, { force: true });
  }
}

/** undici reports every network error as "fetch failed" and puts the useful part (ECONNREFUSED, ENOTFOUND…) in `cause`. */
function describeFetchError(err: unknown, signal: AbortSignal): string {
  if (signal.aborted && signal.reason instanceof Error) return signal.reason.message;
  if (!(err instanceof Error)) return String(err);
  const cause: unknown = err.cause;
  if (cause instanceof Error) {
    const code = (cause as { code?: unknown }).code;
    const detail = cause.message || (typeof code === "string" ? code : "");
    if (detail) return `${err.message} (${detail})`;
  }
  return err.message;
}
