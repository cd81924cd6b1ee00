import { describe, expect, it } from 'vitest';
import type { Case } from '#core/case.ts';
import {
  CITIZEN_TOKEN_LENGTH,
  checkCitizenProof,
  citizenToken,
  phoneLast4Matches,
  verifyCitizenToken,
} from '#core/cases/citizen-auth.ts';
import { applySnapshot, toSnapshot } from '#core/cases/mapping.ts';
import { buildNotice, noticeKindOf, recipientOf } from '#core/cases/notify.ts';
import { applyAction } from '#core/lifecycle/machine.ts';
import { CASE_STATES } from '#core/lifecycle/states.ts';
import { defaultDepartments } from '#core/taxonomy/defaults.ts';
import { citizenView, PUBLIC_STATUS } from '#core/views/citizen.ts';
import { caseDetail, caseSummary } from '#core/views/staff.ts';
import { CHENGGUAN, PHONE, report, SUPERVISOR, triagedCase } from './fakes.ts';

const TN = '20251128000001';
const NOW = '2025-11-28T11:00:00.000+08:00';
const name = (id: string) => defaultDepartments.find((d) => d.id === id)?.name;

function walk(c: Case, steps: [Parameters<typeof applyAction>[1], Parameters<typeof applyAction>[2]][]): Case {
  let cur = c;
  for (const [action, actor] of steps) {
    const r = applyAction(toSnapshot(cur), action, actor, NOW);
    if (!r.ok) throw r.error;
    cur = applySnapshot(cur, r.next, r.audit);
  }
  return cur;
}

describe('Module: citizen-auth', () => {
  it('should accept the token minted for a tracking number, and no other', () => {
    // Prepare
    const token = citizenToken('s3cret', TN);
    // Assess
    expect(token).toHaveLength(CITIZEN_TOKEN_LENGTH);
    expect(verifyCitizenToken('s3cret', TN, token)).toBe(true);
    expect(verifyCitizenToken('s3cret', '20251128000002', token)).toBe(false);
    expect(verifyCitizenToken('other', TN, token)).toBe(false);
    expect(verifyCitizenToken(undefined, TN, token)).toBe(false);
    expect(verifyCitizenToken('s3cret', TN, `${token.slice(0, -1)}x`)).toBe(false);
  });

  it('should match exactly four last digits of the report’s phone', () => {
    expect(phoneLast4Matches({ phone: PHONE }, '8000')).toBe(true);
    expect(phoneLast4Matches({ phone: PHONE }, '0000')).toBe(false);
    expect(phoneLast4Matches({ phone: PHONE }, '38000')).toBe(false);
    expect(phoneLast4Matches({ email: 'a@b.cn' }, '8000')).toBe(false);
    expect(phoneLast4Matches({ phone: PHONE }, undefined)).toBe(false);
  });

  it('should tell no proof, a valid proof and an invalid one apart', () => {
    const citizen = { phone: PHONE };
    expect(checkCitizenProof({}, TN, citizen, 's')).toBe('none');
    expect(checkCitizenProof({ token: '  ' }, TN, citizen, 's')).toBe('none');
    expect(checkCitizenProof({ phoneLast4: '8000' }, TN, citizen, 's')).toBe('valid');
    expect(checkCitizenProof({ token: citizenToken('s', TN) }, TN, citizen, 's')).toBe('valid');
    expect(checkCitizenProof({ token: 'wrong', phoneLast4: '1234' }, TN, citizen, 's')).toBe('invalid');
  });
});

