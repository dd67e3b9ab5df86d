import { existsSync, readdirSync, readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import { DataError } from "../../../runtime/data/data-error.js";
import {
  DATASET_FILES,
  dataRoot,
  ensureDataset,
  ensureFiles,
  verifyFiles,
  type DatasetSpec,
} from "../../../runtime/data/locate.js";
import { refusingUrl, serve, sha256, tempDir } from "./helpers.js";

const temps: Array<() => void> = [];
afterAll(() => temps.forEach((remove) => remove()));
function freshRoot(): string {
  const t = tempDir();
  temps.push(t.remove);
  return t.dir;
}

async function dataError(promise: Promise<unknown>): Promise<DataError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DataError);
  return err as DataError;
}

describe("dataRoot", () => {
  afterEach(() => vi.unstubAllEnvs());

  it("takes the explicit value first, then RNNC_DATA, then the XDG cache, then ~/.cache", () => {
    const env = { RNNC_DATA: "/from/env", XDG_CACHE_HOME: "/xdg" };
    expect(dataRoot("rel/flag", env)).toBe(resolve("rel/flag"));
    expect(dataRoot(undefined, env)).toBe("/from/env");
    expect(dataRoot(undefined, { XDG_CACHE_HOME: "/xdg" })).toBe("/xdg/rnnc/data");
    expect(dataRoot(undefined, {})).toBe(join(homedir(), ".cache", "rnnc", "data"));
  });

  it("treats empty values as unset", () => {
    expect(dataRoot("", { RNNC_DATA: "", XDG_CACHE_HOME: "/xdg" })).toBe("/xdg/rnnc/data");
  });

  it("reads process.env by default", () => {
    vi.stubEnv("RNNC_DATA", "/stubbed/data");
    expect(dataRoot()).toBe("/stubbed/data");
    expect(dataRoot("/flag")).toBe("/flag");
  });
});

describe("DATASET_FILES", () => {
  it("has a folder, a URL and a well-formed checksum for every file", () => {
    const dirs = Object.fromEntries(Object.entries(DATASET_FILES).map(([id, spec]) => [id, spec.dir]));
    expect(dirs).toEqual({ ptb: "ptb", ptb_char: "ptb-char", wikitext2: "wikitext-2", mnist: "mnist", text8: "text8" });
    for (const spec of Object.values(DATASET_FILES)) {
      for (const file of Object.values<{ url: string; sha256: string | null; name: string }>(spec.files)) {
        expect(file.url).toMatch(/^https?:\/\/\S+$/);
        expect(file.url.endsWith(file.name)).toBe(true);
        if (file.sha256 !== null) expect(file.sha256).toMatch(/^[0-9a-f]{64}$/);
      }
    }
    expect(DATASET_FILES.text8.files.corpus.sha256).toBeNull();
  });
});

describe("ensureDataset when files are missing and cannot be fetched", () => {
  it("names the folder, the files, the URLs tried and the fix", async () => {
    const root = freshRoot();
    const mirror = await refusingUrl();
    const err = await dataError(ensureDataset("ptb", root, { mirror }));
    const folder = join(root, "ptb");
    expect(err.message).toContain(folder);
    for (const name of ["ptb.train.txt", "ptb.valid.txt", "ptb.test.txt"]) expect(err.message).toContain(name);
    expect(err.message).toContain(`${mirror}ptb/ptb.train.txt`);
    expect(err.message).toContain(DATASET_FILES.ptb.files.train.url);
    expect(err.message).toMatch(/ECONNREFUSED|fetch failed/);
    expect(err.message).toContain("RNNC_DATA / --data");
    // Nothing is left behind: no partial file, not even the folder made for the download.
    expect(existsSync(folder)).toBe(false);
  });

  it("takes the mirror from RNNC_DATA_MIRROR", async () => {
    const root = freshRoot();
    const mirror = await refusingUrl();
    const err = await dataError(ensureDataset("mnist", root, { env: { RNNC_DATA_MIRROR: mirror } }));
    expect(err.message).toContain(`${mirror}mnist/train-images-idx3-ubyte.gz`);
    expect(err.message).toContain(join(root, "mnist"));
  });

  it("reports an HTTP error status", async () => {
    const root = freshRoot();
    const server = await serve({});
    try {
      const err = await dataError(ensureDataset("wikitext2", root, { mirror: server.url }));
      expect(err.message).toContain("HTTP 404");
      expect(server.hits).toEqual(["/wikitext-2/train.txt"]); // no retry, and no use trying the other files
    } finally {
      await server.close();
    }
  });

  it("gives up on a download that stalls, after the idle timeout", async () => {
    const root = freshRoot();
    const server = await serve({ "/ptb/ptb.train.txt": "stall" });
    try {
      const err = await dataError(ensureDataset("ptb", root, { mirror: server.url, idleTimeoutMs: 300 }));
      expect(err.message).toContain("no data received for 300 ms");
      expect(readdirSync(root)).toEqual([]);
    } finally {
      await server.close();
    }
  });
});

