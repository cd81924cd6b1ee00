/**
 * The Open311 case feed on AWS: Queries of the `reqday` GSI (layout in channels/open311/feed.ts). Each Query pages
 * through LastEvaluatedKey, bounded, and reads the case document the same way the store does (`doc` + announcedVersion).
 * The GSI is eventually consistent: a case written a moment ago may show up a moment later, as the spec allows.
 *
 * On AWS the index projects KEYS_ONLY (`GSI_PROJECTIONS` in infra/stack.ts): every case write would otherwise pay its
 * whole document again into the index (~8 WRU a report), for a feed read a few times an hour. The documents of a page
 * are then read with BatchGetItem (100 keys a call, unprocessed keys retried), in the index's order. An index that
 * projects the document (the local emulators create every index with ALL) is read as is.
 */
import { type DynamoDBClient, QueryCommand, type QueryCommandInput } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { batchGetItems } from '#adapters/dynamo/batch-get.ts';
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
      const items = (res.Items ?? []).map((i) => unmarshall(i));
      const missing = items.filter((i) => i.doc === undefined).map((i) => ({ pk: i.pk, sk: i.sk }));
      const docs = missing.length ? await this.batchRead(missing) : new Map<string, Record<string, unknown>>();
      for (const item of items) {
        const full = item.doc === undefined ? docs.get(`${item.pk}\u0000${item.sk}`) : item;
        const c = full ? readCase(full) : undefined;
        if (c) out.push(c);
      }
      start = res.LastEvaluatedKey;
      if (!start) break;
    }
    return out;
  }

  /** The case items of `keys` (`doc` and `announcedVersion`), by `pk\0sk`; a case deleted meanwhile is simply absent. */
  private async batchRead(keys: { pk: unknown; sk: unknown }[]): Promise<Map<string, Record<string, unknown>>> {
    const items = await batchGetItems(
      this.db,
      this.table,
      keys.map((k) => marshall(k)),
      { projection: 'pk, sk, #doc, announcedVersion', names: { '#doc': 'doc' } },
    );
    const out = new Map<string, Record<string, unknown>>();
    for (const raw of items) {
      const item = unmarshall(raw);
      out.set(`${item.pk}\u0000${item.sk}`, item);
    }
    return out;
  }
}
