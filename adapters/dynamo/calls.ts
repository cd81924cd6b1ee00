/**
 * Call records (来电记录) in the single table, beside the reports and cases of `store.ts`:
 * `CALL#<contactId>` / `CALL`, with `version` (optimistic concurrency), `expiresAt` (epoch seconds, the table's TTL
 * attribute) and the record as JSON in `doc`. Every change is one conditional PutItem: `attribute_not_exists(pk)` for
 * a new call, `version = :expected` for an update; a lost race re-reads and re-applies (bounded).
 * Call records hold the caller's number, so they expire (default 90 days; `CALL_RECORD_TTL_DAYS`): the reports filed
 * from the call keep what the case needs. DynamoDB deletes expired items up to ~48 h late, and dynalite never does,
 * so reads drop expired records themselves.
 */
import {
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type { CallRecord, CallStore } from '#channels/hotline/call-record.ts';

export const callPk = (contactId: string): string => `CALL#${contactId}`;
export const CALL_SK = 'CALL';

const DAY_S = 86_400;
const MAX_ATTEMPTS = 5;

export interface DynamoCallStoreOptions {
  ttlDays?: number;
  now?: () => Date;
}

export class DynamoCallStore implements CallStore {
  private readonly ttlDays: number;
  private readonly now: () => Date;

  constructor(
    private readonly db: DynamoDBClient,
    private readonly table: string,
    opts: DynamoCallStoreOptions = {},
  ) {
    this.ttlDays = opts.ttlDays ?? 90;
    this.now = opts.now ?? (() => new Date());
  }

  async get(contactId: string): Promise<CallRecord | undefined> {
    const out = await this.db.send(
      new GetItemCommand({
        TableName: this.table,
        Key: marshall({ pk: callPk(contactId), sk: CALL_SK }),
        ConsistentRead: true,
      }),
    );
    if (!out.Item) return undefined;
    const item = unmarshall(out.Item);
    if (typeof item.expiresAt === 'number' && item.expiresAt * 1000 <= this.now().getTime()) return undefined;
    const doc = JSON.parse(String(item.doc)) as CallRecord;
    doc.version = Number(item.version ?? 0);
    return doc;
  }

  async update(
    contactId: string,
    change: (existing: CallRecord | undefined) => CallRecord | undefined,
  ): Promise<CallRecord | undefined> {
    for (let attempt = 1; ; attempt++) {
      const existing = await this.get(contactId);
      const next = change(existing);
      if (!next) return existing;
      const version = (existing?.version ?? 0) + 1;
      const stored: CallRecord = { ...next, contactId, version };
      try {
        await this.db.send(
          new PutItemCommand({
            TableName: this.table,
            Item: marshall(
              {
                pk: callPk(contactId),
                sk: CALL_SK,
                version,
                expiresAt: Math.floor(this.now().getTime() / 1000) + this.ttlDays * DAY_S,
                doc: JSON.stringify(stored),
              },
              { removeUndefinedValues: true },
            ),
            // An expired record that TTL has not deleted yet is replaced like a missing one.
            ...(existing
              ? {
                  ConditionExpression: '#v = :expected',
                  ExpressionAttributeNames: { '#v': 'version' },
                  ExpressionAttributeValues: marshall({ ':expected': existing.version }),
                }
              : {
                  ConditionExpression: 'attribute_not_exists(pk) OR expiresAt <= :now',
                  ExpressionAttributeValues: marshall({ ':now': Math.floor(this.now().getTime() / 1000) }),
                }),
          }),
        );
        return stored;
      } catch (e) {
        if (!(e instanceof ConditionalCheckFailedException) || attempt >= MAX_ATTEMPTS) throw e;
      }
    }
  }
}

/** TTL of call records from env (`CALL_RECORD_TTL_DAYS`, 1..3650), default 90. */
export function callTtlDaysFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const n = Number(env.CALL_RECORD_TTL_DAYS);
  return Number.isInteger(n) && n >= 1 && n <= 3650 ? n : 90;
}
