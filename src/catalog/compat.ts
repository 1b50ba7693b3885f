// Which Sugar releases a version can run on.
//
// Sugar ships three runtimes, named by the bundle's `exec`:
//   sugar-activity      Python 2 toolkit (GTK3 era back to 0.82; the original toolkit)
//   sugar-activity3     Python 3 toolkit: appeared in 0.113 (development), shipped from 0.116
//   sugar-activity-web  web activities: the runtime arrived with Sugar 0.100
// Sugar stopped shipping the Python 2 toolkit after the 0.116 series (0.118 and later are
// Python 3 only), so a Python 2 activity must never be offered to them, and a Python 3 one never
// to a Sugar older than 0.116. `other` (shell scripts, binaries) carries no derived limit.
//
// The table is used twice: at ingest, as the default range of a version whose uploader gave none;
// and when serving (updater, feeds, index), as a hard bound: the range a client sees is the
// uploader's range intersected with its runtime's row, so an uploader can narrow it, never widen
// it past what the runtime can run on. Deployments replace it in configuration
// (updates.runtimeRanges, "MIN-MAX" with either side empty for "no limit"); docs/updates.md
// explains the defaults.
import { parseSugarVersion, sugarVersionSortKey, type Runtime } from '../bundles/index.js';

export interface SugarRange {
  min: string | null;
  max: string | null;
}

export type RuntimeRangeTable = Record<Runtime, SugarRange>;

export const DEFAULT_RUNTIME_RANGES: RuntimeRangeTable = {
  python2: { min: '0.82', max: '0.116' },
  python3: { min: '0.116', max: null },
  web: { min: '0.100', max: null },
  other: { min: '0.82', max: null },
};

export function defaultRangeFor(runtime: Runtime, table: RuntimeRangeTable = DEFAULT_RUNTIME_RANGES): SugarRange {
  return { ...(table[runtime] ?? table.other) };
}

/** "0.82-0.116" / "0.116-" / "-0.116" / "" -> a range; throws an Error naming the problem. */
export function parseRangeSpec(spec: string): SugarRange {
  const s = spec.trim();
  if (s === '' || s === '-') return { min: null, max: null };
  const m = /^([^-\s]*)\s*-\s*([^-\s]*)$/.exec(s);
  if (!m) throw new Error(`"${spec}" is not a range: write MIN-MAX, like 0.82-0.116, 0.116- or -0.116`);
  const min = m[1] || null;
  const max = m[2] || null;
  for (const v of [min, max]) {
    if (v !== null && !parseSugarVersion(v).valid) throw new Error(`"${v}" in "${spec}" is not a Sugar version like 0.116`);
  }
  if (min && max && sugarVersionSortKey(min) > sugarVersionSortKey(max)) throw new Error(`"${spec}" is empty: its minimum is above its maximum`);
  return { min, max };
}

/** The spec text of a range, as configuration writes it (the inverse of parseRangeSpec). */
export function formatRangeSpec(r: SugarRange): string {
  return `${r.min ?? ''}-${r.max ?? ''}`;
}

/** The table from configuration (updates.runtimeRanges), checked. */
export function runtimeRangesFromConfig(specs: Partial<Record<Runtime, string>> | undefined): RuntimeRangeTable {
  const table: RuntimeRangeTable = { ...DEFAULT_RUNTIME_RANGES };
  for (const runtime of Object.keys(DEFAULT_RUNTIME_RANGES) as Runtime[]) {
    const spec = specs?.[runtime];
    if (spec === undefined) continue;
    try {
      table[runtime] = parseRangeSpec(spec);
    } catch (err) {
      throw new Error(`updates.runtimeRanges.${runtime}: ${(err as Error).message}`);
    }
  }
  return table;
}

export interface EffectiveRange extends SugarRange {
  minKey: string | null;
  maxKey: string | null;
  /** False when the intersection is empty: the version is offered to no Sugar at all. */
  satisfiable: boolean;
}

function keyOf(v: string | null): string | null {
  if (!v) return null;
  return parseSugarVersion(v).valid ? sugarVersionSortKey(v) : null;
}

/**
 * The range a version is served with: a range derived from the runtime follows the table as it
 * is configured now; an uploader's range is intersected with the runtime's row.
 */
export function effectiveRange(
  stored: { min: string | null; max: string | null; origin: 'uploader' | 'runtime' },
  runtime: Runtime,
  table: RuntimeRangeTable = DEFAULT_RUNTIME_RANGES,
): EffectiveRange {
  const bound = table[runtime] ?? table.other;
  let min = bound.min;
  let max = bound.max;
  if (stored.origin === 'uploader') {
    const smin = keyOf(stored.min) ? stored.min : null;
    const smax = keyOf(stored.max) ? stored.max : null;
    if (smin && (!min || keyOf(smin)! > keyOf(min)!)) min = smin;
    if (smax && (!max || keyOf(smax)! < keyOf(max)!)) max = smax;
  }
  const minKey = keyOf(min);
  const maxKey = keyOf(max);
  return { min, max, minKey, maxKey, satisfiable: !(minKey && maxKey && minKey > maxKey) };
}

/** True when `sugarKey` (a sugarVersionSortKey) lies inside the range. */
export function rangeContains(r: { minKey: string | null; maxKey: string | null }, sugarKey: string): boolean {
  return (r.minKey === null || r.minKey <= sugarKey) && (r.maxKey === null || sugarKey <= r.maxKey);
}
