// Outgoing mail. With mail.smtpUrl set, mail goes out over SMTP (nodemailer). Without it (the
// embedded default), each mail is written to the instance's outbox folder as an .eml file (the
// real message) and a .json file (the same, easy to read), so every flow that sends mail works
// on a laptop with no mail server; `aslo dev outbox` shows them.
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Transporter } from 'nodemailer';
import type { AsloConfig, Secrets } from '../platform/config.js';
import { writeFileAtomic } from '../platform/config.js';

export interface Mail {
  to: string;
  subject: string;
  text: string;
}

export interface OutboxMail extends Mail {
  id: string;
  from: string;
  at: string;
}

export class Mailer {
  private transport: Transporter | null = null;

  constructor(
    private readonly config: AsloConfig,
    private readonly secrets: Pick<Secrets, 'smtpPassword'>,
  ) {}

  get usesOutbox(): boolean {
    return !this.config.mail.smtpUrl;
  }

  async send(mail: Mail): Promise<void> {
    const from = this.config.mail.from;
    if (this.usesOutbox) {
      await this.writeOutbox({ ...mail, from });
      return;
    }
    if (!this.transport) {
      const url = new URL(this.config.mail.smtpUrl);
      const nodemailer = await loadNodemailer();
      this.transport = nodemailer.createTransport({
        host: url.hostname,
        port: url.port ? Number(url.port) : url.protocol === 'smtps:' ? 465 : 587,
        secure: url.protocol === 'smtps:',
        auth: url.username ? { user: decodeURIComponent(url.username), pass: this.secrets.smtpPassword ?? decodeURIComponent(url.password) } : undefined,
      });
    }
    await this.transport.sendMail({ from, to: mail.to, subject: mail.subject, text: mail.text });
  }

  private async writeOutbox(mail: Mail & { from: string }): Promise<void> {
    const dir = this.config.storage.outboxDir;
    mkdirSync(dir, { recursive: true });
    const at = new Date();
    const id = `${at.toISOString().replace(/[:.]/g, '-')}-${randomBytes(4).toString('hex')}`;
    const nodemailer = await loadNodemailer();
    const stream = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
    const info = await stream.sendMail({ from: mail.from, to: mail.to, subject: mail.subject, text: mail.text, date: at });
    writeFileAtomic(join(dir, `${id}.eml`), info.message as Buffer);
    const record: OutboxMail = { id, at: at.toISOString(), from: mail.from, to: mail.to, subject: mail.subject, text: mail.text };
    writeFileAtomic(join(dir, `${id}.json`), JSON.stringify(record, null, 2) + '\n');
  }
}

/** nodemailer, loaded with the first mail (a process start does not pay for it). */
async function loadNodemailer() {
  return (await import('nodemailer')).default;
}

/** The mails in an outbox folder, oldest first. */
export function readOutbox(dir: string): OutboxMail[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .filter((n) => n.endsWith('.json'))
    .sort()
    .map((n) => JSON.parse(readFileSync(join(dir, n), 'utf8')) as OutboxMail);
}
