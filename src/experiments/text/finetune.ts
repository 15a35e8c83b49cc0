/**
 * K-shot fine-tuning of the pre-trained masked LM, as LM-BFF / MeZO do it: the email goes into a template with a
 * [MASK] ("[CLS] this message is [MASK] : <email> [SEP]"), each class has a label word, and the class logits are the
 * tied head's logits of the label words at the mask; every parameter is trained. Two controls: the same prompt model
 * from random initialisation, and the pre-trained encoder with a new linear head on [CLS] (no prompt).
 *
 * One run: K examples per class drawn with the data seed from the train part, minibatches in an order drawn from
 * the same seed (so SGD and SGDM at one seed see the same data in the same order from the same start), a fixed number
 * of steps at a constant lr. Accuracy on a K-shot validation sample (drawn with the same seed from the validation
 * part) chooses the lr; the test part scores only the chosen run.
 */
import { float32Backend, type Backend, type Buf } from '../../core/engine/backend.js';
import { countCorrect, softmaxCrossEntropy } from '../../core/engine/loss.js';
import { kShotIndices } from '../../core/data/splits.js';
import { TextNet, type MlmSpec } from '../../core/nn/families/mlm.js';
import { initOptimizer, optimizerConfig, optimizerStep } from '../../core/optim/index.js';
import { labelled, type CorpusParts, type TextTask } from '../../core/text/corpus.js';
import { labelWordIds, plainSequences, promptSequences, type Sequences, type Template } from '../../core/text/sequences.js';
import { Rng } from '../../core/util/rng.js';
import type { Pretrained } from './pretrain.js';

export const TEMPLATE: Template = { words: 'this message is', separator: ':' };
/** Label words per task (one token each in the trained vocabulary; labelWordIds refuses any other). */
export const LABEL_WORDS: Record<string, string[]> = { spam: ['ham', 'spam'], ham3: ['easy', 'hard', 'spam'] };

export type Variant = 'prompt' | 'random-init' | 'linear-head';

interface Encoded { seqs: Sequences; labels: Int32Array; position: number }

/** A task's three parts encoded for each input format (prompt with its mask position, or plain with [CLS] at 0). */
export interface TaskData {
  task: TextTask;
  labelWords: number[];
  prompt: { train: Encoded; valid: Encoded; test: Encoded };
  plain: { train: Encoded; valid: Encoded; test: Encoded };
  /** Fraction of the test part in its largest class: the accuracy of always answering it. */
  majority: number;
  validationCap: number;
}

export function encodeTask(pre: Pretrained, parts: CorpusParts, task: TextTask, T: number): TaskData {
  const tok = pre.tokenizer;
  const enc = (docs: CorpusParts['train']): { prompt: Encoded; plain: Encoded } => {
    const { texts, labels } = labelled(docs, task);
    const p = promptSequences(tok, texts, T, TEMPLATE);
    return { prompt: { seqs: p.seqs, labels, position: p.maskPosition }, plain: { seqs: plainSequences(tok, texts, T), labels, position: 0 } };
  };
  const [train, valid, test] = [enc(parts.train), enc(parts.valid), enc(parts.test)] as const;
  const C = task.classes.length;
  const perClass = (y: Int32Array): number[] => Array.from({ length: C }, (_, c) => y.filter((v) => v === c).length);
  return {
    task, labelWords: labelWordIds(tok, LABEL_WORDS[task.name]!),
    prompt: { train: train.prompt, valid: valid.prompt, test: test.prompt },
    plain: { train: train.plain, valid: valid.plain, test: test.plain },
    majority: Math.max(...perClass(test.prompt.labels)) / test.prompt.labels.length,
    validationCap: Math.min(...perClass(valid.prompt.labels)),
  };
}

export interface RunSpec { variant: Variant; optimizer: 'sgd' | 'sgdm'; eta: number; k: number; seed: number }

export interface FineTuneSettings { steps: number; batch: number; momentum: number; maxValidationShot: number }

export interface RunResult extends RunSpec { validAccuracy: number; params: Float32Array; finalLoss: number; diverged: boolean }

function subset(e: Encoded, idx: Int32Array): Encoded {
  const T = e.seqs.T, n = idx.length;
  const ids = new Int32Array(n * T), lengths = new Int32Array(n), labels = new Int32Array(n);
  idx.forEach((r, i) => { ids.set(e.seqs.ids.subarray(r * T, (r + 1) * T), i * T); lengths[i] = e.seqs.lengths[r]!; labels[i] = e.labels[r]!; });
  return { seqs: { ids, lengths, n, T }, labels, position: e.position };
}

/** The spec of a variant's network (prompt: label-word logits at the mask; linear-head: classes logits at [CLS]). */
export function variantSpec(pre: Pretrained, data: TaskData, v: Variant): MlmSpec {
  return v === 'linear-head' ? { ...pre.spec, slots: 1, head: 'linear', labelWords: null } : { ...pre.spec, slots: 1, head: 'mlm', labelWords: data.labelWords };
}

