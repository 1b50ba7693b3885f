// `aslo mirror`: the mirror registry (src/mirrors/registry.ts). The admin page /admin/mirrors
// does the same from a browser.
import { Command } from 'commander';
import { runsThroughStore, say, withCommon, withServices } from '../common.js';
import type { MirrorInput, MirrorView } from '../../mirrors/registry.js';

const collect = (v: string, prev: string[] = []) => [...prev, v];

/** Every mirror command runs through a store that holds the embedded database (src/cli/common.ts). */
const storeCommand = (cmd: Command): Command => runsThroughStore(withCommon(cmd));

interface MirrorOpts {
  http?: string;
  https?: string;
  rsync?: string;
  operator?: string;
  contact?: string;
  country?: string;
  continent?: string;
  asn?: string;
  prefix?: string[];
  lat?: string;
  lon?: string;
  weight?: string;
  countryOnly?: boolean;
  continentOnly?: boolean;
  asOnly?: boolean;
  maxSize?: string;
  disabled?: boolean;
  name?: string;
  json?: boolean;
}

function withFields(cmd: Command, editing: boolean): Command {
  const none = editing ? ' ("" clears it)' : '';
  cmd
    .option('--http <url>', `HTTP base URL of the tree (http://host/path)${none}`)
    .option('--https <url>', `HTTPS base URL of the tree${none}`)
    .option('--rsync <url>', `rsync URL it syncs into (rsync://host/module)${none}`)
    .option('--operator <text>', 'who runs it')
    .option('--contact <text>', 'how to reach them (mail address)')
    .option('--country <cc>', 'ISO 3166-1 country code (default: from the geo database)')
    .option('--continent <code>', 'AF AN AS EU NA OC SA (default: from the country)')
    .option('--asn <number>', 'AS number (default: from the geo database)')
    .option('--prefix <cidr>', 'network prefix of the mirror (repeat for several, IPv4 and IPv6)', collect)
    .option('--lat <degrees>', 'latitude')
    .option('--lon <degrees>', 'longitude')
    .option('--weight <n>', 'share of the traffic relative to the other mirrors (default 100)')
    .option('--max-size <bytes>', 'largest file it takes')
    .option('--json', 'print JSON');
  if (editing) {
    cmd
      .option('--name <name>', 'rename it')
      .option('--country-only', 'serve clients of its country only')
      .option('--no-country-only', 'lift that restriction')
      .option('--continent-only', 'serve clients of its continent only')
      .option('--no-continent-only', 'lift that restriction')
      .option('--as-only', 'serve clients of its AS only')
      .option('--no-as-only', 'lift that restriction');
  } else {
    cmd
      .option('--country-only', 'serve clients of its country only')
      .option('--continent-only', 'serve clients of its continent only')
      .option('--as-only', 'serve clients of its AS only')
      .option('--disabled', 'add it disabled');
  }
  return cmd;
}

function inputOf(o: MirrorOpts, cmd: Command): MirrorInput {
  const given = (k: string) => cmd.getOptionValueSource(k) === 'cli';
  const input: MirrorInput = {};
  if (o.http !== undefined) input.httpUrl = o.http;
  if (o.https !== undefined) input.httpsUrl = o.https;
  if (o.rsync !== undefined) input.rsyncUrl = o.rsync;
  if (o.operator !== undefined) input.operator = o.operator;
  if (o.contact !== undefined) input.contact = o.contact;
  if (o.country !== undefined) input.country = o.country;
  if (o.continent !== undefined) input.continent = o.continent;
  if (o.asn !== undefined) input.asn = o.asn;
  if (o.prefix !== undefined) input.prefixes = o.prefix.filter((p) => p !== '');
  if (o.lat !== undefined) input.latitude = o.lat;
  if (o.lon !== undefined) input.longitude = o.lon;
  if (o.weight !== undefined) input.weight = o.weight;
  if (o.maxSize !== undefined) input.maxFileSize = o.maxSize;
  if (given('countryOnly')) input.countryOnly = Boolean(o.countryOnly);
  if (given('continentOnly')) input.continentOnly = Boolean(o.continentOnly);
  if (given('asOnly')) input.asOnly = Boolean(o.asOnly);
  if (o.disabled) input.enabled = false;
  if (o.name !== undefined) input.name = o.name;
  return input;
}

function health(ok: boolean | null, err: string | null): string {
  return ok === null ? 'not checked yet' : ok ? 'up' : `DOWN (${err ?? '?'})`;
}

