/**
 * Masked-LM pre-training of the mlm transformer on the corpus's unlabelled part (BERT's objective: 15% of tokens,
 * 80/10/10), with SGDM in PyTorch's form under a linear warm-up and linear decay. The tokenizer is trained first, on
 * the same part only. The result — tokenizer, weights, the held-out curve — is cached in one checkpoint named by a
 * hash of everything that determines it, so a second run (or the paper suite after `text`) reuses it.
 *
 * Held-out text: the first window of each document of the validation part (never pre-trained on), masked once with a
 * fixed seed. The unigram baseline predicts every masked token from the pre-training part's token frequencies
 * (add-one smoothed): the loss a model that ignores context cannot beat. The decoder's bias starts there.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Backend } from '../../core/engine/backend.js';
import { tokenCrossEntropy } from '../../core/engine/loss.js';
import { TextNet, type MlmSpec } from '../../core/nn/families/mlm.js';
import { initOptimizer, optimizerConfig, optimizerStep } from '../../core/optim/index.js';
import { fnv1a, type CorpusParts } from '../../core/text/corpus.js';
import { maskBatch, pretrainSequences, type MaskedBatch, type Sequences } from '../../core/text/sequences.js';
import { SPECIAL_TOKENS, Tokenizer, trainBpe, type TokenizerData } from '../../core/text/tokenizer.js';
import { UserError } from '../../core/util/errors.js';
import { Rng } from '../../core/util/rng.js';
import { canonicalJson } from '../config.js';
import { loadCheckpoint, saveCheckpoint } from '../checkpoint.js';
import type { TextPlan } from './plan.js';

export interface PretrainReport {
  /** Held-out MLM loss (nats per masked token) of the final weights, and of the unigram baseline. */
  mlmLoss: number;
  unigramLoss: number;
  steps: number;
  /** Held-out loss along training: step 0 (initial weights), every evalEvery steps, and the last. */
  curve: { step: number; loss: number }[];
  trainSequences: number;
  heldOutTokens: number;
  vocab: number;
  parameters: number;
  seconds: number;
}

export interface Pretrained { tokenizer: Tokenizer; spec: MlmSpec; params: Float32Array; report: PretrainReport; checkpoint: string; cached: boolean }

export function mlmSpec(plan: TextPlan, vocab: number, over: Partial<MlmSpec> = {}): MlmSpec {
  return { kind: 'mlm', vocab, ...plan.model, slots: plan.pretrain.slots, head: 'mlm', labelWords: null, ...over };
}

/** Mean loss per counted token of `net` on a fixed masked set, evaluated in batches. */
export function heldOutLoss(net: TextNet, s: Sequences, mb: MaskedBatch, slots: number, batch: number): number {
  const T = s.T, V = net.width;
  let sum = 0, count = 0;
  net.setup(Math.max(batch, 1));
  for (let i = 0; i < s.n; i += batch) {
    const n = Math.min(batch, s.n - i);
    const logits = net.forward(mb.inputs.subarray(i * T, (i + n) * T), s.lengths.subarray(i, i + n), mb.positions.subarray(i * slots, (i + n) * slots), n, false);
    const r = tokenCrossEntropy(logits, mb.labels.subarray(i * slots, (i + n) * slots), n * slots, V, null);
    sum += r.loss * r.count;
    count += r.count;
  }
  return sum / count;
}

/** log p(token) of the add-one-smoothed unigram model of the pre-training windows (special tokens count 0 + 1 too). */
function unigramLogProbs(train: Sequences, V: number): Float64Array {
  const counts = new Float64Array(V).fill(1);
  for (let i = 0; i < train.n; i++) for (let t = 0; t < train.lengths[i]!; t++) { const id = train.ids[i * train.T + t]!; if (id >= SPECIAL_TOKENS.length) counts[id]++; }
  let total = 0;
  for (const c of counts) total += c;
  return counts.map((c) => Math.log(c / total));
}

function unigramLoss(logp: Float64Array, labels: Int32Array): number {
  let sum = 0, n = 0;
  for (const y of labels) if (y >= 0) { sum -= logp[y]!; n++; }
  return sum / n;
}

export interface PretrainOptions { cacheDir: string; backend: Backend; log: (line: string) => void }

