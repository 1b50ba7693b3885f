// Turn the sample descriptions into real .xo/.xol files (zip archives, as Sugar's bundle builder
// makes them).
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import yazl from 'yazl';
import type { SampleActivity, SampleVersion } from './activities.js';

// Zip timestamps are local-time fields: a date built from local components writes the same bytes
// in every time zone, so the sample bundles (and their sha256) are identical on every machine.
const SAMPLE_MTIME = new Date(2026, 0, 1, 0, 0, 0);

export interface BuiltSample {
  path: string;
  activity: SampleActivity;
  version: SampleVersion;
}

function activityInfo(a: SampleActivity, v: SampleVersion): string {
  const description = a.description.replace(/\n/g, ' ');
  return [
    '[Activity]',
    `name = ${a.name}`,
    `bundle_id = ${a.bundleId}`,
    `exec = ${v.exec}`,
    `icon = activity-${a.folder.toLowerCase()}`,
    `activity_version = ${v.version}`,
    `license = ${a.license}`,
    `summary = ${a.summary}`,
    `tags = ${a.tags.join(';')}`,
    'description:',
    `    ${description}`,
    '',
  ].join('\n');
}

function libraryInfo(a: SampleActivity, v: SampleVersion): string {
  return [
    '[Library]',
    `name = ${a.name}`,
    `global_name = ${a.bundleId}`,
    `library_version = ${v.version}`,
    `icon = activity-${a.folder.toLowerCase()}`,
    'activity_start = index.html',
    `license = ${a.license}`,
    `summary = ${a.summary}`,
    '',
  ].join('\n');
}

export async function buildSampleBundle(a: SampleActivity, v: SampleVersion, outDir: string): Promise<string> {
  await mkdir(outDir, { recursive: true });
  const zip = new yazl.ZipFile();
  const add = (path: string, text: string) => zip.addBuffer(Buffer.from(text, 'utf8'), path, { mtime: SAMPLE_MTIME, forceDosTimestamp: true });
  let out: string;
  if (a.kind === 'content') {
    const root = a.folder;
    add(`${root}/library/library.info`, libraryInfo(a, v));
    add(`${root}/library/activity-${a.folder.toLowerCase()}.svg`, a.icon);
    add(
      `${root}/index.html`,
      `<!doctype html><html><head><meta charset="utf-8"><title>${a.name}</title></head><body><h1>${a.name}</h1><p>${a.summary}</p></body></html>\n`,
    );
    out = join(outDir, `${a.folder}-${v.version}.xol`);
  } else {
    const root = `${a.folder}.activity`;
    add(`${root}/activity/activity.info`, activityInfo(a, v));
    add(`${root}/activity/activity-${a.folder.toLowerCase()}.svg`, a.icon);
    for (const [lang, t] of Object.entries(a.translations)) {
      add(`${root}/locale/${lang}/activity.linfo`, `[Activity]\nname = ${t.name}\nsummary = ${t.summary}\n`);
    }
    if (v.exec.startsWith('sugar-activity-web')) {
      add(`${root}/index.html`, `<!doctype html><html><head><meta charset="utf-8"><title>${a.name}</title></head><body><h1>${a.name}</h1></body></html>\n`);
    } else {
      const cls = v.exec.split(/\s+/)[1] ?? 'activity.Activity';
      const [mod, klass] = cls.split('.');
      add(
        `${root}/${mod}.py`,
        `from sugar3.activity import activity\n\n\nclass ${klass}(activity.Activity):\n    """${a.name}: ${a.summary}"""\n\n    def __init__(self, handle):\n        activity.Activity.__init__(self, handle)\n`,
      );
    }
    add(`${root}/NEWS`, `${v.version}\n\n* ${v.releaseNotes ?? 'Release.'}\n`);
    out = join(outDir, `${a.folder}-${v.version}.xo`);
  }
  zip.end();
  await pipeline(zip.outputStream, createWriteStream(out));
  return out;
}

export async function buildAllSamples(activities: SampleActivity[], outDir: string): Promise<BuiltSample[]> {
  const built: BuiltSample[] = [];
  for (const a of activities) {
    for (const v of a.versions) built.push({ path: await buildSampleBundle(a, v, outDir), activity: a, version: v });
  }
  return built;
}
