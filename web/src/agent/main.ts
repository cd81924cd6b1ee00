/**
 * 话务员工作台 (`/agent`): a keyboard-first call form. The caller's number and open cases come from the call record
 * Amazon Connect opened (`?contactId=` in the URL, as a Connect agent workspace link would open it, or typed);
 * category, title and possible duplicates are suggested while the agent types (debounced `POST /api/agent/assist`);
 * a consultation can be answered on the call (直接答复); a call about a suggested open case is attached to it with one
 * key (Alt+A: 重复件 when it is the case's own citizen, 并案 otherwise; `attachTo` on `POST /api/agent/reports`), and
 * the caller is told that case's tracking number. Every shortcut is listed on screen.
 */
import '../styles.css';
import { h } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { call, errorText } from '../lib/api.ts';
import { dateTime } from '../lib/format.ts';
import { natureName, tr } from '../lib/i18n.ts';
import { type Catalog, catalog } from '../lib/taxonomy.ts';
import { Badge, Field, Header, mount, Notice, SignOut, type StaffPageProps, staffApp, Text } from '../lib/ui.ts';

const NATURES = ['咨询', '求助', '投诉', '举报', '建议'] as const;

interface CaseSummary {
  caseId: string;
  trackingNo: string;
  state: string;
  stateLabel: string;
  departmentName: string | null;
  categoryName: string | null;
  title: string;
  receivedAt: string;
  dueAt: string | null;
  reportCount: number;
}

interface CallView {
  contactId: string;
  channel: string;
  caller: { phone?: string; status: string };
  queue?: { name?: string };
  firstSeenAt: string;
  reports: { seq: number; trackingNo: string; enteredBy: string; at: string }[];
}

interface CallAnswer {
  call: CallView;
  knownReports: number;
  knownReportsMore?: boolean;
  openCases: CaseSummary[];
}

interface Suggestion {
  category: string;
  categoryName: string;
  confidence: number;
}

interface Duplicate {
  caseId: string;
  title: string;
  receivedAt: string;
  status: 'open' | 'closed';
  reporterCount: number;
  distanceMeters?: number;
  textSimilarity: number;
  relation: 'repeat' | 'incident';
  score: number;
}

interface Assist {
  suggestion: (Suggestion & { decision: 'auto' | 'manual' }) | null;
  alternatives: Suggestion[];
  classifier: 'ok' | 'unavailable';
  title: string;
  caller: { phone?: string; from: 'telephony' | 'typed' | 'none' };
  knownReports: number;
  knownReportsMore?: boolean;
  openCases: CaseSummary[];
  duplicateSuggestions: Duplicate[];
  /** Whether the dedupe engine answered (`unavailable`: the list is empty because it could not look). */
  duplicates?: 'ok' | 'unavailable';
}

interface Submitted {
  trackingNo: string;
  duplicate: boolean;
  state: 'received' | 'answered' | 'attached';
  /** Attached calls: the call's own report number and the relation the server decided. */
  reportTrackingNo?: string;
  relation?: 'repeat' | 'incident';
  statusLabel: string;
  message: string;
  title: string;
}

type Source = 'call' | 'walkin' | 'letter';

const uuid = () =>
  typeof crypto.randomUUID === 'function'
    ? crypto.randomUUID()
    : '10000000-1000-4000-8000-100000000000'.replace(/[018]/g, (c) =>
        (Number(c) ^ ((crypto.getRandomValues(new Uint8Array(1))[0] as number) & (15 >> (Number(c) / 4)))).toString(16),
      );

const EMPTY = {
  text: '',
  title: '',
  address: '',
  nature: '',
  category: '',
  phone: '',
  name: '',
  answer: '',
  ref: '',
  letterDate: '',
};

const SHORTCUTS: [string, string, string][] = [
  ['Ctrl+Enter', '提交', 'submit'],
  ['Alt+S', '采用建议类别', 'accept suggested category'],
  ['Alt+1…5', '查看疑似重复', 'select a possible duplicate'],
  ['Alt+A', '关联到所选疑似重复（默认第一条）', 'attach the call to the selected (or first) duplicate'],
  ['Alt+Q', '咨询直接答复', 'answer a consultation'],
  ['Alt+N', '同一来电新诉求', 'next request, same call'],
  ['Alt+C', '来电编号', 'contact id'],
  ['Alt+T', '诉求内容', 'request text'],
  ['Alt+D', '地址', 'address'],
  ['Esc', '取消选择', 'clear selection'],
];

