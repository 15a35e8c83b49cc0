/**
 * A byte-pair-encoding tokenizer (Sennrich et al. 2016) with WordPiece's "##" marking of word-continuation pieces,
 * trained on the pre-training part only. Text is lower-cased and cut into words (runs of letters, runs of digits, or
 * one other non-space character); each word starts as its characters — the first as itself, the rest as "##c" — and
 * training merges the most frequent adjacent pair (ties: the smaller pair of ids) until the vocabulary is full.
 * Encoding replays the merges in the order they were learned, so a word seen in training becomes one token exactly
 * when training merged it into one. A word with a character outside the learned alphabet becomes [UNK].
 */
import { check } from '../util/errors.js';

export const SPECIAL_TOKENS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'] as const;
export const PAD = 0, UNK = 1, CLS = 2, SEP = 3, MASK = 4;

/** Words longer than this are cut into pieces of this length first (long URLs and encoded blobs). */
export const MAX_WORD = 24;

export function words(text: string): string[] {
  const out: string[] = [];
  for (const w of text.toLowerCase().match(/[a-z]+|[0-9]+|[^\sa-z0-9]/g) ?? []) {
    for (let i = 0; i < w.length; i += MAX_WORD) out.push(w.slice(i, i + MAX_WORD));
  }
  return out;
}

/** What a trained tokenizer is: its vocabulary (special tokens, then the alphabet, then one token per merge) and merges. */
export interface TokenizerData { vocab: string[]; merges: [number, number][] }

export interface BpeOptions {
  vocabSize: number;
  /** Words seen fewer times than this are left out of training (they are still encoded, piece by piece). */
  minCount: number;
}

const pairKey = (a: number, b: number): number => a * 65536 + b;
const joinPiece = (a: string, b: string): string => a + b.slice(2);

export function trainBpe(texts: Iterable<string>, o: BpeOptions): TokenizerData {
  check(Number.isInteger(o.vocabSize) && o.vocabSize > SPECIAL_TOKENS.length && o.vocabSize < 65536, 'vocabSize', `must be an integer in (${SPECIAL_TOKENS.length}, 65536), got ${o.vocabSize}`);
  const freq = new Map<string, number>();
  for (const t of texts) for (const w of words(t)) freq.set(w, (freq.get(w) ?? 0) + 1);
  const kept = [...freq].filter(([, c]) => c >= o.minCount).sort((a, b) => (a[0] < b[0] ? -1 : 1));
  const alphabet = new Set<string>();
  for (const [w] of kept) for (let i = 0; i < w.length; i++) alphabet.add(i === 0 ? w[i]! : `##${w[i]}`);
  const vocab: string[] = [...SPECIAL_TOKENS, ...[...alphabet].sort()];
  const id = new Map(vocab.map((s, i) => [s, i]));
  const seqs = kept.map(([w]) => Array.from(w, (c, i) => id.get(i === 0 ? c : `##${c}`)!));
  const counts = kept.map(([, c]) => c);
  const pairs = new Map<number, number>();
  const tally = (s: number[], c: number): void => {
    for (let i = 0; i + 1 < s.length; i++) { const k = pairKey(s[i]!, s[i + 1]!); pairs.set(k, (pairs.get(k) ?? 0) + c); }
  };
  seqs.forEach((s, i) => tally(s, counts[i]!));
  const merges: [number, number][] = [];
  while (vocab.length < o.vocabSize) {
    let best = -1, bestCount = 0;
    for (const [k, c] of pairs) if (c > bestCount || (c === bestCount && k < best)) { best = k; bestCount = c; }
    if (best < 0) break;
    const a = Math.floor(best / 65536), b = best % 65536, t = vocab.length;
    vocab.push(joinPiece(vocab[a]!, vocab[b]!));
    merges.push([a, b]);
    for (let j = 0; j < seqs.length; j++) {
      const s = seqs[j]!;
      let has = false;
      for (let i = 0; i + 1 < s.length && !has; i++) has = s[i] === a && s[i + 1] === b;
      if (!has) continue;
      tally(s, -counts[j]!);
      seqs[j] = mergePair(s, a, b, t);
      tally(seqs[j]!, counts[j]!);
    }
    for (const [k, c] of pairs) if (c === 0) pairs.delete(k);
  }
  return { vocab, merges };
}

function mergePair(s: readonly number[], a: number, b: number, t: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    if (i + 1 < s.length && s[i] === a && s[i + 1] === b) { out.push(t); i++; } else out.push(s[i]!);
  }
  return out;
}

export class Tokenizer {
  private readonly ids: Map<string, number>;
  private readonly rank = new Map<number, number>();
  private readonly cache = new Map<string, number[]>();
  constructor(readonly data: TokenizerData) {
    this.ids = new Map(data.vocab.map((s, i) => [s, i]));
    const first = data.vocab.length - data.merges.length;
    data.merges.forEach(([a, b], r) => this.rank.set(pairKey(a, b), first + r));
  }
  get size(): number { return this.data.vocab.length; }
  idOf(token: string): number | undefined { return this.ids.get(token); }
  token(id: number): string { return this.data.vocab[id] ?? '[UNK]'; }

  /** Token ids of one word: its characters, then the learned merges lowest rank first (the order training found them). */
  encodeWord(w: string): number[] {
    const hit = this.cache.get(w);
    if (hit !== undefined) return hit;
    let s: number[] = [];
    for (let i = 0; i < w.length; i++) {
      const t = this.ids.get(i === 0 ? w[i]! : `##${w[i]}`);
      if (t === undefined) { s = [UNK]; break; }
      s.push(t);
    }
    for (;;) {
      let bestRank = Infinity, at = -1;
      for (let i = 0; i + 1 < s.length; i++) {
        const r = this.rank.get(pairKey(s[i]!, s[i + 1]!));
        if (r !== undefined && r < bestRank) { bestRank = r; at = i; }
      }
      if (at < 0) break;
      const [a, b] = this.data.merges[bestRank - (this.size - this.data.merges.length)]!;
      s = mergePair(s, a, b, bestRank);
    }
    if (this.cache.size < 200_000) this.cache.set(w, s);
    return s;
  }

  encode(text: string): number[] {
    const out: number[] = [];
    for (const w of words(text)) for (const t of this.encodeWord(w)) out.push(t);
    return out;
  }
}
