/**
 * The `DedupeStore` port: exactly what the dedupe engine needs from a table, and an in-memory implementation with the
 * same semantics (tests, the `cityloop dedupe` replay, the bench).
 *
 * ## Items (one DynamoDB table; every write is ONE single-item write, never a transaction)
 * - Index entries `getByKeys(keys)` / `putKeys(keys, entry)` / `putLatest(keys, entry)`: one item per key holding the
 *   newest entries under it, at most `maxEntriesPerKey` (one per case: the first report of that case seen under that
 *   key), so that ALL candidate keys of a whole triage batch are read in one batched read (BatchGetItem, ≤ 100 keys a
 *   call) instead of one Query per key. `putKeys` upserts the case's entry into the key's item (one UpdateItem per
 *   key: concurrent writers to one key never lose each other's entries); `putLatest` makes the entry the key's only
 *   one (plain puts, batched 25 a call): used for the text band keys of a case's first long text, where two open
 *   cases sharing one band value are near-duplicates that were not merged (rare), and losing the older one only costs
 *   one of the 16 bands that could have found it. Keys: `g|group|geohash|bucket`, `p|group|placeKey|bucket`,
 *   `c|citizen`, `t|band|hash|bucket`, `k|caseId` (the private entry of a case that is still claiming). Entries older
 *   than a bucket or two are never read again (TTL them). An entry carries a 64×u32 MinHash signature (256 bytes)
 *   and, for short texts, the sorted shingle hashes (≤ 1 KB).
 * - Claims `claim(key, value)` / `readClaim(key)` / `readClaims(keys)`: put-if-absent, `attribute_not_exists(pk)`;
 *   the loser reads the winner's value (ConditionalCheckFailed → GetItem, or ReturnValuesOnConditionCheckFailure=
 *   ALL_OLD). Re-claiming with the value already stored counts as a win (a retried Lambda is idempotent).
 *   `readClaims` reads many in one batched read (the fates and content claims of a whole batch).
 * - Case state `getCaseStates(ids)` (BatchGetItem on the case items and their dedupe state items) and
 *   `addReporter(caseId, reporterKey, at)`: ONE conditional UpdateItem on the case's dedupe state item that adds the
 *   reporter key to a set and 1 to the count unless the key is in the set already (ReturnValues=UPDATED_NEW gives the
 *   new count; the old one is new − 1). The DynamoDB layout is in `adapters/dynamo/dedupe-store.ts`.
 *
 * ## The claim protocol (two triage workers racing on one incident end with one case)
 * Claim keys: `s|channel|messageId` (submission), `h|contentHash|bucket` (submission without an id),
 * `a|group|cell-or-place|bucket#slot` (incident anchors), `f|caseId` (the fate of a case id: itself = a case,
 * another id = merged into that case). Each report's tentative case id is `caseIdOf(reportId)`.
 * 1. Submission: claim the submission key with the report id. Lost → a resubmission of the winner; its case is the
 *    winner's fate (followed, waiting briefly if the winner is still deciding).
 * 2. Lookup: read the candidate keys (bounded: cells the search disk touches × 2–3 time buckets, place keys, citizen
 *    keys) and decide. Index entries are written only by committed cases, so whatever is found is a real case.
 *    A triage batch reads the keys of all its reports together (`processBatch`): the same as concurrent workers whose
 *    lookups all came before their writes, an interleaving the protocol already allows.
 * 3. Repeat or incident of a found case X: claim `f|mine` = X, add the reporter, index the case under this report's
 *    keys where it is missing. Done.
 * 4. New: write the private entry `k|mine`, then claim the anchors of this report in ONE global sorted order
 *    (`incidentAnchors` in engine.ts; time buckets of T hours, b = the report's): the cells within R of the report at
 *    b, its own cell at b + 1, and its place keys at b and b + 1; for each, slots 0..S−1 until one is won or is owned
 *    by a matching case. Owned by a case O whose private entry matches (same rules as an incident) → yield: claim
 *    `f|mine` = O, then follow O's fate (O is still claiming: wait, it never waits on us). Won every anchor → commit:
 *    claim `f|mine` = mine, write the index entries.
 * Why one case: two matching reports A (the earlier) and B are within T, so B's bucket is A's or the next one, and
 * within R of each other or at one place. Same bucket b: A's own cell at b is among B's cells within R at b (the disk
 * around B contains A). B in b + 1: A claims its own cell at b + 1, among B's cells at b + 1. A shared place p: A
 * claims (p, b) and (p, b + 1), B claims (p, b) or (p, b + 1). Both claim that shared anchor, in the same sorted
 * order, slot by slot; whoever comes second finds the other (or what the other yielded to) and yields.
 * Waiting cannot deadlock: a worker only waits after losing at anchor x to a holder that acquired x before reaching
 * its own loss point, so a cycle would need x₁ < x₂ < … < x₁. A crashed holder (timeout) is resumed by the redelivery
 * of its report (claims are idempotent per value), and the waiter answers with the holder's case id (`unsettled`).
 * Limits: more than `anchorSlots` distinct new incidents of one group in one cell and window, or two near-identical
 * texts without any place (text band keys are not anchored) racing within milliseconds, can still open two cases.
 * Cost of a new case: 1 private entry + up to (cells within R ≤ 4) + 1 + (place keys ≤ 4) × 2 anchor claims + 1 fate
 * claim + 1 index write per multi-entry key + 1 batched write of its band keys; a merged report: 1 fate claim + 1
 * reporter write + index writes only where missing. Reads are batched per triage batch.
 */
