/** The vision-transformer family: 'transformer' in configs. */
import { GELU, LayerNorm, Linear, Patchify, PositionalEmbedding, Residual, SelfAttention, Sequential, TokenMeanPool, type BuildContext } from '../../engine/layers/index.js';
import { check } from '../../util/errors.js';
import { LayerChain, positiveInt, registerModelFamily, type ModelSpecBase } from '../registry.js';

/** Pre-LN transformer encoder over p×p patches, mean-pooled tokens, linear head. */
export interface TransformerSpec extends ModelSpecBase {
  kind: 'transformer';
  patch: number;
  dim: number;
  heads: number;
  layers: number;
  causal: boolean;
}

/**
 * `layers` pre-LN encoder blocks of width D onto `net` (tokens [T, D]): x + proj(attention(qkv(LN(x)))), then
 * x + fc2(GELU(fc(LN(x)))) with a 4·D hidden width. Shared by the vision transformer and the masked LM.
 */
export function addEncoderBlocks(net: LayerChain, ctx: BuildContext, D: number, heads: number, layers: number, causal: boolean): void {
  for (let i = 0; i < layers; i++) {
    const s0 = net.shape;
    const ln1 = new LayerNorm(ctx, `h${i}.ln1`, s0);
    const qkv = new Linear(ctx, `h${i}.attn.qkv`, s0, 3 * D);
    const att = new SelfAttention(ctx, qkv.outShape, heads, causal);
    const proj = new Linear(ctx, `h${i}.attn.proj`, att.outShape, D);
    net.add(new Residual(ctx, new Sequential([ln1, qkv, att, proj]), null));
    const ln2 = new LayerNorm(ctx, `h${i}.ln2`, s0);
    const fc = new Linear(ctx, `h${i}.mlp.fc`, s0, 4 * D);
    const act = new GELU(ctx, fc.outShape);
    const fc2 = new Linear(ctx, `h${i}.mlp.proj`, fc.outShape, D);
    net.add(new Residual(ctx, new Sequential([ln2, fc, act, fc2]), null));
  }
}

export const transformerFamily = registerModelFamily<TransformerSpec>({
  kind: 'transformer',
  parse(o, field) {
    const dim = positiveInt(o, 'dim', 64, field), heads = positiveInt(o, 'heads', 4, field);
    check(dim % heads === 0, `${field}.heads`, `dim ${dim} must be divisible by heads ${heads}`);
    const causal = o.causal ?? false;
    check(typeof causal === 'boolean', `${field}.causal`, 'must be true or false');
    return { kind: 'transformer', patch: positiveInt(o, 'patch', 7, field), dim, heads, layers: positiveInt(o, 'layers', 2, field), causal };
  },
  build(spec, inShape, K, ctx) {
    check(inShape.length === 3, 'model', `transformer needs image input [C, H, W], got [${inShape.join(', ')}]`);
    check(inShape[1]! % spec.patch === 0 && inShape[2]! % spec.patch === 0, 'model.patch', `patch ${spec.patch} must divide the image size ${inShape[1]}×${inShape[2]}`);
    const net = new LayerChain(inShape);
    const D = spec.dim;
    net.add(new Patchify(ctx, net.shape, spec.patch));
    net.add(new Linear(ctx, 'patch_embed', net.shape, D));
    net.add(new PositionalEmbedding(ctx, 'pos_embed', net.shape));
    addEncoderBlocks(net, ctx, spec.dim, spec.heads, spec.layers, spec.causal);
    net.add(new LayerNorm(ctx, 'ln_f', net.shape));
    net.add(new TokenMeanPool(ctx, net.shape));
    net.add(new Linear(ctx, 'head', net.shape, K));
    return net.layers;
  },
});
