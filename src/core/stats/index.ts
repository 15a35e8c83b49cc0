/** Inference on seed-level measurements: Student's t distribution and the tests built on it. */
export * from './student-t.js';
export * from './tests.js';
