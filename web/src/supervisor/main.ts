/**
 * 督办指挥台 (`/supervisor`): the rates (办结率, 按时办结率, 当日清率, 响应率, 满意率, average handling time) for a
 * period, by department and by day, against the year's targets; the cases past or near their deadline (督办) with
 * one-click chase; the manual triage queue (人工分拨); approvals of returns, extensions and closures; hot spots
 * (cases many citizens reported); CSV export of every table.
 */
import '../styles.css';
import type { ChartConfiguration } from 'chart.js';
import { h } from 'preact';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { call, errorText } from '../lib/api.ts';
import type { Credential } from '../lib/auth.ts';
import { CasePhotos } from '../lib/case-photos.ts';
import {
  AuditTrail,
  type CaseDetail,
  CaseFacts,
  type CaseSummary,
  Countdown,
  currentDue,
  OPEN_STATES,
  useNow,
} from '../lib/cases.ts';
import { download, toCsv } from '../lib/csv.ts';
import { addDays, dateTime, days, dueLevel, pct, shanghaiToday } from '../lib/format.ts';
import { tr } from '../lib/i18n.ts';
import { type Catalog, catalog } from '../lib/taxonomy.ts';
import {
  Badge,
  Field,
  Header,
  LoadMore,
  mount,
  Notice,
  SignOut,
  type StaffPageProps,
  staffApp,
  Tabs,
  Text,
} from '../lib/ui.ts';
import { ChartView, PALETTE } from './charts.ts';

type RateName =
  | 'closeRate'
  | 'onTimeCloseRate'
  | 'sameDayRate'
  | 'signOnTimeRate'
  | 'contactOnTimeRate'
  | 'resolutionRate'
  | 'satisfactionRate'
  | 'reopenRate'
  | 'avgHandlingDays'
  | 'avgHandlingWorkingDays';

interface Row {
  group: string;
  name?: string;
  counters: Record<string, number>;
  rates: Record<RateName, number | null>;
  gaps?: { metric: RateName; target: number; met: boolean | null }[];
}

interface Metrics {
  from: string;
  to: string;
  targetYear: number;
  total: Row;
  byDepartment: Row[];
  byDay: Row[];
}

type Section = 'overview' | 'supervise' | 'triage' | 'approvals' | 'hotspots';

const SECTIONS: [Section, string, string][] = [
  ['overview', '考核概览', 'Overview'],
  ['supervise', '督办', 'Deadlines'],
  ['triage', '人工分拨', 'Manual triage'],
  ['approvals', '审批', 'Approvals'],
  ['hotspots', '热点', 'Hot spots'],
];

const KPIS: [RateName | 'received', string, string][] = [
  ['received', '受理量', 'Received'],
  ['closeRate', '办结率', 'Closed'],
  ['onTimeCloseRate', '按时办结率', 'Closed on time'],
  ['sameDayRate', '当日清率', 'Same day'],
  ['signOnTimeRate', '响应率', 'Response'],
  ['satisfactionRate', '满意率', 'Satisfaction'],
  ['avgHandlingDays', '平均办理时长', 'Avg. handling'],
];

const RATE_COLUMNS: [RateName, string, string][] = [
  ['closeRate', '办结率', 'Closed'],
  ['onTimeCloseRate', '按时办结率', 'On time'],
  ['sameDayRate', '当日清率', 'Same day'],
  ['signOnTimeRate', '响应率', 'Response'],
  ['resolutionRate', '解决率', 'Resolved'],
  ['satisfactionRate', '满意率', 'Satisfied'],
  ['avgHandlingDays', '平均时长(天)', 'Avg. days'],
];

/** A rate as a chart point in percent (one decimal); null leaves a gap. */
const pctPoint = (v: number | null | undefined): number | null =>
  v === null || v === undefined ? null : Math.round(v * 1000) / 10;

const rateText = (name: RateName, v: number | null) =>
  name === 'avgHandlingDays' || name === 'avgHandlingWorkingDays' ? days(v) : pct(v);

function rateLabel(k: RateName): string {
  const c = RATE_COLUMNS.find((x) => x[0] === k);
  return c ? tr(c[1], c[2]) : k;
}

const rateCsv = (name: RateName, v: number | null) =>
  v === null
    ? ''
    : name === 'avgHandlingDays' || name === 'avgHandlingWorkingDays'
      ? v.toFixed(2)
      : (v * 100).toFixed(2);

