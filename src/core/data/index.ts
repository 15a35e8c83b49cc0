export * from './registry.js';
export * from './idx.js';
export * from './cifar.js';
export * from './dataset.js';
export * from './transforms.js';
export * from './splits.js';
export * from './batches.js';
export * from './synthetic.js';
export { IDX_FILES } from './sources.js';
