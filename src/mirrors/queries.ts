// The mirrors domain's SQL: the registry's rows and the verification evidence (mirror_files).
// The pattern, database handle first, is explained in search/queries.ts.
import { sql } from 'kysely';
import type { Db } from '../platform/db/index.js';
import type { MirrorRow } from '../platform/db/schema.js';

// --- registry ----------------------------------------------------------------------------------

export async function allMirrors(db: Db): Promise<MirrorRow[]> {
  return (await db.selectFrom('mirrors').selectAll().orderBy('name').execute()) as MirrorRow[];
}

/** How many published files each mirror has in each verification state. */
export async function mirrorFileCounts(db: Db) {
  return db
    .selectFrom('mirror_files as mf')
    .innerJoin('files as f', 'f.id', 'mf.file_id')
    .select(['mf.mirror_id', 'mf.state', (eb) => eb.fn.countAll<number>().as('n')])
    .where('f.repo_path', 'is not', null)
    .groupBy(['mf.mirror_id', 'mf.state'])
    .execute();
}

/** Published files a mirror does not hold (yet), by file id. */
export async function unverifiedFiles(db: Db, mirrorId: number, limit: number) {
  return db
    .selectFrom('mirror_files as mf')
    .innerJoin('files as f', 'f.id', 'mf.file_id')
    .select(['f.id', 'f.repo_path', 'mf.state', 'mf.attempts', 'mf.last_error', 'mf.next_check_at'])
    .where('mf.mirror_id', '=', mirrorId)
    .where('mf.state', '<>', 'verified')
    .where('f.repo_path', 'is not', null)
    .orderBy('f.id')
    .limit(limit)
    .execute();
}

export async function mirrorNamed(db: Db, name: string) {
  return db.selectFrom('mirrors').select('id').where('name', '=', name).executeTakeFirst();
}

/** Insert a mirror (validated values); its id. */
export async function insertMirror(db: Db, values: Record<string, unknown>): Promise<number> {
  const r = await db
    .insertInto('mirrors')
    .values(values as never)
    .returning('id')
    .executeTakeFirstOrThrow();
  return Number(r.id);
}

export async function updateMirror(db: Db, id: number, set: Record<string, unknown>): Promise<void> {
  await db
    .updateTable('mirrors')
    .set(set as never)
    .where('id', '=', id)
    .execute();
}

/** Forget all verification evidence of a mirror. */
export async function deleteMirrorFiles(db: Db, mirrorId: number): Promise<void> {
  await db.deleteFrom('mirror_files').where('mirror_id', '=', mirrorId).execute();
}

export async function deleteMirror(db: Db, id: number): Promise<void> {
  await db.deleteFrom('mirrors').where('id', '=', id).execute();
}

// --- verification and health -------------------------------------------------------------------

/** A file was published: a row due now on every enabled mirror. */
export async function queueFileOnMirrors(db: Db, fileId: number): Promise<void> {
  await sql`
      insert into mirror_files (mirror_id, file_id, state, next_check_at, updated_at)
      select m.id, ${fileId}, 'pending', now(), now() from mirrors m where m.enabled
      on conflict (mirror_id, file_id) do update set next_check_at = now(), attempts = 0, updated_at = now()
    `.execute(db);
}

/** A mirror was added or enabled: every published file not verified there is due now. */
export async function queueFilesOnMirror(db: Db, mirrorId: number): Promise<void> {
  await sql`
      insert into mirror_files (mirror_id, file_id, state, next_check_at, updated_at)
      select ${mirrorId}, f.id, 'pending', now(), now() from files f where f.repo_path is not null
      on conflict (mirror_id, file_id) do update set next_check_at = least(mirror_files.next_check_at, now()), updated_at = now()
        where mirror_files.state <> 'verified'
    `.execute(db);
}

