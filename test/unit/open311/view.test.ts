import { describe, expect, it } from 'vitest';
import { parseOpen311Config } from '#channels/open311/config.ts';
import { buildCatalog } from '#channels/open311/services.ts';
import {
  openClosed,
  publicAddress,
  requestFromCase,
  UPDATE_STATUS,
  updateIdsOf,
  updatesOf,
} from '#channels/open311/view.ts';
import type { Case } from '#core/case.ts';
import { CASE_STATES } from '#core/lifecycle/states.ts';
import { defaultTaxonomy } from '#core/taxonomy/defaults.ts';
import configFile from '../../../config/open311.json' with { type: 'json' };

const config = parseOpen311Config(configFile);
const ctx = {
  catalog: buildCatalog(defaultTaxonomy, config),
  departmentName: (id: string) => ({ chengguan: '区城市管理和综合执法局' })[id],
  publish: config.publish,
};

function aCase(over: Partial<Case> = {}): Case {
  return {
    caseId: '20251128000001',
    trackingNo: '20251128000001',
    state: 'dispatched',
    version: 1,
    department: 'chengguan',
    category: 'SZ-01',
    nature: '求助',
    urgency: 'normal',
    channel: 'wechat',
    title: '路灯不亮',
    text: '和平路88号3栋502门口路灯坏了，联系我13800138000或a.b@example.com',
    location: { address: '和平路88号3栋502', lat: 22.705, lon: 114.35, datum: 'GCJ02' },
    citizen: { phone: '+8613800138000', name: '张三', openid: 'oABC' },
    receivedAt: '2025-11-28T10:00:00.000+08:00',
    updatedAt: '2025-11-28T10:00:05.000+08:00',
    classification: { confidence: 0.9, decision: 'auto', reason: 'x', category: 'SZ-01', categoryName: '路灯照明' },
    reportCount: 1,
    reporters: [
      { trackingNo: '20251128000001', channel: 'wechat', receivedAt: '2025-11-28T10:00:00.000+08:00', relation: 'new' },
    ],
    announcedVersion: 1,
    history: [
      {
        at: '2025-11-28T10:00:00.000+08:00',
        actor: { role: 'system', id: 'wechat' },
        action: 'receive',
        to: 'received',
        text: '经微信受理',
        visibility: 'public',
      },
      {
        at: '2025-11-28T10:00:05.000+08:00',
        actor: { role: 'system', id: 'triage' },
        action: 'dispatch',
        from: 'received',
        to: 'dispatched',
        reason: '路灯照明 (90%)',
        text: '已派单至区城市管理和综合执法局',
        visibility: 'public',
      },
    ],
    ...over,
  };
}

describe('View: what Open311 publishes', () => {
  it('should publish no contact, masked text, the address up to the building and rounded WGS-84 coordinates', () => {
    const r = requestFromCase(aCase(), ctx);
    expect(JSON.stringify(r)).not.toMatch(/13800138000|a\.b@example|张三|oABC/);
    expect(r.description).toContain('138****8000');
    expect(r.address).toBe('和平路88号');
    // GCJ-02 from WeChat is shifted back to WGS-84 (about 300 m here) before rounding to 4 decimals.
    expect(r.lat).not.toBe(22.705);
    expect(String(r.lat).split('.')[1]?.length).toBeLessThanOrEqual(4);
    expect(r).toMatchObject({ status: 'open', service_name: '路灯照明', agency_responsible: '区城市管理和综合执法局' });
  });

  it.each([
    ['和平路88号3栋502', '和平路88号'],
    ['坪山大道2号A座1201室', '坪山大道2号'],
    ['东门路与和平路交叉口', '东门路与和平路交叉口'],
    ['六和社区和平路12号2单元', '六和社区和平路12号'],
    ['龙田街道竹坑社区十栋', '龙田街道竹坑社区'],
  ])('should cut %s to %s', (input, expected) => {
    expect(publicAddress(input)).toBe(expected);
  });

  it('should call only concluded states closed, and map every state to a mySociety status', () => {
    expect(CASE_STATES.filter((s) => openClosed(s) === 'closed').sort()).toEqual([
      'answered',
      'archived',
      'closed',
      'rejected',
    ]);
    for (const s of CASE_STATES) expect(UPDATE_STATUS[s]).toMatch(/^[A-Z_]+$/);
  });

  it('should not name a department while the case waits for manual triage', () => {
    const r = requestFromCase(aCase({ state: 'triage', department: 'centre' }), ctx);
    expect(r.agency_responsible).toBeUndefined();
  });

  it('should publish updates under the case and under each Open311 report merged into it, from when it joined', () => {
    // Prepare: a WeChat case that an Open311 report joined at 10:30.
    const c = aCase({
      reporters: [
        {
          trackingNo: '20251128000001',
          channel: 'wechat',
          receivedAt: '2025-11-28T10:00:00.000+08:00',
          relation: 'new',
        },
        {
          trackingNo: '20251128000009',
          channel: 'open311',
          receivedAt: '2025-11-28T10:30:00.000+08:00',
          relation: 'incident',
        },
      ],
    });
    c.history.push({
      at: '2025-11-28T11:00:00.000+08:00',
      actor: { role: 'department', id: 's1' },
      action: 'sign',
      from: 'dispatched',
      to: 'signed',
      visibility: 'public',
    });
    c.history.push({
      at: '2025-11-28T11:10:00.000+08:00',
      actor: { role: 'citizen', id: 'x' },
      action: 'citizenUpdate',
      to: 'signed',
      text: '我的电话13800138000',
      visibility: 'public',
    });
    c.history.push({
      at: '2025-11-28T11:20:00.000+08:00',
      actor: { role: 'department', id: 's1' },
      action: 'addNote',
      to: 'signed',
      text: '内部',
      visibility: 'internal',
    });
    const window = { fromMs: Date.parse('2025-11-28T09:00:00+08:00'), toMs: Date.parse('2025-11-28T12:00:00+08:00') };
    // Act
    const scoped = updatesOf(c, window, 'open311');
    const all = updatesOf(c, window, 'all');
    // Assess
    expect(scoped.map((u) => [u.service_request_id, u.status, u.description])).toEqual([
      ['20251128000009', 'IN_PROGRESS', '签收：处理中'],
    ]);
    expect(all.map((u) => `${u.update_id}:${u.status}`)).toEqual([
      '20251128000001-0:OPEN',
      '20251128000001-1:ACTION_SCHEDULED',
      '20251128000001-2:IN_PROGRESS',
      '20251128000009-2:IN_PROGRESS',
    ]);
    expect(JSON.stringify(all)).not.toMatch(/13800138000|内部/);
    expect([...updateIdsOf(c, 'open311').keys()]).toEqual(['20251128000009']);
  });
});
