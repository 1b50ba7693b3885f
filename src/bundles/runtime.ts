// Which toolkit an activity runs on, from its exec line (or the legacy `class` key, which Sugar
// turns into "sugar-activity <class>").

export type Runtime = 'python2' | 'python3' | 'web' | 'other';

const LAUNCHERS: Record<string, Runtime> = {
  'sugar-activity3': 'python3',
  'sugar-activity-web': 'web',
  'sugar-activity': 'python2',
};

export function runtimeFromExec(exec: string | null): Runtime {
  if (exec === null) return 'other';
  const first = exec.trim().split(/\s+/)[0] ?? '';
  // An absolute launcher path (/usr/bin/sugar-activity3) means the same launcher; a relative one
  // (./sugar-activity) is a script inside the bundle.
  const base = first.startsWith('/') ? first.slice(first.lastIndexOf('/') + 1) : first;
  return LAUNCHERS[base] ?? 'other';
}
