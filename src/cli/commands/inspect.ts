import { Command } from 'commander';
import { existsSync } from 'node:fs';
import { inspectBundle, type InspectResult } from '../../bundles/index.js';
import { EXIT_FAILED, EXIT_OK, UsageError, say, withCommon } from '../common.js';

export function registerInspect(program: Command): void {
  withCommon(program.command('inspect'))
    .description('validate a .xo or .xol bundle and print its metadata, errors and warnings')
    .argument('<file>', 'bundle to inspect')
    .option('--json', 'print the result as JSON')
    .action(async (file: string, opts: { json?: boolean }) => {
      if (!existsSync(file)) throw new UsageError(`${file}: no such file`);
      const result = await inspectBundle(file);
      if (opts.json) say(JSON.stringify(toJson(result), null, 2));
      else printHuman(file, result);
      process.exitCode = result.ok ? EXIT_OK : EXIT_FAILED;
    });
}

function toJson(r: InspectResult) {
  const m = r.metadata;
  return {
    ok: r.ok,
    kind: r.kind,
    metadata: m
      ? {
          bundle_id: m.bundle_id,
          name: m.name,
          version: m.version,
          exec: m.exec,
          runtime: m.runtime,
          icon: m.icon,
          license: m.license,
          summary: m.summary,
          description: m.description,
          tags: m.tags,
          locales: m.locales,
          version_normalized: m.version_normalized,
          mime_types: m.mime_types,
          max_participants: m.max_participants,
          url: m.url,
          repository: m.repository,
          root: m.root,
          ...(m.activity_start ? { activity_start: m.activity_start } : {}),
        }
      : null,
    errors: r.errors,
    warnings: r.warnings,
  };
}

function printHuman(file: string, r: InspectResult): void {
  say(`${file}: ${r.ok ? 'accepted' : 'REJECTED'} (${r.kind} bundle)`);
  const m = r.metadata;
  if (m) {
    say(`  bundle id  ${m.bundle_id}`);
    say(`  name       ${m.name}`);
    say(`  version    ${m.version}`);
    say(`  runtime    ${m.runtime}${m.exec ? ` (exec: ${m.exec})` : ''}`);
    if (m.license.length) say(`  license    ${m.license.join(', ')}`);
    if (m.summary) say(`  summary    ${m.summary}`);
    if (m.tags.length) say(`  tags       ${m.tags.join(', ')}`);
    const locales = Object.keys(m.locales);
    if (locales.length) say(`  locales    ${locales.length}: ${locales.sort().join(' ')}`);
  }
  const where = (i: { file: string | null; line: number | null }) => (i.file ? ` (${i.file}${i.line ? `:${i.line}` : ''})` : '');
  for (const e of r.errors) say(`  error   ${e.code}: ${e.message}${where(e)}`);
  for (const w of r.warnings) say(`  warning ${w.code}: ${w.message}${where(w)}`);
}
