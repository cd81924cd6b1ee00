import { describe, expect, it } from 'vitest';
import { htmlToText } from '#channels/email/html.ts';
import { stripReply } from '#channels/email/strip.ts';

describe('Function: stripReply', () => {
  it('should cut a QQ Mail reply at the 原始邮件 separator and drop the iPhone signature', () => {
    // Prepare
    const text = [
      '还是很吵，昨晚一直到十二点。',
      '',
      '发自我的iPhone',
      '',
      '',
      '------------------ 原始邮件 ------------------',
      '发件人: "12345热线"<no-reply@cityloop.local>;',
      '发送时间: 2025年11月28日(星期五) 上午10:00',
      '收件人: "张三"<zs@qq.com>;',
      '主题: [受理编号 20251128000123] Re: 噪音投诉',
      '',
      '您好！您的来信已收到并受理。',
    ].join('\n');
    // Act
    const stripped = stripReply(text);
    // Assess
    expect(stripped).toBe('还是很吵，昨晚一直到十二点。');
  });

  it('should cut an Outlook (Chinese) reply at the 发件人/发送时间 header block', () => {
    // Prepare
    const text = [
      '补充一下：施工单位是某某建筑公司。',
      '',
      '________________________________',
      '发件人: 12345热线 <no-reply@cityloop.local>',
      '发送时间: 2025年11月28日 10:00',
      '收件人: 李四 <ls@company.cn>',
      '主题: [受理编号 20251128000123] Re: 噪音投诉',
      '',
      '您好！',
    ].join('\n');
    // Act & Assess
    expect(stripReply(text)).toBe('补充一下：施工单位是某某建筑公司。');
  });

  it('should cut at -----邮件原件----- and -----Original Message-----', () => {
    // Prepare
    const zh =
      '已经修好了，谢谢。\n\n-----邮件原件-----\n发件人: a@b.cn\n发送时间: 2025年11月28日\n主题: 路灯\n\n路灯坏了';
    const en =
      'Thanks, it is fixed.\n\n-----Original Message-----\nFrom: a@b.cn\nSent: Friday\nSubject: lamp\n\nlamp broken';
    // Act & Assess
    expect(stripReply(zh)).toBe('已经修好了，谢谢。');
    expect(stripReply(en)).toBe('Thanks, it is fixed.');
  });

  it('should cut Gmail attributions in Chinese and English, wrapped or not', () => {
    // Prepare
    const zh1 =
      '还没有人来处理。\n\n在 2025年11月28日 星期五 10:00，12345热线 <no-reply@cityloop.local> 写道：\n> 您好！';
    const zh2 = '还没有人来处理。\n\n12345热线 <no-reply@cityloop.local> 于2025年11月28日周五 10:00写道：\n\n> 您好！';
    const en1 = 'Nobody came yet.\n\nOn Fri, Nov 28, 2025 at 10:00 AM 12345 <no-reply@cityloop.local> wrote:\n> Hello';
    const en2 =
      'Nobody came yet.\n\nOn Fri, Nov 28, 2025 at 10:00 AM 12345 Hotline <\nno-reply@cityloop.local> wrote:\n> Hello';
    // Act & Assess
    expect(stripReply(zh1)).toBe('还没有人来处理。');
    expect(stripReply(zh2)).toBe('还没有人来处理。');
    expect(stripReply(en1)).toBe('Nobody came yet.');
    expect(stripReply(en2)).toBe('Nobody came yet.');
  });

  it('should drop > quoted lines interleaved with the answer and keep the answer', () => {
    // Prepare
    const text = '> 请问具体地址？\n幸福路12号\n> 什么时间？\n每天晚上十点以后';
    // Act & Assess
    expect(stripReply(text)).toBe('幸福路12号\n每天晚上十点以后');
  });

  it('should drop signatures: "-- ", Sent from my ..., 163 and QQ app footers', () => {
    // Prepare
    const cases = [
      ['井盖丢了，很危险。\n\n-- \n张三\n13800138000', '井盖丢了，很危险。'],
      ['Pothole on Main St.\n\nSent from my iPhone', 'Pothole on Main St.'],
      ['井盖丢了。\n\n来自网易邮箱大师', '井盖丢了。'],
      ['井盖丢了。\n\n发自我的华为手机', '井盖丢了。'],
      ['井盖丢了。\n\n发自 QQ 邮箱', '井盖丢了。'],
      ['Pothole.\n\nGet Outlook for Android', 'Pothole.'],
    ];
    // Act
    const stripped = cases.map(([t]) => stripReply(t as string));
    // Assess
    expect(stripped).toEqual(cases.map(([, want]) => want));
  });

  it('should keep a dash line followed by a long text (not a signature)', () => {
    // Prepare
    const long = Array.from({ length: 20 }, (_, i) => `第${i + 1}条意见`).join('\n');
    const text = `以下是我的意见：\n--\n${long}`;
    // Act & Assess
    expect(stripReply(text)).toBe(text);
  });

  it('should take the forwarded text when the citizen wrote nothing above a forward', () => {
    // Prepare
    const text = [
      '---------- Forwarded message ---------',
      'From: 王五 <ww@example.com>',
      'Date: 2025年11月27日',
      'Subject: 路灯',
      'To: <zs@qq.com>',
      '',
      '幸福路12号路灯坏了三天。',
    ].join('\n');
    // Act & Assess
    expect(stripReply(text)).toBe('幸福路12号路灯坏了三天。');
  });

  it('should leave a text without history or signature as it is', () => {
    // Prepare
    const text = '您好：\n我想咨询一下居住证办理需要哪些材料？\nFrom: 这里的From不是邮件头';
    // Act & Assess
    expect(stripReply(text)).toBe(text);
  });

  it('should recognise quoted history in HTML mail once converted to text (blockquote)', () => {
    // Prepare
    const html =
      '<div>还没修好。</div><div class="gmail_quote"><div>在 2025年11月28日 10:00，12345 &lt;no-reply@cityloop.local&gt; 写道：</div><blockquote>您好！<br>已受理。</blockquote></div>';
    // Act
    const text = htmlToText(html);
    // Assess
    expect(text).toContain('> 您好！');
    expect(stripReply(text)).toBe('还没修好。');
  });
});

describe('Function: htmlToText', () => {
  it('should keep line breaks of blocks, lists and <br>, and drop scripts, styles and comments', () => {
    // Prepare
    const html =
      '<html><head><title>t</title><style>.a{}</style></head><body><!-- x --><h1>标题</h1><p>第一段<br/>第二行</p><ul><li>一</li><li>二</li></ul><script>evil()</script><table><tr><td>a</td><td>b</td></tr></table></body></html>';
    // Act
    const text = htmlToText(html);
    // Assess
    expect(text).toBe('标题\n\n第一段\n第二行\n\n- 一\n- 二\na\tb');
  });

  it('should decode entities and treat a stray < as text', () => {
    // Prepare
    const html = '<p>a &lt; b &amp;&amp; c &gt; d &#20320;&#x597D; &nbsp;x 3 < 4</p>';
    // Act & Assess
    expect(htmlToText(html)).toBe('a < b && c > d 你好 x 3 < 4');
  });
});
