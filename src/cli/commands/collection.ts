// `aslo collection`: curated lists of activities that deployments follow through the microformat
// feed (/services/micro-format.php?collection_nickname=NICK). The web interface comes with the
// store; this is the administrators' minimal tool. Every change is audited with the actor "cli".
import { Command } from 'commander';
import { runsThroughStore, say, UsageError, withCommon, withServices } from '../common.js';
import type { CollectionView } from '../../collections/service.js';
import { collectionFeedLines } from '../../collections/feeds.js';
import { normalizeLocale } from '../../catalog/locales.js';

const ACTOR = { label: 'cli:collection' };

function localizedNames(values: string[] | undefined): Record<string, string> | undefined {
  if (!values || values.length === 0) return undefined;
  const out: Record<string, string> = {};
  for (const v of values) {
    const eq = v.indexOf('=');
    const locale = eq > 0 ? normalizeLocale(v.slice(0, eq)) : null;
    if (!locale) throw new UsageError(`--localized-name takes LOCALE=NAME (like es=Mis actividades), got "${v}"`);
    out[locale] = v.slice(eq + 1).trim();
  }
  return out;
}

const collect = (v: string, prev: string[] = []) => [...prev, v];

function printCollection(c: CollectionView, json: boolean): void {
  if (json) {
    say(JSON.stringify(c, null, 2));
    return;
  }
  say(`${c.nickname}: ${c.name}${c.listed ? '' : ' (unlisted)'}`);
  if (c.description) say(`  ${c.description}`);
  for (const [locale, name] of Object.entries(c.names)) say(`  name[${locale}]: ${name}`);
  if (c.entries.length === 0) say('  (no activities yet: aslo collection add ' + c.nickname + ' BUNDLE_ID)');
  for (const e of c.entries) {
    const flags = [
      e.pinned_version ? `pinned to ${e.pinned_version}` : 'newest compatible',
      e.optional ? 'optional' : null,
      e.activity_status !== 'public' ? `activity is ${e.activity_status}: not served` : null,
    ].filter(Boolean);
    say(`  ${String(e.position).padStart(3)}  ${e.bundle_id}  (${flags.join(', ')})`);
  }
}

function position(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 1_000_000) throw new UsageError('--position must be a whole number from 0');
  return n;
}

