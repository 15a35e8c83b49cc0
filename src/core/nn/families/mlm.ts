/**
 * The masked-LM transformer family: 'mlm' in configs. A BERT-style pre-LN encoder over token ids [T]:
 *   tok_embed (E, N(0, 0.02²)) + pos_embed → L × [x + attn(ln1 x), x + mlp(ln2 x)] → ln_f → gather M positions → head
 * with one of two heads:
 *   mlm     dense D→D, GELU, LayerNorm, then logits h·Eᵀ + b, E the input table (tied); over the whole vocabulary
 *           (pre-training), or over the label words only (`labelWords`: prompt fine-tuning, LM-BFF)
 *   linear  a new Linear D→classes on the gathered position ([CLS] at 0: fine-tuning without a prompt)
 * The padding mask (each sequence's length) and the gathered positions are inputs of each call (`TextNet.forward`).
 * The family registers when this module is imported (the text experiment does); the image families' tests, which
 * build every registered family on images, never see it.
 */
import type { Backend, Buf } from '../../engine/backend.js';
import { float32Backend } from '../../engine/backend.js';
import {
  Embedding, GatherPositions, GELU, LayerNorm, Linear, PositionalEmbedding, Residual, Scratch, SelfAttention, Sequential,
  TiedLMHead, type BuildContext, type Layer,
} from '../../engine/layers/index.js';
import { ParameterStore } from '../../engine/params.js';
import { check } from '../../util/errors.js';
import { Rng } from '../../util/rng.js';
import { LayerChain, positiveInt, registerModelFamily, type ModelSpecBase } from '../registry.js';
import { addEncoderBlocks } from './transformer.js';

export interface MlmSpec extends ModelSpecBase {
  kind: 'mlm';
  vocab: number;
  seqLen: number;
  dim: number;
  heads: number;
  layers: number;
  /** Positions gathered per sequence (prediction slots in pre-training, 1 in fine-tuning). */
  slots: number;
  head: 'mlm' | 'linear';
  /** Token ids whose logits the mlm head computes; null: every token. */
  labelWords: number[] | null;
}

export const mlmFamily = registerModelFamily<MlmSpec>({
  kind: 'mlm',
  parse(o, field) {
    const dim = positiveInt(o, 'dim', 64, field), heads = positiveInt(o, 'heads', 4, field);
    check(dim % heads === 0, `${field}.heads`, `dim ${dim} must be divisible by heads ${heads}`);
    const head = o.head ?? 'mlm';
    check(head === 'mlm' || head === 'linear', `${field}.head`, `must be "mlm" or "linear", got ${JSON.stringify(head)}`);
    const lw = o.labelWords ?? null;
    check(lw === null || (Array.isArray(lw) && lw.every((v) => Number.isInteger(v) && v >= 0)), `${field}.labelWords`, 'must be a list of token ids');
    return {
      kind: 'mlm', vocab: positiveInt(o, 'vocab', 3000, field), seqLen: positiveInt(o, 'seqLen', 64, field), dim, heads,
      layers: positiveInt(o, 'layers', 2, field), slots: positiveInt(o, 'slots', 10, field), head, labelWords: lw as number[] | null,
    };
  },
  build(spec, inShape, classes, ctx) {
    check(inShape.length === 1 && inShape[0] === spec.seqLen, 'model', `mlm needs token input [${spec.seqLen}], got [${inShape.join(', ')}]`);
    const out = spec.head === 'linear' ? classes : spec.labelWords?.length ?? spec.vocab;
    check(classes === out, 'model', `mlm with head ${spec.head} gives ${out} logits, asked for ${classes}`);
    const net = new LayerChain(inShape);
    const D = spec.dim;
    const embed = net.add(new Embedding(ctx, 'tok_embed', net.shape, spec.vocab, D, 0.02));
    net.add(new PositionalEmbedding(ctx, 'pos_embed', net.shape));
    addEncoderBlocks(net, ctx, D, spec.heads, spec.layers, false);
    net.add(new LayerNorm(ctx, 'ln_f', net.shape));
    net.add(new GatherPositions(ctx, net.shape, spec.slots));
    if (spec.head === 'linear') {
      net.add(new Linear(ctx, 'cls.head', net.shape, classes));
      return net.layers;
    }
    net.add(new Linear(ctx, 'mlm.dense', net.shape, D));
    net.add(new GELU(ctx, net.shape));
    net.add(new LayerNorm(ctx, 'mlm.ln', net.shape));
    net.add(new TiedLMHead(ctx, 'mlm.decoder', net.shape, embed.weight, spec.labelWords === null ? null : Int32Array.from(spec.labelWords)));
    return net.layers;
  },
  label: (raw) => `mlm transformer (dim ${String(raw.dim ?? 64)}, ${String(raw.layers ?? 2)} layers)`,
});

/** Every layer of a tree of Sequential/Residual containers, depth first. */
function flatten(layers: readonly Layer[]): Layer[] {
  return layers.flatMap((l) => l instanceof Sequential ? flatten(l.layers) : l instanceof Residual ? flatten([l.main]) : [l]);
}

/** A built mlm network with its parameter store: ids, lengths and positions in, logits [n × slots × width] out. */
export class TextNet {
  readonly store: ParameterStore;
  readonly net: Sequential;
  readonly width: number;
  private readonly attention: SelfAttention[];
  private readonly gather: GatherPositions;
  private cap = 0;
  constructor(readonly spec: MlmSpec, classes: number, seed: number, readonly backend: Backend = float32Backend(), init?: (store: ParameterStore) => void) {
    this.store = new ParameterStore(backend);
    const rng = new Rng(seed);
    const ctx: BuildContext = { store: this.store, backend, rng: new Rng(rng.nextU32()), scratch: new Scratch(backend) };
    const layers = mlmFamily.build(spec, [spec.seqLen], classes, ctx);
    init?.(this.store);
    this.net = new Sequential(layers);
    this.net.needsInputGrad = false;
    this.store.finalize(rng);
    const all = flatten(layers);
    this.attention = all.filter((l): l is SelfAttention => l instanceof SelfAttention);
    this.gather = all.find((l): l is GatherPositions => l instanceof GatherPositions)!;
    this.width = classes;
  }
  /** Sizes the activations for batches of up to `capacity` (grow only: kernel memory is not returned). */
  setup(capacity: number): void {
    if (capacity <= this.cap) return;
    this.cap = capacity;
    this.net.setup(capacity);
  }
  /** Logits at `positions` [n × slots] of sequences `ids` [n × T] (floats) whose first lengths[b] tokens are real. */
  forward(ids: Buf, lengths: Int32Array, positions: Int32Array, n: number, train: boolean): Buf {
    if (n > this.cap) throw new Error(`TextNet: batch ${n} exceeds capacity ${this.cap}; call setup first`);
    for (const a of this.attention) a.keyLengths = lengths;
    this.gather.positions = positions;
    return this.net.forward(ids, n, train);
  }
  backward(dlogits: Buf, n: number): void {
    this.net.backward(dlogits, n);
  }
}
