/**
 * The dedupe engine's `DedupeStore` port (core/dedupe/store.ts) on the single DynamoDB table. Every change is one
 * single-item write (conditional where it decides something), never a transaction.
 *
 * Items:
 * - `DDK#<key>` / `L`: the index entries under one key, one attribute per case: `e<caseId>` = the entry packed in
 *   one binary value (JSON of its small fields, the MinHash signature, the shingle hashes of a short text, its expiry),
 *   and `expiresAt` (the table's TTL attribute, epoch s: the latest entry's). `getByKeys` reads every key of a triage
 *   batch with BatchGetItem (100 keys a call, strongly consistent, unprocessed keys re-sent), newest entry first,
 *   expired entries skipped. `putKeys` is ONE UpdateItem per key, `SET #e = :entry, expiresAt = :x` (an upsert of
 *   this case's attribute: concurrent writers to one key never overwrite each other); past `maxEntriesPerKey`
 *   entries the oldest are removed by a second UpdateItem (ReturnValues=ALL_NEW tells the writer the count).
 *   `putLatest` replaces the whole item (BatchWriteItem, 25 puts a call): the text band keys.
 * - `DDC#<key>` / `C`: a claim, `v` = the value. `claim` is ONE PutItem with
 *   `attribute_not_exists(pk) OR v = :v OR expiresAt < :now` (put-if-absent; re-claiming with the stored value wins,
 *   so a retried Lambda is idempotent; an expired claim TTL has not deleted yet counts as absent). The loser learns
 *   the winner from `ReturnValuesOnConditionCheckFailure=ALL_OLD`, or from a consistent GetItem where the service
 *   does not return it (dynalite).
 * - `DDS#<caseId>` / `S`: the dedupe state of a case: `reporterCount`, `lastReportAt` (epoch ms) and `m`, the string
 *   set of the reporters' keys (digests). `addReporter` is ONE UpdateItem `ADD reporterCount :1, m :key SET
 *   lastReportAt = :at` on the condition that the key is not in `m` yet (idempotent: a redelivered report counts
 *   once, even after a crash anywhere) and that `lastReportAt` does not move backwards; a report older than the last
 *   one is counted by a second UpdateItem without the time condition. Past `maxInlineMembers` reporters (a 400 KB
 *   item holds ~15k keys), a new reporter is a `DDM#<caseId>#<reporterKey>` / `M` item put-if-absent followed by
 *   the ADD (a crash between the two loses that one count; documented limit of giant incidents).
 * - Case states are read from the case items themselves, `CASE#<id>` / `CASE` (attribute `state`), with the `DDS#`
 *   items, in one BatchGetItem (≤ 100 keys a call, projected); only for cases in `closed` a second BatchGetItem
 *   reads `doc` for the closing time. `closed` is closed (重办 possible within the repeat window); `answered`,
 *   `rejected` and `archived` read as closed long ago (a repeat opens a new case: the lifecycle cannot reopen them);
 *   every other state, and a case item not written yet, is open.
 * Reads filter expired items themselves: DynamoDB deletes them up to ~48 h late and dynalite never does.
 */
