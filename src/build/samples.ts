// The sample activities of a first start (`npm start` on an empty catalog, `aslo dev sample`),
// made the way the real catalog is: each sample (src/catalog/sample/activities.ts) becomes a small
// git repository, with one tagged commit per version (activity.info, icon, code, NEWS, setup.py
// and po/ files for its translations), written with `git fast-import` under the instance folder
// (`<instance>/sample-sources/<name>-activity.git`); the store's own builder (buildFromGit) makes
// each tag's bundle, and the upload path ingests it with its provenance, so the activity pages
// say "Built from ... at v4 (...)" and `aslo build --verify` checks a sample bundle against its
// repository. Commit dates and authors are fixed: the same commits, hence the same bundle bytes,
// on every machine.
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AppContext } from '../platform/context.js';
import { AsloError } from '../platform/errors.js';
import { IngestService } from '../catalog/ingest.js';
import { anyActivity } from '../catalog/queries.js';
import { SAMPLE_ACTIVITIES, type SampleActivity, type SampleVersion } from '../catalog/sample/activities.js';
import { addSampleScreenshots } from '../catalog/sample/screenshots.js';
import { buildFromGit, builtFromProvenance, type BuildResult } from './build.js';

/** Told what loading the samples is doing (a first start prints it): one short line per step. */
export type SampleProgress = (step: string) => void;

/** The first sample commit's date; each later version is one week later. */
const FIRST_COMMIT = Date.UTC(2026, 0, 5, 9, 30, 0) / 1000;
const WEEK = 7 * 24 * 3600;
const AUTHOR = 'Sugar Labs Samples <samples@aslo.invalid>';

/** `counting-stars-activity`: the repository name of a sample, as Sugar's repositories are named. */
export function sampleRepoName(a: SampleActivity): string {
  return `${a.name.toLowerCase().replace(/[^a-z0-9]+/g, '-')}-activity`;
}

/** The tag of a sample version (`v4`, `v1.2`). */
export const sampleTag = (v: SampleVersion) => `v${v.version}`;

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

/** A PO string literal. */
const po = (s: string) => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;

const PLURAL_FORMS: Record<string, string> = {
  ar: 'nplurals=6; plural=n==0 ? 0 : n==1 ? 1 : n==2 ? 2 : n%100>=3 && n%100<=10 ? 3 : n%100>=11 ? 4 : 5;',
  fr: 'nplurals=2; plural=(n > 1);',
};

/** `po/<lang>.po` of a sample (or the template, `lang` null): its name and summary, and the UI strings. */
function poFile(a: SampleActivity, lang: string | null, date: string): string {
  const t = lang ? a.translations[lang]! : null;
  const plural = lang ? (PLURAL_FORMS[lang] ?? 'nplurals=2; plural=(n != 1);') : 'nplurals=INTEGER; plural=EXPRESSION;';
  const out = [
    `# ${a.name}: ${lang ? `translation (${lang})` : 'template'}.`,
    'msgid ""',
    'msgstr ""',
    po(`Project-Id-Version: ${a.name}\n`),
    po(`POT-Creation-Date: ${date}\n`),
    ...(lang ? [po(`Language: ${lang}\n`)] : []),
    po('MIME-Version: 1.0\n'),
    po('Content-Type: text/plain; charset=UTF-8\n'),
    po('Content-Transfer-Encoding: 8bit\n'),
    po(`Plural-Forms: ${plural}\n`),
    '',
    '#: activity/activity.info:2',
    `msgid ${po(a.name)}`,
    `msgstr ${po(t?.name ?? '')}`,
    '',
    '#: activity/activity.info:9',
    `msgid ${po(a.summary)}`,
    `msgstr ${po(t?.summary ?? '')}`,
    '',
    '#, python-format',
    'msgid "%d point"',
    'msgid_plural "%d points"',
  ];
  const forms = lang ? Number(/nplurals=(\d+)/.exec(plural)![1]) : 2;
  for (let i = 0; i < forms; i++) out.push(`msgstr[${i}] ${po(t ? `%d · ${t.name}` : '')}`);
  out.push('');
  return out.join('\n');
}

