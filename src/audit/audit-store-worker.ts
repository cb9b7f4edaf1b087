/**
 * The audit store's worker thread: owns the SQLite connection (audit-store.ts), so serialising, chain
 * hashing and inserting records never run on the serving thread. Answers each `write` with an ack (or the
 * error, leaving the batch with the writer), relays checkpoints, and on `close` writes the closing
 * checkpoint and exits.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { AuditRecord } from './audit-record.js';
import { AuditStore } from './audit-store.js';
import type { FromStore, StoreWorkerData, ToStore } from './store-protocol.js';

const port = parentPort!;
const post = (m: FromStore): void => port.postMessage(m);
let store: AuditStore;
try {
  store = AuditStore.open({ ...(workerData as StoreWorkerData), onCheckpoint: (checkpoint) => post({ type: 'checkpoint', checkpoint }) });
  post({ type: 'ready', lastSeq: store.lastSeq, segment: store.currentSegment });
} catch (err) {
  post({ type: 'open-failed', message: (err as Error).message });
  port.close();
}

port.on('message', (m: ToStore) => {
  if (m.type === 'write') {
    try {
      store.write(JSON.parse(m.json) as AuditRecord[]);
      post({ type: 'ack', id: m.id, lastSeq: store.lastSeq, segment: store.currentSegment });
    } catch (err) {
      post({ type: 'ack', id: m.id, lastSeq: store.lastSeq, segment: store.currentSegment, error: (err as Error).message });
    }
    return;
  }
  try {
    store.close();
    post({ type: 'closed' });
  } catch (err) {
    post({ type: 'closed', error: (err as Error).message });
  }
  port.close();
});