function Overview(props: {
  credential: Credential;
  onAuthError: (e: unknown) => void;
  deptName: (id: string) => string;
}) {
  const today = shanghaiToday();
  const [from, setFrom] = useState(addDays(today, -29));
  const [to, setTo] = useState(today);
  const [m, setM] = useState<Metrics>();
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);

  const load = async (f = from, t = to) => {
    setBusy(true);
    try {
      setM(
        await call<Metrics>('GET', `/api/supervisor/metrics?from=${f}&to=${t}`, {
          credential: props.credential,
        }),
      );
      setError('');
    } catch (e) {
      props.onAuthError(e);
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  };
  useEffect(() => {
    void load();
  }, []);

  const depts = useMemo(
    () =>
      (m?.byDepartment ?? [])
        .filter((r) => r.group !== '-')
        .sort((a, b) => (b.counters.received ?? 0) - (a.counters.received ?? 0)),
    [m],
  );
  const deptChart = useMemo<ChartConfiguration>(
    () => ({
      type: 'bar',
      data: {
        labels: depts.map((r) => r.name ?? r.group),
        datasets: (['closeRate', 'onTimeCloseRate', 'satisfactionRate'] as RateName[]).map((k, i) => ({
          label: rateLabel(k),
          data: depts.map((r) => pctPoint(r.rates[k])),
          backgroundColor: PALETTE[i],
        })),
      },
      options: { scales: { y: { min: 0, max: 100, ticks: { callback: (v) => `${v}%` } } } },
    }),
    [m],
  );
  // Every day of the period on the time axis, days without a record as zero (not skipped).
  const series = useMemo(() => {
    if (!m) return [];
    const byDay = new Map(m.byDay.map((r) => [r.group, r]));
    const out: Row[] = [];
    for (let d = m.from; d <= m.to && out.length < 400; d = addDays(d, 1)) {
      out.push(byDay.get(d) ?? { group: d, counters: {}, rates: {} as Row['rates'] });
    }
    return out;
  }, [m]);
  const dayChart = useMemo<ChartConfiguration>(
    () => ({
      type: 'bar',
      data: {
        labels: series.map((r) => r.group.slice(5)),
        datasets: [
          {
            type: 'bar',
            label: tr('受理量', 'Received'),
            data: series.map((r) => r.counters.received ?? 0),
            backgroundColor: '#9db8d8',
            yAxisID: 'n',
          },
          {
            type: 'line',
            label: tr('办结率 %', 'Closed %'),
            data: series.map((r) => pctPoint(r.rates.closeRate)),
            borderColor: PALETTE[0],
            backgroundColor: PALETTE[0],
            yAxisID: 'p',
            spanGaps: true,
          },
          {
            type: 'line',
            label: tr('满意率 %', 'Satisfied %'),
            data: series.map((r) => pctPoint(r.rates.satisfactionRate)),
            borderColor: PALETTE[2],
            backgroundColor: PALETTE[2],
            yAxisID: 'p',
            spanGaps: true,
          },
        ],
      } as ChartConfiguration['data'],
      options: {
        scales: {
          n: { position: 'left', beginAtZero: true, ticks: { precision: 0 } },
          p: {
            position: 'right',
            min: 0,
            max: 100,
            grid: { drawOnChartArea: false },
            ticks: { callback: (v) => `${v}%` },
          },
        },
      },
    }),
    [series],
  );

  const exportCsv = () => {
    if (!m) return;
    const header = [
      tr('单位', 'Department'),
      tr('受理量', 'Received'),
      ...RATE_COLUMNS.map(([, zh, en]) => tr(zh, en)),
    ];
    const rows = [...depts, m.total].map((r) => [
      r === m.total ? tr('合计', 'Total') : (r.name ?? r.group),
      r.counters.received ?? 0,
      ...RATE_COLUMNS.map(([k]) => rateCsv(k, r.rates[k])),
    ]);
    const dayRows = m.byDay.map((r) => [
      r.group,
      r.counters.received ?? 0,
      ...RATE_COLUMNS.map(([k]) => rateCsv(k, r.rates[k])),
    ]);
    download(`cityloop-metrics-${m.from}-${m.to}.csv`, toCsv(header, [...rows, [], [tr('日期', 'Day')], ...dayRows]));
  };

  const gap = (k: string) => m?.total.gaps?.find((g) => g.metric === k);
  return h(
    'div',
    null,
    h(
      'form',
      {
        class: 'card period',
        onSubmit: (e: Event) => {
          e.preventDefault();
          void load();
        },
      },
      h(
        Field,
        { label: tr('开始日期', 'From') },
        h('input', {
          type: 'date',
          id: 'from',
          value: from,
          max: to,
          onInput: (e: Event) => setFrom((e.target as HTMLInputElement).value),
        }),
      ),
      h(
        Field,
        { label: tr('结束日期', 'To') },
        h('input', {
          type: 'date',
          id: 'to',
          value: to,
          min: from,
          onInput: (e: Event) => setTo((e.target as HTMLInputElement).value),
        }),
      ),
      h('button', { type: 'submit', class: 'primary', disabled: busy, id: 'reload-metrics' }, tr('刷新', 'Refresh')),
      [7, 30, 90].map((n) =>
        h(
          'button',
          {
            type: 'button',
            class: 'secondary small',
            onClick: () => {
              const f = addDays(today, -(n - 1));
              setFrom(f);
              setTo(today);
              void load(f, today);
            },
          },
          tr(`近${n}天`, `Last ${n} days`),
        ),
      ),
      h(
        'button',
        { type: 'button', class: 'secondary small', onClick: exportCsv, disabled: !m },
        tr('导出 CSV', 'Export CSV'),
      ),
    ),
    error ? h(Notice, { kind: 'error' }, error) : null,
    m
      ? [
          h(
            'div',
            { class: 'kpis', id: 'kpis' },
            KPIS.map(([k, zh, en]) => {
              const g = k === 'received' ? undefined : gap(k);
              const v = k === 'received' ? String(m.total.counters.received ?? 0) : rateText(k, m.total.rates[k]);
              return h(
                'div',
                { class: `kpi ${g?.met === true ? 'met' : g?.met === false ? 'miss' : ''}`, id: `kpi-${k}` },
                h('div', { class: 't' }, tr(zh, en)),
                h('div', { class: 'v' }, v),
                g
                  ? h(
                      'div',
                      { class: 't' },
                      `${tr('目标', 'target')} ${rateText(k as RateName, g.target)}${g.met === false ? tr(' 未达标', ' missed') : ''}`,
                    )
                  : null,
              );
            }),
          ),
          h(
            'div',
            { class: 'grid two' },
            h(
              'section',
              { class: 'card' },
              h('h2', null, tr('各单位办结与满意', 'By department')),
              depts.length
                ? h(ChartView, {
                    config: deptChart,
                    label: tr('各单位办结率、按时办结率、满意率柱状图', 'Bar chart by department'),
                    id: 'chart-dept',
                  })
                : h('p', { class: 'muted' }, tr('本期暂无数据', 'No data in this period')),
            ),
            h(
              'section',
              { class: 'card' },
              h('h2', null, tr('每日趋势', 'Daily trend')),
              h(ChartView, {
                config: dayChart,
                label: tr('每日受理量与办结率、满意率趋势图', 'Daily received, closed and satisfied'),
                id: 'chart-day',
              }),
            ),
          ),
          h(
            'section',
            { class: 'card' },
            h('h2', null, tr(`各单位考核（${m.from} 至 ${m.to}）`, `Departments (${m.from} – ${m.to})`)),
            h(
              'div',
              { class: 'table-wrap' },
              h(
                'table',
                { id: 'dept-table' },
                h(
                  'thead',
                  null,
                  h(
                    'tr',
                    null,
                    h('th', { scope: 'col' }, tr('单位', 'Department')),
                    h('th', { scope: 'col', class: 'num' }, tr('受理量', 'Received')),
                    RATE_COLUMNS.map(([, zh, en]) => h('th', { scope: 'col', class: 'num' }, tr(zh, en))),
                  ),
                ),
                h(
                  'tbody',
                  null,
                  [...depts, m.total].map((r) =>
                    h(
                      'tr',
                      null,
                      h(
                        'th',
                        { scope: 'row' },
                        r === m.total ? tr('合计', 'Total') : (r.name ?? props.deptName(r.group)),
                      ),
                      h('td', { class: 'num' }, String(r.counters.received ?? 0)),
                      RATE_COLUMNS.map(([k]) => h('td', { class: 'num' }, rateText(k, r.rates[k]))),
                    ),
                  ),
                ),
              ),
            ),
          ),
        ]
      : null,
  );
}

