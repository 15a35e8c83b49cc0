export * from './files.js';
export * from './load.js';
export * from './fetch.js';
export * from './user-data.js';
export * from './npy.js';
export * from './npz.js';
