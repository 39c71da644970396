import { describe, expectTypeOf, it } from 'vitest';
import type { featureFlagNames } from '../../server/src/store/schema.js';
import type { FeatureFlag } from '../src/api.js';

/**
 * The web app's API types are written by hand (the server's modules cannot be bundled for the
 * browser); where a type is a closed list of names, it must be the server's list. These checks
 * run in the type check (`npm run lint`), which fails when the lists differ.
 */
describe("the web app's API types", () => {
  it('names the same release flags as the server', () => {
    expectTypeOf<FeatureFlag>().toEqualTypeOf<(typeof featureFlagNames)[number]>();
  });
});
