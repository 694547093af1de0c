/** The cold tier's encoder thread (sql-cold-encoder.ts): one job at a time, answered by id. */
import { parentPort } from 'node:worker_threads';
import { encodeJob, type EncodeJob } from './sql-cold-encoder.js';

parentPort?.on('message', ({ id, job }: { id: number; job: EncodeJob }) => {
  try {
    const block = encodeJob(job);
    parentPort!.postMessage({ id, block }, [block.data.buffer as ArrayBuffer]);
  } catch (err) {
    parentPort!.postMessage({ id, error: (err as Error).message });
  }
});
parentPort?.postMessage('ready');
