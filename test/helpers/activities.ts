// Small real bundles for integration tests: a valid activity.info and whatever else a test needs.
import { mkdir, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildBundle } from './bundle-builder.js';

export interface TestActivity {
  bundleId: string;
  name: string;
  version: string;
  exec?: string;
  summary?: string;
  tags?: string;
  license?: string;
  locales?: Record<string, { name?: string; summary?: string }>;
  /** Extra bytes so two versions differ in content. */
  payload?: string;
  extraInfo?: string;
}

let counter = 0;

export async function tempDir(prefix = 'aslo-bundles-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

export function activityFiles(a: TestActivity): Record<string, string> {
  const root = `${a.name.replace(/\s+/g, '')}.activity`;
  const info = [
    '[Activity]',
    `name = ${a.name}`,
    `bundle_id = ${a.bundleId}`,
    `exec = ${a.exec ?? 'sugar-activity3 activity.TestActivity'}`,
    `activity_version = ${a.version}`,
    'icon = activity-test',
    ...(a.summary ? [`summary = ${a.summary}`] : []),
    ...(a.tags ? [`tags = ${a.tags}`] : []),
    ...(a.license ? [`license = ${a.license}`] : []),
    ...(a.extraInfo ? [a.extraInfo] : []),
    '',
  ].join('\n');
  const files: Record<string, string> = {
    [`${root}/activity/activity.info`]: info,
    [`${root}/activity/activity-test.svg`]:
      '<?xml version="1.0" ?><!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd" [<!ENTITY stroke_color "#010101"><!ENTITY fill_color "#FFFFFF">]><svg xmlns="http://www.w3.org/2000/svg" width="55" height="55"><rect x="5" y="5" width="45" height="45" stroke="&stroke_color;" fill="&fill_color;"/></svg>',
    [`${root}/activity.py`]: `# ${a.name} ${a.version}\n${a.payload ?? ''}\n`,
  };
  for (const [lang, t] of Object.entries(a.locales ?? {})) {
    files[`${root}/locale/${lang}/activity.linfo`] = `[Activity]\n${t.name ? `name = ${t.name}\n` : ''}${t.summary ? `summary = ${t.summary}\n` : ''}`;
  }
  return files;
}

/** Build a .xo for the activity in `dir` and return its path. */
export async function buildActivity(dir: string, a: TestActivity): Promise<string> {
  await mkdir(dir, { recursive: true });
  const path = join(dir, `${a.name.replace(/\s+/g, '')}-${a.version}-${++counter}.xo`);
  await buildBundle(activityFiles(a), path);
  return path;
}
