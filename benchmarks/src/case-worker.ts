/**
 * A worker process of `runSuite` with `jobs` > 1: receives one CaseJob over IPC, selects the
 * backend, runs the case and sends back its CaseResult (and each stage as it ends), then exits.
 */
import { selectBackend } from '@sdekit/cli';
import type { ProgressSink } from './progress.js';
import { type CaseJob, runCase, type WorkerMessage } from './runner.js';

const send = (m: WorkerMessage) => process.send?.(m);

process.once('message', async (job: CaseJob) => {
  let label = '';
  const progress: ProgressSink = {
    start: (l) => {
      label = l;
    },
    update: () => {},
    end: (seconds, detail) => send({ kind: 'end', label, seconds, detail }),
  };
  await selectBackend(job.backend);
  const result = await runCase(job, progress);
  process.send?.({ kind: 'result', result } satisfies WorkerMessage, () => process.exit(0));
});
