import type { FlagSpec, FlagValues } from './args.js';

/** One CLI command: `momentum-lab <path...> [positionals] [--flags]`. */
export interface Command {
  /** Words that select it, e.g. ['optim', 'trace']. */
  path: string[];
  summary: string;
  usage?: string;
  flags: Record<string, FlagSpec>;
  run(flags: FlagValues, positionals: string[]): Promise<number | void> | number | void;
}
