// Entry point of the `aslo` command line. Each subcommand lives in its own file under commands/.
import { Command, CommanderError } from 'commander';
import { AsloError, isAsloError } from '../platform/errors.js';
import { EXIT_FAILED, EXIT_USAGE, UsageError, cliErr, cliOut, commandName, configFrom, runModeOf, storeScope, withCommon, warn } from './common.js';

/**
 * The subcommands, in the order `aslo --help` lists them. A command's module (and everything it
 * imports: the database, the web app, the bundle library) is loaded only when that command runs;
 * the others are stand-ins that carry what `aslo --help` shows of them: the name, the arguments
 * and the description, which must read exactly like the module's own (test/unit/cli-lazy.test.ts
 * compares them).
 */
interface LazyCommand {
  name: string;
  args: string[];
  description: string;
  load: () => Promise<(program: Command) => void>;
}

const COMMANDS: LazyCommand[] = [
  {
    name: 'serve',
    args: [],
    description: 'run the store (web, API, updater and downloads in one process by default)',
    load: async () => (await import('./commands/serve.js')).registerServe,
  },
  {
    name: 'migrate',
    args: [],
    description: 'apply pending database migrations (or list them with --status)',
    load: async () => (await import('./commands/migrate.js')).registerMigrate,
  },
  {
    name: 'import',
    args: ['<paths...>'],
    description: 'import .xo/.xol bundles (files or folders) into the catalog',
    load: async () => (await import('./commands/import.js')).registerImport,
  },
  {
    name: 'inspect',
    args: ['<file>'],
    description: 'validate a .xo or .xol bundle and print its metadata, errors and warnings',
    load: async () => (await import('./commands/inspect.js')).registerInspect,
  },
  {
    name: 'instance',
    args: [],
    description: 'manage isolated instances (devel, testing, production, ...)',
    load: async () => (await import('./commands/instance.js')).registerInstance,
  },
  {
    name: 'dev',
    args: [],
    description: 'development helpers: sample content, synthetic catalogs',
    // The one place src/ reaches into tools/: the development tools behind `aslo dev`. Nothing the
    // store runs imports them.
    load: async () => {
      const [{ registerDev }, { registerGenerate }] = await Promise.all([import('./commands/dev.js'), import('../../tools/catalog-generator/command.js')]);
      return (program) => registerDev(program, registerGenerate);
    },
  },
  {
    name: 'collection',
    args: [],
    description: 'manage collections: curated activity lists served as microformat feeds',
    load: async () => (await import('./commands/collection.js')).registerCollection,
  },
  { name: 'keys', args: [], description: 'the key that signs the JSON index', load: async () => (await import('./commands/keys.js')).registerKeys },
  {
    name: 'user',
    args: [],
    description: 'manage accounts and roles (user, editor, admin)',
    load: async () => (await import('./commands/user.js')).registerUser,
  },
  {
    name: 'publish',
    args: ['<file>'],
    description: 'upload a bundle to an aslo store with the API token in ASLO_TOKEN (scope: publish)',
    load: async () => (await import('./commands/publish.js')).registerPublish,
  },
  {
    name: 'repo',
    args: [],
    description: 'the public repo tree that mirrors copy with rsync',
    load: async () => (await import('./commands/repo.js')).registerRepo,
  },
  { name: 'mirror', args: [], description: 'the mirrors downloads are redirected to', load: async () => (await import('./commands/mirror.js')).registerMirror },
  {
    name: 'backup',
    args: [],
    description: 'back up the instance: a consistent database snapshot plus the file stores, with a manifest of every file hash',
    load: async () => (await import('./commands/backup.js')).registerBackup,
  },
  {
    name: 'restore',
    args: ['<dir>'],
    description: 'replace the instance\'s database and file stores with a backup made by "aslo backup" (every file checked first)',
    load: async () => (await import('./commands/restore.js')).registerRestore,
  },
  {
    name: 'build',
    args: ['[source]'],
    description:
      "build a .xo (or .xol) bundle from a git repository the way Sugar's bundle builder does, reproducibly; or --verify a bundle against its recorded source",
    load: async () => (await import('./commands/build.js')).registerBuild,
  },
  { name: 'token', args: [], description: 'personal API tokens', load: async () => (await import('./commands/token.js')).registerToken },
  {
    name: 'import-git',
    args: ['<sources...>'],
    description:
      'build git repositories (their newest tag, chosen tags, or HEAD without tags) and ingest the bundles in version order; re-running builds only new commits',
    load: async () => (await import('./commands/import-git.js')).registerImportGit,
  },
];

/** The program's own options that take a value (withCommon): skipped when looking for the command. */
const VALUE_OPTIONS = new Set(['--config', '--instance', '--data']);
const FLAG_OPTIONS = new Set(['-h', '--help', '-V', '--version']);

/**
 * The subcommand `argv` runs (`aslo [options] NAME ...`, or `aslo help NAME`): its module is the
 * one to load. 'all' when the arguments are not plain enough to tell (an option the program does
 * not know, `--`): then every module is loaded and commander decides, as it always did.
 */
