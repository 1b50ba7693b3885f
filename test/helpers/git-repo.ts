// Git repositories made by the tests: files (text, bytes, executable, symlinks), commits with a
// fixed author and date, tags. Git runs with the user's configuration ignored.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export type RepoFile = string | Buffer | { symlink: string } | { content: string | Buffer; mode: 0o755 };

export const TEST_COMMIT_DATE = '2024-05-17T10:20:31Z';

export function gitIn(dir: string, args: string[], env: NodeJS.ProcessEnv = {}): string {
  return execFileSync('git', args, {
    cwd: dir,
    encoding: 'utf8',
    env: {
      PATH: process.env.PATH,
      HOME: dir,
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_CONFIG_GLOBAL: '/dev/null',
      GIT_AUTHOR_NAME: 'Test',
      GIT_AUTHOR_EMAIL: 'test@example.org',
      GIT_COMMITTER_NAME: 'Test',
      GIT_COMMITTER_EMAIL: 'test@example.org',
      GIT_AUTHOR_DATE: TEST_COMMIT_DATE,
      GIT_COMMITTER_DATE: TEST_COMMIT_DATE,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Writes files into dir (in the given order: tests vary it to vary the file system's order). */
export function writeFiles(dir: string, files: Record<string, RepoFile>, order: 'as-given' | 'reversed' = 'as-given'): void {
  const names = Object.keys(files);
  if (order === 'reversed') names.reverse();
  for (const name of names) {
    const f = files[name];
    const p = join(dir, name);
    mkdirSync(dirname(p), { recursive: true });
    if (typeof f === 'string' || Buffer.isBuffer(f)) writeFileSync(p, f);
    else if ('symlink' in f) symlinkSync(f.symlink, p);
    else {
      writeFileSync(p, f.content);
      chmodSync(p, f.mode);
    }
  }
}

export interface MakeRepoOptions {
  /** Files written but not committed (untracked). */
  untracked?: Record<string, RepoFile>;
  tag?: string;
  order?: 'as-given' | 'reversed';
  date?: string;
  /** Paths to add even though .gitignore names them (git add -f). */
  force?: string[];
}

/** git init + one commit of `files` (+ a tag). Returns the commit id. */
export function makeRepo(dir: string, files: Record<string, RepoFile>, opts: MakeRepoOptions = {}): string {
  mkdirSync(dir, { recursive: true });
  gitIn(dir, ['init', '-q', '-b', 'main']);
  writeFiles(dir, files, opts.order);
  gitIn(dir, ['add', '-A']);
  if (opts.force?.length) gitIn(dir, ['add', '-f', '--', ...opts.force]);
  const env = opts.date ? { GIT_AUTHOR_DATE: opts.date, GIT_COMMITTER_DATE: opts.date } : {};
  gitIn(dir, ['commit', '-q', '-m', 'commit'], env);
  if (opts.tag) gitIn(dir, ['tag', '-a', '-m', opts.tag, opts.tag], env);
  if (opts.untracked) writeFiles(dir, opts.untracked);
  return gitIn(dir, ['rev-parse', 'HEAD']).trim();
}

export const TEST_ICON = `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd" [
  <!ENTITY stroke_color "#010101">
  <!ENTITY fill_color "#FFFFFF">
]>
<svg xmlns="http://www.w3.org/2000/svg" width="55" height="55" viewBox="0 0 55 55">
<rect x="8" y="8" width="39" height="39" fill="&fill_color;" stroke="&stroke_color;" stroke-width="3"/>
</svg>
`;

/** activity.info text for a test activity. */
export function activityInfo(o: { name: string; bundleId: string; version: string; summary?: string | null; extra?: string }): string {
  return [
    '[Activity]',
    `name = ${o.name}`,
    `bundle_id = ${o.bundleId}`,
    'exec = sugar-activity3 activity.TestActivity',
    'icon = activity-test',
    `activity_version = ${o.version}`,
    'license = GPL-3.0-or-later',
    ...(o.summary === null ? [] : [`summary = ${o.summary ?? 'A test activity'}`]),
    ...(o.extra ? [o.extra] : []),
    '',
  ].join('\n');
}
