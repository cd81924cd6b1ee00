/**
 * Notices to the citizen (通知) on the channel they came from: email → email, WeChat → WeChat subscribe message,
 * hotline / web / Open311 with a phone → SMS. The citizen hears of dispatch (派单, also 改派 and 重办), of the result
 * with the request to rate it (回访), and of closure (办结); a consultation's answer and a 不予受理 come the same way.
 * Pure: builds the `OutboundMessage`; the service hands it to the `Outbox` port.
 */
import type { Case } from '../case.ts';
import type { AuditRecord } from '../lifecycle/types.ts';
import type { OutboundMessage } from '../ports.ts';

export const NOTICE_KINDS = [
  'case-dispatched',
  'case-follow-up',
  'case-closed',
  'case-answered',
  'case-rejected',
] as const;
export type NoticeKind = (typeof NOTICE_KINDS)[number];

export interface NoticeContext {
  /** Base URL of the citizen page, e.g. https://12345.example.gov.cn (no trailing slash needed). */
  publicUrl: string;
  /** The citizen's token for a tracking number (see `citizen-auth.ts`); undefined → links without a token. */
  token?: (trackingNo: string) => string | undefined;
  departmentName: (id: string) => string | undefined;
}

/** Where a citizen can be reached, preferring the channel they used. */
export function recipientOf(
  c: Pick<Case, 'channel' | 'citizen'>,
): { channel: OutboundMessage['channel']; to: string } | undefined {
  const who = c.citizen;
  if (!who || who.anonymous) return undefined;
  if (c.channel === 'email' && who.email) return { channel: 'email', to: who.email };
  if (c.channel === 'wechat' && who.openid) return { channel: 'wechat', to: who.openid };
  if (who.phone) return { channel: 'sms', to: who.phone };
  if (who.email) return { channel: 'email', to: who.email };
  if (who.openid) return { channel: 'wechat', to: who.openid };
  return undefined;
}

/**
 * Whether a step started a new handling cycle at a department: any entry into `dispatched`, including a 改派 of a
 * case that was still `dispatched` (not signed yet) at another department.
 */
export function enteredDispatch(audit: Pick<AuditRecord, 'action' | 'from' | 'to'>): boolean {
  return audit.to === 'dispatched' && (audit.from !== 'dispatched' || audit.action === 'redispatch');
}

/** Which notice an accepted lifecycle step owes the citizen, if any. */
export function noticeKindOf(audit: Pick<AuditRecord, 'action' | 'from' | 'to'>): NoticeKind | undefined {
  if (enteredDispatch(audit)) return 'case-dispatched';
  if (audit.action === 'approveClosure') return 'case-follow-up';
  if (audit.to === 'closed' && audit.from !== 'closed') return 'case-closed';
  if (audit.action === 'answer') return 'case-answered';
  if (audit.action === 'reject') return 'case-rejected';
  return undefined;
}

const clip = (s: string, n: number): string => (s.length > n ? `${s.slice(0, n)}…` : s);

export function trackingLink(ctx: NoticeContext, trackingNo: string): string {
  const base = ctx.publicUrl.replace(/\/+$/, '');
  const token = ctx.token?.(trackingNo);
  return `${base}/?tn=${encodeURIComponent(trackingNo)}${token ? `&token=${encodeURIComponent(token)}` : ''}`;
}

/** The latest 办结反馈 text of the case (what the department reported), for the follow-up notice. */
function latestResult(c: Case): string | undefined {
  for (let i = c.history.length - 1; i >= 0; i--) {
    const h = c.history[i];
    if (h?.action === 'resolve' && typeof h.text === 'string') return h.text;
  }
  return undefined;
}

/**
 * The notice of kind `kind` for the case as it is now (after the step), or undefined when the citizen cannot be
 * reached (anonymous, no contact).
 */
export function buildNotice(
  c: Case,
  kind: NoticeKind,
  ctx: NoticeContext,
  audit?: AuditRecord,
): OutboundMessage | undefined {
  const to = recipientOf(c);
  if (!to) return undefined;
  const tn = c.trackingNo;
  const link = trackingLink(ctx, tn);
  const dept = c.department ? (ctx.departmentName(c.department) ?? c.department) : '承办单位';
  let subject: string;
  let body: string;
  switch (kind) {
    case 'case-dispatched': {
      const again = audit?.action === 'reopen' || audit?.details?.reopened === true;
      const moved = audit?.action === 'approveReturn' || audit?.action === 'redispatch';
      subject = again ? '已重新办理' : moved ? '已改派' : '已派单';
      body = again
        ? `您的诉求（受理编号 ${tn}）已交由${dept}重新办理。`
        : moved
          ? `您的诉求（受理编号 ${tn}）已改由${dept}办理。`
          : `您的诉求（受理编号 ${tn}）已派至${dept}办理。`;
      body += `查询进度：${link}`;
      break;
    }
    case 'case-follow-up': {
      const result = latestResult(c);
      subject = '办理结果，请评价';
      body = `您的诉求（受理编号 ${tn}）已办理完毕${result ? `：${clip(result, 200)}` : '。'}请对办理结果进行评价（满意/基本满意/不满意）：${link}`;
      break;
    }
    case 'case-closed':
      subject = '已办结';
      body = `您的诉求（受理编号 ${tn}）已办结，感谢您的评价。查询：${link}`;
      break;
    case 'case-answered':
      subject = '已答复';
      body = `您的咨询（受理编号 ${tn}）答复如下：${clip(audit?.text ?? '', 300)} 查询：${link}`;
      break;
    case 'case-rejected':
      subject = '不予受理';
      body = `您的诉求（受理编号 ${tn}）不予受理：${clip(audit?.reason ?? '', 200)} 查询：${link}`;
      break;
  }
  return {
    channel: to.channel,
    to: to.to,
    subject: `【12345】您的诉求 ${tn} ${subject}`,
    text: `【12345】${body}`,
    trackingNo: tn,
    caseId: c.caseId,
    kind,
  };
}

/**
 * For the triage path (SQS-free hook): the notice a newly opened case owes, i.e. the dispatch notice when triage
 * dispatched it automatically; undefined for a case waiting in manual triage (its notice comes with `assignTriage`).
 */
export function noticeForOpenedCase(c: Case, ctx: NoticeContext): OutboundMessage | undefined {
  return c.state === 'dispatched' ? buildNotice(c, 'case-dispatched', ctx) : undefined;
}
