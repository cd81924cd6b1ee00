/**
 * BatchGetItem for any number of keys on one table: 100 keys a call, unprocessed keys re-sent with exponential backoff
 * (bounded), found items returned in no particular order (a key with no item is simply absent).
 */
import { type AttributeValue, BatchGetItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';

const PER_CALL = 100;
const MAX_ATTEMPTS = 8;

export interface BatchGetOptions {
  /** Strongly consistent reads (default: eventually consistent, as the service does). */
  consistent?: boolean;
  projection?: string;
  names?: Record<string, string>;
  /** Backoff between retries of unprocessed keys (tests inject a fake). */
  sleep?: (ms: number) => Promise<void>;
}

const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function batchGetItems(
  db: DynamoDBClient,
  table: string,
  keys: readonly Record<string, AttributeValue>[],
  opts: BatchGetOptions = {},
): Promise<Record<string, AttributeValue>[]> {
  const sleep = opts.sleep ?? defaultSleep;
  const found: Record<string, AttributeValue>[] = [];
  for (let i = 0; i < keys.length; i += PER_CALL) {
    let pending: Record<string, AttributeValue>[] = keys.slice(i, i + PER_CALL);
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt >= MAX_ATTEMPTS) throw new Error(`BatchGetItem left ${pending.length} keys unprocessed`);
      if (attempt > 0) await sleep(Math.min(1000, 25 * 2 ** attempt));
      const out = await db.send(
        new BatchGetItemCommand({
          RequestItems: {
            [table]: {
              Keys: pending,
              ...(opts.consistent ? { ConsistentRead: true } : {}),
              ...(opts.projection ? { ProjectionExpression: opts.projection } : {}),
              ...(opts.names ? { ExpressionAttributeNames: opts.names } : {}),
            },
          },
        }),
      );
      found.push(...(out.Responses?.[table] ?? []));
      pending = (out.UnprocessedKeys?.[table]?.Keys ?? []) as Record<string, AttributeValue>[];
    }
  }
  return found;
}