import { hash32, type TextSketch } from './text.ts';

/** What the index keeps about a case under one key: enough to decide without reading the case. */
export interface CandidateEntry {
  caseId: string;
  /** The report that wrote this entry. */
  reportId: string;
  /** Epoch ms of that report. */
  at: number;
  group: string;
  root?: string;
  lat?: number;
  lon?: number;
  placeKeys: string[];
  /** Hashed citizen ids of that report (phone/openid/email digests). */
  citizenKeys: string[];
  sketch: TextSketch;
  /** Short title for duplicate suggestions (masked text, ≤ 60 chars). */
  title: string;
}

export interface CaseState {
  status: 'open' | 'closed';
  /** Epoch ms. */
  closedAt?: number;
  /** Epoch ms of the latest report attached (incidents stay "near in time" while reports keep coming). */
  lastReportAt?: number;
  reporterCount: number;
}

export type ClaimResult = { won: true; value: string } | { won: false; value: string };

export interface DedupeStore {
  /** Entries indexed under each key, newest first, at most the store's per-key limit; a key with none may be absent. */
  getByKeys(keys: readonly string[]): Promise<Map<string, CandidateEntry[]>>;
  /** Indexes `entry` under each key (upsert by (key, entry.caseId)); a key keeps its newest entries. */
  putKeys(keys: readonly string[], entry: CandidateEntry): Promise<void>;
  /** Makes `entry` the only entry under each key (replaces what was there): text band keys. */
  putLatest(keys: readonly string[], entry: CandidateEntry): Promise<void>;
  /** Put-if-absent. Re-claiming with the stored value is a win. */
  claim(key: string, value: string): Promise<ClaimResult>;
  readClaim(key: string): Promise<string | undefined>;
  /** The values of many claims at once (absent keys are left out). */
  readClaims(keys: readonly string[]): Promise<Map<string, string>>;
  /** Current state of the cases (missing = open, count 0). */
  getCaseStates(caseIds: readonly string[]): Promise<Map<string, CaseState>>;
  /** Adds a distinct reporter (idempotent per reporterKey) and returns the counts before and after. */
  addReporter(caseId: string, reporterKey: string, at: number): Promise<{ before: number; after: number }>;
}

export interface InMemoryStoreOptions {
  /** Entries returned per key, newest first (a DynamoDB Query Limit). */
  maxEntriesPerKey?: number;
}

/**
 * The port on Maps, with the same semantics as the DynamoDB design above. Every method is async and does its
 * work in one synchronous step, so interleavings between awaits are exactly those of separate single-item writes.
 */