/** The files of a sample at one of its versions (paths in the repository). */
export function sampleFiles(a: SampleActivity, upTo: number): Record<string, string> {
  const v = a.versions[upTo]!;
  const icon = `activity-${a.folder.toLowerCase()}.svg`;
  const news = a.versions
    .slice(0, upTo + 1)
    .reverse()
    .map((x) => `${x.version}\n\n* ${x.releaseNotes ?? 'Release.'}\n`)
    .join('\n');
  const files: Record<string, string> = {
    'README.md': `# ${a.name}\n\n${a.summary}\n\nOne of the sample activities of the store: its own small repository, built by the store like any other.\n`,
    NEWS: news,
  };
  const html = (body: string) => `<!doctype html><html><head><meta charset="utf-8"><title>${a.name}</title></head><body>${body}</body></html>\n`;
  if (a.kind === 'content') {
    files['library/library.info'] = libraryInfo(a, v);
    files[`library/${icon}`] = a.icon;
    files['index.html'] = html(`<h1>${a.name}</h1><p>${a.summary}</p>`);
    return files;
  }
  files['activity/activity.info'] = activityInfo(a, v);
  files[`activity/${icon}`] = a.icon;
  files['setup.py'] = '#!/usr/bin/env python3\nfrom sugar3.activity import bundlebuilder\n\nbundlebuilder.start()\n';
  if (v.exec.startsWith('sugar-activity-web')) files['index.html'] = html(`<h1>${a.name}</h1>`);
  else {
    const [mod, klass] = (v.exec.split(/\s+/)[1] ?? 'activity.Activity').split('.');
    files[`${mod}.py`] =
      `from gettext import gettext as _\n\nfrom sugar3.activity import activity\n\n\nclass ${klass}(activity.Activity):\n    """${a.name}: ${a.summary}"""\n\n    def __init__(self, handle):\n        activity.Activity.__init__(self, handle)\n        self.set_title(_(${JSON.stringify(a.name)}))\n`;
  }
  const date = new Date((FIRST_COMMIT + upTo * WEEK) * 1000).toISOString().slice(0, 16).replace('T', ' ') + '+0000';
  files[`po/${a.folder}.pot`] = poFile(a, null, date);
  for (const lang of Object.keys(a.translations).sort()) files[`po/${lang}.po`] = poFile(a, lang, date);
  return files;
}

/** The `git fast-import` stream of a sample: one commit per version on main, each tagged. */
function fastImportStream(a: SampleActivity): Buffer {
  const parts: Buffer[] = [];
  const text = (s: string) => parts.push(Buffer.from(s, 'utf8'));
  const data = (s: string) => {
    const b = Buffer.from(s, 'utf8');
    text(`data ${b.length}\n`);
    parts.push(b);
    text('\n');
  };
  let mark = 0;
  a.versions.forEach((v, i) => {
    const files = sampleFiles(a, i);
    const marks = new Map<string, number>();
    for (const [path, content] of Object.entries(files)) {
      marks.set(path, ++mark);
      text(`blob\nmark :${mark}\n`);
      data(content);
    }
    const when = `${FIRST_COMMIT + i * WEEK} +0000`;
    const commitMark = ++mark;
    text(`commit refs/heads/main\nmark :${commitMark}\nauthor ${AUTHOR} ${when}\ncommitter ${AUTHOR} ${when}\n`);
    data(`Release ${v.version}\n\n${v.releaseNotes ?? ''}\n`);
    text('deleteall\n');
    for (const [path, m] of marks) text(`M 100644 :${m} ${path}\n`);
    text('\n');
    text(`tag ${sampleTag(v)}\nfrom :${commitMark}\ntagger ${AUTHOR} ${when}\n`);
    data(`${a.name} ${v.version}\n`);
  });
  text('done\n');
  return Buffer.concat(parts);
}

function git(args: string[], input?: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', ['-c', 'core.hooksPath=/dev/null', ...args], {
      env: { PATH: process.env.PATH, HOME: tmpdir(), GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', LC_ALL: 'C' },
      stdio: ['pipe', 'ignore', 'pipe'],
    });
    const err: Buffer[] = [];
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', (e: NodeJS.ErrnoException) =>
      reject(new AsloError('BUILD_GIT_MISSING', `The sample activities are built from git repositories, and git cannot be run: ${e.message}`)),
    );
    child.on('close', (code) =>
      code === 0 ? resolve() : reject(new AsloError('BUILD_GIT_FAILED', `git ${args[0]}: ${Buffer.concat(err).toString('utf8').trim()}`)),
    );
    child.stdin.on('error', () => {});
    child.stdin.end(input ?? null);
  });
}

