// The hub's pages, registered in one encapsulated plugin so they share the HTML error handler.
import type { FastifyInstance } from 'fastify';
import { installHtmlErrors } from './common.js';
import { accountPages } from './account.js';
import { developerPages } from './developers.js';
import { editorPages } from './editors.js';
import { ratingPages } from './ratings.js';
import { statsPages } from './stats.js';
import { sourcePages } from './sources.js';

export async function hubRoutes(app: FastifyInstance): Promise<void> {
  installHtmlErrors(app);
  await app.register(accountPages);
  await app.register(developerPages);
  await app.register(editorPages);
  await app.register(ratingPages);
  await app.register(statsPages);
  await app.register(sourcePages);
}
