/** The case as staff see it (core/views/staff.ts), and the pieces the workbench and the dashboard share. */
import { h } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import type { AuditRecord } from '../../../core/lifecycle/types.ts';
import type { CaseSummary, CaseDetail as StaffCaseDetail } from '../../../core/views/staff.ts';
import { countdown, dateTime, dueLevel } from './format.ts';
import { actionName, natureName, roleName, satisfactionName, stateName, tr } from './i18n.ts';
import { Badge, Text } from './ui.ts';

export type { AuditRecord } from '../../../core/lifecycle/types.ts';
export type { CaseSummary } from '../../../core/views/staff.ts';

/** The SLA deadlines on a case (core/sla/deadlines.ts), as far as the pages read them. */
export interface SlaDeadlines {
  dispatchDue?: string;
  signDue?: string;
  contactDue?: string;
  resolveDue?: string;
  returnDue?: string;
  provisional?: boolean;
}

/** The full case (core/views/staff.ts), its deadlines read as {@link SlaDeadlines}. */
export interface CaseDetail extends Omit<StaffCaseDetail, 'deadlines'> {
  deadlines: SlaDeadlines | null;
}

/** States in which a deadline still runs. */
export const OPEN_STATES = new Set(['received', 'triage', 'dispatched', 'signed', 'returnRequested']);

/** The deadline that matters now: sign-for while dispatched, first contact before it happened, else resolution. */
export function currentDue(c: CaseSummary | CaseDetail): { at: string | null; kind: string } {
  const d = 'deadlines' in c ? c.deadlines : null;
  if ((c.state === 'received' || c.state === 'triage') && d?.dispatchDue) {
    return { at: d.dispatchDue, kind: tr('派单', 'dispatch') };
  }
  if (c.state === 'dispatched' && d?.signDue) return { at: d.signDue, kind: tr('签收', 'sign') };
  if (c.state === 'signed' && d?.contactDue && 'timestamps' in c && !c.timestamps.firstContactAt) {
    return { at: d.contactDue, kind: tr('先行联系', 'contact') };
  }
  return { at: c.dueAt, kind: tr('办结', 'resolve') };
}

/** Re-renders every 30 s, so countdowns move without reloading. */
export function useNow(periodMs = 30_000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const id = setInterval(() => setNow(Date.now()), periodMs);
    return () => clearInterval(id);
  }, [periodMs]);
  return now;
}

export function Countdown(props: { dueAt: string | null; now: number; open: boolean; kind?: string; state?: string }) {
  if (!props.open) return h(Badge, { tone: 'none' }, props.state ? stateName(props.state) : tr('已办结', 'done'));
  const level = dueLevel(props.dueAt, props.now);
  return h(
    Badge,
    { tone: level, title: props.dueAt ? dateTime(props.dueAt) : '' },
    `${props.kind ? `${props.kind} · ` : ''}${countdown(props.dueAt, props.now)}`,
  );
}

const URGENCY: Record<string, [string, string]> = {
  normal: ['普通', 'normal'],
  urgent: ['紧急', 'urgent'],
  emergency: ['特急', 'emergency'],
};

const CHANNELS: Record<string, [string, string]> = {
  web: ['网站', 'web'],
  hotline: ['12345热线', 'hotline'],
  wechat: ['微信', 'WeChat'],
  email: ['电子邮件', 'email'],
  open311: ['Open311', 'Open311'],
};

function pair(m: Record<string, [string, string]>, k: string): string {
  const p = m[k];
  return p ? tr(p[0], p[1]) : k;
}

const DETAIL_LABELS: Record<string, [string, string]> = {
  relation: ['关系', 'relation'],
  trackingNo: ['受理编号', 'tracking no.'],
  channel: ['渠道', 'channel'],
  reportCount: ['反映人数', 'citizens'],
  reporterCount: ['报告次数', 'reports'],
  score: ['相似度', 'similarity'],
  newDueAt: ['申请延至', 'asked until'],
  previousDepartment: ['原承办单位', 'previous department'],
  category: ['类别', 'category'],
  satisfaction: ['满意度', 'satisfaction'],
  resolved: ['是否解决', 'solved'],
  firstContact: ['首次联系', 'first contact'],
};

