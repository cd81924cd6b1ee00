/**
 * 承办单位工作台 (`/dept`): the department's own cases by state, soonest deadline first, with SLA countdowns and
 * colours (and words: colour is never the only signal); one case's full trace; and the steps the department may take
 * now (签收, 先行联系, 退单, 延期申请, 办结反馈, 备注), each sent with the version the clerk saw (409 → reload).
 */
import '../styles.css';
import { h } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ApiError, call, errorText } from '../lib/api.ts';
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
import { dateTime, dueLevel, shanghaiToday } from '../lib/format.ts';
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

type Tab = 'dispatched' | 'signed' | 'waiting' | 'done';

const TABS: [Tab, string, string, (c: CaseSummary) => boolean][] = [
  ['dispatched', '待签收', 'To sign', (c) => c.state === 'dispatched'],
  ['signed', '处置中', 'Handling', (c) => c.state === 'signed'],
  [
    'waiting',
    '审核中',
    'Awaiting centre',
    (c) => c.state === 'returnRequested' || c.state === 'resolved' || c.pending !== null,
  ],
  ['done', '已办结', 'Done', (c) => !OPEN_STATES.has(c.state) && c.state !== 'resolved'],
];

type Compose = 'contact' | 'requestReturn' | 'requestExtension' | 'resolve' | 'addNote';

const COMPOSE: Record<Compose, { zh: string; en: string; field: 'text' | 'reason'; needDate?: boolean; path: string }> =
  {
    contact: { zh: '先行联系', en: 'Contact citizen', field: 'text', path: 'contact' },
    requestReturn: { zh: '退单申请', en: 'Return', field: 'reason', path: 'return' },
    requestExtension: { zh: '延期申请', en: 'Ask for more time', field: 'reason', needDate: true, path: 'extension' },
    resolve: { zh: '办结反馈', en: 'Report closure', field: 'text', path: 'resolve' },
    addNote: { zh: '备注', en: 'Note', field: 'text', path: 'notes' },
  };

const PROMPTS: Record<Compose, [string, string]> = {
  contact: ['联系情况（方式、约定）', 'How you contacted the citizen, what was agreed'],
  requestReturn: ['退单理由（必填）', 'Why it is not yours (required)'],
  requestExtension: ['延期理由（必填）', 'Why more time is needed (required)'],
  resolve: ['办理结果（将告知市民）', 'The result (the citizen will read it)'],
  addNote: ['内部备注', 'Internal note'],
};

function CaseList(props: {
  cases: CaseSummary[];
  selected: string | undefined;
  now: number;
  onSelect: (id: string) => void;
}) {
  const onKey = (e: KeyboardEvent) => {
    if (e.key !== 'ArrowDown' && e.key !== 'ArrowUp') return;
    e.preventDefault();
    const i = props.cases.findIndex((c) => c.caseId === props.selected);
    const next = props.cases[Math.min(props.cases.length - 1, Math.max(0, i + (e.key === 'ArrowDown' ? 1 : -1)))];
    if (next) {
      props.onSelect(next.caseId);
      document.getElementById(`row-${next.caseId}`)?.focus();
    }
  };
  if (props.cases.length === 0) return h('p', { class: 'muted' }, tr('暂无工单', 'No cases'));
  return h(
    'div',
    { role: 'list', onKeyDown: onKey, id: 'case-list' },
    props.cases.map((c) => {
      const due = currentDue(c);
      const open = OPEN_STATES.has(c.state);
      return h(
        'button',
        {
          type: 'button',
          role: 'listitem',
          id: `row-${c.caseId}`,
          class: `case-row ${open ? dueLevel(due.at, props.now) : ''}`,
          'aria-current': props.selected === c.caseId,
          onClick: () => props.onSelect(c.caseId),
        },
        h('span', { class: 'title' }, c.title),
        h(
          'span',
          { class: 'meta' },
          h('span', null, c.trackingNo),
          h('span', null, c.stateLabel),
          c.categoryName ? h('span', null, c.categoryName) : null,
          c.reportCount > 1 ? h('span', null, tr(`${c.reportCount} 人反映`, `${c.reportCount} reporters`)) : null,
          h(Countdown, { dueAt: due.at, now: props.now, open, kind: due.kind, state: c.state }),
        ),
      );
    }),
  );
}

