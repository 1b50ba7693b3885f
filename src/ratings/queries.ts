// SQL of ratings and reviews read by the pages (the service's own statements are still inline in
// service.ts).
import type { Db } from '../platform/db/index.js';

/** The bundle id of the activity a review is about; undefined when there is no such review. */
export async function bundleIdOfReview(db: Db, reviewId: number): Promise<string | undefined> {
  const row = await db.selectFrom('reviews as r').innerJoin('activities as a', 'a.id', 'r.activity_id').select('a.bundle_id').where('r.id', '=', reviewId).executeTakeFirst();
  return row?.bundle_id;
}
