// The background worker of the download side: the durable jobs that publish files into the repo
// tree and check the mirrors. `aslo serve` runs it (roles all and worker); tests build one and
// call drain().
import type { AppContext } from '../platform/context.js';
import { JobRunner, type RunnerOptions } from '../platform/jobs/index.js';
import { PUBLISH_QUEUE, publishFile, type PublishHooks } from './repo.js';
import { MirrorChecker } from '../mirrors/checks.js';
import { registerSourceBuilds } from '../build/publish.js';
import { Mailer } from '../mail/mailer.js';

export interface DownloadWorker {
  runner: JobRunner;
  checker: MirrorChecker;
  hooks: PublishHooks;
}

/** `mailer`: the instance's (src/composition.ts); without one (tests), a mailer of its own. */
export function createDownloadWorker(ctx: AppContext, { mailer, ...opts }: RunnerOptions & { mailer?: Mailer } = {}): DownloadWorker {
  const cfg = ctx.config;
  const runner = new JobRunner(ctx.db, {
    concurrency: cfg.jobs.concurrency,
    pollMs: cfg.jobs.pollMs,
    leaseSeconds: cfg.jobs.leaseSeconds,
    ...opts,
  });
  const checker = new MirrorChecker(ctx, { log: opts.log?.warn });
  const hooks: PublishHooks = {
    published: (c, fileId) => checker.fileChanged(fileId),
  };
  runner.handle(PUBLISH_QUEUE, async (job) => {
    const fileId = Number(job.payload.fileId);
    if (!Number.isSafeInteger(fileId) || fileId <= 0) return;
    await publishFile(ctx, fileId, { hooks });
  });
  checker.register(runner);
  registerSourceBuilds(ctx, runner, { mailer: mailer ?? new Mailer(ctx.config, ctx.secrets) }); // builds of activities' sources (src/build/publish.ts)
  return { runner, checker, hooks };
}