function ActionPanel(props: {
  c: CaseDetail;
  credential: Credential;
  onDone: (c: CaseDetail, message: string) => void;
  onError: (e: unknown) => void;
}) {
  const [compose, setCompose] = useState<Compose>();
  const [text, setText] = useState('');
  const [date, setDate] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const allowed = new Set(props.c.allowedActions);

  const send = async (path: string, body: Record<string, unknown>, label: string) => {
    setBusy(true);
    setError('');
    try {
      const res = await call<{ case: CaseDetail }>(
        'POST',
        `/api/dept/cases/${encodeURIComponent(props.c.caseId)}/${path}`,
        {
          body: { ...body, expectedVersion: props.c.version },
          credential: props.credential,
        },
      );
      setCompose(undefined);
      setText('');
      setDate('');
      props.onDone(res.case, tr(`已${label}`, `${label}: done`));
    } catch (e) {
      setError(errorText(e));
      props.onError(e);
    } finally {
      setBusy(false);
    }
  };

  const buttons = (Object.keys(COMPOSE) as Compose[]).filter((k) => allowed.has(k));
  if (!allowed.has('sign') && buttons.length === 0) {
    return h('p', { class: 'muted' }, tr('当前状态下无需操作', 'Nothing to do in this state'));
  }
  const spec = compose ? COMPOSE[compose] : undefined;
  return h(
    'div',
    { class: 'action-panel' },
    h(
      'div',
      { class: 'actions', role: 'group', 'aria-label': tr('操作', 'Actions') },
      allowed.has('sign')
        ? h(
            'button',
            {
              type: 'button',
              class: 'primary',
              id: 'act-sign',
              disabled: busy,
              onClick: () => void send('sign', {}, tr('签收', 'Signed')),
            },
            tr('签收', 'Sign for it'),
          )
        : null,
      buttons.map((k) =>
        h(
          'button',
          {
            type: 'button',
            id: `act-${k}`,
            class: k === 'resolve' ? 'primary' : 'secondary',
            'aria-expanded': compose === k,
            onClick: () => {
              setCompose(compose === k ? undefined : k);
              setError('');
              requestAnimationFrame(() => document.getElementById('compose-text')?.focus());
            },
          },
          tr(COMPOSE[k].zh, COMPOSE[k].en),
        ),
      ),
    ),
    compose && spec
      ? h(
          'form',
          {
            class: 'compose',
            id: 'compose-form',
            onSubmit: (e: Event) => {
              e.preventDefault();
              const body: Record<string, unknown> = { [spec.field]: text.trim() };
              if (spec.needDate) {
                if (!date) {
                  setError(tr('请选择新的办结日期', 'Choose the new due date'));
                  return;
                }
                body.newDueAt = `${date}T23:59:59+08:00`;
              }
              void send(spec.path, body, tr(spec.zh, spec.en));
            },
          },
          h(
            Field,
            { label: tr(PROMPTS[compose][0], PROMPTS[compose][1]) },
            h('textarea', {
              id: 'compose-text',
              rows: 3,
              maxLength: spec.field === 'reason' ? 1000 : 4000,
              required: spec.field === 'reason' || compose === 'resolve',
              value: text,
              onInput: (e: Event) => setText((e.target as HTMLTextAreaElement).value),
            }),
          ),
          spec.needDate
            ? h(
                Field,
                {
                  label: tr('延至（日期）', 'New due date'),
                  hint: props.c.windows.extensionLatest
                    ? tr(
                        `最迟 ${dateTime(props.c.windows.extensionLatest)}`,
                        `At most ${dateTime(props.c.windows.extensionLatest)}`,
                      )
                    : undefined,
                },
                h('input', {
                  id: 'compose-date',
                  type: 'date',
                  min: shanghaiToday(),
                  ...(props.c.windows.extensionLatest ? { max: props.c.windows.extensionLatest.slice(0, 10) } : {}),
                  value: date,
                  onInput: (e: Event) => setDate((e.target as HTMLInputElement).value),
                }),
              )
            : null,
          compose === 'resolve'
            ? h(
                'small',
                { class: 'hint' },
                tr(
                  '请在结果中说明处置情况；市民上传的现场照片见上方。',
                  'Describe the result in words; the citizen’s photos are shown above.',
                ),
              )
            : null,
          h(
            'div',
            { class: 'actions' },
            h(
              'button',
              { type: 'submit', class: 'primary', disabled: busy, id: 'compose-submit' },
              tr(`提交${spec.zh}`, `Send: ${spec.en}`),
            ),
            h('button', { type: 'button', class: 'link', onClick: () => setCompose(undefined) }, tr('取消', 'Cancel')),
          ),
        )
      : null,
    error ? h(Notice, { kind: 'error' }, error) : null,
  );
}