function printMirror(m: MirrorView): void {
  say(`${m.name}${m.enabled ? '' : ' (disabled)'}`);
  if (m.http_url) say(`  http      ${m.http_url}  ${health(m.http_ok, m.http_error)}`);
  if (m.https_url) say(`  https     ${m.https_url}  ${health(m.https_ok, m.https_error)}`);
  if (m.rsync_url) say(`  rsync     ${m.rsync_url}`);
  if (m.operator || m.contact) say(`  operator  ${[m.operator, m.contact].filter(Boolean).join(', ')}`);
  say(`  location  ${m.country ?? '?'} / ${m.continent ?? '?'}${m.asn ? `, AS${m.asn}` : ''}${m.latitude !== null ? `, ${m.latitude}, ${m.longitude}` : ''}`);
  if (m.prefixes.length) say(`  prefixes  ${m.prefixes.join(' ')}`);
  const rules = [
    m.country_only ? 'country only' : null,
    m.continent_only ? 'continent only' : null,
    m.as_only ? 'AS only' : null,
    m.max_file_size ? `files up to ${m.max_file_size} bytes` : null,
  ].filter(Boolean);
  say(`  weight    ${m.weight}${rules.length ? `; ${rules.join(', ')}` : ''}`);
  say(`  files     ${m.stats.verified} verified, ${m.stats.pending} pending, ${m.stats.failed} failed`);
}

export function registerMirror(program: Command): void {
  const mirror = withCommon(program.command('mirror')).description('the mirrors downloads are redirected to');

  withFields(storeCommand(mirror.command('add').argument('<name>', 'short unique name, like mirror.example.org')), false)
    .description('register a mirror; its files are verified before any client is sent there')
    .action(async (name: string, o: MirrorOpts, cmd: Command) => {
      await withServices(cmd, async ({ mirrors }) => {
        const m = await mirrors.add({ ...inputOf(o, cmd), name });
        if (o.json) return say(JSON.stringify(m, null, 2));
        say(`added mirror ${m.name} (#${m.id}); every published file will be checked on it before clients are sent there`);
        printMirror(m);
      });
    });

  storeCommand(mirror.command('list'))
    .description('list mirrors with their health and verified files')
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }, cmd: Command) => {
      await withServices(cmd, async ({ mirrors }) => {
        const list = await mirrors.list();
        if (o.json) return say(JSON.stringify(list, null, 2));
        if (list.length === 0) return say('No mirrors. Add one with: aslo mirror add NAME --http http://host/path');
        for (const m of list) {
          const state = !m.enabled
            ? 'disabled'
            : [
                m.http_url ? `http ${m.http_ok === false ? 'DOWN' : m.http_ok ? 'up' : '?'}` : null,
                m.https_url ? `https ${m.https_ok === false ? 'DOWN' : m.https_ok ? 'up' : '?'}` : null,
              ]
                .filter(Boolean)
                .join(', ');
          say(
            `${String(m.id).padStart(4)}  ${m.name.padEnd(28)} ${(m.country ?? '??').padEnd(3)} w=${String(m.weight).padEnd(5)} ${String(m.stats.verified).padStart(6)} verified  ${state}`,
          );
        }
      });
    });

  storeCommand(mirror.command('show').argument('<name>', 'mirror name or id'))
    .description('everything about one mirror, with the files it does not hold yet')
    .option('--json', 'print JSON')
    .action(async (name: string, o: { json?: boolean }, cmd: Command) => {
      await withServices(cmd, async ({ mirrors }) => {
        const m = await mirrors.get(name);
        const problems = await mirrors.problems(m.id);
        if (o.json) return say(JSON.stringify({ ...m, problems }, null, 2));
        printMirror(m);
        for (const p of problems)
          say(
            `  ${p.state.padEnd(8)} ${p.repo_path}: ${p.last_error ?? 'not checked yet'}${p.next_check_at ? ` (next check ${new Date(p.next_check_at).toISOString()})` : ''}`,
          );
      });
    });

  withFields(storeCommand(mirror.command('edit').argument('<name>', 'mirror name or id')), true)
    .description('change a mirror (new base URLs mean every file is verified again)')
    .action(async (name: string, o: MirrorOpts, cmd: Command) => {
      await withServices(cmd, async ({ mirrors }) => {
        const m = await mirrors.edit(name, inputOf(o, cmd));
        if (o.json) return say(JSON.stringify(m, null, 2));
        say(`changed mirror ${m.name}`);
        printMirror(m);
      });
    });

  for (const [verb, enabled] of [
    ['enable', true],
    ['disable', false],
  ] as const) {
    storeCommand(mirror.command(verb).argument('<name>', 'mirror name or id'))
      .description(enabled ? 'send clients to it again (once its files are verified)' : 'stop sending clients to it at once')
      .action(async (name: string, _o: unknown, cmd: Command) => {
        await withServices(cmd, async ({ mirrors }) => {
          const m = await mirrors.setEnabled(name, enabled);
          say(`mirror ${m.name} ${enabled ? 'enabled' : 'disabled'}`);
        });
      });
  }

  storeCommand(mirror.command('remove').argument('<name>', 'mirror name or id'))
    .description('remove a mirror and everything known about it')
    .action(async (name: string, _o: unknown, cmd: Command) => {
      await withServices(cmd, async ({ mirrors }) => {
        const m = await mirrors.get(name);
        await mirrors.remove(m.id);
        say(`removed mirror ${m.name}`);
      });
    });
}