export class InMemoryDedupeStore implements DedupeStore {
  private readonly index = new Map<string, CandidateEntry[]>();
  private readonly claims = new Map<string, string>();
  private readonly cases = new Map<string, CaseState>();
  private readonly members = new Map<string, Set<string>>();
  private readonly maxEntriesPerKey: number;
  /**
   * Counts of port calls, for tests and the bench: `getByKey` counts keys read (one per key, batched or not),
   * `getByKeys`/`readClaims` the batched calls, `readClaim` single claim reads.
   */
  readonly stats = {
    getByKey: 0,
    getByKeys: 0,
    putKeys: 0,
    putLatest: 0,
    claim: 0,
    readClaim: 0,
    readClaims: 0,
    getCaseStates: 0,
    addReporter: 0,
  };

  constructor(options: InMemoryStoreOptions = {}) {
    this.maxEntriesPerKey = options.maxEntriesPerKey ?? 200;
  }

  async getByKeys(keys: readonly string[]): Promise<Map<string, CandidateEntry[]>> {
    this.stats.getByKeys++;
    const out = new Map<string, CandidateEntry[]>();
    for (const key of new Set(keys)) out.set(key, this.read(key));
    return out;
  }

  /** One key (tests, the dedupe bench). */
  async getByKey(key: string): Promise<CandidateEntry[]> {
    return this.read(key);
  }

  private read(key: string): CandidateEntry[] {
    this.stats.getByKey++;
    const list = this.index.get(key);
    const out: CandidateEntry[] = [];
    if (list) for (let i = list.length - 1; i >= 0 && out.length < this.maxEntriesPerKey; i--) out.push(list[i]!);
    this.compactRows(key, out, this.maxEntriesPerKey);
    return out;
  }

  async putKeys(keys: readonly string[], entry: CandidateEntry): Promise<void> {
    this.stats.putKeys++;
    for (const key of keys) this.putOne(key, entry);
  }

  async putLatest(keys: readonly string[], entry: CandidateEntry): Promise<void> {
    this.stats.putLatest++;
    for (const key of keys) this.index.set(key, [entry]);
  }

  private putOne(key: string, entry: CandidateEntry): void {
    const list = this.index.get(key);
    if (!list) {
      this.index.set(key, [entry]);
      return;
    }
    const i = list.findIndex((e) => e.caseId === entry.caseId);
    if (i >= 0) list[i] = entry;
    else list.push(entry);
  }

  async claim(key: string, value: string): Promise<ClaimResult> {
    this.stats.claim++;
    const v = this.claims.get(key);
    if (v === undefined) {
      this.claims.set(key, value);
      return { won: true, value };
    }
    return v === value ? { won: true, value } : { won: false, value: v };
  }

  async readClaim(key: string): Promise<string | undefined> {
    this.stats.readClaim++;
    return this.claims.get(key);
  }

  async readClaims(keys: readonly string[]): Promise<Map<string, string>> {
    this.stats.readClaims++;
    const out = new Map<string, string>();
    for (const key of keys) {
      const v = this.claims.get(key);
      if (v !== undefined) out.set(key, v);
    }
    return out;
  }

  async getCaseStates(caseIds: readonly string[]): Promise<Map<string, CaseState>> {
    this.stats.getCaseStates++;
    const out = new Map<string, CaseState>();
    for (const id of caseIds) {
      const s = this.cases.get(id);
      if (s) out.set(id, { ...s });
    }
    return out;
  }

  async addReporter(caseId: string, reporterKey: string, at: number): Promise<{ before: number; after: number }> {
    this.stats.addReporter++;
    let set = this.members.get(caseId);
    if (!set) {
      set = new Set();
      this.members.set(caseId, set);
    }
    const state = this.cases.get(caseId) ?? { status: 'open' as const, reporterCount: 0 };
    state.lastReportAt = Math.max(state.lastReportAt ?? 0, at);
    this.cases.set(caseId, state);
    const before = state.reporterCount;
    if (!set.has(reporterKey)) {
      set.add(reporterKey);
      state.reporterCount = before + 1;
    }
    return { before, after: state.reporterCount };
  }

