/** Every layer, one file per family; see base.ts for the conventions they share. */
export { Base, Scratch, Views, type BuildContext, type Layer } from './base.js';
export { Linear } from './linear.js';
export { Conv2d, KEEP_COLS_LIMIT } from './conv.js';
export { AvgPool2d, GlobalAvgPool, MaxPool2d } from './pool.js';
export { BatchNorm, LayerNorm } from './norm.js';
export { GELU, ReLU, Tanh, erf, erfFast } from './activations.js';
export { Dropout } from './dropout.js';
export { Embedding, Patchify, PositionalEmbedding, TokenMeanPool } from './embedding.js';
export { SelfAttention } from './attention.js';
export { Flatten, Residual, Sequential } from './containers.js';
export { GatherPositions, TiedLMHead } from './lm-head.js';
