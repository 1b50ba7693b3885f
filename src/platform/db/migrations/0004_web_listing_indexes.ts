// Indexes for the store's listings: each sort order of public activities can be read in order
// and stop after one page, instead of sorting the whole catalog for every page view.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create index activities_public_popular_idx on activities (download_count desc, id) where status = 'public';
    create index activities_public_updated_idx on activities (last_published_at desc nulls last, id) where status = 'public';
    create index activities_public_newest_idx on activities (created_at desc, id) where status = 'public';
    create index activities_public_rated_idx on activities (rating_bayesian desc nulls last, id) where status = 'public';
    create index activities_public_featured_idx on activities (download_count desc, id) where status = 'public' and featured;
    create index files_public_version_idx on files (version_id) where status = 'public';
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    drop index if exists activities_public_popular_idx, activities_public_updated_idx, activities_public_newest_idx,
      activities_public_rated_idx, activities_public_featured_idx, files_public_version_idx;
  `.execute(db);
}