/** Writes a sample's repository (a bare one) into `dir`, replacing what is there. */
export async function writeSampleRepo(a: SampleActivity, dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  await git(['init', '--quiet', '--bare', '--initial-branch=main', dir]);
  await git(['-C', dir, 'fast-import', '--quiet', '--done'], fastImportStream(a));
}

/** The bundle of one sample version, built by the store's builder from a repository made in a temporary folder. */
export async function buildSampleBundle(a: SampleActivity, v: SampleVersion, outDir: string): Promise<string> {
  const work = await mkdtemp(join(tmpdir(), 'aslo-sample-repo-'));
  try {
    const repo = join(work, `${sampleRepoName(a)}.git`);
    await writeSampleRepo(a, repo);
    return (await buildFromGit({ source: repo, ref: sampleTag(v), outDir })).path;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/**
 * The samples, when the catalog is empty (a first start). Without git, the store starts with an
 * empty catalog and says why, rather than not starting.
 */
export async function loadSampleContentIfEmpty(ctx: AppContext, progress?: SampleProgress): Promise<number> {
  if (await anyActivity(ctx.db)) return 0;
  try {
    return await loadSampleContent(ctx, progress);
  } catch (err) {
    if (!(err instanceof AsloError) || err.code !== 'BUILD_GIT_MISSING') throw err;
    progress?.(`no sample content: ${err.message}`);
    return 0;
  }
}

/**
 * Makes the samples' repositories (`<instance>/sample-sources/`), builds every tag and ingests
 * the bundles in version order, public, with their provenance; then a screenshot each. Returns
 * how many activities were loaded.
 */
export async function loadSampleContent(ctx: AppContext, progress?: SampleProgress): Promise<number> {
  const reposDir = join(ctx.config.instanceDir, 'sample-sources');
  const outDir = await mkdtemp(join(tmpdir(), 'aslo-samples-'));
  try {
    const ingest = new IngestService(ctx);
    const ids = new Set<string>();
    const total = SAMPLE_ACTIVITIES.reduce((n, a) => n + a.versions.length, 0);
    let done = 0;
    progress?.(`making ${SAMPLE_ACTIVITIES.length} sample git repositories in ${reposDir}`);
    for (const a of SAMPLE_ACTIVITIES) {
      const repo = join(reposDir, `${sampleRepoName(a)}.git`);
      await writeSampleRepo(a, repo);
      for (const v of a.versions) {
        done++;
        progress?.(`building sample ${done}/${total}: ${a.name} ${sampleTag(v)}`);
        const built: BuildResult = await buildFromGit({ source: repo, ref: sampleTag(v), outDir: join(outDir, String(done)) });
        const res = await ingest.ingestPath(built.path, {
          fileName: built.fileName,
          status: 'public',
          actorLabel: 'sample-content',
          releaseNotes: v.releaseNotes ?? null,
          builtFrom: builtFromProvenance(built.source),
        });
        // A version the catalog has with other bytes (its repository was recorded elsewhere,
        // say before the instance folder moved) is left as it is.
        if (res.outcome === 'rejected' && res.errors.length > 0 && res.errors.every((e) => e.code === 'INGEST_VERSION_EXISTS')) {
          progress?.(`${a.name} ${v.version} is already in the catalog: left as it is`);
          ids.add(a.bundleId);
          continue;
        }
        if (res.outcome === 'rejected') {
          throw new AsloError('SAMPLE_REJECTED', `Sample bundle ${built.fileName} was rejected: ${res.errors.map((e) => `${e.code} ${e.message}`).join('; ')}`);
        }
        ids.add(a.bundleId);
      }
    }
    // A screenshot each, drawn and rendered here (src/catalog/sample/screenshots.ts).
    progress?.(`rendering ${ids.size} sample screenshots`);
    await addSampleScreenshots(ctx, ids);
    return ids.size;
  } finally {
    await rm(outDir, { recursive: true, force: true });
  }
}
