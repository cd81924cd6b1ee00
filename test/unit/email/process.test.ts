/**
 * The inbound email function against in-memory ports: new reports, acknowledgements, replies threaded onto their case,
 * duplicates, machine-written mail, SES verdicts, bad mail, and failures of the outbox and the bus.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SESEvent } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseEmail } from '#channels/email/parse.ts';
import type { Case } from '#core/case.ts';
import { CaseService } from '#core/cases/service.ts';
import { formatTrackingNo, shanghaiDay, type TrackingNo } from '#core/ids.ts';
import { type Accepted, idemKeyOf } from '#core/intake/accept.ts';
import type { IntakeRequest } from '#core/intake/schema.ts';
import type { Bus, BusEvent, CaseStore, OutboundMessage, StoredReport } from '#core/ports.ts';
import { defaultDepartments } from '#core/taxonomy/defaults.ts';
import { handleSesEvent } from '#functions/email/inbound.ts';
import { type InboundDeps, type InboundMail, processInboundEmail } from '#functions/email/process.ts';
import { logSink, setLogSink } from '#functions/lib/log.ts';
import { base64Lines, enc, encodedWord, message, multipart, part } from './mail-builder.ts';

const NOW = new Date('2025-11-28T02:00:00Z');
const CITIZEN = 'zs@qq.example.cn';
const JPEG = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(50, 1)]);

class World {
  blobs = new Map<string, Uint8Array>();
  reports = new Map<string, StoredReport>();
  cases = new Map<string, Case>();
  events: BusEvent[] = [];
  sent: OutboundMessage[] = [];
  announced: { caseId: string; version: number }[] = [];
  seq = 0;
  outboxFails = false;
  busFails = false;

  deps(): InboundDeps {
    const clock = { now: () => NOW };
    const caseStore: CaseStore = {
      createCase: async () => ({ created: true }),
      getCase: async (id) => structuredClone(this.cases.get(id)),
      replaceCase: async (c, expected) => {
        if (this.cases.get(c.caseId)?.version !== expected) return false;
        this.cases.set(c.caseId, structuredClone(c));
        return true;
      },
      markAnnounced: async (caseId, version) => {
        this.announced.push({ caseId, version });
        const c = this.cases.get(caseId);
        if (c) this.cases.set(caseId, { ...c, announcedVersion: version, pendingEvents: [] });
      },
      markSettled: async (caseId, version, settled) => {
        if (settled.announced) await caseStore.markAnnounced(caseId, version);
      },
      listDepartmentCases: async () => ({ cases: [] }),
    };
    const bus: Bus = {
      publish: async (events) => {
        if (this.busFails) return { failed: events.map((_, i) => i) };
        this.events.push(...events);
        return { failed: [] };
      },
    };
    return {
      blobs: {
        put: async (k, b) => void this.blobs.set(k, b),
        get: async (k) => this.blobs.get(k),
      },
      store: {
        getReportByTrackingNo: async (tn) => [...this.reports.values()].find((r) => r.trackingNo === tn),
        getReportByIdemKey: async (k) => this.reports.get(k),
        getCase: caseStore.getCase,
      },
      // the real case service (lifecycle machine, one conditional write, announcement) on the in-memory ports
      cases: new CaseService({ cases: caseStore, bus, clock, departments: defaultDepartments, categories: new Map() }),
      outbox: {
        send: async (m) => {
          if (this.outboxFails) throw new Error('SES throttled');
          this.sent.push(m);
        },
      },
      clock,
      accept: async (request: IntakeRequest): Promise<Accepted> => {
        const key = idemKeyOf(request);
        const existing = this.reports.get(key);
        if (existing) return { trackingNo: existing.trackingNo, created: false, report: existing };
        const trackingNo = formatTrackingNo(shanghaiDay(NOW), ++this.seq) as TrackingNo;
        const report: StoredReport = { trackingNo, idemKey: key, request, acceptedAt: NOW.toISOString() };
        this.reports.set(key, report);
        return { trackingNo, created: true, report };
      },
      mailFrom: 'no-reply@city.example.cn',
    };
  }

  /** What triage would have done: a case for the report. */
  openCase(trackingNo: string, state: Case['state'] = 'dispatched'): Case {
    const r = [...this.reports.values()].find((x) => x.trackingNo === trackingNo) as StoredReport;
    const c: Case = {
      caseId: trackingNo,
      trackingNo,
      state,
      version: 2,
      department: 'dept-env',
      category: 'noise',
      nature: '投诉',
      urgency: 'normal',
      channel: 'email',
      title: r.request.title,
      text: r.request.text,
      citizen: r.request.citizen,
      receivedAt: r.request.receivedAt,
      updatedAt: r.request.receivedAt,
      dispatchedAt: r.request.receivedAt,
      classification: { confidence: 0.9, decision: 'auto', reason: 'test' },
      reportCount: 1,
      reporters: [],
      announcedVersion: 2,
      history: [],
    };
    this.cases.set(trackingNo, c);
    return c;
  }
}

