/**
 * The control store. One schema for embedded PGlite and PostgreSQL alike; drizzle-kit turns it
 * into the SQL migrations in `packages/server/drizzle`, applied at start. The tables live in
 * `schema/`, one file per area; this is the one place the rest of the server imports them from.
 */
export * from './schema/access.js';
export * from './schema/gateway.js';
export * from './schema/sign-in.js';
export * from './schema/spend.js';
export * from './schema/tenancy.js';
