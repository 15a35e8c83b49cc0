export * from './sgd.js';
export * from './schedules.js';
export * from './conversions.js';
export * from './svag.js';
