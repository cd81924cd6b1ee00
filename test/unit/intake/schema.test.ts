import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { IntakeRequest } from '#core/intake/schema.ts';
import { intakeJsonSchema } from '../../../scripts/gen-schema.ts';

const base = {
  channel: 'web',
  channelMessageId: 'key:abc12345',
  receivedAt: '2025-11-28T09:30:00+08:00',
  citizen: { phone: '+8613800138000' },
  title: '路灯不亮',
  text: '和平路88号门口的路灯坏了',
};

describe('Schema: IntakeRequest', () => {
  it('should accept a complete web request', () => {
    // Act
    const r = IntakeRequest.safeParse({
      ...base,
      location: { address: '和平路88号', lat: 22.7, lon: 114.35, datum: 'WGS84', street: '坪山街道' },
      nature: '投诉',
      attachments: [{ name: 'a.jpg', contentType: 'image/jpeg', size: 1200, storageKey: 'att/1' }],
    });
    // Assess
    expect(r.success).toBe(true);
  });

  it('should require a way back to the citizen unless anonymous', () => {
    const noContact = IntakeRequest.safeParse({ ...base, citizen: {} });
    expect(noContact.success).toBe(false);
    expect(noContact.error?.issues[0]?.message).toMatch(/anonymous/);
    expect(IntakeRequest.safeParse({ ...base, citizen: { anonymous: true } }).success).toBe(true);
    expect(IntakeRequest.safeParse({ ...base, citizen: { openid: 'oABC' } }).success).toBe(true);
  });

  it('should refuse a time without a zone, an unknown channel or nature, and out-of-range coordinates', () => {
    expect(IntakeRequest.safeParse({ ...base, receivedAt: '2025-11-28T09:30:00' }).success).toBe(false);
    expect(IntakeRequest.safeParse({ ...base, channel: 'fax' }).success).toBe(false);
    expect(IntakeRequest.safeParse({ ...base, nature: '闲聊' }).success).toBe(false);
    expect(IntakeRequest.safeParse({ ...base, location: { lat: 91 } }).success).toBe(false);
  });

  it('should keep the generated JSON Schema in docs/ in step with the zod schema', () => {
    // Prepare
    const onDisk = JSON.parse(readFileSync('docs/intake-request.schema.json', 'utf8'));
    // Assess
    expect(onDisk).toEqual(intakeJsonSchema());
    expect(onDisk.required).toEqual(
      expect.arrayContaining(['channel', 'channelMessageId', 'receivedAt', 'citizen', 'title', 'text']),
    );
  });
});
