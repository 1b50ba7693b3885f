// The SQL of the jobs table: plain functions over the database handle (the caller's transaction,
// when it passes one), as in the domains' query modules. The claim, lease and retry rules they
// serve are explained in ./index.ts.
import { sql, type Updateable } from 'kysely';
import type { Db } from '../db/index.js';
import type { JobsTable } from '../db/schema.js';

/** Adds a deduplicated job unless an unfinished one with its key waits; true when a row was created. */
export async function insertJobIfAbsent(
  db: Db,
  queue: string,
  payload: Record<string, unknown>,
  dedupeKey: string,
  runAt: Date,
  maxAttempts: number,
): Promise<boolean> {
  const res = await sql`
    insert into jobs (queue, payload, dedupe_key, run_at, max_attempts)
    values (${queue}, ${JSON.stringify(payload)}::jsonb, ${dedupeKey}, ${runAt}, ${maxAttempts})
    on conflict (queue, dedupe_key) where done_at is null and dedupe_key is not null do nothing
  `.execute(db);
  return Number(res.numAffectedRows ?? 0) > 0;
}

/**
 * Adds a deduplicated job, or merges it into the unfinished one with its key (earlier run time,
 * new payload, one more run if it is running now); true when a row was created.
 */
export async function upsertJob(
  db: Db,
  queue: string,
  payload: Record<string, unknown>,
  dedupeKey: string,
  runAt: Date,
  maxAttempts: number,
): Promise<boolean> {
  const res = await sql<{ inserted: boolean }>`
    insert into jobs (queue, payload, dedupe_key, run_at, max_attempts)
    values (${queue}, ${JSON.stringify(payload)}::jsonb, ${dedupeKey}, ${runAt}, ${maxAttempts})
    on conflict (queue, dedupe_key) where done_at is null and dedupe_key is not null
    do update set
      run_at = least(jobs.run_at, excluded.run_at),
      payload = excluded.payload,
      rerun = jobs.rerun or (jobs.locked_until is not null and jobs.locked_until > now())
    returning (xmax = 0) as inserted
  `.execute(db);
  return Boolean(res.rows[0]?.inserted);
}

export async function insertJob(db: Db, queue: string, payload: Record<string, unknown>, runAt: Date, maxAttempts: number): Promise<void> {
  await db
    .insertInto('jobs')
    .values({ queue, payload: JSON.stringify(payload), run_at: runAt, max_attempts: maxAttempts, created_at: new Date() })
    .execute();
}

/** Claims up to `limit` due jobs of `queues` for the worker, leased for `lease` (an interval). */
export async function claimJobs(db: Db, workerId: string, queues: string[], lease: string, limit: number) {
  const res = await sql<{ id: number; queue: string; payload: unknown; attempts: number; max_attempts: number; dedupe_key: string | null }>`
    update jobs set locked_by = ${workerId}, locked_until = now() + ${lease}::interval, attempts = attempts + 1
    where id in (
      select id from jobs
      where done_at is null and queue in (${sql.join(queues)}) and run_at <= now()
        and (locked_until is null or locked_until < now())
      order by run_at, id
      limit ${limit}
      for update skip locked
    )
    returning id, queue, payload, attempts, max_attempts, dedupe_key
  `.execute(db);
  return res.rows;
}

/** A claimed job marked to run again: released to run now. True when it was so marked. */
export async function requeueIfRerun(db: Db, id: number, workerId: string): Promise<boolean> {
  const rerun = await db
    .updateTable('jobs')
    .set({ rerun: false, locked_by: null, locked_until: null, attempts: 0, run_at: new Date(), last_error: null })
    .where('id', '=', id)
    .where('locked_by', '=', workerId)
    .where('rerun', '=', true)
    .executeTakeFirst();
  return Number(rerun.numUpdatedRows) > 0;
}

/** Updates a job while this worker still holds it. */
export async function updateClaimedJob(db: Db, id: number, workerId: string, set: Updateable<JobsTable>): Promise<void> {
  await db.updateTable('jobs').set(set).where('id', '=', id).where('locked_by', '=', workerId).execute();
}

/** Extends the lease of the worker's running jobs by `lease` (an interval) from now. */
export async function extendLeases(db: Db, ids: number[], workerId: string, lease: string): Promise<void> {
  await sql`update jobs set locked_until = now() + ${lease}::interval where id in (${sql.join(ids)}) and locked_by = ${workerId}`.execute(db);
}

/** Deletes the jobs that finished without error longer ago than `age` (an interval). */
export async function deleteFinishedJobs(db: Db, age: string): Promise<void> {
  await sql`delete from jobs where done_at is not null and done_at < now() - ${age}::interval and last_error is null`.execute(db);
}

/** Jobs that ran out of attempts (finished with an error), newest first. */
export async function deadJobs(db: Db, queue?: string) {
  let q = db.selectFrom('jobs').selectAll().where('done_at', 'is not', null).where('last_error', 'is not', null);
  if (queue) q = q.where('queue', '=', queue);
  return q.orderBy('done_at', 'desc').limit(100).execute();
}

/** Unfinished jobs per queue (for status pages and tests). */
export async function pendingJobs(db: Db, queue?: string): Promise<number> {
  let q = db
    .selectFrom('jobs')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('done_at', 'is', null);
  if (queue) q = q.where('queue', '=', queue);
  const row = await q.executeTakeFirst();
  return Number(row?.n ?? 0);
}

/** Per queue: the unfinished jobs, and the dead ones (finished with an error). */
export async function jobCountsByQueue(db: Db): Promise<{ queue: string; pending: number; dead: number }[]> {
  const res = await sql<{ queue: string; pending: number; dead: number }>`
    select queue,
      count(*) filter (where done_at is null)::int as pending,
      count(*) filter (where done_at is not null and last_error is not null)::int as dead
    from jobs group by queue`.execute(db);
  return res.rows;
}
