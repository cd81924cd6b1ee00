/**
 * Email channel throughput: parseEmail on typical Chinese citizen mail (GBK text + HTML alternative, QP and base64),
 * the same with a phone photo attached, Big5 labelled us-ascii (the detection path), and the pure tail
 * (stripReply + emailToIntake). Mail is built with real encoders (iconv-lite), as the unit tests do.
 */

import iconv from 'iconv-lite';
import { simpleParser } from 'mailparser';
import { emailToIntake } from '#channels/email/intake.ts';
import { parseEmail } from '#channels/email/parse.ts';
import { stripReply } from '#channels/email/strip.ts';
import type { BenchSuite, BenchTable } from './types.ts';

const BODY = [
  '您好：',
  '我是幸福里小区3栋的居民。最近一个月，小区东侧的工地每天晚上十点以后还在施工，打桩机的噪音很大，',
  '老人和孩子都无法正常休息。我们多次向物业反映，物业说管不了。请有关部门尽快核实处理，谢谢！',
  '',
  '地址：某区幸福路12号幸福里小区东侧工地',
  '联系电话：13800138000',
  '',
  '张三',
  '',
  '发自我的iPhone',
  '',
  '------------------ 原始邮件 ------------------',
  '发件人: "12345热线"<no-reply@cityloop.local>;',
  '发送时间: 2025年11月28日(星期五) 上午10:00',
  '收件人: "张三"<zs@qq.com>;',
  '主题: [受理编号 20251128000123] Re: 噪音投诉',
  '',
  '您好！您的来信已收到并受理。',
].join('\r\n');

const b64 = (b: Buffer) => b.toString('base64').replace(/.{76}(?=.)/g, '$&\r\n');
const qp = (b: Buffer) =>
  [...b]
    .map((c) =>
      c >= 0x21 && c <= 0x7e && c !== 0x3d
        ? String.fromCharCode(c)
        : `=${c.toString(16).toUpperCase().padStart(2, '0')}`,
    )
    .join('')
    .replace(/(.{72}[^=]{0,2})/g, '$1=\r\n');
const word = (s: string, cs: string) => `=?${cs}?B?${iconv.encode(s, cs).toString('base64')}?=`;

function typicalMail(photoBytes: number): Buffer {
  const text = iconv.encode(BODY, 'gbk');
  const html = iconv.encode(`<div>${BODY.split('\r\n').join('<br>')}</div>`, 'gbk');
  const parts = [
    '--alt\r\nContent-Type: text/plain; charset="gb2312"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n',
    qp(text),
    '\r\n--alt\r\nContent-Type: text/html; charset="gb2312"\r\nContent-Transfer-Encoding: base64\r\n\r\n',
    b64(html),
    '\r\n--alt--\r\n',
  ].join('');
  const photo = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(Math.max(0, photoBytes - 4), 0x5a)]);
  const mixed = [
    '--mix\r\nContent-Type: multipart/alternative; boundary="alt"\r\n\r\n',
    parts,
    ...(photoBytes > 0
      ? [
          `\r\n--mix\r\nContent-Type: image/jpeg; name="${word('现场照片.jpg', 'gb2312')}"\r\nContent-Disposition: attachment; filename="${word('现场照片.jpg', 'gb2312')}"\r\nContent-Transfer-Encoding: base64\r\n\r\n`,
          b64(photo),
        ]
      : []),
    '\r\n--mix--\r\n',
  ].join('');
  const head = [
    `From: ${word('张三', 'gb2312')} <zs@qq.com>`,
    'To: 12345@city.example.cn',
    `Subject: ${word('回复：[受理编号 20251128000123] Re: 夜间施工噪音投诉', 'gb2312')}`,
    'Date: Fri, 28 Nov 2025 10:00:00 +0800',
    'Message-ID: <bench-1@qq.com>',
    'In-Reply-To: <ack.20251128000123.x@cityloop.local>',
    'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="mix"',
  ].join('\r\n');
  return Buffer.from(`${head}\r\n\r\n${mixed}`, 'latin1');
}

