/**
 * The Open311 handler's ports on AWS (and on the local stack, whose env points the same adapters at the emulators):
 * the store, blobs and clock of the shared runtime, the `reqday` GSI feed, the settings, and one rate limiter per
 * container.
 */
import { dynamoClient, tableName } from '#adapters/dynamo/client.ts';
import { TokenBuckets } from '#channels/open311/rate-limit.ts';
import { acceptReport } from '#core/intake/accept.ts';
import { enforceCitizenLimit } from '#core/intake/limits.ts';
import { departmentName } from '#core/taxonomy/defaults.ts';
import { getRuntime } from '../lib/runtime.ts';
import type { Open311Deps } from './api.ts';
import { open311Settings } from './config.ts';
import { DynamoCaseFeed } from './dynamo-feed.ts';

const limiter = new TokenBuckets();

export async function runtimeDeps(): Promise<Open311Deps> {
  const rt = getRuntime();
  return {
    clock: rt.clock,
    settings: await open311Settings(),
    limiter,
    // Per citizen: a few reports an hour and a day from one contact (the same submission again is never refused).
    accept: async (request) => {
      await enforceCitizenLimit(rt.store, request, rt.clock.now());
      return acceptReport(rt, request);
    },
    store: rt.store,
    feed: new DynamoCaseFeed(dynamoClient(), tableName()),
    blobs: rt.blobs,
    departmentName,
  };
}