/** Cases of each state the overview reads (per department, and in all): the most urgent first. */
const OVERVIEW_PER_STATE = 200;

/** Said under a view built from an overview that did not hold every open case. */
function TruncatedNote(props: { truncated: boolean }) {
  return props.truncated
    ? h(
        Notice,
        { kind: 'info', id: 'overview-truncated' },
        tr(
          `工单较多：每个状态只显示最紧急的 ${OVERVIEW_PER_STATE} 件（各部门同样）。`,
          `Many cases: each state shows its ${OVERVIEW_PER_STATE} most urgent (per department too).`,
        ),
      )
    : null;
}

function useCases(credential: Credential, onAuthError: (e: unknown) => void) {
  const [cases, setCases] = useState<CaseSummary[]>();
  const [truncated, setTruncated] = useState(false);
  const [error, setError] = useState('');
  const load = async () => {
    try {
      const res = await call<{ cases: CaseSummary[]; truncated?: boolean }>(
        'GET',
        `/api/supervisor/cases?limit=${OVERVIEW_PER_STATE}`,
        { credential },
      );
      setCases(res.cases);
      setTruncated(res.truncated === true);
      setError('');
    } catch (e) {
      onAuthError(e);
      setError(errorText(e));
    }
  };
  useEffect(() => {
    void load();
  }, []);
  return { cases, truncated, error, reload: load };
}

