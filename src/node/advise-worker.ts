/** Worker-thread entry of `adviseConfigs` (advise-pool.ts): runs the probes it is sent, one at a time. */
import { parentPort } from 'node:worker_threads';
import { toThreadError } from '../core/util/errors.js';
import { timedAdvise, type AdviseWorkerReply, type AdviseWorkerRequest } from './advise-pool.js';
import { installNodeHost } from './host.js';

installNodeHost();
const port = parentPort!;
port.on('message', (m: AdviseWorkerRequest) => {
  timedAdvise(m.job).then(
    (probe) => port.postMessage({ id: m.id, type: 'done', probe } satisfies AdviseWorkerReply),
    (e: unknown) => port.postMessage({ id: m.id, type: 'error', error: toThreadError(e) } satisfies AdviseWorkerReply),
  );
});
