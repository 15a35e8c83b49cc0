/** Built-in tasks, registered on import. */
import { registerTask } from '../task.js';
import { syntheticTask } from './synthetic.js';
import { trainTask } from './train.js';

registerTask(syntheticTask);
registerTask(trainTask);

export { syntheticTask, trainTask };