describe('Module: notify', () => {
  it('should reach the citizen on the channel they came from, else by SMS', () => {
    expect(recipientOf({ channel: 'email', citizen: { email: 'a@b.cn', phone: PHONE } })).toEqual({
      channel: 'email',
      to: 'a@b.cn',
    });
    expect(recipientOf({ channel: 'wechat', citizen: { openid: 'o1', phone: PHONE } })).toEqual({
      channel: 'wechat',
      to: 'o1',
    });
    expect(recipientOf({ channel: 'hotline', citizen: { phone: PHONE } })).toEqual({ channel: 'sms', to: PHONE });
    expect(recipientOf({ channel: 'web', citizen: { phone: PHONE, email: 'a@b.cn' } })).toEqual({
      channel: 'sms',
      to: PHONE,
    });
    expect(recipientOf({ channel: 'web', citizen: { email: 'a@b.cn' } })).toEqual({ channel: 'email', to: 'a@b.cn' });
    expect(recipientOf({ channel: 'web', citizen: { anonymous: true } })).toBeUndefined();
  });

  it('should owe notices for dispatch, follow-up, closure, answer and rejection only', () => {
    expect(noticeKindOf({ action: 'assignTriage', from: 'triage', to: 'dispatched' })).toBe('case-dispatched');
    expect(noticeKindOf({ action: 'redispatch', from: 'dispatched', to: 'dispatched' })).toBe('case-dispatched');
    expect(noticeKindOf({ action: 'recordFollowUp', from: 'followUp', to: 'dispatched' })).toBe('case-dispatched');
    expect(noticeKindOf({ action: 'approveClosure', from: 'resolved', to: 'followUp' })).toBe('case-follow-up');
    expect(noticeKindOf({ action: 'recordFollowUp', from: 'followUp', to: 'closed' })).toBe('case-closed');
    expect(noticeKindOf({ action: 'answer', from: 'triage', to: 'answered' })).toBe('case-answered');
    expect(noticeKindOf({ action: 'reject', from: 'triage', to: 'rejected' })).toBe('case-rejected');
    for (const action of ['sign', 'contact', 'requestReturn', 'resolve', 'addNote', 'archive'] as const) {
      expect(noticeKindOf({ action, from: 'signed', to: 'signed' })).toBeUndefined();
    }
  });

  it('should put the tracking link with the citizen’s token in the notice', () => {
    // Prepare
    const c = triagedCase();
    // Act
    const m = buildNotice(c, 'case-dispatched', {
      publicUrl: 'https://12345.example.gov.cn/',
      token: (tn) => citizenToken('k', tn),
      departmentName: name,
    });
    // Assess
    expect(m).toMatchObject({ channel: 'sms', to: PHONE, kind: 'case-dispatched', trackingNo: TN, caseId: TN });
    expect(m?.text).toContain(`https://12345.example.gov.cn/?tn=${TN}&token=${citizenToken('k', TN)}`);
    expect(m?.text).toContain('区城市管理和综合执法局');
  });
});

