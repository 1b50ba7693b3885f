// buildFromGit: a commit of an activity's git repository -> the .xo (or .xol) that Sugar's
// bundle builder (`setup.py dist_xo`) makes of it, without running anything from the repository,
// byte for byte the same on every machine, recording its source. verifyBundle: rebuild a bundle
// from the source it records and compare the bytes. See docs/building.md.
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { inflateRawSync } from 'node:zlib';
import { basename, join, resolve } from 'node:path';
import { inspectBundle, type BundleMetadata } from '../bundles/index.js';
import { parseLibraryInfo } from '../bundles/content.js';
import { IssueList } from '../bundles/errors.js';
import { parseActivityInfo } from '../bundles/info.js';
import { isPyWhitespace } from '../bundles/ini.js';
import { BuildError } from './errors.js';
import { DEFAULT_GIT_LIMITS, openSource, readCommitFiles, type GitLimits, type OpenedSource } from './git.js';
import { customSetupLine, selectFiles, Tree } from './select.js';
import { compileTranslations, type BuildWarning } from './translations.js';
import { readZipRecords, writeZip, type ZipInput } from './zip.js';
import type { BuiltFrom } from '../catalog/ingest.js';

/** The file, inside the bundle's root folder, that records where the bundle was built from. */
export const PROVENANCE_FILE = '.aslo-source.json';
/** Bumped whenever the builder's output for the same commit changes. */
export const BUILDER_ID = 'aslo-build/1';

export interface Provenance {
  builder: string;
  repository: string;
  commit: string;
  tag: string | null;
  committed_at: string;
}

/** What ingest records of a bundle this builder made (the activity page's "Built from" line). */
export function builtFromProvenance(p: Provenance): BuiltFrom {
  return { repository: p.repository, commit: p.commit, tag: p.tag, builder: BUILDER_ID, committedAt: p.committed_at };
}

export interface BuildOptions {
  /** A local repository path or an https://, http://, git:// or file:// URL. */
  source: string;
  /** A tag, branch or commit (default: HEAD). */
  ref?: string | null;
  /** Where the bundle is written (created if missing). */
  outDir: string;
  /** The repository URL to record instead of `source` (e.g. the public URL of a local mirror). */
  sourceUrl?: string;
  limits?: Partial<GitLimits>;
  /** Called with each line of the build log as it is written. */
  onLog?: (line: string) => void;
}

export interface BuildResult {
  path: string;
  fileName: string;
  kind: 'activity' | 'content';
  bytes: number;
  sha256: string;
  metadata: BundleMetadata;
  source: Provenance;
  /** Zip entry names in order. */
  entries: string[];
  warnings: BuildWarning[];
  /** Validator warnings (src/bundles), as the ingest step will see them. */
  bundleWarnings: { code: string; message: string; file: string | null }[];
  log: string[];
}

interface Built {
  bytes: Buffer;
  fileName: string;
  kind: 'activity' | 'content';
  provenance: Provenance;
  entries: string[];
  warnings: BuildWarning[];
}

function bundleName(name: string): string {
  return [...name].filter((ch) => !isPyWhitespace(ch)).join('');
}

