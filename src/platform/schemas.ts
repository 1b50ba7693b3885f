// The pieces of route schemas that many routes share, and the Fastify instance type that reads
// request types from them. Every route declares its path parameters, query and body with TypeBox
// (https://github.com/sinclairzx81/typebox): Fastify validates them before the handler runs (a
// path parameter that does not fit answers 404, anything else 400 BAD_REQUEST, see
// src/platform/errors.ts), the handler gets their types, and the OpenAPI document at /api/docs
// is generated from the same schemas.
//
// What the validator does to a request (Fastify's Ajv defaults, src/app.ts sets none): strings
// are coerced to the declared scalar type ("7" to 7 for an integer), a single value to an array
// where an array is declared (and an array of one to its value), defaults are filled in, and
// properties a schema does not declare are kept, since no schema here sets
// additionalProperties: false (Sugar sends query parameters of its own; they stay accepted).
//
// Routes whose handler answers bad input in its own way (the updater's plain answers, the HTML
// forms that show the form again with a message) declare their fields with types that cannot
// refuse what the handler takes: a text field or a path segment is a string whatever it holds.
import type {
  FastifyBaseLogger,
  FastifyInstance,
  FastifyRequest,
  FastifySchema,
  FastifyTypeProvider,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
  RouteGenericInterface,
} from 'fastify';
import Type, { type Static, type TSchema } from 'typebox';

export { Type };

/**
 * The type provider of the routes: what a route receives (params, query, body) has the static
 * type of its TypeBox schema, as with @fastify/type-provider-typebox's TypeBoxTypeProvider.
 * Replies stay untyped (TypeBoxTypeProvider would type them too): the response schemas of the
 * routes describe some answers for /api/docs, not every answer a handler gives.
 */
export interface RequestTypeProvider extends FastifyTypeProvider {
  validator: this['schema'] extends TSchema ? Static<this['schema']> : unknown;
  serializer: unknown;
}

/** A Fastify instance whose routes take their request types from their TypeBox schemas. */
export type TypedApp = FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, FastifyBaseLogger, RequestTypeProvider>;

/** The request of a route with this schema (for handlers written apart from their route). */
export type TypedRequest<S extends FastifySchema> = FastifyRequest<
  RouteGenericInterface,
  RawServerDefault,
  RawRequestDefaultExpression,
  S,
  RequestTypeProvider
>;

// ---- OpenAPI groups (tags) ------------------------------------------------------------------

/** The groups of /api/docs, in the order they are shown, with what each holds. */
export const API_TAGS = [
  { name: 'catalog', description: 'The public catalog: activities, versions, files and icons.' },
  {
    name: 'publishing',
    description: 'For developers with an API token: uploads, their activities, nominations, sources from git, release webhooks and download statistics.',
  },
  { name: 'review', description: 'For editors: the review queue and decisions.' },
  {
    name: 'updates',
    description: "Sugar's updater: the update checks of the old site (update-aslo.php, update.php), the update microformat page and the signed JSON index.",
  },
] as const;

// ---- values -----------------------------------------------------------------------------------

/** A bundle id as it appears in a path (any character but '/'; not checked further here). */
export const BundleId = Type.String({ description: 'Bundle id of the activity, e.g. org.laptop.Calculate' });

/** A version string as an activity declares it (1, 2.1, 0.118.2...). */
export const VersionString = Type.String({ description: 'Version as declared by the activity (activity_version), e.g. 12 or 2.1' });

/** A row id in a path: a whole number from 1; anything else names nothing (404). */
export const RowId = Type.Integer({ minimum: 1, description: 'Numeric id' });

/** A path segment or parameter taken as text whatever it holds (the handler judges it). */
export const Text = Type.String();

/** A language code (en, es, pt-BR...): the texts of the answer, else Accept-Language. */
export const LangQuery = Type.String({ description: 'Locale of the texts (else Accept-Language)' });

/** Paging of a list: kept as text, the service checks the range and answers BAD_PARAMETER. */
export const Pagination = {
  page: Type.Optional(Type.String({ description: 'Page number, from 1' })),
  per_page: Type.Optional(Type.String({ description: 'Items per page, 1-100 (default 20)' })),
};

/**
 * A field of an HTML form or a query parameter of an HTML page, read by the handler as it comes
 * (a string, a repeated field's list, or nothing): never refused by the validator.
 */
export const FormField = Type.Unknown();

/** A query parameter of the JSON API read by its handler whatever it holds (see FormField). */
export function looseParam(description: string) {
  return Type.Optional(Type.Unknown({ description }));
}

type Fields<K extends string> = { [P in K]?: unknown };

/** The query parameters an HTML page reads (see FormField): named, never refused. */
export function formQuery<const K extends string>(...names: K[]) {
  return Type.Unsafe<Fields<K>>(Type.Object(Object.fromEntries(names.map((n) => [n, Type.Optional(FormField)]))));
}

/**
 * The fields of an HTML form post (urlencoded or multipart): named, never refused. A post without
 * a body (a multipart form is read by its handler; a client may send nothing) or with a body that
 * is no form reaches the handler as before, which reads every field with field()/fieldList()
 * (src/web/hub/common.ts).
 */
export function formBody<const K extends string>(...names: K[]) {
  const form = Type.Object(Object.fromEntries(names.map((n) => [n, Type.Optional(FormField)])));
  return Type.Unsafe<Fields<K>>({ anyOf: [form, { not: { type: 'object' } }] });
}

/** Path parameters that are all text (see Text). */
export function textParams<const K extends string>(...names: K[]) {
  return Type.Unsafe<{ [P in K]: string }>(Type.Object(Object.fromEntries(names.map((n) => [n, Text]))));
}

/** The path parameters of a route address (its :names and a trailing *), all text. */
export function pathParams(url: string) {
  const names = [...url.matchAll(/:([A-Za-z_][A-Za-z0-9_]*)|\*/g)].map((m) => m[1] ?? '*');
  return textParams(...names);
}
