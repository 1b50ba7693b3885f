// The publishing API and the editors' API. Their services (publishing, review, listing, ratings)
// are made by the composition root (src/composition.ts).
import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { publishingApi } from './api.js';
import { reviewApi } from './review-api.js';
import { loadIssueCatalogs } from '../bundles/index.js';

async function reviewPlugin(app: FastifyInstance): Promise<void> {
  // The translations of validation messages (locales/<lang>/bundles.po), read once at start.
  loadIssueCatalogs();
  // Encapsulated: the streaming body parser and multipart apply to the API's routes only.
  await app.register(publishingApi);
  await app.register(reviewApi);
}

export default fp(reviewPlugin, { name: 'aslo-review', dependencies: ['aslo-accounts'] });
