// `aslo publish FILE.xo --server URL`: upload a bundle to a store with a personal API token
// (ASLO_TOKEN), like `npm publish` or `ovsx publish`. Streams the file, shows the server's
// progress events, then prints the validation result and the resulting status. Messages come in
// the language of the token owner's account, else the one asked for with --lang or found in the
// environment (LANGUAGE, LC_ALL, LC_MESSAGES, LANG), where the store has them translated.
import { Command } from 'commander';
import { createReadStream, statSync } from 'node:fs';
import { basename } from 'node:path';
import http from 'node:http';
import https from 'node:https';
import { EXIT_FAILED, EXIT_OK, UsageError, say, warn } from '../common.js';
import { AsloError } from '../../platform/errors.js';

interface Issue {
  code: string;
  message: string;
  /** The message in the developer's language (stores since the translations; else absent). */
  message_localized?: string;
  file: string | null;
  line: number | null;
}

/** An Accept-Language value from --lang or the POSIX locale variables ('es_UY.UTF-8' -> 'es-UY'), or null. */
export function acceptLanguageFromEnv(lang: string | undefined, env: NodeJS.ProcessEnv = process.env): string | null {
  const candidates = lang ? [lang] : [...(env.LANGUAGE ?? '').split(':'), env.LC_ALL, env.LC_MESSAGES, env.LANG];
  const tags: string[] = [];
  for (const c of candidates) {
    const tag = (c ?? '').split('.')[0]!.split('@')[0]!.replace(/_/g, '-');
    if (!tag || tag === 'C' || tag === 'POSIX' || !/^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$/.test(tag) || tags.includes(tag)) continue;
    tags.push(tag);
  }
  return tags.length ? tags.map((t, i) => (i === 0 ? t : `${t};q=${Math.max(0.1, 1 - i / 10).toFixed(1)}`)).join(', ') : null;
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
    .option('--lang <tag>', "language of the validation messages, e.g. es or pt-BR (default: your account's, else LANGUAGE/LC_ALL/LANG)")
    .option('--json', "print the server's result as JSON")
    .action(async (file: string, opts: { server?: string; sugarMin?: string; sugarMax?: string; releaseNotes?: string; lang?: string; json?: boolean }) => {
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
      const acceptLanguage = acceptLanguageFromEnv(opts.lang);
      const showProgress = !opts.json;
      const result = await new Promise<Record<string, unknown>>((resolve, reject) => {
        const req = client.request(url, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${token}`,
            'content-type': 'application/octet-stream',
            'content-length': size,
            accept: 'application/x-ndjson, application/json',
            ...(acceptLanguage ? { 'accept-language': acceptLanguage } : {}),
          },
        });
        // One line with a code, never a stack trace: the store is down, the address is wrong, ...
        req.on('error', (err: NodeJS.ErrnoException) =>
          reject(
            new AsloError(
              'PUBLISH_UNREACHABLE',
              `Cannot reach the store at ${base.origin}: ${err.code ?? err.message}. Check --server (or ASLO_SERVER) and that the store runs.`,
            ),
          ),
        );
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
        if (result.file_status === 'sandbox' && result.activity_status === 'sandbox')
          say('It is in the sandbox: nominate it for review in the developer hub when it is ready.');
        if (result.file_status === 'pending') say("This version waits for an editor's review before it becomes public.");
        if (result.hub_url) say(`developer hub: ${result.hub_url}`);
      } else {
        say(`rejected: ${basename(file)}`);
        for (const e of errors) say(`  error   ${e.code}: ${e.message_localized ?? e.message}${where(e)}`);
      }
      if (warnings.length) {
        say(`${warnings.length} warning(s):`);
        for (const w of warnings) say(`  warning ${w.code}: ${w.message_localized ?? w.message}${where(w)}`);
      }
      process.exitCode = result.ok ? EXIT_OK : EXIT_FAILED;
    });
}