export function commandToLoad(args: string[]): string | null | 'all' {
  let helpCommand = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (VALUE_OPTIONS.has(a)) {
      i++;
      continue;
    }
    if (FLAG_OPTIONS.has(a) || [...VALUE_OPTIONS].some((o) => a.startsWith(`${o}=`))) continue;
    if (a.startsWith('-')) return 'all';
    if (a === 'help' && !helpCommand) {
      helpCommand = true;
      continue;
    }
    return COMMANDS.some((c) => c.name === a) ? a : null;
  }
  return null;
}

/** What `aslo --help` shows of a command that is not loaded: its name, arguments, options and description. */
function standIn(program: Command, c: LazyCommand): void {
  const cmd = withCommon(program.command(c.name)).description(c.description);
  for (const a of c.args) cmd.argument(a);
}

/**
 * The program with the command `argv` runs loaded (every command when `load` is 'all', none for
 * `aslo --help`); the others are stand-ins for the help listing.
 */
export async function buildProgram(load: string | null | 'all'): Promise<Command> {
  const program = withCommon(new Command('aslo'))
    .description('aslo, the Sugar activity library: run the store and manage its catalog')
    .version('0.1.0')
    .showHelpAfterError('(run with --help for usage)');
  program.exitOverride();
  program.configureOutput({ writeOut: (s) => cliOut().write(s), writeErr: (s) => cliErr().write(s) });
  const registers = await Promise.all(COMMANDS.map((c) => (load === 'all' || load === c.name ? c.load() : null)));
  if (load !== null) await listenForChanges();
  COMMANDS.forEach((c, i) => {
    const register = registers[i];
    if (register) register(program);
    else standIn(program, c);
  });
  for (const cmd of program.commands) {
    cmd.exitOverride();
    for (const sub of cmd.commands) sub.exitOverride();
  }
  return program;
}

/**
 * A command that changes the catalog or the downloads emits events (src/platform/events.ts); these
 * listeners record the changes and tell the running servers. Loaded with the command, not for
 * `aslo --help`.
 */
async function listenForChanges(): Promise<void> {
  const [{ events }, { listenForCatalogChanges }, { listenForDownloadEvents }] = await Promise.all([
    import('../platform/events.js'),
    import('../updates/changes.js'),
    import('../downloads/subscriptions.js'),
  ]);
  listenForCatalogChanges(events);
  listenForDownloadEvents(events);
}

/** Raised by the caller's side when the command ran in the store: main() exits with its status. */
class RanInStore extends Error {
  constructor(readonly exitCode: number) {
    super(`ran in the store, exit ${exitCode}`);
  }
}

/**
 * Before any command touches the instance: where does it run? Inside the store (the caller is on
 * the control socket) only day-to-day commands do. In a shell, while a live process holds the
 * embedded database, a day-to-day command runs through the store and one that must run alone
 * refuses with DATA_DIR_IN_USE (src/cli/common.ts).
 */
function placeCommands(program: Command, argv: string[]): void {
  program.hook('preAction', async (_root, action) => {
    const mode = runModeOf(action);
    if (storeScope()) {
      if (mode !== 'store') throw new AsloError('CONTROL_NOT_ALLOWED', `"${commandName(action)}" does not run through the store: stop the store first.`);
      return;
    }
    if (mode === 'local') return;
    const config = await configFrom(action, { writeDefaults: false });
    if (config.database.url || config.database.embeddedDir === ':memory:') return;
    const { dataDirInUseError, probeDataDir } = await import('../platform/db/lock.js');
    const holder = await probeDataDir(config.database.embeddedDir);
    if (!holder) return;
    if (mode === 'store' && holder.accepting) {
      const { runThroughStore } = await import('./control.js');
      throw new RanInStore(await runThroughStore(config.database.embeddedDir, argv.slice(2)));
    }
    throw dataDirInUseError(config.database.embeddedDir, holder);
  });
}

/** Runs the CLI and returns its exit status (0 ok, 1 failed or rejected, 2 usage). */
export async function main(argv: string[]): Promise<number> {
  const program = await buildProgram(commandToLoad(argv.slice(2)));
  placeCommands(program, argv);
  try {
    const result = await program.parseAsync(argv);
    const scope = storeScope();
    if (scope) return scope.exitCode ?? 0;
    const code = (result as unknown as { exitStatus?: number }).exitStatus;
    return typeof code === 'number' ? code : process.exitCode === undefined ? 0 : Number(process.exitCode);
  } catch (err) {
    if (err instanceof RanInStore) return err.exitCode;
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return 0;
      return EXIT_USAGE;
    }
    if (err instanceof UsageError) {
      warn(`aslo: ${err.message}`);
      return EXIT_USAGE;
    }
    const failed = () => {
      const scope = storeScope();
      if (scope) scope.exitCode = EXIT_FAILED;
      return EXIT_FAILED;
    };
    if (isAsloError(err)) {
      warn(`aslo: ${err.message} [${err.code}]`);
      return failed();
    }
    warn(`aslo: ${(err as Error).stack ?? String(err)}`);
    return failed();
  }
}
