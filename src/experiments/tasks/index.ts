/** Built-in tasks, registered on import. */
import { registerTask } from '../task.js';
import { syntheticTask } from './synthetic.js';
import { trainTask } from './train.js';
import { finetuneTask } from './finetune.js';

registerTask(syntheticTask);
registerTask(trainTask);
registerTask(finetuneTask);

export { syntheticTask, trainTask, finetuneTask };
