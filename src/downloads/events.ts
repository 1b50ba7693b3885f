// In-process signals between the job worker and the download index of the same process (the
// embedded default runs both): a file entered or left the tree, a mirror's state changed. Other
// processes learn the same from the database within downloads.indexRefreshSeconds.
import { EventEmitter } from 'node:events';
import type { Db } from '../platform/db/index.js';

export interface DownloadEvents extends EventEmitter {
  emit(event: 'files', fileIds: number[]): boolean;
  emit(event: 'mirrors'): boolean;
  on(event: 'files', listener: (fileIds: number[]) => void): this;
  on(event: 'mirrors', listener: () => void): this;
}

const emitters = new WeakMap<Db, DownloadEvents>();

export function downloadEvents(db: Db): DownloadEvents {
  let e = emitters.get(db);
  if (!e) {
    e = new EventEmitter() as DownloadEvents;
    e.setMaxListeners(100);
    emitters.set(db, e);
  }
  return e;
}
