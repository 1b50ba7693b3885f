// `aslo import-git LIST_FILE|URL... [--all-tags | --since-version N] [--status public] [--legacy-id N]`:
// build repositories' tags into the catalog (src/build/import.ts, docs/building.md). The body
// (runImportGit) takes the app context, so it runs wherever the context comes from.
import { Command } from 'commander';
import { EXIT_FAILED, EXIT_OK, UsageError, absPath, runsThroughStore, say, setExitCode, warn, withCommon, withContext } from '../common.js';
import type { AppContext } from '../../platform/context.js';
import { isUrl } from '../../build/git.js';
import { expandSources, importGit, type ImportSummary, type TagSelection } from '../../build/import.js';

export interface ImportGitCliOptions {
  allTags?: boolean;
  sinceVersion?: string;
  status?: string;
  legacyId?: string;
}

/** Checks the options and names the repositories; throws UsageError on bad input. */
export function parseImportGitArgs(
  args: string[],
  opts: ImportGitCliOptions,
): { repositories: string[]; select: TagSelection; status: 'sandbox' | 'public'; legacyId?: number } {
  if (opts.allTags && opts.sinceVersion !== undefined) throw new UsageError('give --all-tags or --since-version, not both');
  const status = opts.status ?? 'sandbox';
  if (status !== 'sandbox' && status !== 'public') throw new UsageError('--status must be sandbox or public');
  if (opts.sinceVersion !== undefined && !/\d/.test(opts.sinceVersion)) throw new UsageError('--since-version takes a version number, like 12 or 3.1');
  let legacyId: number | undefined;
  if (opts.legacyId !== undefined) {
    if (!/^[1-9]\d{0,8}$/.test(opts.legacyId)) throw new UsageError('--legacy-id takes a positive whole number');
    legacyId = Number(opts.legacyId);
  }
  const repositories = expandSources(args);
  if (repositories.length === 0) throw new UsageError('no repositories in the given lists or folders');
  if (legacyId !== undefined && repositories.length !== 1) throw new UsageError('--legacy-id names the old id of one activity: give one repository');
  const select: TagSelection = opts.allTags
    ? { kind: 'all' }
    : opts.sinceVersion !== undefined
      ? { kind: 'since', version: opts.sinceVersion }
      : { kind: 'newest' };
  return { repositories, select, status, legacyId };
}

/** The summary table: one line per ref, then the counts. */
export function formatSummary(s: ImportSummary): string[] {
  const header = ['repository', 'ref', 'version', 'outcome', 'codes'];
  const lines = s.rows.map((r) => [
    r.repository,
    r.ref ?? '-',
    r.version ? `${r.bundleId} ${r.version}` : '-',
    r.outcome + (r.fileStatus && r.outcome !== 'refused' ? ` (${r.fileStatus})` : ''),
    r.codes.join(',') || '-',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const fmt = (cols: string[]) => cols.map((c, i) => (i === cols.length - 1 ? c : c.padEnd(widths[i]))).join('  ');
  const out = [fmt(header), ...lines.map(fmt)];
  for (const r of s.rows) if (r.outcome === 'refused' && r.message) out.push(`  ${r.repository} ${r.ref ?? ''}: ${r.message}`);
  out.push(`Summary: ${s.built} built, ${s.unchanged} unchanged, ${s.refused} refused (of ${s.rows.length}).`);
  return out;
}

export interface CommandIo {
  /** A line of the result (stdout). */
  out(line: string): void;
  /** A line of progress (stderr). */
  err(line: string): void;
}

/**
 * The command's work, given the app context (however it was opened): progress to io.err, the
 * table to io.out; returns the exit status.
 */
export async function runImportGit(ctx: AppContext, args: string[], opts: ImportGitCliOptions, io: CommandIo = { out: say, err: warn }): Promise<number> {
  const p = parseImportGitArgs(args, opts);
  const summary = await importGit(ctx, { ...p, actorLabel: 'cli:import-git', onProgress: (line) => io.err(line) });
  for (const line of formatSummary(summary)) io.out(line);
  return summary.refused > 0 ? EXIT_FAILED : EXIT_OK;
}

export function registerImportGit(program: Command): void {
  // Beside a store on the embedded database it runs inside that store (src/cli/control.ts).
  runsThroughStore(withCommon(program.command('import-git')))
    .description(
      'build git repositories (their newest tag, chosen tags, or HEAD without tags) and ingest the bundles in version order; re-running builds only new commits',
    )
    .argument('<sources...>', 'repository URLs or paths, files listing them (one a line), or folders of repositories')
    .option('--all-tags', 'build every tag')
    .option('--since-version <n>', 'build the tags whose version is N or newer')
    .option('--status <status>', 'status of new activities and their files: sandbox (default) or public', 'sandbox')
    .option('--legacy-id <n>', "the old store's numeric id of the activity (one repository)")
    .action(async (given: string[], opts: ImportGitCliOptions, cmd: Command) => {
      // Paths against the caller's folder, also when the command runs inside the store.
      const sources = given.map((s) => (isUrl(s) ? s : absPath(s)));
      parseImportGitArgs(sources, opts); // usage errors before opening the instance
      setExitCode(await withContext(cmd, (ctx) => runImportGit(ctx, sources, opts)));
    });
}
