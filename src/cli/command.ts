import type { FlagSpec, FlagValues } from './args.js';

/** One CLI command: `momentum-lab <path...> [positionals] [--flags]`. */
export interface Command {
  /** Words that select it, e.g. ['optim', 'trace']. */
  path: string[];
  summary: string;
  usage?: string;
  flags: Record<string, FlagSpec>;
  /** How many positional arguments it takes (0 for none); extra ones are errors. */
  positionals: number;
  run(flags: FlagValues, positionals: string[]): Promise<number | void> | number | void;
}
