// The spec files of the repository, found at test time.
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";

export function specFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...specFiles(p));
    else if (name.endsWith(".rnn")) out.push(p);
  }
  return out;
}
