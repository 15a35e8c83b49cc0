/**
 * The queue worker's processor, run by BullMQ in a worker thread (a sandboxed processor): checks the job, trains the
 * run and returns its encoded outcome. A failed run throws, so BullMQ retries it (up to the job's attempts) and the
 * coordinator sees the error. The worker command passes its folders in MOMENTUM_LAB_QUEUE_WORKER.
 */
import type { SandboxedJob } from 'bullmq';
import { installNodeHost } from '../../node/host.js';
import { loadPlugins } from '../../node/plugins.js';
import { executeRun } from '../run.js';
import { encodeOutcome, type EncodedOutcome } from './codec.js';
import { checkJob, type WorkerFolders } from './job.js';

installNodeHost();
await loadPlugins();
const folders = JSON.parse(process.env['MOMENTUM_LAB_QUEUE_WORKER'] ?? '{}') as WorkerFolders;

export default async function processRun(job: SandboxedJob): Promise<EncodedOutcome> {
  const { hash, label, config } = checkJob(job.data, folders);
  const delay = Number(process.env['MOMENTUM_LAB_STEP_DELAY_MS'] ?? 0);
  const outcome = await executeRun(config, hash, {
    label,
    checkpointDir: folders.checkpointDir,
    ...(Number.isFinite(delay) && delay > 0 ? { stepDelayMs: delay } : {}),
    progressIntervalMs: 500,
    onProgress: (e) => { void job.updateProgress({ step: e.step, total: e.total, ...(e.note === undefined ? {} : { note: e.note }) }); },
  });
  if (outcome.status === 'failed') throw new Error(outcome.error ?? 'the run failed');
  return encodeOutcome(outcome);
}
