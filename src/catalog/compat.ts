// Which Sugar releases a version can run on, when its uploader did not say.
//
// Sugar ships three runtimes, named by the bundle's `exec`:
//   sugar-activity      Python 2 toolkit (GTK3 era back to 0.82; the original toolkit)
//   sugar-activity3     Python 3 toolkit: appeared in 0.113 (development), shipped from 0.116
//   sugar-activity-web  web activities: the runtime arrived with Sugar 0.100
// Sugar stopped shipping the Python 2 toolkit after the 0.116 series (0.118 and later are
// Python 3 only), so a Python 2 activity must never be offered to them, and a Python 3 one never
// to a Sugar older than 0.116. `other` (shell scripts, binaries) carries no derived limit.
// Deployments can replace this table in configuration (updates.runtimeRanges).
import type { Runtime } from '../bundles/index.js';

export interface SugarRange {
  min: string | null;
  max: string | null;
}

export const DEFAULT_RUNTIME_RANGES: Record<Runtime, SugarRange> = {
  python2: { min: '0.82', max: '0.116' },
  python3: { min: '0.116', max: null },
  web: { min: '0.100', max: null },
  other: { min: '0.82', max: null },
};

export function defaultRangeFor(runtime: Runtime, table: Record<Runtime, SugarRange> = DEFAULT_RUNTIME_RANGES): SugarRange {
  return { ...table[runtime] };
}