async function act(
  credential: Credential,
  c: { caseId: string; version: number },
  path: string,
  body: Record<string, unknown>,
): Promise<CaseDetail> {
  const res = await call<{ case: CaseDetail }>(
    'POST',
    `/api/supervisor/cases/${encodeURIComponent(c.caseId)}/${path}`,
    {
      body: { ...body, expectedVersion: c.version },
      credential,
    },
  );
  return res.case;
}

function Supervise(props: { credential: Credential; onAuthError: (e: unknown) => void; now: number }) {
  const { cases, truncated, error, reload } = useCases(props.credential, props.onAuthError);
  const [chased, setChased] = useState<Record<string, string>>({});
  const [failed, setFailed] = useState('');
  const rows = (cases ?? [])
    .filter((c) => OPEN_STATES.has(c.state))
    .map((c) => ({ c, due: currentDue(c), level: dueLevel(currentDue(c).at, props.now) }))
    .filter((r) => r.level === 'late' || r.level === 'warn')
    .sort((a, b) => (a.due.at ?? '').localeCompare(b.due.at ?? ''));

  const chase = async (c: CaseSummary) => {
    setFailed('');
    try {
      await act(props.credential, c, 'notes', {
        text: tr(
          `【督办】${c.trackingNo} ${c.dueAt && Date.parse(c.dueAt) < Date.now() ? '已超期' : '即将到期'}，请承办单位加快办理并及时反馈。`,
          `[Chase] ${c.trackingNo} is ${c.dueAt && Date.parse(c.dueAt) < Date.now() ? 'overdue' : 'due soon'}: please handle and report back.`,
        ),
        visibility: 'internal',
      });
      setChased({ ...chased, [c.caseId]: new Date().toISOString() });
      void reload();
    } catch (e) {
      props.onAuthError(e);
      setFailed(errorText(e));
    }
  };
  const exportCsv = () =>
    download(
      `cityloop-supervision-${shanghaiToday()}.csv`,
      toCsv(
        [
          tr('受理编号', 'Tracking no.'),
          tr('标题', 'Title'),
          tr('承办单位', 'Department'),
          tr('状态', 'State'),
          tr('时限', 'Due'),
          tr('情况', 'Status'),
        ],
        rows.map((r) => [
          r.c.trackingNo,
          r.c.title,
          r.c.departmentName ?? '',
          r.c.stateLabel,
          r.due.at ?? '',
          r.level === 'late' ? tr('超期', 'overdue') : tr('预警', 'warning'),
        ]),
      ),
    );
  return h(
    'section',
    { class: 'card', id: 'supervise' },
    h(
      'div',
      { class: 'result-head' },
      h('h2', null, tr(`超期与预警（${rows.length}）`, `Overdue and due soon (${rows.length})`)),
      h('button', { type: 'button', class: 'secondary small', onClick: exportCsv }, tr('导出 CSV', 'Export CSV')),
    ),
    error || failed ? h(Notice, { kind: 'error' }, error || failed) : null,
    h(TruncatedNote, { truncated }),
    h(
      'p',
      { class: 'muted' },
      tr(
        '系统按时限自动预警、催办；此处“催办”为人工督办，记入工单留痕，承办单位在工单历史中可见。',
        'Warnings and chases also run automatically; “Chase” here adds a supervision note to the case trace the department sees.',
      ),
    ),
    !cases
      ? h('p', { class: 'muted' }, tr('载入中…', 'Loading…'))
      : rows.length === 0
        ? h('p', { class: 'muted' }, tr('暂无超期或临期工单', 'Nothing overdue or due soon'))
        : h(
            'div',
            { class: 'table-wrap' },
            h(
              'table',
              null,
              h(
                'thead',
                null,
                h(
                  'tr',
                  null,
                  [
                    tr('受理编号', 'Tracking no.'),
                    tr('标题', 'Title'),
                    tr('承办单位', 'Department'),
                    tr('状态', 'State'),
                    tr('时限', 'Deadline'),
                    '',
                  ].map((t) => h('th', { scope: 'col' }, t)),
                ),
              ),
              h(
                'tbody',
                null,
                rows.map(({ c, due }) =>
                  h(
                    'tr',
                    null,
                    h('td', null, c.trackingNo),
                    h('td', null, c.title),
                    h('td', null, c.departmentName ?? '-'),
                    h('td', null, c.stateLabel),
                    h('td', null, `${due.kind} `, h(Countdown, { dueAt: due.at, now: props.now, open: true })),
                    h(
                      'td',
                      null,
                      chased[c.caseId]
                        ? h(Badge, { tone: 'ok' }, tr('已催办', 'Chased'))
                        : h(
                            'button',
                            { type: 'button', class: 'primary small', onClick: () => void chase(c) },
                            tr('催办', 'Chase'),
                          ),
                    ),
                  ),
                ),
              ),
            ),
          ),
  );
}

