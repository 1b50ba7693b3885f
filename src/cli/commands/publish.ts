// `aslo publish FILE.xo --server URL`: upload a bundle to a store with a personal API token
// (ASLO_TOKEN), like `npm publish` or `ovsx publish`. Streams the file, shows the server's
// progress events, then prints the validation result and the resulting status.
import { Command } from 'commander';
import { createReadStream, statSync } from 'node:fs';
import { basename } from 'node:path';
import http from 'node:http';
import https from 'node:https';
import { EXIT_FAILED, EXIT_OK, UsageError, say, warn } from '../common.js';

interface Issue {
  code: string;
  message: string;
  file: string | null;
  line: number | null;
}

function where(i: Issue): string {
  return i.file ? ` (${i.file}${i.line ? `:${i.line}` : ''})` : '';
}

export function registerPublish(program: Command): void {
  program
    .command('publish')
    .description('upload a bundle to an aslo store with the API token in ASLO_TOKEN (scope: publish)')
    .argument('<file>', 'the .xo or .xol bundle')
    .option('--server <url>', 'the store (env ASLO_SERVER), e.g. https://activities.example.org')
    .option('--sugar-min <version>', 'lowest Sugar version this version supports')
    .option('--sugar-max <version>', 'highest Sugar version this version supports')
    .option('--release-notes <text>', 'what changed in this version')
    .option('--json', 'print the server\'s result as JSON')
    .action(async (file: string, opts: { server?: string; sugarMin?: string; sugarMax?: string; releaseNotes?: string; json?: boolean }) => {
      const token = process.env.ASLO_TOKEN;
      if (!token) throw new UsageError('set ASLO_TOKEN to a personal API token with the publish scope (create one in your account settings on the store)');
      const server = opts.server ?? process.env.ASLO_SERVER;
      if (!server) throw new UsageError('give the store with --server URL (or ASLO_SERVER)');
      let base: URL;
      try {
        base = new URL(server);
      } catch {
        throw new UsageError(`--server ${server} is not a URL`);
      }
      let size: number;
      try {
        size = statSync(file).size;
      } catch {
        throw new UsageError(`${file}: no such file`);
      }
      const url = new URL('/api/v1/uploads', base);
      url.searchParams.set('filename', basename(file));
      if (opts.sugarMin) url.searchParams.set('sugar_min', opts.sugarMin);
      if (opts.sugarMax) url.searchParams.set('sugar_max', opts.sugarMax);
      if (opts.releaseNotes) url.searchParams.set('release_notes', opts.releaseNotes);
      const client = url.protocol === 'https:' ? https : http;
      const showProgress = !opts.json;
      const result = await new Promise<Record<string, unknown>>((resolve, reject) => {
        const req = client.request(url, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream', 'content-length': size, accept: 'application/x-ndjson, application/json' },
        });
        req.on('error', (err) => reject(new Error(`cannot reach ${base.origin}: ${err.message}`)));
        req.on('response', (res) => {
          let buf = '';
          let last: Record<string, unknown> | null = null;
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            buf += chunk;
            let nl: number;
            while ((nl = buf.indexOf('\n')) >= 0) {
              const lineText = buf.slice(0, nl).trim();
              buf = buf.slice(nl + 1);
              if (!lineText) continue;
              let ev: Record<string, unknown>;
              try {
                ev = JSON.parse(lineText) as Record<string, unknown>;
              } catch {
                continue;
              }
              if (ev.event === 'progress') {
                if (showProgress && typeof ev.received === 'number') {
                  const pct = size ? Math.floor((ev.received / size) * 100) : 0;
                  process.stderr.write(`\ruploaded ${ev.received} of ${size} bytes (${pct}%)${ev.done ? ', validating...' : ''}`);
                }
              } else {
                last = ev;
              }
            }
          });
          res.on('end', () => {
            if (showProgress) process.stderr.write('\n');
            if (!last && buf.trim()) {
              try {
                last = JSON.parse(buf) as Record<string, unknown>;
              } catch {
                last = { event: 'error', error: { code: `HTTP_${res.statusCode}`, message: buf.slice(0, 500) } };
              }
            }
            resolve(last ?? { event: 'error', error: { code: `HTTP_${res.statusCode}`, message: 'The server sent no result.' } });
          });
        });
        const stream = createReadStream(file);
        stream.on('error', (err) => req.destroy(err));
        stream.pipe(req);
      });

      if (opts.json) say(JSON.stringify(result, null, 2));
      const error = (result.error ?? null) as { code: string; message: string } | null;
      if (error) {
        warn(`aslo publish: ${error.message} [${error.code}]`);
        process.exitCode = EXIT_FAILED;
        return;
      }
      if (opts.json) {
        process.exitCode = result.ok ? EXIT_OK : EXIT_FAILED;
        return;
      }
      const errors = (result.errors ?? []) as Issue[];
      const warnings = (result.warnings ?? []) as Issue[];
      if (result.ok) {
        const verb = result.outcome === 'unchanged' ? 'already on the store' : 'published';
        say(`${verb}: ${result.bundle_id} ${result.version}`);
        say(`status: activity ${result.activity_status}, this version ${result.file_status}`);
        if (result.file_status === 'sandbox' && result.activity_status === 'sandbox') say('It is in the sandbox: nominate it for review in the developer hub when it is ready.');
        if (result.file_status === 'pending') say('This version waits for an editor\'s review before it becomes public.');
        if (result.hub_url) say(`developer hub: ${result.hub_url}`);
      } else {
        say(`rejected: ${basename(file)}`);
        for (const e of errors) say(`  error   ${e.code}: ${e.message}${where(e)}`);
      }
      if (warnings.length) {
        say(`${warnings.length} warning(s):`);
        for (const w of warnings) say(`  warning ${w.code}: ${w.message}${where(w)}`);
      }
      process.exitCode = result.ok ? EXIT_OK : EXIT_FAILED;
    });
}
