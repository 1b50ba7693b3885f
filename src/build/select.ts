// Which files of a commit go into the bundle: Sugar's bundle builder's rules (gtk3 toolkit,
// `git ls-files` filtered), applied to `git ls-tree -r` of the commit. See docs/building.md.
import { pyStrip } from '../bundles/ini.js';
import { BuildError } from './errors.js';
import type { TreeEntry } from './git.js';
import type { BuildWarning } from './translations.js';

/** Top-level folders the builder leaves out. */
export const IGNORED_TOP_DIRS = ['dist/', '.git/', 'screenshots/'];
/** Patterns matched against the whole path (`*` crosses `/`), as the builder's fnmatch does. */
export const IGNORED_PATTERNS = ['.gitignore', 'MANIFEST', '*.pyc', '*~', '*.bak', 'pseudo.po'];

export function isIgnored(path: string): boolean {
  if (IGNORED_TOP_DIRS.some((d) => path.startsWith(d))) return true;
  return IGNORED_PATTERNS.some((p) => (p.startsWith('*') ? path.endsWith(p.slice(1)) : path === p));
}

export interface SelectedFile {
  /** Path inside the bundle root. */
  path: string;
  /** Blob to ship (a symlink's final target), or null for a directory entry. */
  sha: string | null;
  mode: number;
}

export type Resolved = { kind: 'file'; entry: TreeEntry } | { kind: 'dir' };

/** The commit's tree with its symlinks followed, the way the file system of a checkout follows them. */
export class Tree {
  readonly byPath = new Map<string, TreeEntry>();
  readonly dirs = new Set<string>(['']);

  constructor(
    readonly entries: TreeEntry[],
    private readonly linkTargets: Map<string, Buffer>,
  ) {
    for (const e of entries) {
      this.byPath.set(e.path, e);
      const segs = e.path.split('/');
      for (let i = 1; i < segs.length; i++) this.dirs.add(segs.slice(0, i).join('/'));
    }
  }

  /**
   * Resolves a path inside the commit, following symbolic links. Throws BUILD_SYMLINK_OUTSIDE
   * for a link that leaves the repository (absolute, or `..` above the top) and
   * BUILD_SYMLINK_DANGLING for a link to nothing the commit holds (or a loop).
   */
  resolve(path: string, linkName = path): Resolved | null {
    const cur: string[] = [];
    let queue = path.split('/');
    let hops = 0;
    let followed = false;
    while (queue.length > 0) {
      const seg = queue.shift()!;
      if (seg === '' || seg === '.') continue;
      if (seg === '..') {
        if (cur.length === 0)
          throw new BuildError('BUILD_SYMLINK_OUTSIDE', `${linkName} is a symbolic link that points outside the repository`, { file: linkName });
        cur.pop();
        continue;
      }
      const candidate = [...cur, seg].join('/');
      const e = this.byPath.get(candidate);
      if (e && e.mode === '120000') {
        if (++hops > 40) throw new BuildError('BUILD_SYMLINK_DANGLING', `${linkName} is a symbolic link loop`, { file: linkName });
        const target = this.linkTargets.get(e.sha)?.toString('utf8') ?? '';
        if (target.startsWith('/') || /^[A-Za-z]:[\\/]/.test(target)) {
          throw new BuildError('BUILD_SYMLINK_OUTSIDE', `${linkName} is a symbolic link to an absolute path (${target})`, { file: linkName });
        }
        followed = true;
        queue = [...target.split('/'), ...queue];
        continue;
      }
      if (e) {
        if (queue.some((s) => s !== '' && s !== '.')) return followed ? dangling(linkName) : null;
        cur.push(seg);
        continue;
      }
      if (this.dirs.has(candidate)) {
        cur.push(seg);
        continue;
      }
      return followed ? dangling(linkName) : null;
    }
    const final = cur.join('/');
    const e = this.byPath.get(final);
    if (e && e.type === 'blob') return { kind: 'file', entry: e };
    return { kind: 'dir' };
  }
}

function dangling(linkName: string): never {
  throw new BuildError('BUILD_SYMLINK_DANGLING', `${linkName} is a symbolic link to a file the commit does not hold (the real builder crashes)`, {
    file: linkName,
  });
}

export function gitMode(mode: string): number {
  return mode === '100755' ? 0o100755 : 0o100644;
}