function citizenMail(id: string, opts: { from?: string; subject?: string; extra?: string[]; body?: string } = {}) {
  const mixed = multipart('mixed', 'b', [
    part({
      headers: ['Content-Type: text/plain; charset=gb2312', 'Content-Transfer-Encoding: base64'],
      body: base64Lines(enc(opts.body ?? '晚上施工噪音很大，请处理。\r\n\r\n发自我的iPhone', 'gbk')),
    }),
    part({
      headers: ['Content-Type: image/jpeg; name="a.jpg"', 'Content-Transfer-Encoding: base64'],
      body: base64Lines(JPEG),
    }),
  ]);
  return message({
    from: `${encodedWord('张三', 'gb2312')} <${opts.from ?? CITIZEN}>`,
    subject: encodedWord(opts.subject ?? '噪音投诉', 'gbk'),
    messageId: id,
    extraHeaders: opts.extra ?? [],
    contentType: mixed.contentType,
    body: mixed.body,
  });
}

const mail = (raw: Buffer, extra: Partial<InboundMail> = {}): InboundMail => ({
  raw,
  rawKey: `raw/email/ses/${Math.random().toString(36).slice(2)}`,
  receivedAt: NOW,
  ...extra,
});

const sink = logSink;
beforeAll(() => setLogSink(() => undefined));
afterAll(() => setLogSink(sink));

