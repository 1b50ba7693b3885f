// `aslo dev outbox`: the mails the embedded default wrote instead of sending (no SMTP server).
import { Command } from 'commander';
import { configFrom, runsThroughStore, say, withCommon } from '../common.js';
import { readOutbox } from '../../mail/mailer.js';

export function registerOutbox(dev: Command): void {
  runsThroughStore(withCommon(dev.command('outbox')))
    .description('show the mails written to the outbox folder (when no SMTP server is configured)')
    .option('--last <n>', 'only the newest n mails', (v) => Number.parseInt(v, 10))
    .option('--to <address>', 'only mails to this address')
    .option('--full', 'print each mail in full (default: the newest in full, others one line each)')
    .action(async (opts: { last?: number; to?: string; full?: boolean }, cmd: Command) => {
      const config = await configFrom(cmd);
      let mails = readOutbox(config.storage.outboxDir);
      if (opts.to) mails = mails.filter((m) => m.to.toLowerCase() === opts.to!.toLowerCase());
      if (opts.last && opts.last > 0) mails = mails.slice(-opts.last);
      if (mails.length === 0) {
        say(`No mail in ${config.storage.outboxDir}.`);
        return;
      }
      say(`${mails.length} mail(s) in ${config.storage.outboxDir}:`);
      mails.forEach((m, i) => {
        const full = opts.full || i === mails.length - 1;
        say(`\n${m.at}  to ${m.to}  "${m.subject}"`);
        if (full) say(`From: ${m.from}\nTo: ${m.to}\nSubject: ${m.subject}\n\n${m.text}`);
      });
    });
}
