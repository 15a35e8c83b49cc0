import type { Command } from '../command.js';
import { optimTrace } from './optim.js';

/** Every CLI command; add yours here. */
export const COMMANDS: Command[] = [optimTrace];