function big5Mislabelled(): Buffer {
  const text = iconv.encode(
    '您好：\r\n社區物業亂收停車費，每個月多收兩百元，請相關部門查處。\r\n地址：幸福路12號\r\n陳大文'.repeat(3),
    'big5',
  );
  return Buffer.concat([
    Buffer.from(
      `From: chan@example.hk\r\nSubject: ${word('停車費投訴', 'big5')}\r\nMessage-ID: <b5@example.hk>\r\nContent-Type: text/plain; charset=us-ascii\r\nContent-Transfer-Encoding: 8bit\r\n\r\n`,
    ),
    text,
  ]);
}

async function timeAsync(budgetMs: number, body: () => Promise<unknown>): Promise<{ ops: number; ms: number }> {
  let ops = 0;
  const started = performance.now();
  let now = started;
  while (now - started < budgetMs) {
    await body();
    ops++;
    now = performance.now();
  }
  return { ops, ms: now - started };
}

const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits });

const suite: BenchSuite = async ({ quick }) => {
  const budget = quick ? 300 : 2000;
  const cases: [string, Buffer, string][] = [
    ['GBK text+HTML reply (QP/base64)', typicalMail(0), '≥ 100 mail/s'],
    ['same + 300 KB photo', typicalMail(300 * 1024), '≥ 10 MB/s'],
    ['same + 3 MB photo', typicalMail(3 * 1024 * 1024), '≥ 10 MB/s'],
    ['Big5 labelled us-ascii (detection)', big5Mislabelled(), '≥ 100 mail/s'],
  ];
  // warm up: codec tables, JIT
  for (const [, raw] of cases) await parseEmail(raw);

  const rows: (string | number)[][] = [];
  for (const [name, raw, target] of cases) {
    const { ops, ms } = await timeAsync(budget, () => parseEmail(raw));
    const perSec = (ops / ms) * 1000;
    rows.push([
      name,
      fmt(raw.length / 1024, 1),
      fmt(perSec),
      fmt(ms / ops, 2),
      fmt((perSec * raw.length) / 1048576, 1),
      target,
    ]);
  }
  // baseline: mailparser alone on the photo mail, to show what our pre-scan and detection add
  const photoMail = typicalMail(300 * 1024);
  const base = await timeAsync(budget, () => simpleParser(photoMail, { skipHtmlToText: true, skipTextToHtml: true }));
  const basePerSec = (base.ops / base.ms) * 1000;
  rows.push([
    'baseline: simpleParser alone, 300 KB photo mail',
    fmt(photoMail.length / 1024, 1),
    fmt(basePerSec),
    fmt(base.ms / base.ops, 2),
    fmt((basePerSec * photoMail.length) / 1048576, 1),
    '-',
  ]);
  const parsed = await parseEmail(typicalMail(0));
  const tail = await timeAsync(budget, async () => {
    emailToIntake(parsed, { receivedAt: '2025-11-28T10:00:00+08:00' });
  });
  rows.push([
    'stripReply + emailToIntake',
    '-',
    fmt((tail.ops / tail.ms) * 1000),
    fmt(tail.ms / tail.ops, 3),
    '-',
    '≥ 10,000/s',
  ]);
  const strip = await timeAsync(budget, async () => stripReply(parsed.text));
  rows.push(['stripReply alone', '-', fmt((strip.ops / strip.ms) * 1000), fmt(strip.ms / strip.ops, 3), '-', '-']);

  const table: BenchTable = {
    title: 'Email channel: parseEmail throughput (one core, sequential)',
    columns: ['mail', 'KB', 'mail/s', 'ms/mail', 'MB/s', 'target'],
    rows,
    notes: [
      'Targets: an SES-triggered Lambda parses one mail per invocation; ≥ 100 mail/s for text mail and ≥ 10 MB/s for',
      'attachments keep a 25 MB mail (the size limit) under 3 s, far from the 20 s parse watchdog. parseEmail includes',
      'the MIME depth pre-scan, charset detection, attachment checks and SHA-256 of attachments; the baseline row is',
      'mailparser alone (md5 checksums, no detection) on the same photo mail.',
      `Budget ${budget} ms per row${quick ? ' (--quick)' : ''}.`,
    ],
  };
  return [table];
};

export default suite;
