// Registers the publishing and review services on the app, and the publishing API.
import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { PublishingService } from './publishing.js';
import { ReviewService } from './service.js';
import { ListingService } from './listing.js';
import { RatingsService } from '../ratings/service.js';
import { publishingApi } from './api.js';
import { catalogChanged } from '../updates/changes.js';

async function reviewPlugin(app: FastifyInstance): Promise<void> {
  app.decorate('publishing', new PublishingService(app.ctx, app.services.catalog, app.accounts, app.mailer));
  // Status changes reach the updater's index in every process, like new uploads do.
  app.decorate('review', new ReviewService(app.ctx, app.mailer, (activityIds) => catalogChanged(app.ctx, { activityIds })));
  app.decorate('listing', new ListingService(app.ctx));
  app.decorate('ratings', new RatingsService(app.ctx));
  // Encapsulated: the streaming body parser and multipart apply to the API's routes only.
  await app.register(publishingApi);
}

export default fp(reviewPlugin, { name: 'aslo-review', dependencies: ['aslo-accounts'] });