export function pretrainMlm(plan: TextPlan, parts: CorpusParts, o: PretrainOptions): Pretrained {
  const key = fnv1a(canonicalJson({ tokenizer: plan.tokenizer, model: plan.model, pretrain: plan.pretrain, corpus: parts.pretrain.length })).toString(16).padStart(8, '0');
  mkdirSync(o.cacheDir, { recursive: true });
  const file = join(o.cacheDir, `text-mlm-${key}.ckpt`);
  if (existsSync(file)) {
    const ck = loadCheckpoint(file);
    const meta = ck.meta as { tokenizer: TokenizerData; spec: MlmSpec; report: PretrainReport };
    const params = ck.buffers.params;
    if (!(params instanceof Float32Array)) throw new UserError(`${file}: no float32 parameters; delete it to pre-train again`);
    o.log(`      pre-trained masked LM reused from ${file}`);
    return { tokenizer: new Tokenizer(meta.tokenizer), spec: meta.spec, params, report: meta.report, checkpoint: file, cached: true };
  }
  const t0 = performance.now();
  const p = plan.pretrain, T = plan.model.seqLen;
  const texts = parts.pretrain.map((d) => d.body);
  const tokData = trainBpe(texts, plan.tokenizer);
  const tok = new Tokenizer(tokData);
  const V = tok.size;
  const train = pretrainSequences(tok, texts, T, p.maxPerDoc);
  const held = pretrainSequences(tok, parts.valid.map((d) => d.body), T, 1);
  const heldMask = maskBatch(held, Int32Array.from({ length: held.n }, (_, i) => i), p.slots, V, new Rng(7919));
  const logp = unigramLogProbs(train, V);
  const unigram = unigramLoss(logp, heldMask.labels);
  const spec = mlmSpec(plan, V);
  // The decoder's bias starts at the unigram log-probabilities, so training starts from the baseline and spends its
  // steps on context (the output-bias initialisation of Karpathy's "A Recipe for Training Neural Networks").
  const net = new TextNet(spec, V, p.seed, o.backend, (store) => store.initFrom(store.byName('mlm.decoder.bias'), logp));
  o.log(`      tokenizer: BPE, ${V} tokens, on ${texts.length} pre-training documents → ${train.n} windows of ${T}; model ${net.store.size.toLocaleString('en-US')} parameters`);
  const cfg = optimizerConfig({ form: 'pytorch', lr: p.lr, momentum: p.momentum });
  const state = initOptimizer(cfg, net.store.size, o.backend.precision);
  const rng = new Rng(p.seed + 1);
  let order = rng.permutation(train.n), at = 0;
  const dlogits = o.backend.alloc(p.batch * p.slots * V);
  const rows = new Int32Array(p.batch), lengths = new Int32Array(p.batch);
  const curve: { step: number; loss: number }[] = [];
  const evaluate = (step: number): void => {
    const loss = heldOutLoss(net, held, heldMask, p.slots, 64);
    curve.push({ step, loss });
    o.log(`      step ${step}/${p.steps}: held-out MLM loss ${loss.toFixed(3)} (unigram ${unigram.toFixed(3)}) — ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  };
  evaluate(0);
  const warm = Math.max(1, Math.round(p.warmup * p.steps));
  for (let k = 0; k < p.steps; k++) {
    for (let i = 0; i < p.batch; i++) {
      if (at === train.n) { order = rng.permutation(train.n); at = 0; }
      rows[i] = order[at++]!;
      lengths[i] = train.lengths[rows[i]!]!;
    }
    const mb = maskBatch(train, rows, p.slots, V, rng);
    net.setup(p.batch);
    net.store.zeroGrad();
    const logits = net.forward(mb.inputs, lengths, mb.positions, p.batch, true);
    const { loss } = tokenCrossEntropy(logits, mb.labels, p.batch * p.slots, V, dlogits);
    if (!Number.isFinite(loss)) throw new UserError(`masked-LM pre-training diverged at step ${k} (loss ${loss}); lower pretrain.lr`);
    net.backward(dlogits, p.batch);
    // Linear warm-up to γ over `warm` steps, then linear decay to 0 at the last step.
    const scale = k < warm ? (k + 1) / warm : (p.steps - k) / (p.steps - warm);
    optimizerStep(cfg, net.store.params, net.store.grads, state, scale);
    if ((k + 1) % p.evalEvery === 0 || k + 1 === p.steps) evaluate(k + 1);
  }
  const params = Float32Array.from(net.store.params);
  const report: PretrainReport = {
    mlmLoss: curve[curve.length - 1]!.loss, unigramLoss: unigram, steps: p.steps, curve, trainSequences: train.n,
    heldOutTokens: heldMask.labels.filter((y) => y >= 0).length, vocab: V, parameters: net.store.size, seconds: (performance.now() - t0) / 1000,
  };
  saveCheckpoint(file, { signature: `mlm:${key}`, buffers: { params }, meta: { tokenizer: tokData, spec, report } });
  return { tokenizer: tok, spec, params, report, checkpoint: file, cached: false };
}