/** Cases asked for per state and page (the API's `limit`: the most urgent first, `more` says where the rest go on). */
const PAGE = 200;

/** Whether a case in `state` belongs in the tab (the tabs' own rule, for a case with no pending request). */
const stateInTab = (t: Tab, state: string) =>
  (TABS.find((x) => x[0] === t)?.[3] ?? (() => false))({ state, pending: null } as unknown as CaseSummary);

interface DeptList {
  department: string;
  cases: CaseSummary[];
  /** State → the cursor of its next page. */
  more: Record<string, string>;
}

function Workbench(props: StaffPageProps) {
  const [cases, setCases] = useState<CaseSummary[]>([]);
  // Pages loaded after the first one ("加载更多"), kept across the minute's refresh, and where each state goes on
  // after them (null: that state is all loaded).
  const [extra, setExtra] = useState<CaseSummary[]>([]);
  const [after, setAfter] = useState<Record<string, string | null>>({});
  const [firstMore, setFirstMore] = useState<Record<string, string>>({});
  const [loadingMore, setLoadingMore] = useState(false);
  const [department, setDepartment] = useState('');
  const [tab, setTab] = useState<Tab>('dispatched');
  const [selected, setSelected] = useState<string>();
  const [detail, setDetail] = useState<CaseDetail>();
  const [error, setError] = useState('');
  const [message, setMessage] = useState('');
  const [loading, setLoading] = useState(true);
  const [cat, setCat] = useState<Catalog>();
  const now = useNow();

  const loadList = async () => {
    try {
      const res = await call<DeptList>('GET', `/api/dept/cases?limit=${PAGE}`, { credential: props.credential });
      setDepartment(res.department);
      setCases(res.cases);
      setFirstMore(res.more ?? {});
      setError('');
    } catch (e) {
      props.onAuthError(e);
      setError(errorText(e));
    } finally {
      setLoading(false);
    }
  };
  const loadDetail = async (id: string) => {
    setSelected(id);
    try {
      setDetail(
        await call<CaseDetail>('GET', `/api/dept/cases/${encodeURIComponent(id)}`, { credential: props.credential }),
      );
    } catch (e) {
      props.onAuthError(e);
      setDetail(undefined);
      setError(errorText(e));
    }
  };
  useEffect(() => {
    void loadList();
    catalog()
      .then(setCat)
      .catch(() => undefined);
    const id = setInterval(() => void loadList(), 60_000);
    return () => clearInterval(id);
  }, []);

  // Where each state goes on: after the pages loaded by hand, else after the first page.
  const more: Record<string, string> = { ...firstMore };
  for (const [state, cursor] of Object.entries(after)) {
    if (cursor === null) delete more[state];
    else more[state] = cursor;
  }
  const moreIn = (t: Tab) => Object.keys(more).filter((state) => stateInTab(t, state));
  const loadMore = async (t: Tab) => {
    setLoadingMore(true);
    try {
      const pages = await Promise.all(
        moreIn(t).map(async (state) => {
          const q = new URLSearchParams({ state, limit: String(PAGE), cursor: more[state] as string });
          const res = await call<DeptList>('GET', `/api/dept/cases?${q}`, { credential: props.credential });
          return { state, res };
        }),
      );
      setExtra((old) => [...old, ...pages.flatMap((p) => p.res.cases)]);
      setAfter((old) => {
        const next = { ...old };
        for (const { state, res } of pages) next[state] = res.more?.[state] ?? null;
        return next;
      });
      setError('');
    } catch (e) {
      props.onAuthError(e);
      setError(errorText(e));
    } finally {
      setLoadingMore(false);
    }
  };
  // The first pages as refreshed, then the later pages' cases they do not hold.
  const seen = new Set(cases.map((c) => c.caseId));
  const all = [...cases, ...extra.filter((c) => !seen.has(c.caseId))];

  const deptName = (id: string | null) => (id ? (cat?.departmentName(id) ?? id) : '-');
  const inTab = (t: Tab) => {
    const pred = TABS.find((x) => x[0] === t)?.[3] ?? (() => false);
    return all
      .filter(pred)
      .sort(
        (a, b) =>
          (currentDue(a).at ?? '9999').localeCompare(currentDue(b).at ?? '9999') || a.caseId.localeCompare(b.caseId),
      );
  };
  const list = inTab(tab);
  const overdue = all.filter((c) => OPEN_STATES.has(c.state) && dueLevel(currentDue(c).at, now) === 'late').length;

  return h(
    'div',
    { class: 'page dept' },
    h(
      Header,
      { title: tr('承办单位工作台', 'Department Workbench'), subtitle: department ? deptName(department) : undefined },
      h(SignOut, { onClick: props.onSignOut }),
    ),
    h(Tabs<Tab>, {
      label: tr('按状态', 'By state'),
      tabs: TABS.map(([id, zh, en]) => ({
        id,
        label: tr(zh, en),
        count: inTab(id).length,
        countMore: moreIn(id).length > 0,
      })),
      selected: tab,
      onSelect: setTab,
    }),
    h(
      'main',
      { class: 'wide' },
      overdue > 0
        ? h(Notice, { kind: 'error' }, tr(`${overdue} 件已超期，请优先处理`, `${overdue} overdue: handle them first`))
        : null,
      error ? h(Notice, { kind: 'error' }, error) : null,
      message ? h(Notice, { kind: 'ok', id: 'dept-message' }, message) : null,
      h(
        'div',
        { class: 'grid list-detail' },
        h(
          'section',
          { class: 'card', 'aria-label': tr('工单列表', 'Cases'), role: 'tabpanel', 'aria-labelledby': `tab-${tab}` },
          loading
            ? h('p', { class: 'muted' }, tr('载入中…', 'Loading…'))
            : h(CaseList, { cases: list, selected, now, onSelect: (id) => void loadDetail(id) }),
          !loading && moreIn(tab).length > 0
            ? h(LoadMore, { id: 'load-more', page: PAGE, loading: loadingMore, onClick: () => void loadMore(tab) })
            : null,
        ),
        h(
          'section',
          { class: 'card', id: 'case-detail', 'aria-live': 'polite', 'aria-label': tr('工单详情', 'Case') },
          detail
            ? [
                h(
                  'div',
                  { class: 'result-head' },
                  h('h2', { class: 'usertext' }, detail.title),
                  h(Countdown, {
                    dueAt: currentDue(detail).at,
                    now,
                    open: OPEN_STATES.has(detail.state),
                    kind: currentDue(detail).kind,
                    state: detail.state,
                  }),
                ),
                detail.pendingRequest
                  ? h(
                      Notice,
                      { kind: 'info' },
                      detail.pendingRequest.kind === 'extension'
                        ? tr(
                            `延期申请审核中：延至 ${dateTime(detail.pendingRequest.newDueAt)}`,
                            `Extension to ${dateTime(detail.pendingRequest.newDueAt)} awaiting approval`,
                          )
                        : tr('退单申请审核中', 'Return awaiting approval'),
                    )
                  : null,
                h(Text, { class: 'case-text' }, detail.text),
                h(CasePhotos, {
                  caseId: detail.caseId,
                  version: detail.version,
                  credential: props.credential,
                  id: 'case-photos',
                }),
                h(CaseFacts, { c: detail, now, departmentName: deptName }),
                h(ActionPanel, {
                  c: detail,
                  credential: props.credential,
                  onDone: (c, msg) => {
                    setDetail(c);
                    setMessage(`${c.trackingNo} ${msg}`);
                    // The case moved to another state: pages loaded by hand may hold it as it was.
                    setExtra([]);
                    setAfter({});
                    void loadList();
                  },
                  onError: (e) => {
                    props.onAuthError(e);
                    if (e instanceof ApiError && e.status === 409) void loadDetail(detail.caseId);
                  },
                }),
                h('h3', null, tr('办理过程（全部留痕）', 'Full history')),
                h(AuditTrail, { records: detail.history, departmentName: deptName }),
              ]
            : h('p', { class: 'muted' }, tr('选择左侧工单查看详情', 'Pick a case to see it')),
        ),
      ),
      h(
        'p',
        { class: 'muted' },
        h(Badge, { tone: 'ok' }, tr('正常', 'on time')),
        ' ',
        h(Badge, { tone: 'warn' }, tr('24 小时内到期', 'due within 24 h')),
        ' ',
        h(Badge, { tone: 'late' }, tr('已超期', 'overdue')),
        ' ',
        tr('列表按时限先后排序；↑↓ 键切换工单。', 'Sorted by deadline; ↑/↓ move between cases.'),
      ),
    ),
  );
}

mount(staffApp('department', Workbench));
