/**
 * Fixed-length token sequences for the masked LM and the prompts of fine-tuning.
 *   pre-training  [CLS] w₁ … w_{T−2} [SEP] [PAD]…  — each document cut into windows of T − 2 tokens
 *   prompt        [CLS] p₁ … p_m [MASK] : w₁ … [SEP] [PAD]…  — the template first, so [MASK] sits at position m + 1
 *                 whatever the text's length (LM-BFF's "It was [MASK]." put before the sentence)
 *   plain         [CLS] w₁ … [SEP] [PAD]…  — for the linear head on [CLS]
 * Masking follows BERT: 15% of a sequence's real tokens are predicted; of those 80% become [MASK], 10% a random
 * token, 10% stay. Each sequence has M prediction slots; slots beyond its count carry label −1 (ignored by the loss).
 */
import type { Rng } from '../util/rng.js';
import { check } from '../util/errors.js';
import { CLS, MASK, PAD, SEP, SPECIAL_TOKENS, type Tokenizer } from './tokenizer.js';

export interface Sequences {
  /** Token ids [n × T]. */
  ids: Int32Array;
  /** Tokens before the padding, [CLS] and [SEP] included: the attention's key length. */
  lengths: Int32Array;
  n: number;
  T: number;
}

function pack(chunks: readonly (readonly number[])[], T: number): Sequences {
  const n = chunks.length;
  const ids = new Int32Array(n * T).fill(PAD), lengths = new Int32Array(n);
  chunks.forEach((c, i) => {
    check(c.length <= T, 'sequence', `${c.length} tokens do not fit T = ${T}`);
    ids.set(c, i * T);
    lengths[i] = c.length;
  });
  return { ids, lengths, n, T };
}

/** Windows of T − 2 tokens (at most `maxPerDoc` per document, from its start), each wrapped in [CLS] … [SEP]. */
export function pretrainSequences(tok: Tokenizer, texts: readonly string[], T: number, maxPerDoc: number): Sequences {
  const chunks: number[][] = [];
  for (const t of texts) {
    const ids = tok.encode(t);
    for (let s = 0, k = 0; s < ids.length && k < maxPerDoc; s += T - 2, k++) chunks.push([CLS, ...ids.slice(s, s + T - 2), SEP]);
  }
  return pack(chunks, T);
}

/** The prompt template: words before the [MASK], in front of the text. */
export interface Template { words: string; separator: string }

export function promptSequences(tok: Tokenizer, texts: readonly string[], T: number, tpl: Template): { seqs: Sequences; maskPosition: number } {
  const head = [CLS, ...tok.encode(tpl.words), MASK, ...tok.encode(tpl.separator)];
  check(head.length + 1 < T, 'template', `"${tpl.words} [MASK]${tpl.separator}" leaves no room for text in T = ${T} tokens`);
  const seqs = pack(texts.map((t) => [...head, ...tok.encode(t).slice(0, T - head.length - 1), SEP]), T);
  return { seqs, maskPosition: head.indexOf(MASK) };
}

export function plainSequences(tok: Tokenizer, texts: readonly string[], T: number): Sequences {
  return pack(texts.map((t) => [CLS, ...tok.encode(t).slice(0, T - 2), SEP]), T);
}

/** Each label word's token id; a word that is not one token of the vocabulary is refused. */
export function labelWordIds(tok: Tokenizer, labelWords: readonly string[]): number[] {
  return labelWords.map((w) => {
    const ids = tok.encode(w);
    check(ids.length === 1, 'labelWords', `"${w}" is ${ids.length} tokens (${ids.map((i) => tok.token(i)).join(' ')}); choose a word that is one token of the vocabulary`);
    return ids[0]!;
  });
}

export interface MaskedBatch {
  /** Input ids after masking [n × T], as floats (the Embedding layer's input). */
  inputs: Float32Array;
  /** Positions to predict [n × M] (0 in unused slots) and their original ids (−1 in unused slots). */
  positions: Int32Array;
  labels: Int32Array;
}

export const MASK_RATE = 0.15;

/** Masks sequences `rows` of `s` (BERT's 80/10/10 rule) into `M` prediction slots each; draws from `rng` only. */
export function maskBatch(s: Sequences, rows: ArrayLike<number>, M: number, vocab: number, rng: Rng): MaskedBatch {
  const n = rows.length, T = s.T;
  const inputs = new Float32Array(n * T), positions = new Int32Array(n * M), labels = new Int32Array(n * M).fill(-1);
  const candidates: number[] = [];
  for (let i = 0; i < n; i++) {
    const r = rows[i]!, len = s.lengths[r]!;
    for (let t = 0; t < T; t++) inputs[i * T + t] = s.ids[r * T + t]!;
    candidates.length = 0;
    for (let t = 0; t < len; t++) { const id = s.ids[r * T + t]!; if (id >= SPECIAL_TOKENS.length) candidates.push(t); }
    const m = Math.min(M, Math.max(1, Math.round(MASK_RATE * candidates.length)), candidates.length);
    for (let j = 0; j < m; j++) {
      // Partial Fisher–Yates: the first m of a uniform shuffle of the candidates.
      const k = j + rng.int(candidates.length - j);
      const t = candidates[k]!; candidates[k] = candidates[j]!; candidates[j] = t;
      positions[i * M + j] = t;
      labels[i * M + j] = s.ids[r * T + t]!;
      const u = rng.uniform();
      if (u < 0.8) inputs[i * T + t] = MASK;
      else if (u < 0.9) inputs[i * T + t] = SPECIAL_TOKENS.length + rng.int(vocab - SPECIAL_TOKENS.length);
    }
  }
  return { inputs, positions, labels };
}
