// What the downloads domain does with the events of other domains (src/platform/events.ts):
// mirror changes reach every process's download index, status changes (an upload published at
// once, a review decision) put files in the repo tree or take them out. Subscribed where a process is composed (app.ts, the CLI).
import type { EventBus } from '../platform/events.js';
import { downloadsChanged } from './events.js';
import { onActivityStatusChanged, onFileStatusChanged } from './repo.js';

const subscribedBuses = new WeakSet<EventBus>();

/** Calling it again for the same bus is a no-op. */
export function listenForDownloadEvents(bus: EventBus): void {
  if (subscribedBuses.has(bus)) return;
  subscribedBuses.add(bus);
  bus.on('downloads.changed', ({ ctx, files, mirrors, evidence }, onError) =>
    downloadsChanged(ctx, { files, mirrors, evidence }, onError ? (message) => onError(new Error(message)) : undefined),
  );
  bus.on('file.statusChanged', ({ ctx, fileIds }) => onFileStatusChanged(ctx, fileIds));
  bus.on('activity.statusChanged', ({ ctx, activityIds }) => onActivityStatusChanged(ctx, activityIds));
}
