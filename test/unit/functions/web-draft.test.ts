import { describe, expect, it } from 'vitest';
import { webDraft } from '#functions/http/requests.ts';

const AT = new Date('2026-03-10T02:00:00Z');

describe('Function: webDraft', () => {
  it('should map a full web form to the one form, keys in the order the form lists them', () => {
    // Act
    const d = webDraft(
      {
        title: '路灯不亮',
        text: '和平路88号门口的路灯坏了',
        citizen: { phone: '13800138000' },
        name: '张三',
        email: 'zhang@qq.com',
        anonymous: 'on',
        location: { lat: 22.7, lon: 114.3 },
        address: '和平路88号',
        nature: '投诉',
        category: 'street-light',
        language: 'en',
      },
      AT,
      'form-key-0001',
    );
    // Assess
    expect(Object.keys(d)).toEqual([
      'channel',
      'receivedAt',
      'citizen',
      'title',
      'text',
      'location',
      'nature',
      'categoryHint',
      'language',
      'channelMessageId',
    ]);
    expect(d).toEqual({
      channel: 'web',
      receivedAt: '2026-03-10T10:00:00.000+08:00',
      citizen: { phone: '13800138000', name: '张三', email: 'zhang@qq.com', anonymous: true },
      title: '路灯不亮',
      text: '和平路88号门口的路灯坏了',
      location: { lat: 22.7, lon: 114.3, address: '和平路88号' },
      nature: '投诉',
      categoryHint: 'street-light',
      language: 'en',
      channelMessageId: 'key:form-key-0001',
    });
  });

  it('should leave out what the form does not give, and keep what the citizen object already says', () => {
    // Act
    const d = webDraft(
      { title: 't', text: 'x', citizen: { phone: '13900000000' }, phone: '13800138000', nature: 3, category: '' },
      AT,
      undefined,
    );
    // Assess
    expect(Object.keys(d)).toEqual([
      'channel',
      'receivedAt',
      'citizen',
      'title',
      'text',
      'language',
      'channelMessageId',
    ]);
    expect(d.citizen).toEqual({ phone: '13900000000' });
    expect(d.language).toBe('zh-CN');
  });

  it('should name a form without a usable Idempotency-Key by its content, contact and ten-minute window', () => {
    // Prepare
    const body = { title: 't', text: '同一内容', phone: '13800138000' };
    // Act
    const a = webDraft(body, AT, undefined).channelMessageId as string;
    const sameWindow = webDraft(body, new Date(AT.getTime() + 60_000), 'bad key!').channelMessageId;
    const nextWindow = webDraft(body, new Date(AT.getTime() + 600_000), undefined).channelMessageId;
    const otherText = webDraft({ ...body, text: '另一内容' }, AT, 'short').channelMessageId;
    // Assess
    expect(a).toMatch(/^hash:[\w-]{32}$/);
    expect(sameWindow).toBe(a);
    expect(nextWindow).not.toBe(a);
    expect(otherText).not.toBe(a);
  });
});