/** Builds the bundle bytes of an opened source (no validation, nothing written). */
async function buildBytes(src: OpenedSource, limits: GitLimits, recordAs: string, log: (s: string) => void): Promise<Built> {
  const warnings: BuildWarning[] = [];
  // One `git cat-file --batch` (the source's) reads the commit, its trees and every file; the
  // size limit is checked as the bytes arrive.
  const { entries, blobs } = await readCommitFiles(src.objects, src.commit);
  const total = entries.reduce((n, e) => n + e.size, 0);
  if (total > limits.maxBytes) throw new BuildError('BUILD_GIT_TOO_LARGE', `the commit's files add up to ${total} bytes, over the limit of ${limits.maxBytes}`);
  const tree = new Tree(entries, blobs);
  log(`files: ${entries.length} in the commit (${total} bytes)`);

  const fileAt = (path: string) => {
    const r = tree.resolve(path);
    return r && r.kind === 'file' ? r.entry : null;
  };
  const infoEntry = fileAt('activity/activity.info');
  const libraryEntry = infoEntry ? null : fileAt('library/library.info');
  if (!infoEntry && !libraryEntry)
    throw new BuildError('BUILD_NO_INFO', 'the commit has no activity/activity.info (nor library/library.info for a content bundle)');
  const kind = infoEntry ? 'activity' : 'content';
  const infoPath = infoEntry ? 'activity/activity.info' : 'library/library.info';
  const infoBytes = blobs.get((infoEntry ?? libraryEntry)!.sha)!;
  const issues = new IssueList();
  const info = kind === 'activity' ? parseActivityInfo(infoBytes, infoPath, issues) : parseLibraryInfo(infoBytes, infoPath, issues);
  if (!info || issues.hasErrors || !info.name || !info.bundle_id) {
    const list = issues.errors.map((i) => `${i.code}: ${i.message}${i.line ? ` (line ${i.line})` : ''}`);
    throw new BuildError('BUILD_INFO_INVALID', `${infoPath} is not valid: ${list.join('; ') || 'name or id missing'}`, { issues: issues.errors });
  }
  const name = bundleName(info.name);
  const root = kind === 'activity' ? `${name}.activity` : name;
  const fileName = `${name}-${info.version}.${kind === 'activity' ? 'xo' : 'xol'}`;
  log(`${kind} ${info.bundle_id} version ${info.version}: ${root}/ -> ${fileName}`);

  const setup = fileAt('setup.py');
  if (setup) {
    const text = blobs.get(setup.sha)!.toString('utf8');
    const odd = customSetupLine(text);
    if (odd) {
      warnings.push({
        code: 'BUILD_SETUP_PY_CUSTOM',
        message: `setup.py does more than start Sugar's bundle builder (line ${odd.line}: ${odd.text}); it is not run, so the store's build may differ from \`setup.py dist_xo\``,
        file: 'setup.py',
      });
    }
  }
  const attributes = entries.find((e) => e.path === '.gitattributes' || e.path.endsWith('/.gitattributes'));
  if (attributes) {
    warnings.push({
      code: 'BUILD_GITATTRIBUTES',
      message: `${attributes.path}: the store ships the committed bytes; a checkout may differ where it sets eol or filters`,
      file: attributes.path,
    });
  }

  const hasPo = kind === 'activity' && tree.dirs.has('po');
  const selection = selectFiles(tree, hasPo, warnings, kind);
  if (selection.files.some((f) => f.path === PROVENANCE_FILE)) {
    throw new BuildError(
      'BUILD_PROVENANCE_CONFLICT',
      `the repository has a file named ${PROVENANCE_FILE}, the name the store gives its record of a bundle's source`,
    );
  }
  log(
    `shipped: ${selection.files.length} file(s); left out by the builder's rules: ${selection.ignored.length}${selection.ignored.length ? ` (${selection.ignored.slice(0, 5).join(', ')}${selection.ignored.length > 5 ? ', ...' : ''})` : ''}`,
  );

  // Translations: top-level po/*.po except pseudo.po, in name order.
  const poFiles: { lang: string; path: string; sha: string }[] = [];
  if (hasPo) {
    const names = [...tree.byPath.keys()]
      .filter((p) => /^po\/[^/]*\.po$/.test(p) && p !== 'po/pseudo.po')
      .sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    for (const p of names) {
      const lang = p.slice(3, -3);
      if (lang === '' || lang.startsWith('.')) throw new BuildError('BUILD_PO_BAD_NAME', `${p}: not a language name`, { file: p });
      const e = fileAt(p);
      if (!e) continue;
      poFiles.push({ lang, path: p, sha: e.sha });
    }
  }
  const summary = 'summary' in info ? info.summary : null;
  const languages =
    kind === 'activity'
      ? compileTranslations({ poFiles: poFiles.map((p) => ({ lang: p.lang, path: p.path, bytes: blobs.get(p.sha)! })), name: info.name, summary }, warnings)
      : [];
  if (hasPo) log(`translations: ${languages.length} language(s) compiled from ${poFiles.length} PO file(s)`);

  const zipEntries: ZipInput[] = selection.files.map((f) => ({ name: `${root}/${f.path}`, data: f.sha ? blobs.get(f.sha)! : undefined, mode: f.mode }));
  for (const l of [...languages].sort((a, b) => Buffer.compare(Buffer.from(a.lang), Buffer.from(b.lang)))) {
    zipEntries.push({ name: `${root}/locale/${l.lang}/activity.linfo`, data: l.linfo, mode: 0o100644 });
    zipEntries.push({ name: `${root}/locale/${l.lang}/LC_MESSAGES/${info.bundle_id}.mo`, data: l.mo, mode: 0o100644 });
  }
  const provenance: Provenance = {
    builder: BUILDER_ID,
    repository: recordAs,
    commit: src.commit,
    tag: src.tag,
    committed_at: new Date(src.committedAt * 1000).toISOString().replace('.000Z', 'Z'),
  };
  zipEntries.push({ name: `${root}/${PROVENANCE_FILE}`, data: Buffer.from(JSON.stringify(provenance, null, 2) + '\n', 'utf8'), mode: 0o100644 });
  for (const w of warnings) log(`warning ${w.code}: ${w.message}`);
  return { bytes: writeZip(zipEntries, src.committedAt), fileName, kind, provenance, entries: zipEntries.map((e) => e.name), warnings };
}