describe('Function: citizenView', () => {
  const closed = () =>
    walk(triagedCase(), [
      [{ type: 'sign', text: '承办人张三已接单' }, CHENGGUAN],
      [{ type: 'addNote', text: '内部：找李四协调' }, CHENGGUAN],
      [{ type: 'resolve', text: '已更换灯泡' }, CHENGGUAN],
      [{ type: 'approveClosure' }, SUPERVISOR],
      [{ type: 'recordFollowUp', satisfaction: '满意', resolved: true, text: '市民表示满意' }, SUPERVISOR],
    ]);

  it('should show a verified citizen the public steps with their words, and no staff ids or internal notes', () => {
    // Prepare
    const c = closed();
    // Act
    const v = citizenView(report(TN, c.text), c, defaultDepartments, { verified: true });
    // Assess
    expect(v).toMatchObject({ status: 'closed', statusLabel: '已办结', verified: true, actions: [] });
    expect(v.department).toEqual({ id: 'chengguan', name: '区城市管理和综合执法局' });
    expect(v.history.map((h) => h.label)).toEqual(['受理', '派单', '签收', '办结反馈', '回访（办结）']);
    expect(v.history[1]).toMatchObject({ department: { id: 'chengguan' }, stateLabel: '已派单', by: '12345热线' });
    expect(v.history[3]).toMatchObject({ text: '已更换灯泡', by: '承办单位' });
    const json = JSON.stringify(v);
    for (const secret of ['cg-clerk', 'sup-001', '张三', '李四', '内部', 'triage"', PHONE, '13800138000', 'actor']) {
      expect(json).not.toContain(secret);
    }
  });

  it('should show the tracking number alone only the steps, without any free text', () => {
    // Prepare
    const c = closed();
    // Act
    const v = citizenView(report(TN, c.text), c, defaultDepartments, { verified: false });
    // Assess
    expect(v.verified).toBe(false);
    expect(v.actions).toBeUndefined();
    expect(v.history.some((h) => 'text' in h)).toBe(false);
    expect(JSON.stringify(v)).not.toContain('已更换灯泡');
  });

  it('should offer the follow-up answer only while the case waits for it, and show the due time while handled', () => {
    // Prepare
    const waiting = walk(triagedCase(), [
      [{ type: 'sign' }, CHENGGUAN],
      [{ type: 'resolve', text: '已修复' }, CHENGGUAN],
      [{ type: 'approveClosure' }, SUPERVISOR],
    ]);
    const handled = { ...walk(triagedCase(), [[{ type: 'sign' }, CHENGGUAN]]) };
    handled.windows = { returnBy: null, dueAt: '2025-12-05T23:59:59.999+08:00', extensionLatest: null };
    // Act
    const a = citizenView(report(TN, 'x'), waiting, defaultDepartments);
    const b = citizenView(report(TN, 'x'), handled, defaultDepartments);
    const notMine = citizenView(report(TN, 'x'), waiting, defaultDepartments, { verified: true, mayAct: false });
    // Assess
    expect(a).toMatchObject({ status: 'followUp', statusLabel: '待回访', actions: ['addInformation', 'followUp'] });
    expect(b).toMatchObject({ status: 'processing', statusLabel: '处理中', dueAt: '2025-12-05T23:59:59.999+08:00' });
    expect(notMine.actions).toEqual([]);
  });

  it('should show a re-dispatch of an unsigned case with its new department', () => {
    // Prepare
    const c = walk(triagedCase(), [[{ type: 'redispatch', department: 'gongdian', reason: '供电设施' }, SUPERVISOR]]);
    // Act
    const v = citizenView(report(TN, 'x'), c, defaultDepartments);
    // Assess
    expect(v.history.at(-1)).toMatchObject({ label: '改派', department: { id: 'gongdian', name: '区供电局' } });
    // The 改派 reason is the centre's own, not the citizen's.
    expect(v.history.at(-1)).not.toHaveProperty('text');
  });

  it('should read internal states as steps the citizen knows', () => {
    expect(Object.keys(PUBLIC_STATUS).sort()).toEqual([...CASE_STATES].sort());
    expect(PUBLIC_STATUS.returnRequested).toBe('processing');
    expect(PUBLIC_STATUS.triage).toBe('received');
    expect(PUBLIC_STATUS.archived).toBe('closed');
    // A case in manual triage shows no department (the centre desk is not a handling department).
    const v = citizenView(report(TN, 'x'), triagedCase(TN, '说不清的问题'), defaultDepartments);
    expect(v).toMatchObject({ status: 'received', department: null });
    expect(v.history.map((h) => h.action)).toEqual(['receive']);
  });

  it('should answer a report not triaged yet with 已受理', () => {
    const v = citizenView(report(TN, 'x'), undefined, defaultDepartments, { verified: false });
    expect(v).toMatchObject({ status: 'received', statusLabel: '已受理', department: null, verified: false });
  });
});

describe('Function: caseDetail / caseSummary', () => {
  it('should give staff the contact, the full trace and the actions they may take now', () => {
    // Prepare
    const c = walk(triagedCase(), [[{ type: 'sign' }, CHENGGUAN]]);
    // Act
    const d = caseDetail(c, CHENGGUAN, NOW, name);
    const s = caseSummary(c, name);
    // Assess
    expect(d.citizen).toEqual({ phone: PHONE });
    expect(d.history.map((h) => h.action)).toEqual(['receive', 'dispatch', 'sign']);
    expect(d.history[2]?.actor).toEqual({ role: 'department', id: 'cg-clerk' });
    expect(d.allowedActions).toEqual(['contact', 'requestReturn', 'requestExtension', 'resolve', 'addNote']);
    expect(s).toMatchObject({
      state: 'signed',
      stateLabel: '签收',
      departmentName: '区城市管理和综合执法局',
      pending: null,
    });
  });
});
