/**
 * WeChat subscribe messages (订阅消息) for citizen notices. Pure: the template data for a notice and what to do with
 * WeChat's errcode answer.
 * API: https://developers.weixin.qq.com/miniprogram/dev/OpenApiDoc/mp-message-management/subscribe-message/sendMessage.html
 *
 * The template (chosen in the mini-program console, id in `WECHAT_NOTICE_TEMPLATE_ID`) is a 工单进度提醒 with four
 * keywords; their keys are numbered per template, so the key names are configurable (`WECHAT_NOTICE_FIELDS`, four
 * comma-separated keys in this order, default `character_string1,phrase2,thing3,time4`):
 * - 受理编号 `character_string` (≤ 32 letters, digits, symbols): the tracking number;
 * - 办理状态 `phrase` (≤ 5 Chinese characters): 已派单 / 已改派 / 已重新办理 / 待评价 / 已办结 / 已答复 / 不予受理;
 * - 处理说明 `thing` (≤ 20 characters): the notice text without the 【12345】 tag and the link, clipped;
 * - 更新时间 `time` (`2026年11月28日 19:05`, Asia/Shanghai): when the notice was sent.
 * WeChat refuses values over those limits (errcode 47003), so every value is clipped to its type's limit here.
 */
import type { WechatNotice } from './message.ts';

export interface TemplateFields {
  trackingNo: string;
  status: string;
  summary: string;
  time: string;
}

export const DEFAULT_TEMPLATE_FIELDS: TemplateFields = {
  trackingNo: 'character_string1',
  status: 'phrase2',
  summary: 'thing3',
  time: 'time4',
};

const FIELD_KEY = /^(character_string|phrase|thing|time|number|letter|symbol|date|name)\d{1,2}$/;

/** `WECHAT_NOTICE_FIELDS` → the four keys, or undefined when the value is not four valid template keys. */
export function parseTemplateFields(value: string | undefined): TemplateFields | undefined {
  if (value === undefined || value.trim() === '') return DEFAULT_TEMPLATE_FIELDS;
  const keys = value.split(',').map((k) => k.trim());
  if (keys.length !== 4 || !keys.every((k) => FIELD_KEY.test(k)) || new Set(keys).size !== 4) return undefined;
  const [trackingNo, status, summary, time] = keys as [string, string, string, string];
  return { trackingNo, status, summary, time };
}

/** 办理状态 by notice kind (`core/cases/notify.ts`), for notices whose subject does not name it. */
const STATUS_BY_KIND: Record<string, string> = {
  'case-dispatched': '已派单',
  'case-follow-up': '待评价',
  'case-closed': '已办结',
  'case-answered': '已答复',
  'case-rejected': '不予受理',
};

const PHRASE = /^[\u4e00-\u9fff]{1,5}$/;
const LINK = /https?:\/\/\S+/g;

const clip = (s: string, n: number): string => {
  const chars = [...s];
  return chars.length > n ? `${chars.slice(0, n - 1).join('')}…` : s;
};

/** The status phrase: the last word of the subject (`【12345】您的诉求 <no> 已改派`) when it is one, else by kind. */
export function statusPhrase(notice: Pick<WechatNotice, 'subject' | 'kind'>): string {
  const last = notice.subject?.trim().split(/\s+/).pop();
  if (last && PHRASE.test(last)) return last;
  return STATUS_BY_KIND[notice.kind] ?? '办理中';
}

/** The notice text for a `thing` field: no 【12345】 tag, no links or their labels, at most 20 characters. */
export function summaryOf(text: string): string {
  const s = text
    .replace(/^【[^】]*】/, '')
    .replace(LINK, '')
    .replace(/(查询进度|查询|请对办理结果进行评价[^：:]*)[：:]\s*$/, '')
    .replace(/（受理编号 [^）]*）/, '')
    .replace(/\s+/g, ' ')
    .trim();
  return clip(s || '您的诉求有新进展', 20);
}

/** `2026年11月28日 19:05` in Asia/Shanghai (UTC+8, no DST). */
export function shanghaiTime(at: Date): string {
  const t = new Date(at.getTime() + 8 * 3600_000);
  const hh = String(t.getUTCHours()).padStart(2, '0');
  const mm = String(t.getUTCMinutes()).padStart(2, '0');
  return `${t.getUTCFullYear()}年${t.getUTCMonth() + 1}月${t.getUTCDate()}日 ${hh}:${mm}`;
}

/** The tracking number for a `character_string` field: the notice's own, else the one quoted in the text. */
export function trackingNoOf(notice: Pick<WechatNotice, 'trackingNo' | 'text'>): string {
  const tn = notice.trackingNo ?? /受理编号\s*([A-Za-z0-9-]+)/.exec(notice.text)?.[1] ?? '-';
  return clip(tn.replace(/[^\x21-\x7e]/g, ''), 32) || '-';
}

export type TemplateData = Record<string, { value: string }>;

export function subscribeData(notice: WechatNotice, at: Date, fields: TemplateFields): TemplateData {
  return {
    [fields.trackingNo]: { value: trackingNoOf(notice) },
    [fields.status]: { value: statusPhrase(notice) },
    [fields.summary]: { value: summaryOf(notice.text) },
    [fields.time]: { value: shanghaiTime(at) },
  };
}

/** The mini-program page the card opens: `page` with the tracking number as `tn`. */
export function noticePage(page: string, notice: Pick<WechatNotice, 'trackingNo'>): string {
  if (!notice.trackingNo) return page;
  return `${page}${page.includes('?') ? '&' : '?'}tn=${encodeURIComponent(notice.trackingNo)}`;
}

/**
 * What an errcode answer of `subscribeMessage.send` means for the queue item:
 * - `sent` (0);
 * - `refresh-token` (40001 invalid credential, 42001 access token expired, 40014 invalid access token): fetch a new
 *   token and send once more;
 * - `drop` (43101: the citizen did not accept, or used up, the subscription): nothing will change on a retry, the
 *   notice is dropped with a log line;
 * - `fail` (anything else, e.g. -1 busy, 45009 quota, 47003 bad data, 40037 bad template): the item fails and is
 *   retried until the DLQ.
 */
export type SubscribeOutcome = 'sent' | 'refresh-token' | 'drop' | 'fail';

export function subscribeOutcome(errcode: number | undefined): SubscribeOutcome {
  if (errcode === undefined || errcode === 0) return 'sent';
  if (errcode === 40001 || errcode === 42001 || errcode === 40014) return 'refresh-token';
  if (errcode === 43101) return 'drop';
  return 'fail';
}