function detailText(k: string, v: string | number | boolean): string {
  const label = DETAIL_LABELS[k];
  const name = label ? tr(label[0], label[1]) : k;
  let value = String(v);
  if (typeof v === 'boolean') value = v ? tr('是', 'yes') : tr('否', 'no');
  else if (k === 'relation')
    value = v === 'repeat' ? tr('重复件', 'repeat') : v === 'incident' ? tr('并案', 'same incident') : String(v);
  else if (k === 'channel') value = pair(CHANNELS, String(v));
  else if (k === 'satisfaction') value = satisfactionName(String(v));
  else if (/At$/.test(k) && typeof v === 'string') value = dateTime(v);
  return `${name}: ${value}`;
}

/** 全要素留痕: every step, who (role and id), when, from → to, reason, text, details; internal ones marked. */
export function AuditTrail(props: { records: AuditRecord[]; departmentName: (id: string | null) => string }) {
  const records = [...props.records].sort((a, b) => a.version - b.version);
  return h(
    'ol',
    { class: 'timeline audit' },
    records.map((r) =>
      h(
        'li',
        null,
        h('time', { dateTime: r.at }, dateTime(r.at)),
        h(
          'div',
          null,
          h('strong', null, actionName(r.action)),
          ' ',
          h('span', { class: 'who' }, `${roleName(r.actor.role)} ${r.actor.id}`),
          r.visibility === 'internal' ? h(Badge, { tone: 'none' }, tr('内部', 'internal')) : null,
          h(
            'div',
            { class: 'muted' },
            `${r.from ? `${stateName(r.from)} → ` : ''}${stateName(r.to)}${r.department ? ` · ${props.departmentName(r.department)}` : ''}`,
          ),
          r.reason ? h(Text, null, `${tr('理由', 'Reason')}: ${r.reason}`) : null,
          r.text ? h(Text, null, r.text) : null,
          r.details && Object.keys(r.details).length > 0
            ? h(
                'div',
                { class: 'muted' },
                Object.entries(r.details)
                  .map(([k, v]) => detailText(k, v))
                  .join(' · '),
              )
            : null,
        ),
      ),
    ),
  );
}

export function CaseFacts(props: { c: CaseDetail; now: number; departmentName: (id: string | null) => string }) {
  const c = props.c;
  const d = c.deadlines;
  const rows: [string, string | ReturnType<typeof h>][] = [
    [tr('受理编号', 'Tracking no.'), c.trackingNo],
    [tr('状态', 'State'), c.stateLabel],
    [tr('承办单位', 'Department'), props.departmentName(c.department)],
    [tr('类别', 'Category'), c.categoryName ?? '-'],
    [tr('性质 / 紧急程度', 'Kind / urgency'), `${natureName(c.nature)} / ${pair(URGENCY, c.urgency)}`],
    [tr('渠道', 'Channel'), pair(CHANNELS, c.channel)],
    [tr('受理时间', 'Received'), dateTime(c.receivedAt)],
    [
      tr('地址', 'Address'),
      c.location?.address ?? (c.location?.lat !== undefined ? `${c.location.lat}, ${c.location.lon}` : '-'),
    ],
    [
      tr('联系人', 'Citizen'),
      c.citizen.anonymous
        ? tr('匿名', 'anonymous')
        : [c.citizen.name, c.citizen.phone, c.citizen.email].filter(Boolean).join(' · ') || '-',
    ],
  ];
  if (c.reportCount > 1) rows.push([tr('反映人数', 'Reporters'), String(c.reportCount)]);
  const undispatched = c.state === 'received' || c.state === 'triage';
  if (undispatched && d?.dispatchDue) rows.push([tr('派单时限', 'Dispatch by'), dateTime(d.dispatchDue)]);
  if (!undispatched && d?.signDue) rows.push([tr('签收时限', 'Sign by'), dateTime(d.signDue)]);
  if (!undispatched && d?.contactDue) rows.push([tr('先行联系时限', 'Contact by'), dateTime(d.contactDue)]);
  if (c.windows.dueAt) rows.push([tr('办结时限', 'Resolve by'), dateTime(c.windows.dueAt)]);
  if (c.windows.returnBy) rows.push([tr('退单时限', 'Return by'), dateTime(c.windows.returnBy)]);
  if (d?.provisional)
    rows.push([tr('时限', 'Deadline'), tr('暂定（日历未覆盖）', 'provisional (calendar not yet published)')]);
  if (c.satisfaction) rows.push([tr('满意度', 'Satisfaction'), satisfactionName(c.satisfaction)]);
  return h(
    'dl',
    { class: 'facts' },
    rows.map(([k, v]) => [h('dt', null, k), h('dd', null, v)]),
  );
}