function pct(n: number): string {
  return `${Math.round(n * 100)}%`;
}

function OpenCases(props: { cases: CaseSummary[]; known: number; knownMore: boolean }) {
  return h(
    'section',
    { class: 'card', 'aria-labelledby': 'open-h', id: 'open-cases' },
    h(
      'h2',
      { id: 'open-h' },
      tr(`来电人在办工单（${props.cases.length}）`, `Caller's open cases (${props.cases.length})`),
    ),
    props.known > 0
      ? h(
          'p',
          { class: 'muted' },
          tr(
            `该号码共反映过 ${props.known}${props.knownMore ? '+' : ''} 次`,
            `${props.known}${props.knownMore ? '+' : ''} earlier reports from this number`,
          ),
        )
      : null,
    props.cases.length === 0
      ? h('p', { class: 'muted' }, tr('无在办工单', 'None open'))
      : h(
          'ul',
          { class: 'list' },
          props.cases.map((c) =>
            h(
              'li',
              null,
              h(
                'div',
                null,
                h('strong', { class: 'usertext' }, c.title),
                ' ',
                h(Badge, { tone: 'info' }, c.stateLabel),
              ),
              h(
                'div',
                { class: 'muted' },
                `${c.trackingNo} · ${dateTime(c.receivedAt)}${c.departmentName ? ` · ${c.departmentName}` : ''}${
                  c.dueAt ? ` · ${tr('时限', 'due')} ${dateTime(c.dueAt)}` : ''
                }`,
              ),
            ),
          ),
        ),
  );
}

function Duplicates(props: {
  items: Duplicate[];
  unavailable: boolean;
  selected: number | undefined;
  onSelect: (i: number) => void;
  onAttach: (i: number) => void;
  busy: boolean;
}) {
  const target = props.selected ?? props.items.findIndex((d) => d.status === 'open');
  return h(
    'section',
    { class: 'card', 'aria-labelledby': 'dup-h', id: 'duplicates' },
    h('h2', { id: 'dup-h' }, tr(`疑似重复（${props.items.length}）`, `Possible duplicates (${props.items.length})`)),
    props.items.length === 0
      ? h(
          'p',
          { class: 'muted' },
          props.unavailable
            ? tr(
                '判重服务暂不可用，请留意来电人的在办工单',
                'Duplicate check unavailable: mind the caller’s open cases',
              )
            : tr('附近暂无相似的在办诉求', 'No similar open case nearby'),
        )
      : h(
          'ol',
          { class: 'list' },
          props.items.map((d, i) =>
            h(
              'li',
              { class: `dup ${props.selected === i ? 'selected' : ''}`, 'aria-current': props.selected === i },
              h(
                'button',
                {
                  type: 'button',
                  class: 'link',
                  onClick: () => props.onSelect(i),
                  'aria-keyshortcuts': `Alt+${i + 1}`,
                },
                h('kbd', null, `Alt+${i + 1}`),
                ' ',
                h('strong', { class: 'usertext' }, d.title),
              ),
              ' ',
              h(
                Badge,
                { tone: d.relation === 'repeat' ? 'warn' : 'info' },
                d.relation === 'repeat' ? tr('重复件', 'repeat') : tr('并案', 'same incident'),
              ),
              h(
                'div',
                { class: 'muted' },
                [
                  d.caseId,
                  dateTime(d.receivedAt),
                  d.status === 'open' ? tr('在办', 'open') : tr('已办结', 'closed'),
                  d.distanceMeters !== undefined
                    ? tr(`相距 ${Math.round(d.distanceMeters)} 米`, `${Math.round(d.distanceMeters)} m away`)
                    : null,
                  tr(`文本相似 ${pct(d.textSimilarity)}`, `text ${pct(d.textSimilarity)} similar`),
                  tr(`${d.reporterCount} 人反映`, `${d.reporterCount} reporters`),
                ]
                  .filter(Boolean)
                  .join(' · '),
              ),
              d.status === 'open'
                ? h(
                    'button',
                    {
                      type: 'button',
                      class: `${target === i ? 'primary' : 'secondary'} small attach`,
                      disabled: props.busy,
                      onClick: () => props.onAttach(i),
                      'data-case': d.caseId,
                      ...(target === i ? { 'aria-keyshortcuts': 'Alt+A' } : {}),
                    },
                    d.relation === 'repeat'
                      ? tr('关联为重复件', 'Attach as repeat')
                      : tr('并案到此工单', 'Attach to this incident'),
                    target === i ? [' ', h('kbd', null, 'Alt+A')] : null,
                  )
                : null,
              props.selected === i
                ? h(
                    Notice,
                    { kind: 'info' },
                    tr(
                      `可告知来电人：该问题已在办理中，受理编号 ${d.caseId}。按 Alt+A 关联到该工单；如按新诉求提交，分拨仍可能按同一问题合并办理。`,
                      `Tell the caller this is already being handled under ${d.caseId}. Alt+A attaches the call to it; filed as new, triage may still merge it.`,
                    ),
                  )
                : null,
            ),
          ),
        ),
  );
}

