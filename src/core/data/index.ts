export * from './registry.js';
export * from '../../node/data/files.js';
export * from './idx.js';
export * from './cifar.js';
export * from './dataset.js';
export * from './batches.js';
export * from './synthetic.js';
export * from '../../node/data/fetch.js';
