import type { Command } from '../command.js';
import { adviseCommand } from './advise.js';
import { optimTrace } from './optim.js';
import { theory } from './theory.js';
import { dataFetch, dataList } from './data.js';
import { sweepCommand } from './sweep.js';
import { runsCommands } from './runs.js';
import { evalCommand } from './eval.js';
import { benchTrainCommand, trainCommand } from './train.js';
import { reportCommand } from './report.js';
import { paperCommand } from './paper.js';
import { workerCommand } from './worker.js';
import { labCommand } from './lab.js';
import { textCommand } from './text.js';

/** Every CLI command; add yours here. */
export const COMMANDS: Command[] = [optimTrace, dataList, dataFetch, sweepCommand, ...runsCommands, trainCommand, evalCommand, benchTrainCommand, theory, reportCommand, adviseCommand, paperCommand, workerCommand, labCommand, textCommand];