function limitsOf(opts: { limits?: Partial<GitLimits> }): GitLimits {
  return { ...DEFAULT_GIT_LIMITS, ...opts.limits };
}

/**
 * Builds the bundle of one commit into outDir and validates it with the store's own validator
 * (inspectBundle). Throws a BuildError (stable code) when the commit cannot be built or the
 * result would be refused at upload.
 */
export async function buildFromGit(opts: BuildOptions): Promise<BuildResult> {
  const lines: string[] = [];
  const log = (s: string) => {
    lines.push(s);
    opts.onLog?.(s);
  };
  const limits = limitsOf(opts);
  log(`source: ${opts.source}${opts.ref ? ` at ${opts.ref}` : ''}`);
  const src = await openSource(opts.source, opts.ref ?? null, limits);
  try {
    log(`commit: ${src.commit}${src.tag ? ` (tag ${src.tag})` : ''}, committed ${new Date(src.committedAt * 1000).toISOString()}`);
    const built = await buildBytes(src, limits, opts.sourceUrl ?? src.repository, log);
    const outDir = resolve(opts.outDir);
    await mkdir(outDir, { recursive: true });
    const finalPath = join(outDir, built.fileName);
    const tmpPath = join(outDir, `.${built.fileName}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
    await writeFile(tmpPath, built.bytes);
    try {
      // Every structural, metadata and hostile-input check of the upload path. Inflating each
      // entry again to check its CRC (verifyData) is skipped: this process just computed those
      // CRCs from the same bytes; the ingest step runs the full check anyway.
      const inspected = await inspectBundle(tmpPath, { fileName: built.fileName, verifyData: false });
      if (!inspected.ok || !inspected.metadata) {
        const list = inspected.errors.map((i) => `${i.code}: ${i.message}${i.file ? ` (${i.file})` : ''}`);
        throw new BuildError('BUILD_VALIDATION_FAILED', `the built bundle would be refused at upload: ${list.join('; ')}`, { errors: inspected.errors });
      }
      await rename(tmpPath, finalPath);
      const sha256 = createHash('sha256').update(built.bytes).digest('hex');
      log(`wrote ${finalPath} (${built.bytes.length} bytes, ${built.entries.length} entries, sha256 ${sha256})`);
      return {
        path: finalPath,
        fileName: built.fileName,
        kind: built.kind,
        bytes: built.bytes.length,
        sha256,
        metadata: inspected.metadata,
        source: built.provenance,
        entries: built.entries,
        warnings: built.warnings,
        bundleWarnings: inspected.warnings.map((w) => ({ code: w.code, message: w.message, file: w.file })),
        log: lines,
      };
    } finally {
      await rm(tmpPath, { force: true });
    }
  } finally {
    await src.close();
  }
}

/** The provenance record of a bundle this builder made, or null when it has none. */
export function readProvenance(bundle: Buffer): Provenance | null {
  const records = readZipRecords(bundle);
  if (!records) throw new BuildError('BUILD_VERIFY_UNREADABLE', 'not a zip archive');
  const rec = records.find((r) => r.name.split('/').length === 2 && r.name.endsWith(`/${PROVENANCE_FILE}`));
  if (!rec) return null;
  const method = rec.local.readUInt16LE(8);
  const nameLen = rec.local.readUInt16LE(26);
  const extraLen = rec.local.readUInt16LE(28);
  const raw = rec.local.subarray(30 + nameLen + extraLen);
  let text: string;
  try {
    text = (method === 8 ? Buffer.from(inflateRawSync(raw)) : raw).toString('utf8');
    const p = JSON.parse(text) as Provenance;
    if (typeof p.repository !== 'string' || typeof p.commit !== 'string') return null;
    return p;
  } catch {
    throw new BuildError('BUILD_VERIFY_UNREADABLE', `${rec.name} cannot be read`);
  }
}

export interface VerifyResult {
  match: boolean;
  source: Provenance;
  /** The rebuilt bundle's name and size. */
  rebuiltFileName: string;
  rebuiltBytes: number;
  /** When the bytes differ: the first entry that differs (or "(end of archive)"), and how. */
  firstDifference: { entry: string; what: string } | null;
  warnings: string[];
  log: string[];
}

/**
 * Rebuilds a bundle from the repository and commit it records and compares the bytes.
 * `sourceOverride` reads the commit from another place (a local mirror) while the recorded
 * repository URL is kept for the comparison.
 */
export async function verifyBundle(
  file: string,
  opts: { sourceOverride?: string; limits?: Partial<GitLimits>; onLog?: (line: string) => void } = {},
): Promise<VerifyResult> {
  const lines: string[] = [];
  const log = (s: string) => {
    lines.push(s);
    opts.onLog?.(s);
  };
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (err) {
    throw new BuildError('BUILD_VERIFY_UNREADABLE', `${file}: ${(err as Error).message}`);
  }
  const prov = readProvenance(bytes);
  if (!prov) throw new BuildError('BUILD_VERIFY_NO_SOURCE', `${basename(file)} records no source (${PROVENANCE_FILE}): it was not built by the store`);
  const warnings: string[] = [];
  if (prov.builder !== BUILDER_ID) warnings.push(`the bundle was made by ${prov.builder}; this is ${BUILDER_ID}, whose output may differ`);
  const limits = limitsOf(opts);
  const from = opts.sourceOverride ?? prov.repository;
  log(`rebuilding ${prov.repository} at ${prov.commit}${prov.tag ? ` (tag ${prov.tag})` : ''}${from !== prov.repository ? ` from ${from}` : ''}`);
  let src: OpenedSource;
  try {
    src = await openSource(from, prov.tag ?? prov.commit, limits);
  } catch (err) {
    if (!(err instanceof BuildError && err.code === 'BUILD_REF_NOT_FOUND' && prov.tag)) throw err;
    warnings.push(`tag ${prov.tag} is gone from the repository; rebuilding the recorded commit`);
    src = await openSource(from, prov.commit, limits);
  }
  try {
    if (src.commit !== prov.commit) {
      warnings.push(`tag ${prov.tag} now points at ${src.commit}, not at the recorded ${prov.commit}`);
      await src.close();
      src = await openSource(from, prov.commit, limits);
    }
    const rebuilt = await buildBytes({ ...src, tag: prov.tag }, limits, prov.repository, log);
    const diff = rebuilt.bytes.equals(bytes) ? null : firstDifference(bytes, rebuilt.bytes);
    return {
      match: diff === null,
      source: prov,
      rebuiltFileName: rebuilt.fileName,
      rebuiltBytes: rebuilt.bytes.length,
      firstDifference: diff,
      warnings,
      log: lines,
    };
  } finally {
    await src.close();
  }
}

/** Where two archives first differ, entry by entry (local header + data, then central record). */
export function firstDifference(a: Buffer, b: Buffer): { entry: string; what: string } {
  const ra = readZipRecords(a);
  const rb = readZipRecords(b);
  if (!ra || !rb) return { entry: '(whole file)', what: 'not a readable zip archive' };
  for (let i = 0; i < Math.max(ra.length, rb.length); i++) {
    const x = ra[i];
    const y = rb[i];
    if (!x) return { entry: y!.name, what: 'missing from the bundle (present in the rebuild)' };
    if (!y) return { entry: x.name, what: 'not in the rebuild' };
    if (x.name !== y.name) return { entry: x.name, what: `the rebuild has ${y.name} at this position` };
    if (!x.local.equals(y.local)) {
      const crcA = x.central.readUInt32LE(16);
      const crcB = y.central.readUInt32LE(16);
      return { entry: x.name, what: crcA !== crcB ? 'content differs' : 'header or compressed bytes differ' };
    }
    if (!x.central.equals(y.central)) return { entry: x.name, what: 'central directory record differs' };
  }
  return { entry: '(end of archive)', what: 'the archives differ after their entries' };
}
