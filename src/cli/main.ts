// Entry point of the `aslo` command line. Each subcommand lives in its own file under commands/.
import { Command, CommanderError } from 'commander';
import { isAsloError } from '../platform/errors.js';
import { EXIT_FAILED, EXIT_USAGE, UsageError, withCommon, warn } from './common.js';
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

export function buildProgram(): Command {
  const program = withCommon(new Command('aslo'))
    .description('aslo, the Sugar activity library: run the store and manage its catalog')
    .version('0.1.0')
    .showHelpAfterError('(run with --help for usage)');
  program.exitOverride();
  program.configureOutput({ writeErr: (s) => process.stderr.write(s) });
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
  registerImportGit(program);
  for (const cmd of program.commands) {
    cmd.exitOverride();
    for (const sub of cmd.commands) sub.exitOverride();
  }
  return program;
}

/** Runs the CLI and returns its exit status (0 ok, 1 failed or rejected, 2 usage). */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    const result = await program.parseAsync(argv);
    const code = (result as unknown as { exitStatus?: number }).exitStatus;
    return typeof code === 'number' ? code : process.exitCode === undefined ? 0 : Number(process.exitCode);
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return 0;
      return EXIT_USAGE;
    }
    if (err instanceof UsageError) {
      warn(`aslo: ${err.message}`);
      return EXIT_USAGE;
    }
    if (isAsloError(err)) {
      warn(`aslo: ${err.message} [${err.code}]`);
      return EXIT_FAILED;
    }
    warn(`aslo: ${(err as Error).stack ?? String(err)}`);
    return EXIT_FAILED;
  }
}
