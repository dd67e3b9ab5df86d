// The compiler's only window on the world. The CLI gives it a file-system host; tests give it a map.

export type ReadResult =
  | { readonly ok: true; readonly text: string }
  | {
      readonly ok: false;
      readonly reason: string;
      readonly kind: "missing" | "unreadable" | "invalid-utf8";
      /** invalid-utf8: the first bad byte, and the text decoded leniently so the error can be shown in place. */
      readonly byteOffset?: number;
      readonly charOffset?: number;
      readonly lenientText?: string;
    };

export interface CompilerHost {
  readFile(path: string): ReadResult;
  /** The path of `relative` as seen from the file `from` (POSIX-style, normalized). */
  resolve(from: string, relative: string): string;
}

/** Normalizes a POSIX path: folds `.` and `..`, keeps it relative when it was. */
export function normalizePath(p: string): string {
  const abs = p.startsWith("/");
  const out: string[] = [];
  for (const part of p.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === ".." && out.length > 0 && out[out.length - 1] !== "..") out.pop();
    else if (part === ".." && abs) continue;
    else out.push(part);
  }
  return (abs ? "/" : "") + out.join("/") || (abs ? "/" : ".");
}

export function dirname(p: string): string {
  const i = p.lastIndexOf("/");
  return i < 0 ? "." : i === 0 ? "/" : p.slice(0, i);
}

export function resolveRelative(from: string, relative: string): string {
  return relative.startsWith("/") ? normalizePath(relative) : normalizePath(`${dirname(from)}/${relative}`);
}

/** An in-memory host: for tests, the property suite and the benchmark. */
export function memoryHost(files: Readonly<Record<string, string>>): CompilerHost {
  return {
    readFile: (path) =>
      path in files ? { ok: true, text: files[path]! } : { ok: false, kind: "missing", reason: "no such file" },
    resolve: resolveRelative,
  };
}
