/**
 * 中文 by default, English on request: `tr('中文', 'English')` at the place of use, so a label and its translation
 * never drift apart. The choice is kept per browser (localStorage) and sets `<html lang>` for screen readers.
 */
import { ACTION_LABELS, type AuditAction, type CaseState, STATE_LABELS } from '../../../core/lifecycle/states.ts';

export type Lang = 'zh' | 'en';

const KEY = 'cityloop.lang';
let current: Lang = readLang();
const listeners = new Set<() => void>();

function readLang(): Lang {
  try {
    const saved = localStorage.getItem(KEY);
    if (saved === 'zh' || saved === 'en') return saved;
  } catch {
    // Storage may be off (private mode): Chinese.
  }
  return 'zh';
}

export function lang(): Lang {
  return current;
}

export function setLang(l: Lang): void {
  current = l;
  try {
    localStorage.setItem(KEY, l);
  } catch {
    // Not kept; still switched for this page.
  }
  document.documentElement.lang = l === 'zh' ? 'zh-CN' : 'en';
  for (const f of listeners) f();
}

export function onLangChange(f: () => void): () => void {
  listeners.add(f);
  return () => listeners.delete(f);
}

export function tr(zh: string, en: string): string {
  return current === 'en' ? en : zh;
}

const STATE_EN: Readonly<Record<CaseState, string>> = {
  received: 'Received',
  rejected: 'Not accepted',
  triage: 'Manual triage',
  dispatched: 'Dispatched',
  signed: 'Signed for',
  returnRequested: 'Return requested',
  resolved: 'Closure reported',
  followUp: 'Follow-up',
  closed: 'Closed',
  answered: 'Answered',
  archived: 'Archived',
};

const ACTION_EN: Readonly<Record<AuditAction, string>> = {
  receive: 'Received',
  dispatch: 'Dispatched',
  queueForTriage: 'Sent to manual triage',
  assignTriage: 'Triaged by hand',
  reject: 'Not accepted',
  answer: 'Answered directly',
  sign: 'Signed for',
  contact: 'Citizen contacted',
  requestReturn: 'Return requested',
  approveReturn: 'Return approved (re-dispatched)',
  rejectReturn: 'Return rejected',
  redispatch: 'Re-dispatched',
  requestExtension: 'Extension requested',
  approveExtension: 'Extension approved',
  rejectExtension: 'Extension rejected',
  resolve: 'Closure reported',
  approveClosure: 'Closure approved',
  rejectClosure: 'Closure sent back',
  recordFollowUp: 'Follow-up',
  reopen: 'Reopened',
  archive: 'Archived',
  addNote: 'Note',
  citizenUpdate: 'Citizen added information',
};

export function stateName(s: string): string {
  const k = s as CaseState;
  return current === 'en' ? (STATE_EN[k] ?? s) : (STATE_LABELS[k] ?? s);
}

export function actionName(a: string): string {
  const k = a as AuditAction;
  return current === 'en' ? (ACTION_EN[k] ?? a) : (ACTION_LABELS[k] ?? a);
}

const ROLE: Record<string, [string, string]> = {
  citizen: ['市民', 'Citizen'],
  agent: ['话务员', 'Agent'],
  department: ['承办单位', 'Department'],
  supervisor: ['值班长', 'Supervisor'],
  system: ['系统', 'System'],
};

export function roleName(r: string): string {
  const pair = ROLE[r];
  return pair ? tr(pair[0], pair[1]) : r;
}

const NATURE_EN: Record<string, string> = {
  咨询: 'Enquiry',
  求助: 'Help',
  投诉: 'Complaint',
  举报: 'Report',
  建议: 'Suggestion',
};

export function natureName(n: string): string {
  return current === 'en' ? (NATURE_EN[n] ?? n) : n;
}

const SATISFACTION_EN: Record<string, string> = {
  满意: 'Satisfied',
  基本满意: 'Mostly satisfied',
  不满意: 'Not satisfied',
};

export function satisfactionName(s: string): string {
  return current === 'en' ? (SATISFACTION_EN[s] ?? s) : s;
}
