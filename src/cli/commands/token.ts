// `aslo token create`: a personal API token for an account, made by the operator at the command
// line (CI, scripts, the editors' review API). The token is shown once, alone on the last line of
// standard output, so `TOKEN=$(aslo token create ... | tail -n 1)` works. Audited as "cli".
import { Command } from 'commander';
import { runsThroughStore, say, UsageError, withCommon, withServices } from '../common.js';
import { SCOPES } from '../../accounts/service.js';

export function registerToken(program: Command): void {
  const token = withCommon(program.command('token')).description('personal API tokens');

  runsThroughStore(withCommon(token.command('create')))
    .description('create an API token for an account; prints the token alone on the last line')
    .requiredOption('--email <address>', 'the account the token acts as')
    .requiredOption('--scopes <list>', `comma-separated scopes: ${SCOPES.join(', ')}`)
    .option('--days <n>', 'days until it expires (default 90)')
    .option('--name <name>', 'what it is for (default: "cli")')
    .action(async (opts: { email: string; scopes: string; days?: string; name?: string }, cmd: Command) => {
      const scopes = opts.scopes
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      if (scopes.length === 0) throw new UsageError(`--scopes takes a comma-separated list of ${SCOPES.join(', ')}`);
      let days: number | undefined;
      if (opts.days !== undefined) {
        if (!/^\d+$/.test(opts.days.trim())) throw new UsageError('--days must be a whole number of days');
        days = Number(opts.days);
      }
      await withServices(cmd, async ({ accounts }) => {
        const created = await accounts.createApiTokenForAccount(opts.email, { name: opts.name ?? 'cli', scopes, expiresInDays: days });
        say(
          `Created API token #${created.id} for ${opts.email} (scopes ${[...new Set(scopes)].join(', ')}), valid until ${created.expiresAt.toISOString()}. It is shown only now:`,
        );
        say(created.token);
      });
    });
}