export function registerCollection(program: Command): void {
  const col = withCommon(program.command('collection')).description('manage collections: curated activity lists served as microformat feeds');

  runsThroughStore(withCommon(col.command('list')))
    .description('list collections')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      await withServices(cmd, async ({ collections }) => {
        const list = await collections.list();
        if (opts.json) return say(JSON.stringify(list, null, 2));
        if (list.length === 0) return say('No collections. Create one with: aslo collection create NICKNAME --name "Name"');
        for (const c of list) say(`${c.nickname.padEnd(24)} ${String(c.entries).padStart(4)} activities  ${c.name}${c.listed ? '' : ' (unlisted)'}`);
      });
    });

  runsThroughStore(withCommon(col.command('show')))
    .description('show a collection and its entries')
    .argument('<nickname>')
    .option('--json', 'print JSON')
    .action(async (nickname: string, opts: { json?: boolean }, cmd: Command) => {
      await withServices(cmd, async ({ collections }) => printCollection(await collections.get(nickname), Boolean(opts.json)));
    });

  runsThroughStore(withCommon(col.command('create')))
    .description('create a collection')
    .argument('<nickname>', 'short name used in the feed URL (letters, digits, - and _)')
    .requiredOption('--name <name>', 'display name (the feed title)')
    .option('--description <text>', 'description (the feed description)')
    .option('--localized-name <locale=name>', 'name in another language (repeatable)', collect)
    .option('--unlisted', 'do not list it publicly')
    .action(async (nickname: string, opts: { name: string; description?: string; localizedName?: string[]; unlisted?: boolean }, cmd: Command) => {
      await withServices(cmd, async ({ collections }, ctx) => {
        const c = await collections.create(
          nickname,
          { name: opts.name, description: opts.description ?? null, names: localizedNames(opts.localizedName), listed: !opts.unlisted },
          ACTOR,
        );
        say(`Created collection "${c.nickname}".`);
        for (const line of collectionFeedLines(ctx.config.server.baseUrl, c.nickname)) say(line);
      });
    });

  runsThroughStore(withCommon(col.command('update')))
    .description("change a collection's name, description, localized names or listing")
    .argument('<nickname>')
    .option('--name <name>')
    .option('--description <text>', 'new description ("" removes it)')
    .option('--localized-name <locale=name>', 'set a localized name; an empty name removes it (repeatable)', collect)
    .option('--listed', 'list it publicly')
    .option('--unlisted', 'do not list it publicly')
    .action(
      async (nickname: string, opts: { name?: string; description?: string; localizedName?: string[]; listed?: boolean; unlisted?: boolean }, cmd: Command) => {
        if (opts.listed && opts.unlisted) throw new UsageError('choose --listed or --unlisted, not both');
        await withServices(cmd, async ({ collections }) => {
          const c = await collections.update(
            nickname,
            {
              name: opts.name,
              description: opts.description === undefined ? undefined : opts.description || null,
              names: localizedNames(opts.localizedName),
              listed: opts.listed ? true : opts.unlisted ? false : undefined,
            },
            ACTOR,
          );
          printCollection(c, false);
        });
      },
    );

  runsThroughStore(withCommon(col.command('delete')))
    .description('delete a collection (its activities stay in the catalog)')
    .argument('<nickname>')
    .action(async (nickname: string, _opts: unknown, cmd: Command) => {
      await withServices(cmd, async ({ collections }) => {
        await collections.remove(nickname, ACTOR);
        say(`Deleted collection "${nickname}".`);
      });
    });

  runsThroughStore(withCommon(col.command('add')))
    .description('add activities to a collection (or change their entry)')
    .argument('<nickname>')
    .argument('<bundle_ids...>')
    .option('--pin <version>', 'serve this version instead of the newest compatible one')
    .option('--optional', 'mark as optional (Sugar skips it in automatic updates)')
    .option('--required', 'clear the optional mark')
    .option('--position <n>', 'place in the list (default: at the end)')
    .action(async (nickname: string, bundleIds: string[], opts: { pin?: string; optional?: boolean; required?: boolean; position?: string }, cmd: Command) => {
      if (opts.optional && opts.required) throw new UsageError('choose --optional or --required, not both');
      if (opts.pin && bundleIds.length > 1) throw new UsageError('--pin applies to one activity at a time');
      await withServices(cmd, async ({ collections }) => {
        let c: CollectionView | null = null;
        for (const bundleId of bundleIds) {
          c = await collections.add(
            nickname,
            bundleId,
            { pin: opts.pin, optional: opts.optional ? true : opts.required ? false : undefined, position: position(opts.position) },
            ACTOR,
          );
        }
        printCollection(c!, false);
      });
    });

  runsThroughStore(withCommon(col.command('remove')))
    .description('remove an activity from a collection')
    .argument('<nickname>')
    .argument('<bundle_id>')
    .action(async (nickname: string, bundleId: string, _opts: unknown, cmd: Command) => {
      await withServices(cmd, async ({ collections }) => printCollection(await collections.drop(nickname, bundleId, ACTOR), false));
    });

  runsThroughStore(withCommon(col.command('pin')))
    .description('pin an entry to one version')
    .argument('<nickname>')
    .argument('<bundle_id>')
    .argument('<version>')
    .action(async (nickname: string, bundleId: string, version: string, _opts: unknown, cmd: Command) => {
      await withServices(cmd, async ({ collections }) => printCollection(await collections.pin(nickname, bundleId, version, ACTOR), false));
    });

  runsThroughStore(withCommon(col.command('unpin')))
    .description('let an entry follow the newest compatible version again')
    .argument('<nickname>')
    .argument('<bundle_id>')
    .action(async (nickname: string, bundleId: string, _opts: unknown, cmd: Command) => {
      await withServices(cmd, async ({ collections }) => printCollection(await collections.pin(nickname, bundleId, null, ACTOR), false));
    });
}
