// How an origin comment names a spec file. The base name (`medium.rnn:6`) reads best and is what a module citing
// one file per name gets. Two different files of one base name (examples/merity-2017/medium.rnn extends
// ../zaremba-2014/medium.rnn) would read as one, so those are named by their path from the folder of the spec
// being built (`medium.rnn:6, ../zaremba-2014/medium.rnn:10`): the same text wherever rnnc runs and whatever the
// current folder, and never an absolute path.

const parts = (p: string): string[] => p.split("/").filter((s) => s !== "" && s !== ".");
const baseName = (p: string): string => p.split("/").pop()!;
const dirOf = (p: string): string => (p.includes("/") ? p.slice(0, p.lastIndexOf("/")) : ".");

/**
 * `file` as a path from the folder `from`, when both are given the same way (both relative to the current folder,
 * or both absolute) and `from` does not climb above where `file` is known (`../..` cannot be inverted without the
 * current folder's name); null otherwise.
 */
export function relativeFrom(from: string, file: string): string | null {
  if (from.startsWith("/") !== file.startsWith("/")) return null;
  const a = parts(from);
  const b = parts(file);
  let k = 0;
  while (k < a.length && k < b.length - 1 && a[k] === b[k]) k++;
  const up = a.slice(k);
  if (up.includes("..")) return null;
  return [...up.map(() => ".."), ...b.slice(k)].join("/");
}

/** The shortest trailing parts of each path that tell them all apart (base name plus as many folders as needed). */
function distinctSuffixes(files: readonly string[]): string[] {
  const split = files.map(parts);
  const longest = Math.max(...split.map((s) => s.length));
  for (let n = 1; n < longest; n++) {
    const labels = split.map((s) => s.slice(-n).join("/"));
    if (new Set(labels).size === labels.length) return labels;
  }
  return split.map((s) => s.join("/"));
}

/** The label of each cited file (same order): its base name unless another cited file has the same one. */
export function originLabels(files: readonly string[], specPath: string): string[] {
  const byBase = new Map<string, string[]>();
  for (const f of files) byBase.set(baseName(f), [...(byBase.get(baseName(f)) ?? []), f]);
  const label = new Map<string, string>();
  for (const [base, group] of byBase) {
    if (group.length === 1) {
      label.set(group[0]!, base);
      continue;
    }
    const relative = group.map((f) => relativeFrom(dirOf(specPath), f));
    const named =
      relative.every((r): r is string => r !== null) && new Set(relative).size === group.length
        ? relative
        : distinctSuffixes(group);
    group.forEach((f, k) => label.set(f, named[k]!));
  }
  return files.map((f) => label.get(f)!);
}