describe("ensureFiles downloads, verifies and renames into place", () => {
  const alpha = new TextEncoder().encode("alpha beta gamma\n".repeat(100));
  const beta = new TextEncoder().encode(" one two \n three \n");
  const spec = (files: Record<string, Uint8Array>): DatasetSpec => ({
    id: "tiny",
    dir: "tiny-set",
    files: Object.fromEntries(
      Object.entries(files).map(([name, bytes]) => [
        name.replace(".txt", ""),
        { name, url: `https://example.invalid/tiny/${name}`, sha256: sha256(bytes), bytes: bytes.length },
      ]),
    ),
  });

  it("fetches the missing files, checks them, and then needs no network", async () => {
    const root = freshRoot();
    const tiny = spec({ "alpha.txt": alpha, "beta.txt": beta });
    const server = await serve({ "/tiny-set/alpha.txt": alpha, "/tiny-set/beta.txt": beta });
    try {
      const paths = await ensureFiles(tiny, root, { mirror: server.url });
      expect(paths).toEqual({ alpha: join(root, "tiny-set", "alpha.txt"), beta: join(root, "tiny-set", "beta.txt") });
      expect(readFileSync(paths["alpha"]!)).toEqual(Buffer.from(alpha));
      expect(readdirSync(join(root, "tiny-set")).sort()).toEqual(["alpha.txt", "beta.txt"]); // no temp files
      expect(server.hits.sort()).toEqual(["/tiny-set/alpha.txt", "/tiny-set/beta.txt"]);
    } finally {
      await server.close();
    }
    // Present files are used as they are: a refusing mirror is never asked.
    expect(await ensureFiles(tiny, root, { mirror: await refusingUrl() })).toHaveProperty("beta");
    expect(await verifyFiles(tiny, root)).toHaveProperty("alpha");
  });

  it("downloads only what is missing", async () => {
    const root = freshRoot();
    mkdirSync(join(root, "tiny-set"));
    writeFileSync(join(root, "tiny-set", "alpha.txt"), alpha);
    const server = await serve({ "/tiny-set/beta.txt": beta });
    try {
      await ensureFiles(spec({ "alpha.txt": alpha, "beta.txt": beta }), root, { mirror: server.url });
      expect(server.hits).toEqual(["/tiny-set/beta.txt"]);
    } finally {
      await server.close();
    }
  });

  it("rejects a download whose SHA-256 differs, naming both sums, and keeps nothing", async () => {
    const root = freshRoot();
    const forged = Uint8Array.from(alpha, (b, i) => (i === 7 ? b ^ 1 : b)); // same size, one bit off
    const server = await serve({ "/tiny-set/alpha.txt": forged });
    try {
      const err = await dataError(ensureFiles(spec({ "alpha.txt": alpha }), root, { mirror: server.url }));
      expect(err.message).toContain(sha256(alpha));
      expect(err.message).toContain(sha256(forged));
      expect(err.message).toContain("alpha.txt");
      expect(existsSync(join(root, "tiny-set", "alpha.txt"))).toBe(false);
      expect(existsSync(join(root, "tiny-set"))).toBe(false);
    } finally {
      await server.close();
    }
  });

  it("rejects a download of the wrong size", async () => {
    const root = freshRoot();
    const server = await serve({ "/tiny-set/beta.txt": beta.subarray(0, 5) });
    try {
      const err = await dataError(ensureFiles(spec({ "beta.txt": beta }), root, { mirror: server.url }));
      expect(err.message).toContain(`has 5 bytes, expected ${beta.length}`);
    } finally {
      await server.close();
    }
  });

  it("refuses a present file of the wrong size, and verifyFiles catches one of the right size but wrong bytes", async () => {
    const root = freshRoot();
    const tiny = spec({ "alpha.txt": alpha, "beta.txt": beta });
    mkdirSync(join(root, "tiny-set"));
    writeFileSync(join(root, "tiny-set", "alpha.txt"), alpha.subarray(0, 10));
    writeFileSync(
      join(root, "tiny-set", "beta.txt"),
      beta.map((b) => (b === 32 ? 95 : b)),
    );
    const truncated = await dataError(ensureFiles(tiny, root, { mirror: await refusingUrl() }));
    expect(truncated.message).toContain(`alpha.txt has 10 bytes, expected ${alpha.length}`);
    const wrong = await dataError(verifyFiles(tiny, root));
    expect(wrong.message).toContain(`beta.txt has SHA-256 `);
    expect(wrong.message).toContain(`expected ${sha256(beta)}`);
    expect(wrong.message).toContain(`alpha.txt has 10 bytes`);
  });
});