  /** Case lifecycle events the engine does not own (办结 / 重办), for tests and replays. */
  setCaseStatus(caseId: string, status: 'open' | 'closed', at: number): void {
    const state = this.cases.get(caseId) ?? { status: 'open' as const, reporterCount: 0 };
    state.status = status;
    if (status === 'closed') state.closedAt = at;
    else delete state.closedAt;
    this.cases.set(caseId, state);
  }

  /**
   * Bulk prefill for benchmarks: appends entries under their keys without any checks (the caller guarantees one entry
   * per (key, case)). Open cases with no state item read as open with no reporters.
   */
  bulkLoad(items: Iterable<readonly [key: string, entry: CandidateEntry]>): number {
    let n = 0;
    for (const [key, entry] of items) {
      const list = this.index.get(key);
      if (list) list.push(entry);
      else this.index.set(key, [entry]);
      n++;
    }
    return n;
  }

  /**
   * Bulk prefill of many open cases without one JS object per case (1M objects would make V8's garbage collector,
   * not the lookups, the cost being measured). The index keeps, per (key, row), two 32-bit hashes of the key in typed
   * arrays, chained from an open hash table; `entryAt(row)` rebuilds the entry when a lookup returns it, so it must be
   * deterministic. Rows read as open cases with no reporters, older than any entry written through `putKeys`.
   */
  bulkLoadCompact(rows: number, keysOf: (row: number) => readonly string[], entryAt: (row: number) => CandidateEntry) {
    let cap = Math.max(16, rows * 2);
    let hashA = new Uint32Array(cap);
    let hashB = new Uint32Array(cap);
    let next = new Int32Array(cap);
    let rowOf = new Int32Array(cap);
    let links = 0;
    for (let r = 0; r < rows; r++) {
      for (const key of keysOf(r)) {
        if (links === cap) {
          cap *= 2;
          const grow = <T extends Uint32Array | Int32Array>(a: T, make: (n: number) => T): T => {
            const b = make(cap);
            b.set(a);
            return b;
          };
          hashA = grow(hashA, (n) => new Uint32Array(n));
          hashB = grow(hashB, (n) => new Uint32Array(n));
          next = grow(next, (n) => new Int32Array(n));
          rowOf = grow(rowOf, (n) => new Int32Array(n));
        }
        hashA[links] = hash32(key, 0x1b873593);
        hashB[links] = hash32(key, 0x85ebca6b);
        rowOf[links] = r;
        links++;
      }
    }
    let size = 1;
    while (size < links * 2) size *= 2;
    const heads = new Int32Array(size).fill(-1);
    for (let i = 0; i < links; i++) {
      const slot = hashA[i]! & (size - 1);
      next[i] = heads[slot]!;
      heads[slot] = i;
    }
    this.compact.push({ heads, mask: size - 1, hashA, hashB, next, rowOf, entryAt, links });
  }

  private readonly compact: {
    heads: Int32Array;
    mask: number;
    hashA: Uint32Array;
    hashB: Uint32Array;
    next: Int32Array;
    rowOf: Int32Array;
    entryAt: (row: number) => CandidateEntry;
    links: number;
  }[] = [];

  private compactRows(key: string, out: CandidateEntry[], limit: number): void {
    if (this.compact.length === 0) return;
    const a = hash32(key, 0x1b873593);
    const b = hash32(key, 0x85ebca6b);
    for (const seg of this.compact) {
      for (let i = seg.heads[a & seg.mask]!; i >= 0 && out.length < limit; i = seg.next[i]!) {
        if (seg.hashA[i] === a && seg.hashB[i] === b) out.push(seg.entryAt(seg.rowOf[i]!));
      }
    }
  }

  /** Number of keys and entries held (for the bench). */
  size(): { keys: number; entries: number; claims: number; compactLinks: number } {
    let entries = 0;
    for (const l of this.index.values()) entries += l.length;
    const compactLinks = this.compact.reduce((n, s) => n + s.links, 0);
    return { keys: this.index.size, entries, claims: this.claims.size, compactLinks };
  }
}
