// Who may download a file that is not public (protocol doc §4): sandbox, pending and nominated
// versions only logged-in users who confirm they want an experimental activity (?confirm=experimental);
// disabled ones only their authors and editors. Everyone else gets the same 404 as for a file
// that does not exist, except the "log in" and "confirm" answers for experimental files.
import type { Db } from '../platform/db/index.js';
import { AsloError, notFound } from '../platform/errors.js';
import { canSeeHidden, type Viewer } from '../accounts/access.js';
import { fileWithActivity } from '../catalog/service.js';

export const CONFIRM_PARAM = 'confirm';
export const CONFIRM_VALUE = 'experimental';

export async function downloadableFile(db: Db, id: number, viewer: () => Promise<Viewer>, confirmed: boolean) {
  const row = await fileWithActivity(db, id);
  const missing = notFound('FILE_NOT_FOUND', `No public file has the id ${id}.`);
  if (!row) throw missing;
  if (row.status === 'public' && row.activity_status === 'public') return { ...row, isPublic: true };
  const v = await viewer();
  const insider = await canSeeHidden(db, v, row.activity_id);
  if (row.status === 'disabled' || row.activity_status === 'disabled') {
    if (!insider) throw missing;
    return { ...row, isPublic: false };
  }
  // Experimental: sandbox or pending file, or a sandbox/nominated activity.
  if (!v)
    throw new AsloError('DOWNLOAD_LOGIN_REQUIRED', 'This is an experimental version that has not been reviewed: log in to download it.', { statusCode: 401 });
  if (!insider && !confirmed) {
    throw new AsloError(
      'DOWNLOAD_CONFIRM_REQUIRED',
      `This is an experimental version that has not been reviewed. To download it anyway, confirm by adding ?${CONFIRM_PARAM}=${CONFIRM_VALUE} to the address.`,
      { statusCode: 403 },
    );
  }
  return { ...row, isPublic: false };
}
