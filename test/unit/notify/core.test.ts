import { describe, expect, it } from 'vitest';
import { parseNotice } from '#core/notify/message.ts';
import {
  DEFAULT_TEMPLATE_FIELDS,
  noticePage,
  parseTemplateFields,
  shanghaiTime,
  statusPhrase,
  subscribeData,
  subscribeOutcome,
  summaryOf,
} from '#core/notify/wechat.ts';

const dispatched = {
  channel: 'wechat' as const,
  to: 'oAbCdEfGhIjKlMnOpQrStUvWxYz0',
  subject: '【12345】您的诉求 20261128-000123 已派单',
  text: '【12345】您的诉求（受理编号 20261128-000123）已派至市城管局办理。查询进度：https://12345.example.gov.cn/?tn=20261128-000123&token=abc',
  trackingNo: '20261128-000123',
  caseId: 'c-1',
  kind: 'case-dispatched',
};

describe('Function: parseNotice', () => {
  it('should accept an SMS notice to an E.164 phone and a WeChat notice to an openid', () => {
    // Act
    const sms = parseNotice(
      JSON.stringify({ channel: 'sms', to: '+8613912345678', text: '【12345】已派单', kind: 'k' }),
    );
    const wx = parseNotice(JSON.stringify(dispatched));

    // Assess
    expect(sms).toMatchObject({ ok: true, notice: { channel: 'sms', to: '+8613912345678' } });
    expect(wx).toMatchObject({ ok: true, notice: { channel: 'wechat', trackingNo: '20261128-000123' } });
  });

  it.each([
    ['not JSON', '{"channel":'],
    ['an array', '[]'],
    ['email (SES sends it)', JSON.stringify({ channel: 'email', to: 'a@b.cn', text: 't', kind: 'k' })],
    ['a national phone', JSON.stringify({ channel: 'sms', to: '13912345678', text: 't', kind: 'k' })],
    ['an empty text', JSON.stringify({ channel: 'sms', to: '+8613912345678', text: '', kind: 'k' })],
    ['no kind', JSON.stringify({ channel: 'sms', to: '+8613912345678', text: 't' })],
    [
      'an SMS over 1600 characters',
      JSON.stringify({ channel: 'sms', to: '+8613912345678', text: 'x'.repeat(1601), kind: 'k' }),
    ],
    ['a bad openid', JSON.stringify({ ...dispatched, to: 'o p e n' })],
  ])('should refuse %s as INVALID_NOTICE', (_, body) => {
    // Act
    const r = parseNotice(body);

    // Assess
    expect(r.ok).toBe(false);
    expect(r.ok ? undefined : r.error.code).toBe('INVALID_NOTICE');
  });
});

describe('Function: subscribeData', () => {
  it('should map a dispatch notice into the four template keywords within their limits', () => {
    // Act
    const data = subscribeData(parseNoticeOk(dispatched), new Date('2026-11-28T11:05:09Z'), DEFAULT_TEMPLATE_FIELDS);

    // Assess
    expect(data).toEqual({
      character_string1: { value: '20261128-000123' },
      phrase2: { value: '已派单' },
      thing3: { value: '您的诉求已派至市城管局办理。' },
      time4: { value: '2026年11月28日 19:05' },
    });
  });

  it('should clip the summary to 20 characters and drop links', () => {
    // Act
    const s = summaryOf(
      '【12345】您的诉求（受理编号 X）已办理完毕：已清理路面积水并疏通排水管道两处，后续将加强巡查。请对办理结果进行评价（满意/基本满意/不满意）：https://x.cn/?tn=X',
    );

    // Assess
    expect([...s]).toHaveLength(20);
    expect(s.endsWith('…')).toBe(true);
    expect(s).not.toContain('http');
  });

  it('should take the status from the subject when it is a short phrase, else from the kind', () => {
    // Assess
    expect(statusPhrase({ subject: '【12345】您的诉求 N 已重新办理', kind: 'case-dispatched' })).toBe('已重新办理');
    expect(statusPhrase({ kind: 'case-follow-up' })).toBe('待评价');
    expect(statusPhrase({ subject: 'Re: hello', kind: 'case-closed' })).toBe('已办结');
    expect(statusPhrase({ kind: 'something-else' })).toBe('办理中');
  });

  it('should format the time in Asia/Shanghai across midnight and add the tracking number to the page', () => {
    // Assess
    expect(shanghaiTime(new Date('2026-12-31T16:30:00Z'))).toBe('2027年1月1日 00:30');
    expect(noticePage('pages/index/index', { trackingNo: 'A-1' })).toBe('pages/index/index?tn=A-1');
    expect(noticePage('pages/case?from=notice', { trackingNo: 'A-1' })).toBe('pages/case?from=notice&tn=A-1');
  });

  it('should read configured template keys and refuse malformed ones', () => {
    // Assess
    expect(parseTemplateFields(undefined)).toEqual(DEFAULT_TEMPLATE_FIELDS);
    expect(parseTemplateFields('character_string2, phrase1, thing4, time3')).toEqual({
      trackingNo: 'character_string2',
      status: 'phrase1',
      summary: 'thing4',
      time: 'time3',
    });
    expect(parseTemplateFields('thing1,thing1,thing2,time3')).toBeUndefined();
    expect(parseTemplateFields('a,b,c')).toBeUndefined();
  });
});

describe('Function: subscribeOutcome', () => {
  it.each([
    [0, 'sent'],
    [undefined, 'sent'],
    [40001, 'refresh-token'],
    [42001, 'refresh-token'],
    [43101, 'drop'],
    [47003, 'fail'],
    [-1, 'fail'],
  ])('should treat errcode %s as %s', (errcode, outcome) => {
    // Assess
    expect(subscribeOutcome(errcode)).toBe(outcome);
  });
});

function parseNoticeOk(body: object) {
  const r = parseNotice(JSON.stringify(body));
  if (!r.ok || r.notice.channel !== 'wechat') throw new Error('fixture is not a WeChat notice');
  return r.notice;
}
