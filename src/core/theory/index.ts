/** The theory lab: a many-chain simulator, toy problems, closed forms and the paper's checks. */
export * from './normals.js';
export * from './problems.js';
export * from './simulate.js';
export * from './closed-forms.js';
export * from './chart.js';
export * from './checks/index.js';
