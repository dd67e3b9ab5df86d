// "Did you mean …?" by optimal-string-alignment distance, the usual choice of compilers (rustc, tsc).

export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 0; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

/**
 * The closest candidate within a third of the word's length (at least 1 edit, at most 3), if any. Between equally
 * close candidates, one with the word's first letter wins (a first letter is rarely mistyped: `tr` is `tar`, not
 * `ar`); then the first given.
 */
export function didYouMean(word: string, candidates: Iterable<string>): string | undefined {
  if (word.length > 64) return undefined;
  const limit = Math.min(3, Math.max(1, Math.floor(word.length / 3)));
  const w = word.toLowerCase();
  let best: string | undefined;
  let bestScore = Infinity;
  for (const c of candidates) {
    const lc = c.toLowerCase();
    const dist = editDistance(w, lc);
    // Twice the distance, plus one for another first letter: the letter only breaks ties.
    const score = 2 * dist + (lc[0] === w[0] ? 0 : 1);
    if (dist <= limit && score < bestScore) [best, bestScore] = [c, score];
  }
  return best;
}