/** Up to `limit` (mirror, file) pairs due for verification, earliest first. */
export async function dueChecks(db: Db, limit: number) {
  return db
    .selectFrom('mirror_files as mf')
    .innerJoin('mirrors as m', 'm.id', 'mf.mirror_id')
    .innerJoin('files as f', 'f.id', 'mf.file_id')
    .select(['mf.mirror_id', 'mf.file_id', 'mf.state', 'mf.attempts', 'm.http_url', 'm.https_url', 'f.repo_path', 'f.size', 'f.piece_length', 'f.piece_hashes'])
    .where('mf.next_check_at', '<=', new Date())
    .where('m.enabled', '=', true)
    .where('f.repo_path', 'is not', null)
    .orderBy('mf.next_check_at')
    .limit(limit)
    .execute();
}

export async function markFileVerified(db: Db, mirrorId: number, fileId: number): Promise<void> {
  await db
    .updateTable('mirror_files')
    .set({ state: 'verified', attempts: 0, next_check_at: null, checked_at: new Date(), verified_at: new Date(), last_error: null, updated_at: new Date() })
    .where('mirror_id', '=', mirrorId)
    .where('file_id', '=', fileId)
    .execute();
}

export async function markFileUnverified(
  db: Db,
  mirrorId: number,
  fileId: number,
  row: { state: 'failed' | 'pending'; attempts: number; nextCheckAt: Date; lastError: string },
): Promise<void> {
  await db
    .updateTable('mirror_files')
    .set({
      state: row.state,
      attempts: row.attempts,
      next_check_at: row.nextCheckAt,
      checked_at: new Date(),
      last_error: row.lastError,
      updated_at: new Date(),
    })
    .where('mirror_id', '=', mirrorId)
    .where('file_id', '=', fileId)
    .execute();
}

/** Every file verified on a mirror is due now. */
export async function recheckVerifiedFiles(db: Db, mirrorId: number): Promise<void> {
  await db.updateTable('mirror_files').set({ next_check_at: new Date() }).where('mirror_id', '=', mirrorId).where('state', '=', 'verified').execute();
}

export async function enabledMirrors(db: Db) {
  return db.selectFrom('mirrors').selectAll().where('enabled', '=', true).execute();
}

/** Up to `limit` published files verified on a mirror, in random order. */
export async function randomVerifiedFiles(db: Db, mirrorId: number, limit: number) {
  return db
    .selectFrom('mirror_files as mf')
    .innerJoin('files as f', 'f.id', 'mf.file_id')
    .select(['f.id', 'f.repo_path', 'f.size', 'f.piece_length', 'f.piece_hashes'])
    .where('mf.mirror_id', '=', mirrorId)
    .where('mf.state', '=', 'verified')
    .where('f.repo_path', 'is not', null)
    .orderBy(sql`random()`)
    .limit(limit)
    .execute();
}

/** Whether a verified file of the mirror still waits for its recheck. */
export async function hasRecheckDue(db: Db, mirrorId: number): Promise<boolean> {
  const due = await db
    .selectFrom('mirror_files')
    .select('file_id')
    .where('mirror_id', '=', mirrorId)
    .where('state', '=', 'verified')
    .where('next_check_at', 'is not', null)
    .limit(1)
    .executeTakeFirst();
  return due !== undefined;
}

export async function recordMirrorHealth(db: Db, mirrorId: number, scheme: 'http' | 'https', ok: boolean, error: string | null): Promise<void> {
  await db
    .updateTable('mirrors')
    .set(
      scheme === 'http' ? { http_ok: ok, http_checked_at: new Date(), http_error: error } : { https_ok: ok, https_checked_at: new Date(), https_error: error },
    )
    .where('id', '=', mirrorId)
    .execute();
}

export async function touchMirror(db: Db, mirrorId: number): Promise<void> {
  await db.updateTable('mirrors').set({ updated_at: new Date() }).where('id', '=', mirrorId).execute();
}

/** Files waiting to be verified on a mirror are due now; whether there was any. */
export async function hurryPendingFiles(db: Db, mirrorId: number): Promise<boolean> {
  const r = await db
    .updateTable('mirror_files')
    .set({ next_check_at: new Date() })
    .where('mirror_id', '=', mirrorId)
    .where('state', '<>', 'verified')
    .where('next_check_at', '>', new Date())
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}
