// The in-process event bus (src/platform/events.ts): emit awaits every listener, and a listener
// that fails is reported without failing the publisher or the other listeners.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EventBus } from '../../src/platform/events.js';
import type { AppContext } from '../../src/platform/context.js';

const ctx = {} as AppContext;

describe('event bus', () => {
  it('delivers to every listener and waits for them before emit returns', async () => {
    const bus = new EventBus();
    const seen: string[] = [];
    bus.on('catalog.changed', async ({ activityIds }) => {
      await new Promise((r) => setTimeout(r, 20));
      seen.push(`slow ${activityIds}`);
    });
    bus.on('catalog.changed', ({ activityIds }) => void seen.push(`fast ${activityIds}`));
    await bus.emit('catalog.changed', { ctx, activityIds: [7] });
    assert.deepEqual(seen.sort(), ['fast 7', 'slow 7']);
  });

  it('reports a failing listener to the publisher and still runs the others', async () => {
    const bus = new EventBus();
    let ran = false;
    bus.on('downloads.changed', () => {
      throw new Error('boom');
    });
    bus.on('downloads.changed', async () => {
      ran = true;
    });
    const errors: unknown[] = [];
    await bus.emit('downloads.changed', { ctx, mirrors: [1] }, { onError: (err) => errors.push(err) });
    assert.equal(ran, true);
    assert.equal((errors[0] as Error).message, 'boom');
    // Without a reporter the failure becomes a process warning, never a rejection.
    await bus.emit('downloads.changed', { ctx, mirrors: [1] });
  });

  it('stops delivering after unsubscribe, and emits to nobody quietly', async () => {
    const bus = new EventBus();
    let n = 0;
    const off = bus.on('file.statusChanged', () => void n++);
    await bus.emit('file.statusChanged', { ctx, fileIds: [1] });
    off();
    await bus.emit('file.statusChanged', { ctx, fileIds: [1] });
    assert.equal(n, 1);
    assert.equal(bus.listenerCount('file.statusChanged'), 0);
  });
});