function DepartmentSelect(props: {
  cat: Catalog | undefined;
  value: string;
  onChange: (v: string) => void;
  id?: string;
  label: string;
}) {
  const options = (props.cat?.departments ?? []).filter((d) => d.kind !== 'centre');
  return h(
    Field,
    { label: props.label },
    h(
      'select',
      {
        id: props.id,
        value: props.value,
        required: true,
        onChange: (e: Event) => props.onChange((e.target as HTMLSelectElement).value),
      },
      h('option', { value: '' }, tr('请选择', 'Choose')),
      options.map((d) => h('option', { value: d.id }, d.name)),
    ),
  );
}

function CategorySelect(props: {
  cat: Catalog | undefined;
  value: string;
  onChange: (v: string) => void;
  id?: string;
}) {
  return h(
    Field,
    { label: tr('事项类别', 'Category') },
    h(
      'select',
      {
        id: props.id,
        value: props.value,
        onChange: (e: Event) => props.onChange((e.target as HTMLSelectElement).value),
      },
      h('option', { value: '' }, tr('请选择', 'Choose')),
      (props.cat?.leaves ?? []).map((c) =>
        h('option', { value: c.code }, `${c.name}${c.parent ? ` · ${props.cat?.categoryName(c.parent) ?? ''}` : ''}`),
      ),
    ),
  );
}

