/** Built-in tasks, registered on import. */
import { registerTask } from '../task.js';
import { syntheticTask } from './synthetic.js';

registerTask(syntheticTask);

export { syntheticTask };
