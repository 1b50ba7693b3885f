// Entry of the JSON index's build worker (src/updates/index-builder.ts). A worker thread starts
// without the TypeScript loader the main thread registered (bin/aslo.mjs): register it here, then
// load the worker itself.
import { register } from 'tsx/esm/api';

register();
await import('./index-worker.ts');
