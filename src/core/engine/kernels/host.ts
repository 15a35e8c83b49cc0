/**
 * How core code that trains a model obtains its kernels without knowing where they come from: the host registers
 * one opener per thread (Node: `installNodeHost` in src/node/host.ts registers src/node/kernels.ts's
 * `openKernels`; a browser registers its own, e.g. over `instantiateWasmKernels` and Web Workers).
 */
import type { Kernels } from './api.js';

export interface KernelRequest {
  /** Kernel threads, main thread included (the host's default when absent). */
  threads?: number;
}

/** `owned`: the caller disposes `kernels` when done (a private set); otherwise they are shared. */
export interface OpenedKernels {
  kernels: Kernels;
  owned: boolean;
}

export type KernelOpener = (request: KernelRequest) => Promise<OpenedKernels>;

let opener: KernelOpener | null = null;

export function useKernelOpener(open: KernelOpener | null): void {
  opener = open;
}

/** Kernels from the registered host; throws when none is registered (a missing install is a bug, not a fallback). */
export function openHostKernels(request: KernelRequest = {}): Promise<OpenedKernels> {
  if (opener === null) {
    return Promise.reject(new Error('no kernel host registered in this thread (Node entry points call installNodeHost from src/node/host.ts)'));
  }
  return opener(request);
}