/** One case opened in place: its facts, its trace, and a form for the decision. */
function CaseCard(props: {
  summary: CaseSummary;
  credential: Credential;
  cat: Catalog | undefined;
  now: number;
  onAuthError: (e: unknown) => void;
  onDone: () => void;
}) {
  const [detail, setDetail] = useState<CaseDetail>();
  const [open, setOpen] = useState(false);
  const [reason, setReason] = useState('');
  const [department, setDepartment] = useState('');
  const [category, setCategory] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const [done, setDone] = useState('');
  const deptName = (id: string | null) => (id ? (props.cat?.departmentName(id) ?? id) : '-');
  const s = props.summary;

  const load = async () => {
    try {
      setDetail(
        await call<CaseDetail>('GET', `/api/supervisor/cases/${encodeURIComponent(s.caseId)}`, {
          credential: props.credential,
        }),
      );
    } catch (e) {
      props.onAuthError(e);
      setError(errorText(e));
    }
  };
  useEffect(() => {
    if (open && !detail) void load();
  }, [open]);

  const decide = async (path: string, body: Record<string, unknown>, label: string) => {
    if (!detail) return;
    setBusy(true);
    setError('');
    try {
      const c = await act(props.credential, detail, path, body);
      setDetail(c);
      setDone(label);
      props.onDone();
    } catch (e) {
      props.onAuthError(e);
      setError(errorText(e));
      void load();
    } finally {
      setBusy(false);
    }
  };

  const kind =
    s.state === 'triage'
      ? 'triage'
      : s.state === 'returnRequested'
        ? 'return'
        : s.pending === 'extension'
          ? 'extension'
          : s.state === 'resolved'
            ? 'closure'
            : 'view';
  const need = (label: string) => {
    setError(tr(`请填写${label}`, `Fill in: ${label}`));
    return false;
  };
  const withReason = () => reason.trim() !== '' || need(tr('理由', 'the reason'));
  const cat = props.cat?.byCode.get(category);

  const form = () => {
    if (!detail || done) return null;
    const allowed = new Set(detail.allowedActions);
    const reasonField = (label: string) =>
      h(
        Field,
        { label },
        h('textarea', {
          rows: 2,
          maxLength: 1000,
          value: reason,
          onInput: (e: Event) => setReason((e.target as HTMLTextAreaElement).value),
        }),
      );
    /** The decision's buttons: the one that decides, and the one that refuses (it needs the reason). */
    const actions = (
      primary: { label: string; onClick: () => unknown; id?: string },
      refuse?: { label: string; path: string; done: string },
    ) =>
      h(
        'div',
        { class: 'actions' },
        h(
          'button',
          {
            type: 'button',
            class: 'primary',
            disabled: busy,
            ...(primary.id ? { id: primary.id } : {}),
            onClick: primary.onClick,
          },
          primary.label,
        ),
        refuse
          ? h(
              'button',
              {
                type: 'button',
                class: 'secondary',
                disabled: busy,
                onClick: () => withReason() && void decide(refuse.path, { reason }, refuse.done),
              },
              refuse.label,
            )
          : null,
      );
    if (kind === 'triage' && allowed.has('assignTriage')) {
      return h(
        'div',
        { class: 'decision' },
        h(CategorySelect, {
          cat: props.cat,
          value: category,
          id: `triage-cat-${s.caseId}`,
          onChange: (v) => {
            setCategory(v);
            const d = props.cat?.byCode.get(v)?.department;
            if (d && d !== 'street') setDepartment(d);
          },
        }),
        cat?.department === 'street'
          ? h('p', { class: 'hint' }, tr('属地事项：请选择街道', 'Local matter: choose the street office'))
          : null,
        h(DepartmentSelect, {
          cat: props.cat,
          value: department,
          onChange: setDepartment,
          id: `triage-dept-${s.caseId}`,
          label: tr('承办单位', 'Department'),
        }),
        actions({
          label: tr('分拨', 'Dispatch'),
          onClick: () =>
            category && department
              ? void decide('triage', { category, department }, tr('已分拨', 'Dispatched'))
              : need(tr('类别和承办单位', 'category and department')),
        }),
        allowed.has('reject')
          ? h(
              'details',
              null,
              h('summary', null, tr('不予受理', 'Do not accept')),
              reasonField(tr('不予受理理由（告知市民）', 'Reason (the citizen reads it)')),
              h(
                'button',
                {
                  type: 'button',
                  class: 'secondary',
                  onClick: () => withReason() && void decide('reject', { reason }, tr('不予受理', 'Rejected')),
                },
                tr('确认不予受理', 'Reject'),
              ),
            )
          : null,
      );
    }
    if (kind === 'return') {
      return h(
        'div',
        { class: 'decision' },
        h(Notice, { kind: 'info' }, `${tr('退单理由', 'Return reason')}: ${detail.pendingRequest?.reason ?? '-'}`),
        h(DepartmentSelect, {
          cat: props.cat,
          value: department,
          onChange: setDepartment,
          label: tr('改派至', 'Re-dispatch to'),
        }),
        reasonField(tr('审核意见', 'Comment')),
        actions(
          {
            label: tr('同意退单并改派', 'Approve, re-dispatch'),
            onClick: () =>
              department
                ? void decide(
                    'return/approve',
                    { department, ...(reason.trim() ? { reason } : {}) },
                    tr('退单通过并改派', 'Approved and re-dispatched'),
                  )
                : need(tr('改派单位', 'the new department')),
          },
          { label: tr('驳回', 'Reject'), path: 'return/reject', done: tr('已驳回退单', 'Return rejected') },
        ),
      );
    }
    if (kind === 'extension' && detail.pendingRequest?.kind === 'extension') {
      return h(
        'div',
        { class: 'decision' },
        h(
          Notice,
          { kind: 'info' },
          tr(
            `申请延至 ${dateTime(detail.pendingRequest.newDueAt)}；理由：`,
            `Asks until ${dateTime(detail.pendingRequest.newDueAt)}; reason: `,
          ),
          detail.pendingRequest.reason,
        ),
        reasonField(tr('审核意见', 'Comment')),
        actions(
          {
            label: tr('批准延期', 'Approve'),
            onClick: () =>
              void decide('extension/approve', reason.trim() ? { reason } : {}, tr('已批准延期', 'Extension approved')),
          },
          { label: tr('驳回', 'Reject'), path: 'extension/reject', done: tr('已驳回延期', 'Extension rejected') },
        ),
      );
    }
    if (kind === 'closure' && allowed.has('approveClosure')) {
      return h(
        'div',
        { class: 'decision' },
        reasonField(tr('审核意见（退回时必填）', 'Comment (required to send back)')),
        actions(
          {
            label: tr('审核通过', 'Approve closure'),
            id: `approve-closure-${s.caseId}`,
            onClick: () =>
              void decide(
                'closure/approve',
                reason.trim() ? { text: reason } : {},
                tr('审核通过，待回访', 'Approved; follow-up next'),
              ),
          },
          { label: tr('退回重办', 'Send back'), path: 'closure/reject', done: tr('已退回承办单位', 'Sent back') },
        ),
      );
    }
    return null;
  };

  return h(
    'li',
    { class: 'case-card', id: `card-${s.caseId}` },
    h(
      'button',
      { type: 'button', class: 'case-row', 'aria-expanded': open, onClick: () => setOpen(!open) },
      h('span', { class: 'title' }, s.title),
      h(
        'span',
        { class: 'meta' },
        h('span', null, s.trackingNo),
        h('span', null, s.stateLabel),
        h('span', null, s.departmentName ?? '-'),
        h('span', null, dateTime(s.receivedAt)),
        s.reportCount > 1 ? h('span', null, tr(`${s.reportCount} 人反映`, `${s.reportCount} reporters`)) : null,
        OPEN_STATES.has(s.state)
          ? h(Countdown, { dueAt: currentDue(s).at, now: props.now, open: true, kind: currentDue(s).kind })
          : null,
      ),
    ),
    open
      ? h(
          'div',
          { class: 'card-body' },
          detail
            ? [
                h(Text, null, detail.text),
                h(CasePhotos, { caseId: detail.caseId, version: detail.version, credential: props.credential }),
                h(CaseFacts, { c: detail, now: props.now, departmentName: deptName }),
                done ? h(Notice, { kind: 'ok' }, done) : null,
                form(),
                h(
                  'details',
                  null,
                  h('summary', null, tr('办理过程', 'History')),
                  h(AuditTrail, { records: detail.history, departmentName: deptName }),
                ),
              ]
            : h('p', { class: 'muted' }, tr('载入中…', 'Loading…')),
          error ? h(Notice, { kind: 'error' }, error) : null,
        )
      : null,
  );
}

