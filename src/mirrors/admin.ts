// The administrators' mirror page (/admin/mirrors): filled in with the registry.
import type { FastifyInstance } from 'fastify';

export async function mirrorAdminRoutes(_app: FastifyInstance): Promise<void> {}
