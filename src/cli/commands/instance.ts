import { Command } from 'commander';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';
import { assertInstanceName, describeConfig, ensureInstanceFolders, instanceDirOf, loadConfig, writeFileAtomic } from '../../platform/config.js';
import { AsloError } from '../../platform/errors.js';
import { commonOf, say, warn, withCommon } from '../common.js';
import { createContext } from '../../platform/context.js';
import { cloneInstance } from '../../platform/backup/index.js';
import { dataDirInUseError, probeDataDir } from '../../platform/db/lock.js';
import type { AsloConfig } from '../../platform/config.js';

/** Refuse, before touching anything, to open an embedded database that a live process holds. */
async function assertNotInUse(cfg: AsloConfig): Promise<void> {
  if (cfg.database.url || cfg.database.embeddedDir === ':memory:') return;
  const holder = await probeDataDir(cfg.database.embeddedDir);
  if (holder) throw dataDirInUseError(cfg.database.embeddedDir, holder);
}

export function registerInstance(program: Command): void {
  const instance = withCommon(program.command('instance')).description('manage isolated instances (devel, testing, production, ...)');

  withCommon(instance.command('create'))
    .description('create an instance with its own database, file stores, cache prefix and base URL')
    .argument('<name>', 'instance name: lowercase letters, digits, hyphens')
    .option('--database-url <url>', 'PostgreSQL URL of its database (default: its own embedded database)')
    .option('--base-url <url>', 'public base URL of the instance')
    .option('--port <port>', 'port it listens on', (v) => Number.parseInt(v, 10))
    .option('--redis-url <url>', 'Redis URL (its keys get the prefix aslo:<name>:)')
    .action(async (name: string, opts: { databaseUrl?: string; baseUrl?: string; port?: number; redisUrl?: string }, cmd: Command) => {
      assertInstanceName(name);
      const common = commonOf(cmd);
      const base = loadConfig({ configFile: common.config, dataDir: common.data, instance: name, writeDefaults: true });
      const file = join(base.instanceDir, 'instance.yaml');
      if (existsSync(file)) throw new AsloError('INSTANCE_EXISTS', `Instance "${name}" already exists (${file}).`);
      const overrides: Record<string, Record<string, unknown>> = { cache: { prefix: `aslo:${name}:` } };
      if (opts.databaseUrl) {
        if (/:[^:@/]+@/.test(opts.databaseUrl)) {
          throw new AsloError(
            'CONFIG_SECRET_IN_FILE',
            'Do not put a password in --database-url: it would be written to a config file. Give the URL without it and set PGPASSWORD, or set ASLO_DATABASE_URL in the environment.',
          );
        }
        overrides.database = { url: opts.databaseUrl };
      }
      if (opts.redisUrl) overrides.cache!.redisUrl = opts.redisUrl;
      if (opts.baseUrl || opts.port) overrides.server = {};
      if (opts.baseUrl) overrides.server!.baseUrl = opts.baseUrl;
      if (opts.port) overrides.server!.port = opts.port;
      writeFileAtomic(file, `# Settings of instance "${name}": they override the shared config.yaml.\n` + YAML.stringify(overrides));
      const cfg = loadConfig({ configFile: common.config, dataDir: common.data, instance: name });
      ensureInstanceFolders(cfg);
      say(`Created instance "${name}".`);
      for (const [k, v] of Object.entries(describeConfig(cfg))) say(`  ${k.padEnd(9)} ${v}`);
      say(`Run it with: aslo --instance ${name} serve   (or ASLO_INSTANCE=${name})`);
    });

  withCommon(instance.command('list'))
    .description('list the instances of this data folder')
    .action(async (_opts: unknown, cmd: Command) => {
      const common = commonOf(cmd);
      const probe = loadConfig({ configFile: common.config, dataDir: common.data, writeDefaults: false });
      const dir = join(probe.dataDir, 'instances');
      const names = existsSync(dir)
        ? readdirSync(dir)
            .filter((n) => existsSync(instanceDirOf(probe.dataDir, n)))
            .sort()
        : [];
      if (names.length === 0) {
        say('No instances yet. The first "aslo serve" creates "default"; "aslo instance create NAME" adds one.');
        return;
      }
      for (const name of names) {
        try {
          const cfg = loadConfig({ configFile: common.config, dataDir: common.data, instance: name });
          const d = describeConfig(cfg);
          say(`${name.padEnd(16)} ${cfg.server.baseUrl.padEnd(28)} ${d.database}`);
        } catch (err) {
          say(`${name.padEnd(16)} (unreadable: ${(err as Error).message})`);
        }
      }
    });

  withCommon(instance.command('clone'))
    .description("copy an instance's database and file stores into another instance (files hard-linked where possible), e.g. production into devel")
    .argument('<from>', 'instance to copy')
    .argument('<to>', 'instance to replace (created with its own embedded database when missing)')
    .option('--anonymize', 'replace personal data in the copy: e-mail addresses, passwords, names, sessions, tokens, client addresses')
    .option('--force', 'replace a target that already has activities or users')
    .action(async (from: string, to: string, opts: { anonymize?: boolean; force?: boolean }, cmd: Command) => {
      assertInstanceName(from);
      assertInstanceName(to);
      const common = commonOf(cmd);
      const src = loadConfig({ configFile: common.config, dataDir: common.data, instance: from, writeDefaults: false });
      if (!existsSync(src.instanceDir)) throw new AsloError('INSTANCE_NOT_FOUND', `There is no instance "${from}" in ${src.dataDir}.`);
      const file = join(instanceDirOf(src.dataDir, to), 'instance.yaml');
      // Neither side may be open elsewhere: the copy reads one database whole and replaces the other.
      await assertNotInUse(src);
      await assertNotInUse(loadConfig({ configFile: common.config, dataDir: common.data, instance: to, writeDefaults: false }));
      if (!existsSync(file)) {
        writeFileAtomic(file, `# Settings of instance "${to}": they override the shared config.yaml.\n` + YAML.stringify({ cache: { prefix: `aslo:${to}:` } }));
        say(
          `Created instance "${to}" with its own embedded database (give it a PostgreSQL one with "aslo instance create ${to} --database-url ..." first if you prefer).`,
        );
      }
      const dst = loadConfig({ configFile: common.config, dataDir: common.data, instance: to });
      const a = await createContext(src, { migrate: false, holder: 'aslo instance clone' });
      try {
        const b = await createContext(dst, { migrate: true, holder: 'aslo instance clone' });
        try {
          say(`Copying instance "${from}" into "${to}"${opts.anonymize ? ' (anonymized)' : ''}`);
          const r = await cloneInstance(a, b, { anonymize: opts.anonymize, force: opts.force }, (m) => warn(`  ${m}`));
          const rows = [...r.tables.values()].reduce((x, n) => x + n, 0);
          say(`Done: ${r.tables.size} tables, ${rows} rows, ${r.files} files (${r.linked} hard-linked)${r.anonymized ? ', personal data replaced' : ''}.`);
        } finally {
          await b.close();
        }
      } finally {
        await a.close();
      }
    });
}
