/** Prompt fine-tuning's pieces on a tiny model, and the fine-tuning-text claim's verdicts on made-up numbers. */
import test from 'node:test';
import assert from 'node:assert/strict';
import '../helpers.js';
import { float32Backend } from '../../src/core/engine/backend.js';
import { TextNet } from '../../src/core/nn/families/mlm.js';
import type { CorpusParts, EmailDoc, EmailGroup } from '../../src/core/text/corpus.js';
import { TEXT_TASKS } from '../../src/core/text/corpus.js';
import { Tokenizer, trainBpe } from '../../src/core/text/tokenizer.js';
import { textFineTuneClaim } from '../../src/experiments/paper/claims.js';
import { encodeTask, fewShot, fineTuneRun, variantNet } from '../../src/experiments/text/finetune.js';
import type { Pretrained } from '../../src/experiments/text/pretrain.js';

const words = ['free', 'money', 'click', 'now', 'meeting', 'lunch', 'patch', 'kernel', 'ham', 'spam', 'this', 'message', 'is', ':'];
function docs(n: number, salt: string): EmailDoc[] {
  return Array.from({ length: n }, (_, i) => {
    const spam = i % 2 === 1;
    const group: EmailGroup = spam ? 'spam-1' : 'easy-ham-1';
    const body = `${spam ? 'free money click now' : 'meeting lunch patch kernel'} ${salt} ${i}`;
    return { body, group, hash: i };
  });
}
const parts: CorpusParts = { pretrain: docs(20, 'p'), train: docs(40, 't'), valid: docs(20, 'v'), test: docs(20, 'x') };
const tok = new Tokenizer(trainBpe([words.join(' '), '0 1 2 3 4 5 6 7 8 9', 'p t v x'], { vocabSize: 150, minCount: 1 }));
const spec = { kind: 'mlm' as const, vocab: tok.size, seqLen: 16, dim: 8, heads: 2, layers: 1, slots: 2, head: 'mlm' as const, labelWords: null };
const pre: Pretrained = {
  tokenizer: tok, spec, params: Float32Array.from(new TextNet(spec, tok.size, 3, float32Backend()).store.params), checkpoint: '', cached: true,
  report: { mlmLoss: 0, unigramLoss: 0, steps: 0, curve: [], trainSequences: 0, heldOutTokens: 0, vocab: tok.size, parameters: 0, seconds: 0 },
};
const data = encodeTask(pre, parts, TEXT_TASKS.spam, 16);

test('the prompt puts [MASK] at position 4 and the label words are single tokens', () => {
  // [CLS] this message is [MASK] : …  → the mask is the 5th token.
  assert.equal(data.prompt.train.position, 4);
  assert.deepEqual(data.labelWords, [tok.idOf('ham'), tok.idOf('spam')]);
  assert.equal(data.majority, 0.5);
});

test('pre-trained weights are copied by name: all of them into the prompt model, the encoder into the linear-head model', () => {
  const prompt = variantNet(pre, data, 'prompt', 0, float32Backend());
  assert.deepEqual(prompt.store.params, pre.params);
  const linear = variantNet(pre, data, 'linear-head', 0, float32Backend());
  const lnf = linear.store.byName('ln_f.bias');
  assert.deepEqual(linear.store.params.subarray(0, lnf.offset + lnf.size), pre.params.subarray(0, lnf.offset + lnf.size));
  assert.equal(linear.store.byName('cls.head.weight').size, 2 * 8);
  const random = variantNet(pre, data, 'random-init', 0, float32Backend());
  assert.notDeepEqual(random.store.params, pre.params);
});

test('one data seed gives SGD and SGDM the same K-shot sample; validation is drawn from the validation part', () => {
  const a = fewShot(data, 'prompt', 4, 13, 2), b = fewShot(data, 'prompt', 4, 13, 2);
  assert.deepEqual(a.train.seqs.ids, b.train.seqs.ids);
  assert.equal(a.train.seqs.n, 8);
  assert.equal(a.valid.seqs.n, 4);
  assert.deepEqual([...a.train.labels].sort(), [0, 0, 0, 0, 1, 1, 1, 1]);
  const r1 = fineTuneRun(pre, data, { variant: 'prompt', optimizer: 'sgdm', eta: 0.1, k: 4, seed: 13 }, { steps: 3, batch: 4, momentum: 0.9, maxValidationShot: 2 }, float32Backend());
  const r2 = fineTuneRun(pre, data, { variant: 'prompt', optimizer: 'sgdm', eta: 0.1, k: 4, seed: 13 }, { steps: 3, batch: 4, momentum: 0.9, maxValidationShot: 2 }, float32Backend());
  assert.deepEqual(r1.params, r2.params, 'a run is a function of its spec');
  assert.ok(!r1.diverged && r1.validAccuracy >= 0 && r1.validAccuracy <= 1);
});

const paired = (sgd: number[], sgdm: number[]): { seeds: number[]; sgd: number[]; sgdm: number[] } => ({ seeds: sgd.map((_, i) => i), sgd, sgdm });
const pretraining = { mlmLoss: 5, unigramLoss: 6, steps: 100 };
const tasks = [{ task: 'spam', majority: 0.7 }];
const controls = [{ task: 'spam', variant: 'random-init', k: 16, accuracies: [0.7, 0.7, 0.7] }];

test('fine-tuning-text: equivalent at every K after a pre-training that matters → supported', () => {
  // SGDM − SGD = +0.001 ± 0.001 across seeds: the 90% CI sits well inside ±1 pp.
  const rows = [{ task: 'spam', k: 16, runs: paired([0.900, 0.910, 0.920, 0.905, 0.915], [0.901, 0.912, 0.920, 0.906, 0.916]) }];
  const c = textFineTuneClaim(rows, controls, tasks, pretraining, 0.01);
  assert.equal(c.id, 'fine-tuning-text');
  assert.deepEqual(c.pretraining, pretraining);
  assert.equal(c.verdict, 'supported', c.reason);
});

test('fine-tuning-text: inconclusive when pre-training does not beat unigram or random initialisation', () => {
  const rows = [{ task: 'spam', k: 16, runs: paired([0.900, 0.910, 0.920, 0.905, 0.915], [0.901, 0.912, 0.920, 0.906, 0.916]) }];
  const worse = textFineTuneClaim(rows, controls, tasks, { mlmLoss: 6.5, unigramLoss: 6, steps: 100 }, 0.01);
  assert.equal(worse.verdict, 'inconclusive');
  assert.match(worse.reason, /not below the unigram/);
  // Random initialisation at 0.90 is within 2 pp of the prompt model's 0.911.
  const close = textFineTuneClaim(rows, [{ task: 'spam', variant: 'random-init', k: 16, accuracies: [0.9, 0.9, 0.9] }], tasks, pretraining, 0.01);
  assert.equal(close.verdict, 'inconclusive');
  assert.match(close.reason, /above random initialisation/);
});

test('fine-tuning-text: a clear SGDM advantage → not supported', () => {
  const rows = [{ task: 'spam', k: 16, runs: paired([0.80, 0.81, 0.82, 0.80, 0.81], [0.90, 0.92, 0.91, 0.90, 0.93]) }];
  assert.equal(textFineTuneClaim(rows, controls, tasks, pretraining, 0.01).verdict, 'not supported');
});
