// One bcrypt worker thread of bcrypt-pool.ts: compares and hashes synchronously, here, so that
// the server's event loop keeps serving other clients meanwhile.
import { parentPort } from 'node:worker_threads';
import bcrypt from 'bcryptjs';

export type BcryptWork = { op: 'compare'; secret: string; hash: string } | { op: 'hash'; secret: string; cost: number };
export type BcryptTask = BcryptWork & { id: number };
export type BcryptAnswer = { id: number; ok: boolean; hash?: string; error?: string };

parentPort?.on('message', (task: BcryptTask) => {
  let answer: BcryptAnswer;
  try {
    answer = task.op === 'compare'
      ? { id: task.id, ok: bcrypt.compareSync(task.secret, task.hash) }
      : { id: task.id, ok: true, hash: bcrypt.hashSync(task.secret, task.cost) };
  } catch (err) {
    answer = { id: task.id, ok: false, error: (err as Error).message };
  }
  parentPort!.postMessage(answer);
});
