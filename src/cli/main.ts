// Entry point of the `aslo` command line. Each subcommand lives in its own file under commands/.
import { Command, CommanderError } from 'commander';
import { AsloError, isAsloError } from '../platform/errors.js';
import { dataDirInUseError, probeDataDir } from '../platform/db/lock.js';
import { EXIT_FAILED, EXIT_USAGE, UsageError, cliErr, cliOut, commandName, configFrom, runModeOf, storeScope, withCommon, warn } from './common.js';
import { RanInStore, runThroughStore } from './control.js';
import { registerToken } from './commands/token.js';
import { registerServe } from './commands/serve.js';
import { registerMigrate } from './commands/migrate.js';
import { registerImport } from './commands/import.js';
import { registerInspect } from './commands/inspect.js';
import { registerInstance } from './commands/instance.js';
import { registerDev } from './commands/dev.js';
import { registerCollection } from './commands/collection.js';
import { registerKeys } from './commands/keys.js';
import { registerUser } from './commands/user.js';
import { registerPublish } from './commands/publish.js';
import { registerRepo } from './commands/repo.js';
import { registerMirror } from './commands/mirror.js';
import { registerBackup } from './commands/backup.js';
import { registerRestore } from './commands/restore.js';
import { registerBuild } from './commands/build.js';
import { registerImportGit } from './commands/import-git.js';
import { events } from '../platform/events.js';
import { listenForCatalogChanges } from '../updates/changes.js';
import { listenForDownloadEvents } from '../downloads/subscriptions.js';

// Changes made by a command are recorded and reach the running servers.
listenForCatalogChanges(events);
listenForDownloadEvents(events);

export function buildProgram(): Command {
  const program = withCommon(new Command('aslo'))
    .description('aslo, the Sugar activity library: run the store and manage its catalog')
    .version('0.1.0')
    .showHelpAfterError('(run with --help for usage)');
  program.exitOverride();
  program.configureOutput({ writeOut: (s) => cliOut().write(s), writeErr: (s) => cliErr().write(s) });
  registerServe(program);
  registerMigrate(program);
  registerImport(program);
  registerInspect(program);
  registerInstance(program);
  registerDev(program);
  registerCollection(program);
  registerKeys(program);
  registerUser(program);
  registerPublish(program);
  registerRepo(program);
  registerMirror(program);
  registerBackup(program);
  registerRestore(program);
  registerBuild(program);
  registerToken(program);
  registerImportGit(program);
  for (const cmd of program.commands) {
    cmd.exitOverride();
    for (const sub of cmd.commands) sub.exitOverride();
  }
  return program;
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
    const config = configFrom(action, { writeDefaults: false });
    if (config.database.url || config.database.embeddedDir === ':memory:') return;
    const holder = await probeDataDir(config.database.embeddedDir);
    if (!holder) return;
    if (mode === 'store' && holder.accepting) throw new RanInStore(await runThroughStore(config.database.embeddedDir, argv.slice(2)));
    throw dataDirInUseError(config.database.embeddedDir, holder);
  });
}

/** Runs the CLI and returns its exit status (0 ok, 1 failed or rejected, 2 usage). */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
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
