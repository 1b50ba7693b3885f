// `aslo user`: create accounts (the first administrator: `aslo user create --admin`), change
// roles, list accounts. The operator at the command line is trusted; every change is audited
// with the actor "cli".
import { Command } from 'commander';
import { randomBytes } from 'node:crypto';
import { readStdin, runsThroughStore, say, UsageError, withCommon, withServices } from '../common.js';
import { ROLES } from '../../accounts/service.js';
import type { Role } from '../../platform/db/schema.js';

export function registerUser(program: Command): void {
  const user = withCommon(program.command('user')).description('manage accounts and roles (user, editor, admin)');

  runsThroughStore(withCommon(user.command('create')))
    .description('create a verified account; prints a generated password unless one is given')
    .requiredOption('--email <address>', 'e-mail address (the login)')
    .option('--name <display name>', 'display name (default: the part of the address before @)')
    .option('--password-stdin', 'read the password from standard input (else one is generated and printed)')
    .option('--admin', 'make the account an administrator')
    .option('--editor', 'make the account an editor')
    .action(async (opts: { email: string; name?: string; passwordStdin?: boolean; admin?: boolean; editor?: boolean }, cmd: Command) => {
      if (opts.admin && opts.editor) throw new UsageError('choose --admin or --editor, not both');
      const role: Role = opts.admin ? 'admin' : opts.editor ? 'editor' : 'user';
      const generated = !opts.passwordStdin;
      const password = generated ? randomBytes(12).toString('base64url') : await readStdin();
      await withServices(cmd, async ({ accounts }, ctx) => {
        const created = await accounts.createUser({
          email: opts.email,
          displayName: opts.name ?? opts.email.split('@')[0]!,
          password,
          role,
          actorLabel: 'cli:user-create',
        });
        say(`Created ${created.role} #${created.id} ${created.email} (e-mail verified).`);
        if (generated) say(`Password: ${password}\nLog in at ${ctx.config.server.baseUrl}/account/login and change it in your account settings.`);
      });
    });

  runsThroughStore(withCommon(user.command('role')))
    .description(`set the role of an account (${ROLES.join(', ')})`)
    .argument('<email>', 'e-mail address of the account')
    .argument('<role>', ROLES.join(' | '))
    .option('--reason <text>', 'why (kept in the audit log)')
    .action(async (email: string, role: string, opts: { reason?: string }, cmd: Command) => {
      if (!ROLES.includes(role as Role)) throw new UsageError(`role must be one of ${ROLES.join(', ')}`);
      await withServices(cmd, async ({ accounts }) => {
        const updated = await accounts.setRole('cli', email, role, opts.reason ?? null);
        say(`${updated.email} is now ${updated.role}.`);
      });
    });

  runsThroughStore(withCommon(user.command('list')))
    .description('list accounts')
    .option('--role <role>', 'only accounts with this role')
    .action(async (opts: { role?: string }, cmd: Command) => {
      await withServices(cmd, async ({ accounts }) => {
        for (const u of await accounts.allUsers(opts.role as Role | undefined))
          say(`${String(u.id).padStart(5)}  ${u.role.padEnd(6)}  ${u.email_verified_at ? 'verified  ' : 'unverified'}  ${u.email}  (${u.display_name})`);
      });
    });
}
