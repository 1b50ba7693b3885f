// SQL of the updater's HTTP side: release notes and the downloads experimental clients are sent
// to. Plain functions over the database handle; the access rules are UpdateService's.
import type { Db } from '../platform/db/index.js';

/**
 * A version that has a file an updater may be sent to (public, sandbox or pending) of an activity
 * that is not disabled, with whether it is published (a public file); undefined if none.
 */
export function releaseNotesVersion(db: Db, versionId: number) {
  return db
    .selectFrom('versions as v')
    .innerJoin('activities as a', 'a.id', 'v.activity_id')
    .select((eb) => [
      'v.version',
      'v.release_notes',
      'a.bundle_id',
      'a.status',
      'a.id as activity_id',
      eb.exists(eb.selectFrom('files as f').select('f.id').whereRef('f.version_id', '=', 'v.id').where('f.status', '=', 'public')).as('published'),
    ])
    .where('v.id', '=', versionId)
    .where('a.status', '<>', 'disabled')
    .where((eb) =>
      eb.exists(eb.selectFrom('files as f').select('f.id').whereRef('f.version_id', '=', 'v.id').where('f.status', 'in', ['public', 'sandbox', 'pending'])),
    )
    .executeTakeFirst();
}

/** A public, sandbox or pending file of an activity that is not disabled (experimental clients download those); undefined if none. */
export function experimentalFile(db: Db, fileId: number) {
  return db
    .selectFrom('files as f')
    .innerJoin('versions as v', 'v.id', 'f.version_id')
    .innerJoin('activities as a', 'a.id', 'v.activity_id')
    .select(['f.file_name', 'f.size', 'f.sha256', 'f.storage_key'])
    .where('f.id', '=', fileId)
    .where('f.status', 'in', ['public', 'sandbox', 'pending'])
    .where('a.status', '<>', 'disabled')
    .executeTakeFirst();
}