function CaseCards(props: {
  title: string;
  id: string;
  cases: CaseSummary[] | undefined;
  empty: string;
  credential: Credential;
  cat: Catalog | undefined;
  now: number;
  onAuthError: (e: unknown) => void;
  onDone: () => void;
}) {
  return h(
    'section',
    { class: 'card', id: props.id },
    h('h2', null, `${props.title}（${props.cases?.length ?? 0}）`),
    !props.cases
      ? h('p', { class: 'muted' }, tr('载入中…', 'Loading…'))
      : props.cases.length === 0
        ? h('p', { class: 'muted' }, props.empty)
        : h(
            'ul',
            { class: 'list' },
            props.cases.map((c) =>
              h(CaseCard, {
                key: `${c.caseId}:${c.version}`,
                summary: c,
                credential: props.credential,
                cat: props.cat,
                now: props.now,
                onAuthError: props.onAuthError,
                onDone: props.onDone,
              }),
            ),
          ),
  );
}

/** Cases of the 人工分拨 queue asked for per page, oldest deadline first. */
const TRIAGE_PAGE = 200;

function Triage(props: {
  credential: Credential;
  cat: Catalog | undefined;
  now: number;
  onAuthError: (e: unknown) => void;
}) {
  const [cases, setCases] = useState<CaseSummary[]>();
  const [error, setError] = useState('');
  // After a storm more than a page can wait: the cursor of the next page, if any.
  const [next, setNext] = useState<string>();
  const [loadingMore, setLoadingMore] = useState(false);
  const page = (cursor?: string) =>
    call<{ cases: CaseSummary[]; more?: Record<string, string> }>(
      'GET',
      `/api/supervisor/triage?limit=${TRIAGE_PAGE}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      { credential: props.credential },
    );
  const load = async () => {
    try {
      const res = await page();
      setCases(res.cases);
      setNext(res.more?.triage);
    } catch (e) {
      props.onAuthError(e);
      setError(errorText(e));
    }
  };
  const loadMore = async () => {
    if (!next) return;
    setLoadingMore(true);
    try {
      const res = await page(next);
      const seen = new Set((cases ?? []).map((c) => c.caseId));
      setCases([...(cases ?? []), ...res.cases.filter((c) => !seen.has(c.caseId))]);
      setNext(res.more?.triage);
    } catch (e) {
      props.onAuthError(e);
      setError(errorText(e));
    } finally {
      setLoadingMore(false);
    }
  };
  useEffect(() => {
    void load();
  }, []);
  return h(
    'div',
    null,
    error ? h(Notice, { kind: 'error' }, error) : null,
    h(CaseCards, {
      title: next
        ? tr(
            `待人工分拨（已载入 ${cases?.length ?? 0} 件，还有更多）`,
            `Waiting for manual triage (${cases?.length ?? 0} loaded, more waiting)`,
          )
        : tr('待人工分拨', 'Waiting for manual triage'),
      id: 'triage-queue',
      cases,
      empty: tr('分拨队列为空', 'The queue is empty'),
      credential: props.credential,
      cat: props.cat,
      now: props.now,
      onAuthError: props.onAuthError,
      onDone: () => undefined,
    }),
    next
      ? h(LoadMore, { id: 'triage-more', page: TRIAGE_PAGE, loading: loadingMore, onClick: () => void loadMore() })
      : null,
  );
}

function Approvals(props: {
  credential: Credential;
  cat: Catalog | undefined;
  now: number;
  onAuthError: (e: unknown) => void;
}) {
  const { cases, truncated, error } = useCases(props.credential, props.onAuthError);
  const pick = (f: (c: CaseSummary) => boolean) => cases?.filter(f);
  const common = {
    credential: props.credential,
    cat: props.cat,
    now: props.now,
    onAuthError: props.onAuthError,
    onDone: () => undefined,
  };
  return h(
    'div',
    null,
    error ? h(Notice, { kind: 'error' }, error) : null,
    h(TruncatedNote, { truncated }),
    h(CaseCards, {
      ...common,
      id: 'closures',
      title: tr('办结审核', 'Closures to review'),
      cases: pick((c) => c.state === 'resolved'),
      empty: tr('暂无待审核的办结反馈', 'None'),
    }),
    h(CaseCards, {
      ...common,
      id: 'returns',
      title: tr('退单申请', 'Return requests'),
      cases: pick((c) => c.state === 'returnRequested'),
      empty: tr('暂无退单申请', 'None'),
    }),
    h(CaseCards, {
      ...common,
      id: 'extensions',
      title: tr('延期申请', 'Extension requests'),
      cases: pick((c) => c.pending === 'extension'),
      empty: tr('暂无延期申请', 'None'),
    }),
  );
}

function HotSpots(props: { credential: Credential; onAuthError: (e: unknown) => void }) {
  const { cases, truncated, error } = useCases(props.credential, props.onAuthError);
  const hot = (cases ?? [])
    .filter((c) => c.reportCount > 1)
    .sort((a, b) => b.reportCount - a.reportCount || a.caseId.localeCompare(b.caseId));
  const max = hot[0]?.reportCount ?? 1;
  const exportCsv = () =>
    download(
      `cityloop-hotspots-${shanghaiToday()}.csv`,
      toCsv(
        [
          tr('受理编号', 'Tracking no.'),
          tr('标题', 'Title'),
          tr('反映人数', 'Reporters'),
          tr('承办单位', 'Department'),
          tr('状态', 'State'),
        ],
        hot.map((c) => [c.trackingNo, c.title, c.reportCount, c.departmentName ?? '', c.stateLabel]),
      ),
    );
  return h(
    'section',
    { class: 'card', id: 'hotspots' },
    h(
      'div',
      { class: 'result-head' },
      h('h2', null, tr('热点事件（按反映人数）', 'Hot spots (by number of reporters)')),
      h(
        'button',
        { type: 'button', class: 'secondary small', onClick: exportCsv, disabled: hot.length === 0 },
        tr('导出 CSV', 'Export CSV'),
      ),
    ),
    error ? h(Notice, { kind: 'error' }, error) : null,
    h(TruncatedNote, { truncated }),
    hot.length === 0
      ? h(
          'p',
          { class: 'muted' },
          cases ? tr('暂无多人反映的事件', 'No case with several reporters') : tr('载入中…', 'Loading…'),
        )
      : h(
          'ol',
          { class: 'list' },
          hot.map((c) =>
            h(
              'li',
              null,
              h(
                'div',
                null,
                h('strong', { class: 'usertext' }, c.title),
                ' ',
                h(Badge, { tone: 'late' }, tr(`${c.reportCount} 人反映`, `${c.reportCount} reporters`)),
              ),
              h('div', {
                class: 'bar',
                style: `width:${Math.max(2, (c.reportCount / max) * 100)}%`,
                'aria-hidden': 'true',
              }),
              h(
                'div',
                { class: 'muted' },
                `${c.trackingNo} · ${c.departmentName ?? '-'} · ${c.stateLabel} · ${dateTime(c.receivedAt)}`,
              ),
            ),
          ),
        ),
    h(
      'p',
      { class: 'muted' },
      tr('地图展示需联网加载底图，此处以排行列表呈现。', 'A map needs online map tiles; shown as a ranked list.'),
    ),
  );
}

function Dashboard(props: StaffPageProps) {
  const [section, setSection] = useState<Section>(() => {
    const s = location.hash.slice(1) as Section;
    return SECTIONS.some(([id]) => id === s) ? s : 'overview';
  });
  const [cat, setCat] = useState<Catalog>();
  const now = useNow();
  useEffect(() => {
    catalog()
      .then(setCat)
      .catch(() => undefined);
  }, []);
  const go = (s: Section) => {
    setSection(s);
    history.replaceState(null, '', `#${s}`);
  };
  const deptName = (id: string) => cat?.departmentName(id) ?? id;
  const common = { credential: props.credential, onAuthError: props.onAuthError };
  return h(
    'div',
    { class: 'page supervisor' },
    h(
      Header,
      { title: tr('12345 督办指挥台', '12345 Supervisor Dashboard') },
      h(SignOut, { onClick: props.onSignOut }),
    ),
    h(Tabs<Section>, {
      label: tr('功能', 'Sections'),
      tabs: SECTIONS.map(([id, zh, en]) => ({ id, label: tr(zh, en) })),
      selected: section,
      onSelect: go,
      panel: 'panel',
    }),
    h(
      'main',
      { class: 'wide', id: 'panel', role: 'tabpanel', 'aria-labelledby': `tab-${section}` },
      section === 'overview' ? h(Overview, { ...common, deptName }) : null,
      section === 'supervise' ? h(Supervise, { ...common, now }) : null,
      section === 'triage' ? h(Triage, { ...common, cat, now }) : null,
      section === 'approvals' ? h(Approvals, { ...common, cat, now }) : null,
      section === 'hotspots' ? h(HotSpots, common) : null,
    ),
  );
}

mount(staffApp('supervisor', Dashboard));