import {
  type AttributeValue,
  BatchWriteItemCommand,
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { CandidateEntry, CaseState, ClaimResult, DedupeStore } from '#core/dedupe/store.ts';
import { batchGetItems } from './batch-get.ts';

export const ENTRY_SK = 'L';
/** The attribute of a case's entry in a key's item. */
const entryAttr = (caseId: string): string => `e${caseId}`;

export const entryPk = (key: string): string => `DDK#${key}`;
export const claimPk = (key: string): string => `DDC#${key}`;
export const statePk = (caseId: string): string => `DDS#${caseId}`;
export const memberPk = (caseId: string, reporterKey: string): string => `DDM#${caseId}#${reporterKey}`;
const CASE_PK = (caseId: string): string => `CASE#${caseId}`;

export const CLAIM_SK = 'C';
export const STATE_SK = 'S';
export const MEMBER_SK = 'M';

const DAY_MS = 86_400_000;
const MAX_ATTEMPTS = 8;
const BATCH_WRITE = 25;

export interface DynamoDedupeStoreOptions {
  /** Entries kept (and returned) per key, newest first. Default 100. */
  maxEntriesPerKey?: number;
  /** Index entries expire this long after the report that wrote them (citizen keys serve 重办 after closure). Default 180. */
  entryTtlDays?: number;
  /** Claims expire this long after they are taken (longer than any SQS redelivery). Default 60. */
  claimTtlDays?: number;
  /** Reporter keys kept in the case's state item before overflowing to member items. Default 5000. */
  maxInlineMembers?: number;
  /** Epoch ms (TTL stamps and the expiry filter). */
  now?: () => number;
  /** Backoff between re-sends of unprocessed batch items. */
  sleep?: (ms: number) => Promise<void>;
}

/** States from which the lifecycle can reopen (重办). */
const REOPENABLE = new Set(['closed']);
/** Concluded states the lifecycle cannot reopen: a repeat starts a new case. */
const CONCLUDED_FOR_GOOD = new Set(['answered', 'rejected', 'archived']);

function u32ToBytes(a: Uint32Array): Uint8Array {
  const out = new Uint8Array(a.length * 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < a.length; i++) view.setUint32(i * 4, a[i]!, true);
  return out;
}

function bytesToU32(b: Uint8Array): Uint32Array {
  const n = Math.floor(b.byteLength / 4);
  const out = new Uint32Array(n);
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  for (let i = 0; i < n; i++) out[i] = view.getUint32(i * 4, true);
  return out;
}

/** The small fields of an entry as stored (JSON). */
interface SmallFields {
  r: string;
  at: number;
  g: string;
  ro?: string;
  la?: number;
  lo?: number;
  p?: string[];
  c2?: string[];
  t?: string;
  n?: number;
  /** Expiry, epoch s. */
  x?: number;
  /** 1: the shingle hashes follow the signature (a short text; possibly none). */
  h?: 1;
}

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

/**
 * An entry packed in one binary value: u32 JSON length, the JSON, u32 signature length (in u32s), the signature, then
 * the shingle hashes of a short text (little-endian u32s).
 */
export function packEntry(entry: CandidateEntry, expiresAt: number): Uint8Array {
  const small: SmallFields = {
    r: entry.reportId,
    at: entry.at,
    g: entry.group,
    ...(entry.root ? { ro: entry.root } : {}),
    ...(entry.lat !== undefined && entry.lon !== undefined ? { la: entry.lat, lo: entry.lon } : {}),
    p: entry.placeKeys,
    c2: entry.citizenKeys,
    t: entry.title,
    n: entry.sketch.size,
    x: expiresAt,
    ...(entry.sketch.set ? { h: 1 as const } : {}),
  };
  const json = utf8.encode(JSON.stringify(small));
  const sig = u32ToBytes(entry.sketch.sig);
  const set = entry.sketch.set ? u32ToBytes(entry.sketch.set) : new Uint8Array(0);
  const out = new Uint8Array(8 + json.length + sig.length + set.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, json.length, true);
  out.set(json, 4);
  view.setUint32(4 + json.length, entry.sketch.sig.length, true);
  out.set(sig, 8 + json.length);
  out.set(set, 8 + json.length + sig.length);
  return out;
}

/** The entry of a packed value, with its expiry (epoch s). */
export function unpackEntry(caseId: string, b: Uint8Array): { entry: CandidateEntry; expiresAt?: number } {
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const jsonLen = view.getUint32(0, true);
  const s = JSON.parse(fromUtf8.decode(b.subarray(4, 4 + jsonLen))) as SmallFields;
  const sigLen = view.getUint32(4 + jsonLen, true);
  const sigStart = 8 + jsonLen;
  const sig = bytesToU32(b.subarray(sigStart, sigStart + sigLen * 4));
  const rest = b.subarray(sigStart + sigLen * 4);
  const entry: CandidateEntry = {
    caseId,
    reportId: s.r,
    at: s.at,
    group: s.g,
    ...(s.ro ? { root: s.ro } : {}),
    ...(s.la !== undefined && s.lo !== undefined ? { lat: s.la, lon: s.lo } : {}),
    placeKeys: s.p ?? [],
    citizenKeys: s.c2 ?? [],
    sketch: { sig, size: s.n ?? 0, ...(s.h ? { set: bytesToU32(rest) } : {}) },
    title: s.t ?? '',
  };
  return s.x !== undefined ? { entry, expiresAt: s.x } : { entry };
}

/** The DynamoDB item of a key holding only `entry` (exported for tests). */
export function entryItem(key: string, entry: CandidateEntry, expiresAt: number): Record<string, AttributeValue> {
  return {
    pk: { S: entryPk(key) },
    sk: { S: ENTRY_SK },
    [entryAttr(entry.caseId)]: { B: packEntry(entry, expiresAt) },
    expiresAt: { N: String(expiresAt) },
  };
}

/** The live entries of a key's item, newest first (by report time, then case id). */
export function readEntries(item: Record<string, AttributeValue> | undefined, nowSec: number): CandidateEntry[] {
  if (!item) return [];
  const out: CandidateEntry[] = [];
  for (const [name, v] of Object.entries(item)) {
    if (name.length < 2 || name[0] !== 'e' || name === 'expiresAt' || !v.B) continue;
    const { entry, expiresAt } = unpackEntry(name.slice(1), v.B);
    if (expiresAt !== undefined && expiresAt <= nowSec) continue;
    out.push(entry);
  }
  return out.sort(newestFirst);
}

const newestFirst = (a: CandidateEntry, b: CandidateEntry): number =>
  b.at - a.at || (a.caseId < b.caseId ? 1 : a.caseId > b.caseId ? -1 : 0);

const isConditionFailure = (
  e: unknown,
): e is ConditionalCheckFailedException & { Item?: Record<string, AttributeValue> } =>
  e instanceof ConditionalCheckFailedException || (e as { name?: string })?.name === 'ConditionalCheckFailedException';

const expired = (item: Record<string, AttributeValue> | undefined, nowSec: number): boolean =>
  item?.expiresAt?.N !== undefined && Number(item.expiresAt.N) <= nowSec;

interface StateItem {
  reporterCount: number;
  lastReportAt?: number;
  members: Set<string>;
}

function readState(item: Record<string, AttributeValue> | undefined): StateItem {
  return {
    reporterCount: item?.reporterCount?.N !== undefined ? Number(item.reporterCount.N) : 0,
    ...(item?.lastReportAt?.N !== undefined ? { lastReportAt: Number(item.lastReportAt.N) } : {}),
    members: new Set(item?.m?.SS ?? []),
  };
}

export class DynamoDedupeStore implements DedupeStore {
  private readonly maxEntriesPerKey: number;
  private readonly entryTtlMs: number;
  private readonly claimTtlMs: number;
  private readonly maxInlineMembers: number;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(
    private readonly db: DynamoDBClient,
    private readonly table: string,
    opts: DynamoDedupeStoreOptions = {},
  ) {
    this.maxEntriesPerKey = opts.maxEntriesPerKey ?? 100;
    this.entryTtlMs = (opts.entryTtlDays ?? 180) * DAY_MS;
    this.claimTtlMs = (opts.claimTtlDays ?? 60) * DAY_MS;
    this.maxInlineMembers = opts.maxInlineMembers ?? 5000;
    this.now = opts.now ?? Date.now;
    this.sleep = opts.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  private nowSec(): number {
    return Math.floor(this.now() / 1000);
  }

  async getByKeys(keys: readonly string[]): Promise<Map<string, CandidateEntry[]>> {
    const unique = [...new Set(keys)];
    const out = new Map<string, CandidateEntry[]>();
    if (unique.length === 0) return out;
    const items = await this.batchGet(
      unique.map((k) => ({ pk: { S: entryPk(k) }, sk: { S: ENTRY_SK } })),
      undefined,
    );
    const nowSec = this.nowSec();
    for (const item of items) {
      const key = (item.pk?.S ?? '').slice('DDK#'.length);
      out.set(key, readEntries(item, nowSec).slice(0, this.maxEntriesPerKey));
    }
    return out;
  }

  /** The entry's expiry: the later of "now" and its report's time, plus the TTL (replays of old reports). */
  private entryExpiry(entry: CandidateEntry): number {
    return Math.floor((Math.max(this.now(), entry.at) + this.entryTtlMs) / 1000);
  }

  async putKeys(keys: readonly string[], entry: CandidateEntry): Promise<void> {
    const expiresAt = this.entryExpiry(entry);
    const packed = packEntry(entry, expiresAt);
    await Promise.all([...new Set(keys)].map((k) => this.upsertEntry(k, entry.caseId, packed, expiresAt)));
  }

  private async upsertEntry(key: string, caseId: string, packed: Uint8Array, expiresAt: number): Promise<void> {
    const out = await this.db.send(
      new UpdateItemCommand({
        TableName: this.table,
        Key: { pk: { S: entryPk(key) }, sk: { S: ENTRY_SK } },
        UpdateExpression: 'SET #e = :e, expiresAt = :x',
        ExpressionAttributeNames: { '#e': entryAttr(caseId) },
        ExpressionAttributeValues: { ':e': { B: packed }, ':x': { N: String(expiresAt) } },
        ReturnValues: 'ALL_NEW',
      }),
    );
    // Bounded item: past the per-key limit, the oldest entries (expired ones first) go.
    const item = out.Attributes ?? {};
    const names = Object.keys(item).filter((n) => n.length > 1 && n[0] === 'e' && n !== 'expiresAt');
    if (names.length <= this.maxEntriesPerKey) return;
    const nowSec = this.nowSec();
    const ranked = names
      .map((n) => {
        const { entry, expiresAt: x } = unpackEntry(n.slice(1), item[n]!.B!);
        return { n, entry, dead: x !== undefined && x <= nowSec };
      })
      .sort((a, b) => Number(a.dead) - Number(b.dead) || newestFirst(a.entry, b.entry));
    const drop = ranked
      .slice(this.maxEntriesPerKey)
      .map((r) => r.n)
      .filter((n) => n !== entryAttr(caseId));
    if (drop.length === 0) return;
    await this.db.send(
      new UpdateItemCommand({
        TableName: this.table,
        Key: { pk: { S: entryPk(key) }, sk: { S: ENTRY_SK } },
        UpdateExpression: `REMOVE ${drop.map((_, i) => `#d${i}`).join(', ')}`,
        ExpressionAttributeNames: Object.fromEntries(drop.map((n, i) => [`#d${i}`, n])),
      }),
    );
  }

  async putLatest(keys: readonly string[], entry: CandidateEntry): Promise<void> {
    const expiresAt = this.entryExpiry(entry);
    const requests: WriteRequest[] = [...new Set(keys)].map((k) => ({
      PutRequest: { Item: entryItem(k, entry, expiresAt) },
    }));
    for (let i = 0; i < requests.length; i += BATCH_WRITE) {
      await this.batchWrite(requests.slice(i, i + BATCH_WRITE));
    }
  }

  private async batchWrite(requests: WriteRequest[]): Promise<void> {
    let pending = requests;
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt >= MAX_ATTEMPTS) throw new Error(`dedupe index: ${pending.length} writes left unprocessed`);
      if (attempt > 0) await this.sleep(Math.min(1000, 25 * 2 ** attempt));
      const out = await this.db.send(new BatchWriteItemCommand({ RequestItems: { [this.table]: pending } }));
      pending = out.UnprocessedItems?.[this.table] ?? [];
    }
  }

  async claim(key: string, value: string): Promise<ClaimResult> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const nowMs = this.now();
      try {
        await this.db.send(
          new PutItemCommand({
            TableName: this.table,
            Item: {
              pk: { S: claimPk(key) },
              sk: { S: CLAIM_SK },
              v: { S: value },
              expiresAt: { N: String(Math.floor((nowMs + this.claimTtlMs) / 1000)) },
            },
            ConditionExpression: 'attribute_not_exists(pk) OR v = :v OR expiresAt < :now',
            ExpressionAttributeValues: { ':v': { S: value }, ':now': { N: String(Math.floor(nowMs / 1000)) } },
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        );
        return { won: true, value };
      } catch (e) {
        if (!isConditionFailure(e)) throw e;
        const winner = e.Item?.v?.S ?? (await this.readClaim(key));
        if (winner !== undefined) return winner === value ? { won: true, value } : { won: false, value: winner };
        // The winner's item vanished (TTL) between the two calls: try again.
      }
    }
    throw new Error(`claim ${key}: no stable winner after ${MAX_ATTEMPTS} attempts`);
  }

  async readClaim(key: string): Promise<string | undefined> {
    const out = await this.db.send(
      new GetItemCommand({
        TableName: this.table,
        Key: { pk: { S: claimPk(key) }, sk: { S: CLAIM_SK } },
        ConsistentRead: true,
      }),
    );
    if (!out.Item || expired(out.Item, this.nowSec())) return undefined;
    return out.Item.v?.S;
  }

  async readClaims(keys: readonly string[]): Promise<Map<string, string>> {
    const unique = [...new Set(keys)];
    const out = new Map<string, string>();
    if (unique.length === 0) return out;
    const items = await this.batchGet(
      unique.map((k) => ({ pk: { S: claimPk(k) }, sk: { S: CLAIM_SK } })),
      'pk, v, expiresAt',
    );
    const nowSec = this.nowSec();
    for (const item of items) {
      if (expired(item, nowSec) || item.v?.S === undefined) continue;
      out.set((item.pk?.S ?? '').slice('DDC#'.length), item.v.S);
    }
    return out;
  }

  async getCaseStates(caseIds: readonly string[]): Promise<Map<string, CaseState>> {
    const ids = [...new Set(caseIds)];
    const out = new Map<string, CaseState>();
    if (ids.length === 0) return out;
    const keys = ids.flatMap((id) => [
      { pk: { S: CASE_PK(id) }, sk: { S: 'CASE' } },
      { pk: { S: statePk(id) }, sk: { S: STATE_SK } },
    ]);
    const items = await this.batchGet(keys, 'pk, #s, reporterCount, lastReportAt');
    const byPk = new Map(items.map((i) => [i.pk?.S ?? '', i]));
    const closedIds: string[] = [];
    for (const id of ids) {
      const c = byPk.get(CASE_PK(id));
      const s = readState(byPk.get(statePk(id)));
      const lifecycle = c?.state?.S;
      const state: CaseState = {
        status: lifecycle && (REOPENABLE.has(lifecycle) || CONCLUDED_FOR_GOOD.has(lifecycle)) ? 'closed' : 'open',
        reporterCount: s.reporterCount,
        ...(s.lastReportAt !== undefined ? { lastReportAt: s.lastReportAt } : {}),
      };
      if (lifecycle && CONCLUDED_FOR_GOOD.has(lifecycle)) state.closedAt = 0;
      if (lifecycle && REOPENABLE.has(lifecycle)) closedIds.push(id);
      out.set(id, state);
    }
    if (closedIds.length > 0) {
      const docs = await this.batchGet(
        closedIds.map((id) => ({ pk: { S: CASE_PK(id) }, sk: { S: 'CASE' } })),
        'pk, doc',
      );
      for (const d of docs) {
        const id = (d.pk?.S ?? '').slice('CASE#'.length);
        const st = out.get(id);
        if (st) st.closedAt = closedAtOf(d.doc?.S);
      }
      for (const id of closedIds) {
        const st = out.get(id);
        if (st && st.closedAt === undefined) st.closedAt = this.now();
      }
    }
    return out;
  }

  /** Strongly consistent batch reads (adapters/dynamo/batch-get.ts); no projection → whole items. */
  private batchGet(
    keys: Record<string, AttributeValue>[],
    projection: string | undefined,
  ): Promise<Record<string, AttributeValue>[]> {
    return batchGetItems(this.db, this.table, keys, {
      consistent: true,
      ...(projection ? { projection } : {}),
      ...(projection?.includes('#s') ? { names: { '#s': 'state' } } : {}),
      sleep: this.sleep,
    });
  }

  async addReporter(caseId: string, reporterKey: string, at: number): Promise<{ before: number; after: number }> {
    const key = { pk: { S: statePk(caseId) }, sk: { S: STATE_SK } };
    const values = {
      ':one': { N: '1' },
      ':k': { SS: [reporterKey] },
      ':key': { S: reporterKey },
      ':at': { N: String(at) },
      ':cap': { N: String(this.maxInlineMembers) },
    };
    const notMember = '(attribute_not_exists(m) OR NOT contains(m, :key))';
    const underCap = '(attribute_not_exists(reporterCount) OR reporterCount < :cap)';
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      // 1. The usual case: a new reporter, not older than the last report.
      try {
        const out = await this.db.send(
          new UpdateItemCommand({
            TableName: this.table,
            Key: key,
            UpdateExpression: 'ADD reporterCount :one, m :k SET lastReportAt = :at',
            ConditionExpression: `${notMember} AND ${underCap} AND (attribute_not_exists(lastReportAt) OR lastReportAt <= :at)`,
            ExpressionAttributeValues: values,
            ReturnValues: 'UPDATED_NEW',
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        );
        const after = Number(out.Attributes?.reporterCount?.N ?? 1);
        return { before: after - 1, after };
      } catch (e) {
        if (!isConditionFailure(e)) throw e;
        const old = readState(e.Item ?? (await this.getState(caseId)));
        // 2. Already a reporter of this case (a repeat, or this very report again): only the time may move on.
        if (old.members.has(reporterKey)) {
          if (old.lastReportAt === undefined || at > old.lastReportAt) await this.advanceLastReport(caseId, at);
          return { before: old.reporterCount, after: old.reporterCount };
        }
        // 3. A giant incident: reporters past the inline cap are member items.
        if (old.reporterCount >= this.maxInlineMembers) return this.addOverflowReporter(caseId, reporterKey, at);
        // 4. A new reporter whose report is older than the last one: count it, leave the time alone.
        try {
          const out = await this.db.send(
            new UpdateItemCommand({
              TableName: this.table,
              Key: key,
              UpdateExpression: 'ADD reporterCount :one, m :k',
              ConditionExpression: `${notMember} AND ${underCap}`,
              ExpressionAttributeValues: {
                ':one': values[':one'],
                ':k': values[':k'],
                ':key': values[':key'],
                ':cap': values[':cap'],
              },
              ReturnValues: 'UPDATED_NEW',
            }),
          );
          const after = Number(out.Attributes?.reporterCount?.N ?? 1);
          return { before: after - 1, after };
        } catch (e2) {
          if (!isConditionFailure(e2)) throw e2;
          // Someone changed the item meanwhile: decide again on what it is now.
        }
      }
    }
    throw new Error(`addReporter ${caseId}: too much contention`);
  }

  private async getState(caseId: string): Promise<Record<string, AttributeValue> | undefined> {
    const out = await this.db.send(
      new GetItemCommand({
        TableName: this.table,
        Key: { pk: { S: statePk(caseId) }, sk: { S: STATE_SK } },
        ConsistentRead: true,
      }),
    );
    return out.Item;
  }

  private async advanceLastReport(caseId: string, at: number): Promise<void> {
    try {
      await this.db.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: { pk: { S: statePk(caseId) }, sk: { S: STATE_SK } },
          UpdateExpression: 'SET lastReportAt = :at',
          ConditionExpression: 'attribute_not_exists(lastReportAt) OR lastReportAt < :at',
          ExpressionAttributeValues: { ':at': { N: String(at) } },
        }),
      );
    } catch (e) {
      if (!isConditionFailure(e)) throw e;
    }
  }

  private async addOverflowReporter(
    caseId: string,
    reporterKey: string,
    at: number,
  ): Promise<{ before: number; after: number }> {
    try {
      await this.db.send(
        new PutItemCommand({
          TableName: this.table,
          Item: marshall({ pk: memberPk(caseId, reporterKey), sk: MEMBER_SK, at }),
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (e) {
      if (!isConditionFailure(e)) throw e;
      const s = readState(await this.getState(caseId));
      if (s.lastReportAt === undefined || at > s.lastReportAt) await this.advanceLastReport(caseId, at);
      return { before: s.reporterCount, after: s.reporterCount };
    }
    const out = await this.db.send(
      new UpdateItemCommand({
        TableName: this.table,
        Key: { pk: { S: statePk(caseId) }, sk: { S: STATE_SK } },
        UpdateExpression: 'ADD reporterCount :one',
        ExpressionAttributeValues: { ':one': { N: '1' } },
        ReturnValues: 'ALL_NEW',
      }),
    );
    const s = readState(out.Attributes);
    if (s.lastReportAt === undefined || at > s.lastReportAt) await this.advanceLastReport(caseId, at);
    return { before: s.reporterCount - 1, after: s.reporterCount };
  }
}

/** Epoch ms at which a stored case (its `doc` JSON) was closed: the lifecycle's timestamp, else its last update. */
function closedAtOf(doc: string | undefined): number | undefined {
  if (!doc) return undefined;
  try {
    const c = JSON.parse(doc) as { timestamps?: { closedAt?: string | null }; updatedAt?: string };
    const t = Date.parse(c.timestamps?.closedAt ?? c.updatedAt ?? '');
    return Number.isFinite(t) ? t : undefined;
  } catch {
    return undefined;
  }
}