/** A network of the variant, initialised from the pre-trained weights by parameter name (random-init: none). */
export function variantNet(pre: Pretrained, data: TaskData, v: Variant, seed: number, backend: Backend): TextNet {
  const named = new Map<string, Float32Array>();
  if (v !== 'random-init') {
    const ref = new TextNet(pre.spec, pre.spec.vocab, 0, float32Backend());
    for (const p of ref.store.list) named.set(p.name, pre.params.subarray(p.offset, p.offset + p.size));
  }
  return new TextNet(variantSpec(pre, data, v), data.task.classes.length, seed, backend, (store) => {
    for (const p of store.list) { const w = named.get(p.name); if (w !== undefined) store.initFrom(p, w); }
  });
}

/** Accuracy of `net` (with `params` loaded) on an encoded part, in batches of 64. */
export function accuracy(net: TextNet, params: Float32Array | null, e: Encoded): number {
  if (params !== null) net.store.params.set(params);
  const T = e.seqs.T, C = net.width, B = 64;
  net.setup(B);
  const pos = new Int32Array(B).fill(e.position);
  const ids = new Float32Array(B * T);
  let correct = 0;
  for (let i = 0; i < e.seqs.n; i += B) {
    const n = Math.min(B, e.seqs.n - i);
    for (let j = 0; j < n * T; j++) ids[j] = e.seqs.ids[i * T + j]!;
    const logits = net.forward(ids, e.seqs.lengths.subarray(i, i + n), pos, n, false);
    correct += countCorrect(logits, e.labels.subarray(i, i + n), n, C);
  }
  return correct / e.seqs.n;
}

/** The K-shot training sample and its validation sample (V = min(K, cap) per class), both drawn with `seed`. */
export function fewShot(data: TaskData, v: Variant, k: number, seed: number, maxValidationShot: number): { train: Encoded; valid: Encoded } {
  const src = v === 'linear-head' ? data.plain : data.prompt, C = data.task.classes.length;
  const V = Math.min(k, maxValidationShot, data.validationCap);
  return { train: subset(src.train, kShotIndices(src.train.labels, C, k, seed)), valid: subset(src.valid, kShotIndices(src.valid.labels, C, V, seed)) };
}

/**
 * One network per (task, variant) on the run backend, re-initialised for each run: WebAssembly memory only grows, so
 * a network per run would hold every run's activations until the process ends. Initial values come from a network
 * built on the reference float32 backend (plain arrays, freed when dropped): the same values, element for element.
 */
export class NetPool {
  private readonly nets = new Map<Variant, TextNet>();
  constructor(private readonly pre: Pretrained, private readonly data: TaskData, private readonly backend: Backend) {}
  get(v: Variant, seed: number): TextNet {
    let net = this.nets.get(v);
    if (net === undefined) { net = variantNet(this.pre, this.data, v, seed, this.backend); this.nets.set(v, net); }
    net.store.params.set(variantNet(this.pre, this.data, v, seed, float32Backend()).store.params);
    return net;
  }
}

export function fineTuneRun(pre: Pretrained, data: TaskData, r: RunSpec, s: FineTuneSettings, backend: Backend, pool = new NetPool(pre, data, backend)): RunResult {
  const { train, valid } = fewShot(data, r.variant, r.k, r.seed, s.maxValidationShot);
  const net = pool.get(r.variant, r.seed);
  const C = data.task.classes.length, T = train.seqs.T, B = Math.min(s.batch, train.seqs.n);
  // Matched effective lr: SGD at γ = η; SGDM (PyTorch form) at γ = η(1 − β).
  const cfg = r.optimizer === 'sgd' ? optimizerConfig({ form: 'sgd', lr: r.eta }) : optimizerConfig({ form: 'pytorch', lr: r.eta * (1 - s.momentum), momentum: s.momentum });
  const state = initOptimizer(cfg, net.store.size, backend.precision);
  net.setup(B);
  const rng = new Rng(r.seed);
  let order = rng.permutation(train.seqs.n), at = 0;
  const ids = new Float32Array(B * T), lengths = new Int32Array(B), labels = new Int32Array(B), pos = new Int32Array(B).fill(train.position);
  const dlogits: Buf = backend.alloc(B * C);
  let loss = NaN;
  for (let step = 0; step < s.steps; step++) {
    for (let i = 0; i < B; i++) {
      if (at === train.seqs.n) { order = rng.permutation(train.seqs.n); at = 0; }
      const row = order[at++]!;
      for (let t = 0; t < T; t++) ids[i * T + t] = train.seqs.ids[row * T + t]!;
      lengths[i] = train.seqs.lengths[row]!;
      labels[i] = train.labels[row]!;
    }
    net.store.zeroGrad();
    loss = softmaxCrossEntropy(net.forward(ids, lengths, pos, B, true), labels, B, C, dlogits);
    if (!Number.isFinite(loss)) break;
    net.backward(dlogits, B);
    optimizerStep(cfg, net.store.params, net.store.grads, state);
  }
  const diverged = !Number.isFinite(loss) || !net.store.params.every(Number.isFinite);
  // A diverged run scores chance, as the paper suite scores its diverged runs.
  const validAccuracy = diverged ? 1 / C : accuracy(net, null, valid);
  return { ...r, validAccuracy, params: Float32Array.from(net.store.params), finalLoss: loss, diverged };
}