describe('Function: processInboundEmail', () => {
  let w: World;
  beforeEach(() => {
    w = new World();
  });

  it('should accept a new GBK mail as a report with its photo stored, and acknowledge it', async () => {
    // Act
    const m = mail(citizenMail('<m1@qq>'));
    const out = await processInboundEmail(w.deps(), m);
    // Assess
    expect(out).toEqual({ status: 'accepted', trackingNo: '20251128000001', created: true, acknowledged: true });
    const report = w.reports.get('email#<m1@qq>');
    expect(report?.request).toMatchObject({ title: '噪音投诉', text: '晚上施工噪音很大，请处理。', rawKey: m.rawKey });
    const key = report?.request.attachments?.[0]?.storageKey as string;
    expect(w.blobs.get(key)).toEqual(JPEG);
    expect(w.sent).toHaveLength(1);
    expect(w.sent[0]).toMatchObject({
      channel: 'email',
      to: CITIZEN,
      trackingNo: '20251128000001',
      kind: 'email-acknowledgement',
    });
    const ack = await parseEmail(Buffer.from(w.sent[0]?.raw as Uint8Array));
    expect(ack.from?.address).toBe('no-reply@city.example.cn');
    expect(ack.inReplyTo).toEqual(['<m1@qq>']);
  });

  it('should treat the same Message-ID again as the same report, without a second acknowledgement', async () => {
    // Act
    await processInboundEmail(w.deps(), mail(citizenMail('<m1@qq>')));
    const again = await processInboundEmail(w.deps(), mail(citizenMail('<m1@qq>')));
    // Assess
    expect(again).toEqual({ status: 'accepted', trackingNo: '20251128000001', created: false, acknowledged: false });
    expect(w.reports.size).toBe(1);
    expect(w.sent).toHaveLength(1);
  });

  it('should add a reply to the acknowledgement to the open case, once, and announce it', async () => {
    // Prepare
    await processInboundEmail(w.deps(), mail(citizenMail('<m1@qq>')));
    w.openCase('20251128000001');
    const ackId = (await parseEmail(Buffer.from(w.sent[0]?.raw as Uint8Array))).messageId as string;
    const reply = citizenMail('<m2@qq>', {
      subject: '回复：[受理编号 20251128000001] Re: 噪音投诉',
      extra: [`In-Reply-To: ${ackId}`],
      body: '今晚又在施工。\r\n\r\n-----邮件原件-----\r\n发件人: 12345\r\n发送时间: 2025年11月28日\r\n\r\n您好',
    });
    // Act
    const out = await processInboundEmail(w.deps(), mail(reply));
    const again = await processInboundEmail(w.deps(), mail(reply));
    // Assess
    expect(out).toEqual({
      status: 'updated',
      trackingNo: '20251128000001',
      caseId: '20251128000001',
      duplicate: false,
      acknowledged: true,
    });
    expect(again).toMatchObject({ status: 'updated', duplicate: true, acknowledged: false });
    const c = w.cases.get('20251128000001') as Case;
    expect(c.version).toBe(3);
    expect(c.history).toEqual([
      expect.objectContaining({
        action: 'citizenUpdate',
        text: '今晚又在施工。',
        visibility: 'public',
        attachments: [expect.objectContaining({ contentType: 'image/jpeg' })],
        actor: { role: 'citizen', id: expect.any(String) },
      }),
    ]);
    expect(w.events.map((e) => e.detailType)).toEqual(['Case.CitizenUpdated']);
    expect(w.announced).toEqual([{ caseId: '20251128000001', version: 3 }]);
    expect(w.reports.size).toBe(1);
    expect(w.sent.map((s) => s.kind)).toEqual(['email-acknowledgement', 'email-update-acknowledgement']);
  });

  it('should thread on the tracking number in the subject alone, from the same sender', async () => {
    // Prepare
    await processInboundEmail(w.deps(), mail(citizenMail('<m1@qq>')));
    w.openCase('20251128000001');
    // Act
    const out = await processInboundEmail(
      w.deps(),
      mail(citizenMail('<m3@qq>', { subject: '受理编号：20251128000001 补充照片' })),
    );
    // Assess
    expect(out).toMatchObject({ status: 'updated', caseId: '20251128000001' });
  });

  it('should make a new report of a reply from another address, or to a concluded case', async () => {
    // Prepare
    await processInboundEmail(w.deps(), mail(citizenMail('<m1@qq>')));
    w.openCase('20251128000001', 'closed');
    const subject = '回复：[受理编号 20251128000001] Re: 噪音投诉';
    // Act
    const stranger = await processInboundEmail(
      w.deps(),
      mail(citizenMail('<s1@x>', { from: 'other@example.com', subject })),
    );
    const late = await processInboundEmail(w.deps(), mail(citizenMail('<m4@qq>', { subject })));
    // Assess
    expect(stranger).toMatchObject({ status: 'accepted', created: true });
    expect(late).toMatchObject({ status: 'accepted', created: true });
    expect(w.cases.get('20251128000001')?.history).toEqual([]);
  });

  it('should quarantine machine-written mail and never answer it', async () => {
    // Prepare
    const bounce = citizenMail('<b1@mx>', {
      from: 'MAILER-DAEMON@mx.example.com',
      subject: 'Undelivered Mail Returned to Sender',
    });
    // Act
    const out = await processInboundEmail(w.deps(), mail(bounce));
    // Assess
    expect(out).toMatchObject({ status: 'quarantined', reason: 'AUTO_GENERATED' });
    expect(JSON.parse(Buffer.from(w.blobs.get((out as { key: string }).key) as Uint8Array).toString())).toMatchObject({
      reason: 'AUTO_GENERATED',
      signals: expect.arrayContaining(['MAILER_DAEMON']),
    });
    expect(w.reports.size).toBe(0);
    expect(w.sent).toEqual([]);
  });

  it('should quarantine bad mail with its code instead of throwing', async () => {
    // Act
    const empty = await processInboundEmail(w.deps(), mail(message({ contentType: 'text/plain', body: '' })));
    const noSender = await processInboundEmail(
      w.deps(),
      mail(message({ from: 'nobody', subject: 'x', contentType: 'text/plain', body: 'x' })),
    );
    // Assess
    expect(empty).toMatchObject({ status: 'quarantined', reason: 'NO_TEXT' });
    expect(noSender).toMatchObject({ status: 'quarantined', reason: 'NO_SENDER' });
  });

  it('should quarantine a virus, hold spam for review, and accept clean SES mail', async () => {
    // Act
    const virus = await processInboundEmail(
      w.deps(),
      mail(citizenMail('<v@x>'), { sesReceipt: { virusVerdict: { status: 'FAIL' } } }),
    );
    const spam = await processInboundEmail(
      w.deps(),
      mail(citizenMail('<s@x>'), { sesReceipt: { spamVerdict: { status: 'FAIL' } } }),
    );
    const clean = await processInboundEmail(
      w.deps(),
      mail(citizenMail('<c@x>'), { sesReceipt: { spamVerdict: { status: 'PASS' }, virusVerdict: { status: 'PASS' } } }),
    );
    // Assess
    expect(virus).toMatchObject({ status: 'quarantined', reason: 'VIRUS' });
    expect(spam).toMatchObject({ status: 'held', reason: 'SPAM' });
    const held = JSON.parse(Buffer.from(w.blobs.get((spam as { key: string }).key) as Uint8Array).toString());
    expect(held.request).toMatchObject({ channel: 'email', title: '噪音投诉' });
    expect(clean).toMatchObject({ status: 'accepted', created: true, acknowledged: true });
    expect(w.reports.size).toBe(1);
    expect(w.sent).toHaveLength(1);
  });

  it('should keep the report when the acknowledgement cannot be sent', async () => {
    // Prepare
    w.outboxFails = true;
    // Act
    const out = await processInboundEmail(w.deps(), mail(citizenMail('<m1@qq>')));
    // Assess
    expect(out).toMatchObject({ status: 'accepted', created: true, acknowledged: false });
    expect(w.reports.size).toBe(1);
  });

  it('should leave the announcement owed when the bus refuses it', async () => {
    // Prepare
    await processInboundEmail(w.deps(), mail(citizenMail('<m1@qq>')));
    w.openCase('20251128000001');
    w.busFails = true;
    // Act
    await processInboundEmail(w.deps(), mail(citizenMail('<m5@qq>', { subject: '受理编号 20251128000001' })));
    // Assess
    const c = w.cases.get('20251128000001') as Case;
    expect(c.version).toBe(3);
    expect(c.announcedVersion).toBe(2);
    expect(c.pendingEvents?.map((e) => e.detailType)).toEqual(['Case.CitizenUpdated']);
  });
});

describe('Function: handleSesEvent', () => {
  it('should read the raw message SES stored under the prefix and process it; a missing object throws', async () => {
    // Prepare
    const w = new World();
    const event = JSON.parse(
      readFileSync(join(import.meta.dirname, '../../../../shared/data/aws-events/sesEvent.json'), 'utf8'),
    ) as SESEvent;
    const id = event.Records[0]?.ses.mail.messageId as string;
    w.blobs.set(`raw/email/ses/${id}`, citizenMail('<0123456789example.com>'));
    // Act
    const out = await handleSesEvent(event, w.deps());
    // Assess
    expect(out.results).toEqual([
      { status: 'accepted', trackingNo: '20251128000001', created: true, acknowledged: true },
    ]);
    expect(w.reports.get('email#<0123456789example.com>')?.request.rawKey).toBe(`raw/email/ses/${id}`);
    w.blobs.clear();
    await expect(handleSesEvent(event, w.deps())).rejects.toThrow(/raw message not found/);
  });
});
