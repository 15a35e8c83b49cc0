/**
 * "did you mean …?" for a mistyped flag, command, model or dataset name: the closest known word by edit distance,
 * or one it begins.
 */

/** Levenshtein distance (insertions, deletions, substitutions each cost 1). */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row.push(Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1)));
    }
    prev = row;
  }
  return prev[b.length]!;
}

/**
 * The known word nearest to `typed`: within edit distance 2 and fewer edits than `typed` has characters (the
 * smallest distance wins, the first listed on a tie), else the only known word that `typed` (at least 2 characters)
 * begins. Null when nothing is near.
 */
export function nearest(typed: string, known: readonly string[]): string | null {
  let best: string | null = null;
  let bestDistance = 3;
  for (const k of known) {
    const d = editDistance(typed, k);
    // A 2-letter word is 2 edits from every other 2-letter word: that is no evidence of a typo.
    if (d < bestDistance && d < typed.length) { best = k; bestDistance = d; }
  }
  if (best !== null) return best;
  const begun = typed.length >= 2 ? known.filter((k) => k.startsWith(typed)) : [];
  return begun.length === 1 ? begun[0]! : null;
}

/** `; did you mean "X"?` for the known word nearest to `typed`, or '' when none is near: the tail of an error message. */
export function didYouMean(typed: string, known: readonly string[], quote = '"'): string {
  const near = nearest(typed, known);
  return near === null ? '' : `; did you mean ${quote}${near}${quote}?`;
}