export interface Selection {
  files: SelectedFile[];
  /** Paths left out by the ignore rules. */
  ignored: string[];
  /** Tracked locale/ files left out because po/ regenerates locale/. */
  trackedLocale: string[];
}

/**
 * The git part of the bundle, in the builder's order (byte order of the paths). `hasPo`: the
 * commit has a po/ folder, so the builder regenerates locale/ (tracked locale files are then
 * dropped: the real builder would zip them twice, or crash on the ones no PO file recreates).
 * A content bundle's locale/ folder is content like any other.
 */
export function selectFiles(tree: Tree, hasPo: boolean, warnings: BuildWarning[], kind: 'activity' | 'content' = 'activity'): Selection {
  const sorted = [...tree.entries].sort((a, b) => Buffer.compare(Buffer.from(a.path, 'utf8'), Buffer.from(b.path, 'utf8')));
  const files: SelectedFile[] = [];
  const ignored: string[] = [];
  const trackedLocale: string[] = [];
  for (const e of sorted) {
    if (pyStrip(e.path) !== e.path) {
      throw new BuildError(
        'BUILD_PATH_WHITESPACE',
        `${JSON.stringify(e.path)} starts or ends with white space (the real builder strips it and crashes); rename the file`,
        { file: e.path },
      );
    }
    if (isIgnored(e.path)) {
      ignored.push(e.path);
      continue;
    }
    if (kind === 'activity' && e.path.startsWith('locale/')) {
      trackedLocale.push(e.path);
      if (hasPo) continue;
    }
    if (e.type === 'commit') {
      throw new BuildError('BUILD_SUBMODULE', `${e.path} is a git submodule; the store builds from one repository (vendor the files, or drop the submodule)`, {
        file: e.path,
      });
    }
    if (e.mode === '120000') {
      const r = tree.resolve(e.path);
      if (!r) dangling(e.path);
      if (r.kind === 'dir') files.push({ path: `${e.path}/`, sha: null, mode: 0o40755 });
      else files.push({ path: e.path, sha: r.entry.sha, mode: gitMode(r.entry.mode) });
      continue;
    }
    files.push({ path: e.path, sha: e.sha, mode: gitMode(e.mode) });
  }
  if (trackedLocale.length > 0) {
    warnings.push({
      code: 'BUILD_TRACKED_LOCALE',
      message: hasPo
        ? `${trackedLocale.length} tracked file(s) under locale/ left out: locale/ is generated from po/ (the real builder zips such files twice, or crashes on those no PO file recreates)`
        : `${trackedLocale.length} tracked file(s) under locale/ shipped once as committed (the real builder zips them twice)`,
      file: null,
    });
  }
  return { files, ignored, trackedLocale };
}

const STANDARD_SETUP_LINE = [
  /^from\s+sugar3?\.activity\s+import\s+bundlebuilder(\s+as\s+bundlebuilder)?$/,
  /^import\s+sugar3?\.activity\.bundlebuilder\s+as\s+bundlebuilder$/,
  /^from\s+sugar3?\.activity\.bundlebuilder\s+import\s+start$/,
  /^(bundlebuilder\.)?start\(\s*(('[^'\\]*'|"[^"\\]*")\s*)?\)$/,
  /^if\s+__name__\s*==\s*(['"])__main__\1\s*:$/,
  /^import\s+(os|sys)$/,
];

/**
 * null when setup.py only starts the standard builder (imports, `bundlebuilder.start()`,
 * comments, docstrings, a `__main__` guard), else the first line that does something else.
 */
export function customSetupLine(text: string): { line: number; text: string } | null {
  const lines = text.split(/\r?\n/);
  let inDoc: string | null = null;
  for (let i = 0; i < lines.length; i++) {
    let s = lines[i].trim();
    if (inDoc) {
      if (s.includes(inDoc)) inDoc = null;
      continue;
    }
    if (s === '' || s.startsWith('#')) continue;
    const doc = /^[rRuU]?("""|''')/.exec(s);
    if (doc) {
      const rest = s.slice(doc[0].length);
      if (!rest.includes(doc[1])) inDoc = doc[1];
      continue;
    }
    s = s.replace(/\s+#.*$/, '');
    if (!STANDARD_SETUP_LINE.some((re) => re.test(s))) return { line: i + 1, text: lines[i].trim() };
  }
  return null;
}
