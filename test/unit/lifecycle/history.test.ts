import { describe, expect, it } from 'vitest';
import { publicHistory, publicStatus, stateLabel } from '#core/lifecycle/history.ts';
import { applyAction } from '#core/lifecycle/machine.ts';
import { ACTION_LABELS, ACTION_TYPES, CASE_STATES, PUBLIC_STATE_LABELS, STATE_LABELS } from '#core/lifecycle/states.ts';
import type { Actor, AuditRecord } from '#core/lifecycle/types.ts';
import { CITIZEN, DEPT, fixture, NOW } from './fixtures.ts';

const supervisor: Actor = { role: 'supervisor', id: 'sup-li' };
const dept: Actor = { role: 'department', id: 'dept-user-1', department: DEPT };

const record = (over: Partial<AuditRecord>): AuditRecord => ({
  at: NOW,
  version: 2,
  actor: { role: 'supervisor', id: 'sup-li' },
  action: 'addNote',
  from: 'signed',
  to: 'signed',
  department: DEPT,
  visibility: 'public',
  ...over,
});

describe('Function: publicHistory', () => {
  it('should drop internal records and order by version', () => {
    // Prepare
    const audit = [
      record({ version: 5, action: 'resolve', to: 'resolved', text: '已修复' }),
      record({ version: 3, action: 'addNote', text: '内部：科长已知悉', visibility: 'internal' }),
      record({ version: 2, action: 'sign', from: 'dispatched', to: 'signed' }),
    ];

    // Act
    const history = publicHistory(audit);

    // Assess
    expect(history.map((h) => h.action)).toEqual(['sign', 'resolve']);
    expect(JSON.stringify(history)).not.toContain('科长');
  });

  it('should show roles, never staff ids', () => {
    // Act
    const history = publicHistory([
      record({ action: 'sign', from: 'dispatched', actor: { role: 'department', id: 'zj-wang' } }),
      record({ version: 3, action: 'citizenUpdate', actor: { role: 'citizen', id: CITIZEN }, text: '补充照片' }),
    ]);

    // Assess
    expect(history.map((h) => h.by)).toEqual(['承办单位', '市民']);
    expect(JSON.stringify(history)).not.toMatch(/zj-wang|citizen-ref/);
    expect(history[1]?.text).toBe('补充照片');
  });

  it('should show the reason of 不予受理 and 重办 but not of a 改派', () => {
    // Act
    const history = publicHistory([
      record({
        version: 2,
        action: 'reject',
        from: 'received',
        to: 'rejected',
        department: null,
        reason: '不属于受理范围',
      }),
      record({ version: 3, action: 'reopen', from: 'closed', to: 'dispatched', reason: '问题复发' }),
      record({ version: 4, action: 'redispatch', from: 'signed', to: 'dispatched', reason: '王科长说不归我们管' }),
    ]);

    // Assess
    expect(history.map((h) => h.text)).toEqual(['不属于受理范围', '问题复发', undefined]);
  });

  it('should keep staff notes of public steps out of the view', () => {
    // Prepare
    const signed = fixture('signed');
    const contact = applyAction(signed, { type: 'contact', text: '李工电话 13800000000' }, dept, NOW);
    if (!contact.ok) throw new Error(contact.error.code);

    // Act
    const history = publicHistory([contact.audit]);

    // Assess
    expect(history).toEqual([{ at: NOW, action: 'contact', label: '先行联系', status: '处理中', by: '承办单位' }]);
  });

  it('should name the department on a dispatch, falling back to its id', () => {
    // Prepare
    const r = applyAction(fixture('received'), { type: 'dispatch', department: 'chengguan' }, supervisor, NOW);
    if (!r.ok) throw new Error(r.error.code);

    // Act
    const named = publicHistory([r.audit], (id) => (id === 'chengguan' ? '区城市管理局' : undefined));
    const bare = publicHistory([r.audit]);

    // Assess
    expect(named[0]?.department).toEqual({ id: 'chengguan', name: '区城市管理局' });
    expect(bare[0]?.department).toEqual({ id: 'chengguan', name: 'chengguan' });
  });

  it('should show attachments of a public result', () => {
    // Prepare
    const photo = { name: 'after.jpg', contentType: 'image/jpeg', size: 1024, storageKey: 'att/C1/after.jpg' };
    const r = applyAction(fixture('signed'), { type: 'resolve', text: '已修复', attachments: [photo] }, dept, NOW);
    if (!r.ok) throw new Error(r.error.code);

    // Act
    const history = publicHistory([r.audit]);

    // Assess
    expect(history[0]).toMatchObject({ label: '办结反馈', text: '已修复', attachments: [photo] });
  });
});

describe('Function: stateLabel / publicStatus', () => {
  it('should mark a pending extension on the staff label', () => {
    // Act
    const pending = stateLabel(fixture('signedExtensionPending'));
    const plain = stateLabel(fixture('signed'));

    // Assess
    expect(pending).toBe('签收（延期申请中）');
    expect(plain).toBe('签收');
  });

  it('should hide internal steps behind what the citizen understands', () => {
    // Act
    const statuses = ['triage', 'returnRequested', 'resolved', 'archived'].map((s) => publicStatus(s as never));

    // Assess
    expect(statuses).toEqual(['已受理', '处理中', '处理中', '已办结']);
  });

  it('should label every state and action in Chinese', () => {
    // Assess
    for (const s of CASE_STATES) {
      expect(STATE_LABELS[s]).toMatch(/\p{Script=Han}/u);
      expect(PUBLIC_STATE_LABELS[s]).toMatch(/\p{Script=Han}/u);
    }
    for (const a of ACTION_TYPES) expect(ACTION_LABELS[a]).toMatch(/\p{Script=Han}/u);
  });
});
