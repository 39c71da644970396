import { z } from 'zod';

/**
 * Field schemas several adapters share. Each adapter still names its own fields; these only keep
 * one spelling of the common ones.
 */

/** The API key most vendors authenticate with. */
export const apiKeyField = z.string().min(1).max(4096);

/** The secrets of a credential whose only secret is an optional API key. */
export const apiKeySecrets = z.object({ apiKey: apiKeyField.optional().describe('the API key') });

/** A credential with no settings beyond the common fields. */
export const noSettings = z.object({});
