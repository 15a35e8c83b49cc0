/** Experiment runner: configs, sweeps, results store, checkpoints (public API). */
export * from './config.js';
export * from './checkpoint.js';
export * from './task.js';
export * from './run.js';
export * from '../node/store.js';
export * from './grid.js';
export * from './sweep.js';
export * from './progress.js';
export * from './export.js';
export { syntheticTask, syntheticParamsSchema, type SyntheticParams } from './tasks/synthetic.js';
export { trainTask, trainParamsSchema, type TrainParams } from './tasks/train.js';
export { runPaperSuite, PAPER_PARTS, type PaperOptions, type PaperResult } from './paper/suite.js';
export { paperPlan, type PaperPlan, type PaperMode } from './paper/plan.js';
export * from './paper/claims.js';
export * from './paper/stats.js';
