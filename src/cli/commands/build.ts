// `aslo build`: build a .xo/.xol from a git repository without running anything from it, or
// check (--verify) that a bundle is what its recorded source builds to. No database.
import { Command } from 'commander';
import { existsSync } from 'node:fs';
import { buildFromGit, verifyBundle } from '../../build/index.js';
import { EXIT_FAILED, EXIT_OK, UsageError, say, warn, withCommon } from '../common.js';

interface BuildCliOptions {
  ref?: string;
  out?: string;
  verify?: string;
  sourceUrl?: string;
  from?: string;
  json?: boolean;
  quiet?: boolean;
}

export function registerBuild(program: Command): void {
  withCommon(program.command('build'))
    .description(
      "build a .xo (or .xol) bundle from a git repository the way Sugar's bundle builder does, reproducibly; or --verify a bundle against its recorded source",
    )
    .argument('[source]', 'local repository path or https://, http://, git://, file:// URL (with --verify: a copy to read the recorded commit from)')
    .option('--ref <ref>', 'tag, branch or commit to build (default: HEAD)')
    .option('--out <dir>', 'folder to write the bundle to (default: the current folder)')
    .option('--verify <file>', 'rebuild FILE from the source it records and compare the bytes (exit 0 match, 1 mismatch)')
    .option('--source-url <url>', 'repository URL to record in the bundle instead of SOURCE (e.g. the public URL of a local mirror)')
    .option('--json', 'print the result as JSON')
    .option('--quiet', 'do not print the build log')
    .action(async (source: string | undefined, opts: BuildCliOptions) => {
      const onLog = opts.quiet || opts.json ? undefined : (line: string) => warn(line);
      if (opts.verify) {
        if (opts.ref || opts.out) throw new UsageError('--verify takes no --ref or --out: the bundle records its source');
        if (!existsSync(opts.verify)) throw new UsageError(`${opts.verify}: no such file`);
        const r = await verifyBundle(opts.verify, { sourceOverride: source, onLog });
        for (const w of r.warnings) warn(`warning: ${w}`);
        if (opts.json)
          say(
            JSON.stringify(
              {
                match: r.match,
                source: r.source,
                firstDifference: r.firstDifference,
                rebuilt: { fileName: r.rebuiltFileName, bytes: r.rebuiltBytes },
                warnings: r.warnings,
              },
              null,
              2,
            ),
          );
        else if (r.match) say(`${opts.verify}: bytes match ${r.source.repository} at ${r.source.commit}${r.source.tag ? ` (tag ${r.source.tag})` : ''}`);
        else
          say(
            `${opts.verify}: MISMATCH with ${r.source.repository} at ${r.source.commit}: first differing entry ${r.firstDifference!.entry} (${r.firstDifference!.what})`,
          );
        process.exitCode = r.match ? EXIT_OK : EXIT_FAILED;
        return;
      }
      if (!source) throw new UsageError('give a repository path or URL (or --verify FILE)');
      const r = await buildFromGit({ source, ref: opts.ref ?? null, outDir: opts.out ?? process.cwd(), sourceUrl: opts.sourceUrl, onLog });
      if (opts.json) {
        say(
          JSON.stringify(
            {
              path: r.path,
              fileName: r.fileName,
              kind: r.kind,
              bytes: r.bytes,
              sha256: r.sha256,
              bundle_id: r.metadata.bundle_id,
              version: r.metadata.version,
              source: r.source,
              warnings: r.warnings,
              bundleWarnings: r.bundleWarnings,
            },
            null,
            2,
          ),
        );
      } else say(r.path);
      process.exitCode = EXIT_OK;
    });
}