function Console(props: StaffPageProps) {
  const params = new URLSearchParams(location.search);
  const [contactInput, setContactInput] = useState(params.get('contactId') ?? '');
  const [callInfo, setCallInfo] = useState<CallAnswer>();
  const [callError, setCallError] = useState('');
  const [source, setSource] = useState<Source>(params.get('contactId') ? 'call' : 'walkin');
  const [seq, setSeq] = useState(1);
  const [clientId, setClientId] = useState(uuid);
  const [f, setF] = useState({ ...EMPTY });
  const [assist, setAssist] = useState<Assist>();
  const [assistError, setAssistError] = useState('');
  const [selectedDup, setSelectedDup] = useState<number>();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const [done, setDone] = useState<Submitted[]>([]);
  const [cat, setCat] = useState<Catalog>();
  const formRef = useRef<HTMLFormElement>(null);
  const fRef = useRef(f);
  fRef.current = f;

  useEffect(() => {
    catalog()
      .then(setCat)
      .catch(() => undefined);
  }, []);

  const loadCall = async (id: string) => {
    const contactId = id.trim();
    if (!contactId) return;
    setCallError('');
    try {
      const answer = await call<CallAnswer>('GET', `/api/agent/calls/${encodeURIComponent(contactId)}`, {
        credential: props.credential,
      });
      setCallInfo(answer);
      setSource('call');
      setSeq(Math.max(0, ...answer.call.reports.map((r) => r.seq)) + 1);
      const url = new URL(location.href);
      url.searchParams.set('contactId', contactId);
      history.replaceState(null, '', url);
    } catch (e) {
      props.onAuthError(e);
      setCallInfo(undefined);
      setCallError(errorText(e));
    }
  };
  useEffect(() => {
    if (contactInput) void loadCall(contactInput);
  }, []);

  const telephonyPhone = source === 'call' ? callInfo?.call.caller.phone : undefined;

  // Draft assistance while typing: debounced; a newer keystroke cancels the older request.
  useEffect(() => {
    const text = f.text.trim();
    if (text.length < 4) {
      setAssist(undefined);
      return;
    }
    const ctl = new AbortController();
    const id = setTimeout(async () => {
      try {
        const body = {
          text,
          ...(f.title.trim() ? { title: f.title.trim() } : {}),
          ...(f.address.trim() ? { location: { address: f.address.trim() } } : {}),
          ...(source === 'call' && callInfo ? { contactId: callInfo.call.contactId } : {}),
          ...(!telephonyPhone && f.phone.trim() ? { phone: f.phone.trim() } : {}),
          ...(f.category ? { category: f.category } : {}),
        };
        const a = await call<Assist>('POST', '/api/agent/assist', {
          body,
          credential: props.credential,
          signal: ctl.signal,
        });
        setAssist(a);
        setAssistError('');
        setSelectedDup(undefined);
      } catch (e) {
        if ((e as Error).name === 'AbortError') return;
        props.onAuthError(e);
        setAssistError(errorText(e));
      }
    }, 400);
    return () => {
      clearTimeout(id);
      ctl.abort();
    };
  }, [f.text, f.title, f.address, f.phone, source, callInfo?.call.contactId]);

  const set = (k: keyof typeof EMPTY) => (e: Event) =>
    setF({ ...fRef.current, [k]: (e.target as HTMLInputElement).value });
  const focus = (id: string) => document.getElementById(id)?.focus();

  const acceptSuggestion = () => {
    if (assist?.suggestion) setF({ ...fRef.current, category: assist.suggestion.category });
  };

  const nextRequest = () => {
    setF({ ...EMPTY, phone: fRef.current.phone, name: fRef.current.name });
    setAssist(undefined);
    setSelectedDup(undefined);
    setError('');
    setClientId(uuid());
    focus('agent-text');
  };

  /** The submission body of the form as it is, or undefined (with the reason shown) when it is not ready. */
  const requestBody = (cur: typeof EMPTY): Record<string, unknown> | undefined => {
    setError('');
    if (!cur.text.trim()) {
      setError(tr('请输入诉求内容', 'Type the request first'));
      focus('agent-text');
      return;
    }
    if (source === 'call' && !callInfo) {
      setError(tr('请先载入来电记录（来电编号）', 'Load the call record first (contact id)'));
      focus('contact-id');
      return;
    }
    if (source === 'letter' && !cur.ref.trim()) {
      setError(tr('请填写来信编号', 'Type the letter reference'));
      focus('letter-ref');
      return;
    }
    const answering = cur.nature === '咨询' && cur.answer.trim() !== '';
    const body: Record<string, unknown> = {
      ...(source === 'call' && callInfo ? { contactId: callInfo.call.contactId, seq } : {}),
      ...(source === 'walkin' ? { source: 'walkin', clientId } : {}),
      ...(source === 'letter'
        ? { source: 'letter', ref: cur.ref.trim(), ...(cur.letterDate ? { receivedAt: cur.letterDate } : {}) }
        : {}),
      citizen: {
        ...(!telephonyPhone && cur.phone.trim() ? { phone: cur.phone.trim() } : {}),
        ...(cur.name.trim() ? { name: cur.name.trim() } : {}),
        ...(!telephonyPhone && !cur.phone.trim() ? { anonymous: true } : {}),
      },
      ...(cur.title.trim() ? { title: cur.title.trim() } : assist?.title ? { title: assist.title } : {}),
      text: cur.text,
      ...(cur.address.trim() ? { location: { address: cur.address.trim() } } : {}),
      ...(cur.nature ? { nature: cur.nature } : {}),
      ...(cur.category ? { category: cur.category } : {}),
      ...(answering ? { answer: cur.answer.trim() } : {}),
    };
    return body;
  };

  /** Sends the report (a new case, or one more reporter of `body.attachTo`); the list of done ones shows `title`. */
  const send = async (body: Record<string, unknown>, title: string) => {
    setBusy(true);
    try {
      const res = await call<Submitted>('POST', '/api/agent/reports', { body, credential: props.credential });
      setDone([{ ...res, title }, ...done]);
      if (source === 'call') setSeq(seq + 1);
      nextRequest();
      if (source === 'call' && callInfo) void loadCall(callInfo.call.contactId);
    } catch (e) {
      props.onAuthError(e);
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  };

  const submit = async () => {
    const body = requestBody(fRef.current);
    if (!body) return;
    await send(body, (body.title as string) ?? String(body.text).slice(0, 30));
  };

  /** 关联: the call joins the suggested open case instead of opening a new one. */
  const attach = async (i: number | undefined) => {
    const items = assist?.duplicateSuggestions ?? [];
    const idx = i ?? items.findIndex((d) => d.status === 'open');
    const target = idx >= 0 ? items[idx] : undefined;
    if (target?.status !== 'open') {
      setError(tr('没有可关联的在办工单', 'No open case to attach to'));
      return;
    }
    const body = requestBody(fRef.current);
    if (!body) return;
    delete body.answer;
    body.attachTo = target.caseId;
    await send(body, target.title);
  };

  // Shortcuts work from any field: the agent never leaves the keyboard.
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if ((e.ctrlKey || e.metaKey) && e.key === 'Enter') {
        e.preventDefault();
        void submit();
        return;
      }
      if (e.key === 'Escape') {
        setSelectedDup(undefined);
        return;
      }
      if (!e.altKey || e.ctrlKey || e.metaKey) return;
      const digit = /^Digit([1-5])$/.exec(e.code);
      if (digit) {
        e.preventDefault();
        const i = Number(digit[1]) - 1;
        if (assist && i < assist.duplicateSuggestions.length) setSelectedDup((cur) => (cur === i ? undefined : i));
        return;
      }
      const actions: Record<string, () => void> = {
        KeyS: acceptSuggestion,
        KeyN: nextRequest,
        KeyC: () => focus('contact-id'),
        KeyT: () => focus('agent-text'),
        KeyD: () => focus('agent-address'),
        KeyQ: () => {
          setF({ ...fRef.current, nature: '咨询' });
          requestAnimationFrame(() => focus('agent-answer'));
        },
      };
      if (e.code === 'KeyA') {
        e.preventDefault();
        if (!busy) void attach(selectedDup);
        return;
      }
      const act = actions[e.code];
      if (act) {
        e.preventDefault();
        act();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  });

  const categoryOptions = cat?.leaves ?? [];
  const suggestion = assist?.suggestion;
  const openCases = assist?.openCases ?? callInfo?.openCases ?? [];
  const known = assist?.knownReports ?? callInfo?.knownReports ?? 0;
  const knownMore = (assist ? assist.knownReportsMore : callInfo?.knownReportsMore) === true;

  return h(
    'div',
    { class: 'page agent' },
    h(Header, { title: tr('12345 话务员工作台', '12345 Agent Console') }, h(SignOut, { onClick: props.onSignOut })),
    h(
      'main',
      { class: 'wide' },
      h(
        'ul',
        { class: 'shortcuts card', 'aria-label': tr('快捷键', 'Keyboard shortcuts'), id: 'shortcuts' },
        SHORTCUTS.map(([k, zh, en]) => h('li', null, h('kbd', null, k), ` ${tr(zh, en)}`)),
      ),
      h(
        'div',
        { class: 'grid two' },
        h(
          'div',
          null,
          h(
            'section',
            { class: 'card', 'aria-labelledby': 'call-h' },
            h('h2', { id: 'call-h' }, tr('来源', 'Source')),
            h(
              'div',
              { role: 'radiogroup', 'aria-label': tr('来源', 'Source'), class: 'actions' },
              (
                [
                  ['call', '来电', 'Call'],
                  ['walkin', '来访', 'Walk-in'],
                  ['letter', '来信', 'Letter'],
                ] as const
              ).map(([id, zh, en]) =>
                h(
                  'label',
                  { class: 'radio' },
                  h('input', {
                    type: 'radio',
                    name: 'source',
                    value: id,
                    checked: source === id,
                    onChange: () => setSource(id),
                  }),
                  ` ${tr(zh, en)}`,
                ),
              ),
            ),
            source === 'call'
              ? h(
                  'form',
                  {
                    class: 'period',
                    onSubmit: (e: Event) => {
                      e.preventDefault();
                      void loadCall(contactInput);
                    },
                  },
                  h(
                    Field,
                    { label: tr('来电编号 (ContactId)', 'Contact id') },
                    h('input', {
                      id: 'contact-id',
                      value: contactInput,
                      autocomplete: 'off',
                      'aria-keyshortcuts': 'Alt+C',
                      onInput: (e: Event) => setContactInput((e.target as HTMLInputElement).value),
                    }),
                  ),
                  h('button', { type: 'submit', class: 'secondary' }, tr('载入来电', 'Load call')),
                )
              : null,
            callError ? h(Notice, { kind: 'error' }, callError) : null,
            source === 'call' && callInfo
              ? h(
                  'dl',
                  { class: 'facts', id: 'call-info' },
                  h('dt', null, tr('来电号码', 'Caller')),
                  h(
                    'dd',
                    { id: 'caller-phone' },
                    callInfo.call.caller.phone ?? tr('未显示号码', 'withheld'),
                    ' ',
                    h(Badge, { tone: 'ok' }, tr('电话系统', 'telephony')),
                  ),
                  h('dt', null, tr('来电时间', 'Call started')),
                  h('dd', null, dateTime(callInfo.call.firstSeenAt)),
                  callInfo.call.queue?.name
                    ? [h('dt', null, tr('队列', 'Queue')), h('dd', null, callInfo.call.queue.name)]
                    : null,
                  h('dt', null, tr('本次第几件', 'Request no.')),
                  h('dd', null, String(seq)),
                )
              : null,
            source === 'letter'
              ? h(
                  'div',
                  { class: 'row2' },
                  h(
                    Field,
                    { label: tr('来信编号', 'Letter reference') },
                    h('input', { id: 'letter-ref', value: f.ref, onInput: set('ref') }),
                  ),
                  h(
                    Field,
                    { label: tr('收信日期', 'Date received') },
                    h('input', { type: 'date', value: f.letterDate, onInput: set('letterDate') }),
                  ),
                )
              : null,
          ),
          h(
            'form',
            {
              class: 'card',
              id: 'agent-form',
              ref: formRef,
              onSubmit: (e: Event) => {
                e.preventDefault();
                void submit();
              },
            },
            h('h2', null, tr('诉求登记', 'Request')),
            h(
              Field,
              { label: tr('诉求内容', 'What the caller says') },
              h('textarea', {
                id: 'agent-text',
                rows: 6,
                maxLength: 4000,
                value: f.text,
                onInput: set('text'),
                autoFocus: true,
                'aria-keyshortcuts': 'Alt+T',
              }),
            ),
            h(
              'div',
              { class: 'row2' },
              h(
                Field,
                {
                  label: tr('标题', 'Title'),
                  hint: assist?.title ? tr(`留空则用：${assist.title}`, `Empty: ${assist.title}`) : undefined,
                },
                h('input', { id: 'agent-title', maxLength: 100, value: f.title, onInput: set('title') }),
              ),
              h(
                Field,
                { label: tr('地址', 'Address') },
                h('input', {
                  id: 'agent-address',
                  maxLength: 200,
                  value: f.address,
                  onInput: set('address'),
                  'aria-keyshortcuts': 'Alt+D',
                }),
              ),
            ),
            h(
              'div',
              { class: 'row2' },
              h(
                Field,
                { label: tr('事项类别', 'Category') },
                h(
                  'select',
                  { id: 'agent-category', value: f.category, onChange: set('category') },
                  h('option', { value: '' }, tr('（由分拨判断）', '(triage decides)')),
                  categoryOptions.map((c) =>
                    h(
                      'option',
                      { value: c.code },
                      `${c.name}${c.parent ? ` · ${cat?.categoryName(c.parent) ?? ''}` : ''}`,
                    ),
                  ),
                ),
              ),
              h(
                Field,
                { label: tr('诉求性质', 'Kind') },
                h(
                  'select',
                  { id: 'agent-nature', value: f.nature, onChange: set('nature') },
                  h('option', { value: '' }, tr('（未指定）', '(unspecified)')),
                  NATURES.map((n) => h('option', { value: n }, natureName(n))),
                ),
              ),
            ),
            f.nature === '咨询'
              ? h(
                  Field,
                  {
                    label: tr('直接答复（咨询件当场办结）', 'Answer now (closes the consultation)'),
                    hint: tr(
                      '填写后提交即办结，答复内容短信告知来电人',
                      'Submitting with an answer closes it; the caller gets it by SMS',
                    ),
                  },
                  h('textarea', {
                    id: 'agent-answer',
                    rows: 3,
                    maxLength: 4000,
                    value: f.answer,
                    onInput: set('answer'),
                  }),
                )
              : null,
            h(
              'div',
              { class: 'row2' },
              telephonyPhone
                ? null
                : h(
                    Field,
                    {
                      label: tr('联系电话', 'Phone'),
                      hint: tr('来电未显示号码时填写', 'Only when telephony has none'),
                    },
                    h('input', {
                      id: 'agent-phone',
                      type: 'tel',
                      maxLength: 20,
                      value: f.phone,
                      onInput: set('phone'),
                    }),
                  ),
              h(
                Field,
                { label: tr('姓名', 'Name') },
                h('input', { id: 'agent-name', maxLength: 50, value: f.name, onInput: set('name') }),
              ),
            ),
            error ? h(Notice, { kind: 'error' }, error) : null,
            h(
              'div',
              { class: 'actions' },
              h(
                'button',
                { type: 'submit', class: 'primary', disabled: busy, 'aria-keyshortcuts': 'Control+Enter' },
                f.nature === '咨询' && f.answer.trim() ? tr('答复并办结', 'Answer and close') : tr('提交', 'Submit'),
                ' ',
                h('kbd', null, 'Ctrl+Enter'),
              ),
              h(
                'button',
                { type: 'button', class: 'secondary', onClick: nextRequest },
                tr('清空', 'Clear'),
                ' ',
                h('kbd', null, 'Alt+N'),
              ),
            ),
          ),
          done.length > 0
            ? h(
                'section',
                { class: 'card', id: 'agent-done', 'aria-live': 'polite' },
                h('h2', null, tr('本班已录入', 'Filed this session')),
                h(
                  'ul',
                  { class: 'list' },
                  done.map((d) =>
                    h(
                      'li',
                      null,
                      h('strong', { class: 'tn-small' }, d.trackingNo),
                      ' ',
                      h(Badge, { tone: d.state === 'answered' ? 'ok' : 'info' }, d.statusLabel),
                      d.state === 'attached' && d.reportTrackingNo
                        ? h(
                            'span',
                            { class: 'muted' },
                            tr(` 本次来电编号 ${d.reportTrackingNo}`, ` call's own number ${d.reportTrackingNo}`),
                          )
                        : null,
                      d.duplicate ? h(Badge, { tone: 'warn' }, tr('重复提交', 'resubmitted')) : null,
                      h(Text, null, d.title),
                    ),
                  ),
                ),
              )
            : null,
        ),
        h(
          'div',
          null,
          h(
            'section',
            { class: 'card suggest', 'aria-labelledby': 'sug-h', 'aria-live': 'polite', id: 'suggestion' },
            h('h2', { id: 'sug-h' }, tr('类别建议', 'Suggested category')),
            assistError ? h(Notice, { kind: 'error' }, assistError) : null,
            !assist
              ? h('p', { class: 'muted' }, tr('输入诉求内容后自动建议', 'Appears as you type'))
              : suggestion
                ? h(
                    'div',
                    null,
                    h(
                      'p',
                      null,
                      h('strong', { id: 'suggested-category' }, suggestion.categoryName),
                      ' ',
                      h(
                        'span',
                        { class: 'conf' },
                        tr(`置信度 ${pct(suggestion.confidence)}`, `confidence ${pct(suggestion.confidence)}`),
                      ),
                      ' ',
                      suggestion.decision === 'manual'
                        ? h(Badge, { tone: 'warn' }, tr('需人工确认', 'uncertain'))
                        : null,
                    ),
                    h(
                      'button',
                      {
                        type: 'button',
                        class: 'secondary small',
                        onClick: acceptSuggestion,
                        disabled: f.category === suggestion.category,
                        'aria-keyshortcuts': 'Alt+S',
                      },
                      f.category === suggestion.category ? tr('已采用', 'Accepted') : tr('采用', 'Accept'),
                      ' ',
                      h('kbd', null, 'Alt+S'),
                    ),
                    assist.alternatives.length > 0
                      ? h(
                          'div',
                          { class: 'hints' },
                          h('span', { class: 'label' }, tr('其他：', 'Others: ')),
                          assist.alternatives.map((a) =>
                            h(
                              'button',
                              {
                                type: 'button',
                                class: `chip ${f.category === a.category ? 'on' : ''}`,
                                'aria-pressed': f.category === a.category,
                                onClick: () => setF({ ...fRef.current, category: a.category }),
                              },
                              `${a.categoryName} ${pct(a.confidence)}`,
                            ),
                          ),
                        )
                      : null,
                  )
                : h(
                    'p',
                    { class: 'muted' },
                    assist.classifier === 'unavailable'
                      ? tr('分类模型暂不可用', 'Classifier unavailable')
                      : tr('无法判断，提交后转人工分拨', 'No clear category: triage by hand'),
                  ),
          ),
          h(Duplicates, {
            items: assist?.duplicateSuggestions ?? [],
            unavailable: assist?.duplicates === 'unavailable',
            selected: selectedDup,
            onSelect: (i) => setSelectedDup(selectedDup === i ? undefined : i),
            onAttach: (i) => void attach(i),
            busy,
          }),
          h(OpenCases, { cases: openCases, known, knownMore }),
        ),
      ),
    ),
  );
}

mount(staffApp('agent', Console));
