/**
 * The Open311 case feed on AWS: Queries of the `reqday` GSI (layout in channels/open311/feed.ts). Each Query pages
 * through LastEvaluatedKey, bounded, and reads the case document the same way the store does (`doc` + announcedVersion).
 * The GSI is eventually consistent: a case written a moment ago may show up a moment later, as the spec allows.
 */
import { type DynamoDBClient, QueryCommand, type QueryCommandInput } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { type CaseFeed, REQUEST_DAY_INDEX } from '#channels/open311/feed.ts';
import type { Case } from '#core/case.ts';

/** 1 MB per page: 200 pages is far beyond any district's day, and keeps a runaway loop impossible. */
const MAX_PAGES = 200;

function readCase(item: Record<string, unknown>): Case | undefined {
  try {
    const doc = JSON.parse(String(item.doc)) as Case;
    doc.announcedVersion = Number(item.announcedVersion ?? 0);
    return doc;
  } catch {
    return undefined;
  }
}

export class DynamoCaseFeed implements CaseFeed {
  constructor(
    private readonly db: DynamoDBClient,
    private readonly table: string,
  ) {}

  requestedOn(day: string): Promise<Case[]> {
    return this.query({
      KeyConditionExpression: '#pk = :pk',
      ExpressionAttributeNames: { '#pk': REQUEST_DAY_INDEX.pk },
      ExpressionAttributeValues: marshall({ ':pk': `REQDAY#${day}` }),
    });
  }

  changedSince(day: string, sinceKey: string): Promise<Case[]> {
    return this.query({
      KeyConditionExpression: '#pk = :pk AND #sk >= :since',
      ExpressionAttributeNames: { '#pk': REQUEST_DAY_INDEX.pk, '#sk': REQUEST_DAY_INDEX.sk },
      ExpressionAttributeValues: marshall({ ':pk': `REQDAY#${day}`, ':since': sinceKey }),
    });
  }

  private async query(input: Omit<QueryCommandInput, 'TableName' | 'IndexName'>): Promise<Case[]> {
    const out: Case[] = [];
    let start: QueryCommandInput['ExclusiveStartKey'];
    for (let page = 0; page < MAX_PAGES; page++) {
      const res = await this.db.send(
        new QueryCommand({
          TableName: this.table,
          IndexName: REQUEST_DAY_INDEX.name,
          ...input,
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      for (const item of res.Items ?? []) {
        const c = readCase(unmarshall(item));
        if (c) out.push(c);
      }
      start = res.LastEvaluatedKey;
      if (!start) break;
    }
    return out;
  }
}
