/** The email corpus's split, the BPE tokenizer, sequences and masking. */
import test from 'node:test';
import assert from 'node:assert/strict';
import '../helpers.js';
import { emailBody, fnv1a, labelled, partOf, TEXT_TASKS } from '../../src/core/text/corpus.js';
import { CLS, MASK, PAD, SEP, SPECIAL_TOKENS, Tokenizer, UNK, trainBpe, words } from '../../src/core/text/tokenizer.js';
import { labelWordIds, maskBatch, pretrainSequences, promptSequences } from '../../src/core/text/sequences.js';
import { Rng } from '../../src/core/util/rng.js';
import { spamCorpus } from '../../src/node/data/text-corpus.js';

test('emailBody drops the header block, HTML tags and MIME lines', () => {
  const raw = 'From: a@b\nSubject: hi\n\n--BOUNDARY\nContent-Type: text/html\n<p>Hello &amp; <b>welcome</b></p>\n\nbye=\nbye';
  assert.equal(emailBody(raw), 'Hello & welcome byebye');
  assert.equal(emailBody('Subject: only headers'), '');
  // Quoted-printable: =3D is '=', =20 a space, =B1 (a byte of another charset) a space; a base64 line is dropped.
  assert.equal(emailBody(`S: x\n\na=3Db=20c=B1d\n${'QUJD'.repeat(19)}\nend`), 'a=b c d end');
});

test('FNV-1a matches its published test vectors', () => {
  // Test vectors of the FNV reference (Fowler, Noll, Vo): fnv1a32("") = 0x811c9dc5, fnv1a32("a") = 0xe40c292c.
  assert.equal(fnv1a(''), 0x811c9dc5);
  assert.equal(fnv1a('a'), 0xe40c292c);
  assert.equal(partOf(0), 'pretrain');
  assert.equal(partOf(2 ** 32 - 1), 'test');
});

test('the SpamAssassin split: 5,764 distinct bodies in four disjoint parts', () => {
  const { docs, parts } = spamCorpus();
  // 6,046 emails in the package; 282 have an empty body or repeat an earlier one.
  assert.equal(docs.length, 5764);
  assert.deepEqual(Object.fromEntries(Object.entries(parts).map(([k, v]) => [k, v.length])), { pretrain: 2004, train: 2030, valid: 603, test: 1127 });
  const owner = new Map<string, string>();
  for (const [name, part] of Object.entries(parts)) {
    for (const d of part) {
      assert.equal(owner.get(d.body), undefined, `a body is in both ${owner.get(d.body)} and ${name}`);
      owner.set(d.body, name);
    }
  }
  assert.equal(owner.size, docs.length);
  // Enough spam in the train pool for K = 512 per class, and hard ham for the 3-way task at K = 64.
  const spamTrain = labelled(parts.train, TEXT_TASKS.spam).labels.filter((y) => y === 1).length;
  assert.equal(spamTrain, 587);
  assert.equal(labelled(parts.train, TEXT_TASKS.ham3).labels.filter((y) => y === 1).length, 94);
});

test('BPE on a hand-sized corpus learns the merges a hand count gives', () => {
  // words: ab ×3, abc ×1. Alphabet after the 5 specials, sorted: ##b (5), ##c (6), a (7).
  // Pair counts: (a, ##b) = 4, (##b, ##c) = 1 → merge 1 makes "ab" (8); then (ab, ##c) = 1 → merge 2 makes "abc" (9).
  const data = trainBpe(['ab ab ab abc'], { vocabSize: 10, minCount: 1 });
  assert.deepEqual(data.vocab, [...SPECIAL_TOKENS, '##b', '##c', 'a', 'ab', 'abc']);
  assert.deepEqual(data.merges, [[7, 5], [8, 6]]);
  const tok = new Tokenizer(data);
  // "abd": d is outside the alphabet → [UNK]; "cab": c only exists as a continuation piece → [UNK].
  assert.deepEqual(tok.encode('AB abc abd cab'), [8, 9, UNK, UNK]);
  assert.deepEqual(tok.encode('b'), [UNK]);
  assert.deepEqual(words('Hi, 2002!'), ['hi', ',', '2002', '!']);
});

test('pre-training windows, prompts with a fixed [MASK] position, label words', () => {
  const tok = new Tokenizer(trainBpe(['a b c d e f it is'], { vocabSize: 40, minCount: 1 }));
  const s = pretrainSequences(tok, ['a b c d e f', 'a'], 5, 10);
  // "a b c d e f" = 6 tokens → windows of T − 2 = 3: [a b c], [d e f]; "a" → one short window padded.
  assert.equal(s.n, 3);
  assert.deepEqual([...s.lengths], [5, 5, 3]);
  assert.deepEqual([...s.ids.subarray(10, 15)], [CLS, tok.idOf('a')!, SEP, PAD, PAD]);
  const { seqs, maskPosition } = promptSequences(tok, ['a b c d e f'], 8, { words: 'it is', separator: 'f' });
  assert.equal(maskPosition, 3);
  assert.deepEqual([...seqs.ids], [CLS, tok.idOf('it')!, tok.idOf('is')!, MASK, tok.idOf('f')!, tok.idOf('a')!, tok.idOf('b')!, SEP]);
  assert.deepEqual(labelWordIds(tok, ['a', 'b']), [tok.idOf('a'), tok.idOf('b')]);
  assert.throws(() => labelWordIds(tok, ['it is']), /labelWords: "it is" is 2 tokens/);
});

test('masking: 15% of real tokens into M slots, 80/10/10 replacement, unused slots ignored', () => {
  const T = 24, n = 2000;
  const ids = new Int32Array(n * T), lengths = new Int32Array(n).fill(22);
  for (let i = 0; i < n; i++) { ids[i * T] = CLS; for (let t = 1; t < 21; t++) ids[i * T + t] = 10 + t; ids[i * T + 21] = SEP; }
  const rows = Int32Array.from({ length: n }, (_, i) => i);
  const b = maskBatch({ ids, lengths, n, T }, rows, 4, 100, new Rng(3));
  // 20 real tokens → round(0.15·20) = 3 predicted per sequence; slot 4 unused.
  let masked = 0, kept = 0, random = 0;
  for (let i = 0; i < n; i++) {
    assert.equal(b.labels[i * 4 + 3], -1);
    const seen = new Set<number>();
    for (let j = 0; j < 3; j++) {
      const t = b.positions[i * 4 + j]!;
      assert.ok(t >= 1 && t <= 20 && !seen.has(t));
      seen.add(t);
      assert.equal(b.labels[i * 4 + j], 10 + t);
      const v = b.inputs[i * T + t]!;
      if (v === MASK) masked++; else if (v === 10 + t) kept++; else random++;
    }
  }
  // 6,000 draws: binomial SDs are 31 (80%) and 23 (10%); 5 SD bounds. A random token equal to the original counts as kept.
  assert.ok(Math.abs(masked - 4800) < 160, `masked ${masked}`);
  assert.ok(Math.abs(kept - 600 - 600 / 95) < 120, `kept ${kept}`);
  assert.ok(Math.abs(random - 600) < 120, `random ${random}`);
});
