/**
 * The call-record store of this container (one per table), on the runtime's DynamoDB client. Kept apart from the
 * agent API's wiring so the Connect function loads nothing else (Connect waits at most 8 s for it, cold start included).
 * Config (env): `CALL_RECORD_TTL_DAYS` (1..3650, default 90).
 */
import { callTtlDaysFromEnv, DynamoCallStore } from '#adapters/dynamo/calls.ts';
import { dynamoClient, tableName } from '#adapters/dynamo/client.ts';
import type { CallStore } from '#channels/hotline/call-record.ts';
import { getRuntime } from '../lib/runtime.ts';

let cached: { table: string; store: DynamoCallStore } | undefined;

export function callStore(): CallStore {
  const table = tableName();
  if (cached?.table !== table) {
    cached = {
      table,
      store: new DynamoCallStore(dynamoClient(), table, {
        ttlDays: callTtlDaysFromEnv(),
        now: () => getRuntime().clock.now(),
      }),
    };
  }
  return cached.store;
}
