// Fixtures for the data-loader tests: temporary folders, a tiny local HTTP server standing in for a download mirror,
// and a port that refuses connections (the offline case, without depending on the machine's network).
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export function sha256(bytes: Uint8Array | string): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** A fresh temporary folder and a function removing it. */
export function tempDir(): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), "rnnc-data-test-"));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface Mirror {
  readonly url: string;
  /** The paths requested, in order. */
  readonly hits: string[];
  close(): Promise<void>;
}

/**
 * Serves `files` (URL path → bytes) on 127.0.0.1; any other path is a 404, and a path mapped to "stall" sends its
 * headers and then nothing. The server shuts itself after 20 s in case a test forgets to close it.
 */
export async function serve(files: Readonly<Record<string, Uint8Array | "stall">>): Promise<Mirror> {
  const hits: string[] = [];
  const server: Server = createServer((req, res) => {
    const path = req.url ?? "";
    hits.push(path);
    const body = files[path];
    if (body === undefined) {
      res.writeHead(404, "Not Found").end();
    } else if (body === "stall") {
      res.writeHead(200, { "content-length": "1000" });
      res.flushHeaders();
    } else {
      res.writeHead(200, { "content-length": String(body.length) }).end(body);
    }
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const close = (): Promise<void> =>
    new Promise((done) => {
      clearTimeout(guard);
      server.closeAllConnections();
      server.close(() => done());
    });
  const guard = setTimeout(() => void close(), 20_000).unref();
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/`, hits, close };
}

/** A local URL where nothing listens: fetch fails at once with ECONNREFUSED, as offline but faster than DNS. */
export async function refusingUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((done) => server.close(() => done()));
  return `http://127.0.0.1:${port}/`;
}
