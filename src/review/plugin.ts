// Registers the publishing and review services on the app, the publishing API and the editors' API.
import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { PublishingService } from './publishing.js';
import { ReviewService } from './service.js';
import { ListingService } from './listing.js';
import { RatingsService } from '../ratings/service.js';
import { publishingApi } from './api.js';
import { reviewApi } from './review-api.js';
import { events } from '../platform/events.js';
import { loadIssueCatalogs } from '../bundles/index.js';

async function reviewPlugin(app: FastifyInstance): Promise<void> {
  // The translations of validation messages (locales/<lang>/bundles.po), read once at start.
  loadIssueCatalogs();
  app.decorate('publishing', new PublishingService(app.ctx, app.services.catalog, app.accounts, app.mailer));
  // Status changes reach the updater's index in every process, like new uploads do, and the
  // repo tree: its publish jobs put the activity's files in or take them out (src/downloads/repo.ts).
  const onStatusChange = async (activityIds: number[]) => {
    await events.emit('activity.statusChanged', { ctx: app.ctx, activityIds }, { onError: (err) => app.log.warn({ err }, 'could not queue repo tree updates') });
    await events.emit('catalog.changed', { ctx: app.ctx, activityIds }, { onError: (err) => app.log.warn({ err }, 'could not record a catalog change') });
  };
  app.decorate('review', new ReviewService(app.ctx, app.mailer, onStatusChange));
  app.decorate('listing', new ListingService(app.ctx));
  app.decorate('ratings', new RatingsService(app.ctx));
  // Encapsulated: the streaming body parser and multipart apply to the API's routes only.
  await app.register(publishingApi);
  await app.register(reviewApi);
}

export default fp(reviewPlugin, { name: 'aslo-review', dependencies: ['aslo-accounts'] });
