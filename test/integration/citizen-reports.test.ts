/**
 * A citizen's reports page by page on the citizen index (GSI gsi2 on dynalite, loopback): 我的诉求 and the hotline's
 * caller lookup read it newest first, and a cursor (the last report read) goes on from there within the citizen.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoStore } from '#adapters/dynamo/store.ts';
import type { StoredReport } from '#core/ports.ts';
import { citizenKey } from '#core/privacy.ts';
import { type LocalAws, provisionLocalAws } from '#local/provision.ts';

const report = (n: number, openid: string): StoredReport =>
  ({
    trackingNo: `20251129${String(n).padStart(6, '0')}`,
    idemKey: `wechat#mp:${openid}:${n}`,
    acceptedAt: `2025-11-29T10:${String(n).padStart(2, '0')}:00.000+08:00`,
    request: {
      channel: 'wechat',
      channelMessageId: `mp:${openid}:${n}`,
      receivedAt: `2025-11-29T10:${String(n).padStart(2, '0')}:00+08:00`,
      citizen: { openid },
      text: `第${n}条`,
    },
  }) as StoredReport;

describe('Integration: a citizen’s reports, page by page (dynalite)', () => {
  let aws: LocalAws;
  let store: DynamoStore;

  beforeAll(async () => {
    aws = await provisionLocalAws();
    store = new DynamoStore(aws.db, aws.tableName);
    for (let n = 1; n <= 5; n++) await store.putReportIfAbsent(report(n, 'oCitizenA'));
    for (let n = 6; n <= 8; n++) await store.putReportIfAbsent(report(n, 'oCitizenB'));
  }, 60_000);
  afterAll(async () => {
    await aws?.stop();
  });

  it('should go on after the last report read, newest first, and never into another citizen’s', async () => {
    // Prepare
    const key = citizenKey({ openid: 'oCitizenA' }) as string;
    const tns = (rs: StoredReport[]) => rs.map((r) => r.trackingNo.slice(-1));
    // Act
    const first = await store.listReportsOfCitizen(key, 2);
    const second = await store.listReportsOfCitizen(key, 2, first.at(-1));
    const third = await store.listReportsOfCitizen(key, 2, second.at(-1));
    const past = await store.listReportsOfCitizen(key, 2, third.at(-1));
    // Assess
    expect([tns(first), tns(second), tns(third), tns(past)]).toEqual([['5', '4'], ['3', '2'], ['1'], []]);
  });
});
