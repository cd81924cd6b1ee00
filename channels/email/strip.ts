/**
 * Keeps what the citizen wrote this time: quoted reply history (`>` lines, `在 … 写道：`, `On … wrote:`,
 * `-----邮件原件-----`, `-----Original Message-----`, QQ's `------------------ 原始邮件 ------------------`, Outlook's
 * `发件人:`/`From:` header blocks) and signatures (`-- `, `发自我的iPhone`, `Sent from my …`, mail-app footers) are cut
 * from the request text. The caller keeps the raw message, so nothing is lost.
 */

const SEPARATOR =
  /^[-—_=*\s]{2,}\s*(?:[^-—_=]{0,12})?(?:原始邮件|原邮件|邮件原件|原始郵件|郵件原件|转发邮件|转发的邮件|转发邮件信息|轉寄郵件|Original Message|Forwarded Message|Message d'origine|Ursprüngliche Nachricht)\s*[-—_=*\s]{2,}$/i;
const FORWARD_INTRO = /^(?:Begin forwarded message|以下是转发的邮件|转发的邮件|Forwarded message)\s*[:：]?$/i;
const UNDERSCORES = /^_{10,}$/;
const HEADER_FROM = /^\*?\s*(?:发件人|發件人|寄件者|寄件人|发信人|From)\s*\*?\s*[:：]/i;
const HEADER_OTHER =
  /^\*?\s*(?:发送时间|發送時間|时间|時間|日期|Sent|Date|收件人|To|抄送|Cc|主题|主旨|Subject)\s*\*?\s*[:：]/i;
/** `On Mon, … wrote:`, `在 2024年1月1日 …，张三 写道：`, `张三 <a@b> 于2024年1月1日周一 10:00写道：` */
const WROTE = /(?:wrote|写道|寫道|schrieb|a écrit)\s*[:：]\s*$/i;
const WROTE_LEAD = /^(?:On\s|在\s?|於\s?|Am\s|Le\s)|于\s?\d{4}|\d{4}[-/年.]\d{1,2}|@/i;
const QUOTE = /^\s*>/;

const SIGNATURE = [
  /^--\s?$/,
  /^(?:发自|来自|從|从|寄自)我的\s?\S.{0,20}$/,
  /^(?:Sent|Sent from|Sent via|Envoyé de)\s.{0,40}$/i,
  /^(?:Get|获取|取得)\s*Outlook\s.{0,30}$/i,
  /^(?:发自|来自|來自)\s*.{0,16}(?:邮箱|郵箱|邮件|客户端|大师|Mail|Outlook|iPhone|iPad|Android|手机|App)\s*$/i,
];

function isSeparator(lines: readonly string[], i: number): boolean {
  const line = (lines[i] ?? '').trim();
  if (!line) return false;
  if (SEPARATOR.test(line) || FORWARD_INTRO.test(line)) return true;
  if (UNDERSCORES.test(line)) {
    for (let k = i + 1; k < Math.min(lines.length, i + 4); k++)
      if (HEADER_FROM.test((lines[k] ?? '').trim())) return true;
  }
  if (HEADER_FROM.test(line)) {
    // a From: line alone is text; followed by Sent/To/Subject lines it is a quoted header block
    let others = 0;
    for (let k = i + 1; k < Math.min(lines.length, i + 7); k++)
      if (HEADER_OTHER.test((lines[k] ?? '').trim())) others++;
    return others >= 1;
  }
  if (WROTE.test(line) && line.length <= 300 && WROTE_LEAD.test(line)) return true;
  // Gmail wraps the attribution: "On Mon, 1 Jan 2024 at 10:00, 张三 <\nzs@example.com> wrote:"
  const next = (lines[i + 1] ?? '').trim();
  if (/^(?:On\s|在\s?)/.test(line) && WROTE.test(next) && line.length + next.length <= 300) return true;
  return false;
}

/** Index just after the quoted header block that starts at `i`, so that a bare forward keeps the forwarded text. */
function afterHeaderBlock(lines: readonly string[], i: number): number {
  let k = i + 1;
  while (k < lines.length) {
    const l = (lines[k] ?? '').trim();
    if (l === '' || HEADER_FROM.test(l) || HEADER_OTHER.test(l) || UNDERSCORES.test(l)) k++;
    else break;
  }
  return k;
}

function cutSignature(lines: string[]): string[] {
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] ?? '').trim();
    if (!SIGNATURE.some((re) => re.test(line))) continue;
    // a signature is short: a marker with a long text after it is part of the text
    const rest = lines.slice(i + 1).filter((l) => l.trim() !== '').length;
    if (rest <= 12) return lines.slice(0, i);
  }
  return lines;
}

function trimLines(lines: string[]): string {
  return lines
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

/**
 * The request text of a mail body: quoted history and signature removed. When the citizen wrote nothing of their
 * own above a forwarded message, the forwarded text (without its header block) is the request.
 */
export function stripReply(text: string, depth = 0): string {
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  let cut = lines.length;
  for (let i = 0; i < lines.length; i++) {
    if (isSeparator(lines, i)) {
      cut = i;
      break;
    }
  }
  const own = cutSignature(lines.slice(0, cut).filter((l) => !QUOTE.test(l)));
  const result = trimLines(own);
  if (result || cut >= lines.length || depth >= 3) return result;
  // nothing of their own: take what they forwarded
  const start = afterHeaderBlock(lines, cut);
  return stripReply(lines.slice(start).join('\n'), depth + 1);
}
