import { timestamp } from 'drizzle-orm/pg-core';

/** The creation time every table that keeps one keeps the same way. */
export const createdAt = () => timestamp('created_at', { withTimezone: true }).notNull().defaultNow();
