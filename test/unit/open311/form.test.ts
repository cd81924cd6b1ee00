import { describe, expect, it } from 'vitest';
import { FORM_LIMITS, parseForm, serializeForm } from '#channels/open311/form.ts';
import { perlQueryForm } from './fixtures/fixmystreet.ts';

const ok = (text: string) => {
  const r = parseForm(text);
  if (!r.ok) throw new Error(`unexpected refusal: ${r.error.message}`);
  return r.form;
};
const refusal = (text: string) => {
  const r = parseForm(text);
  if (r.ok) throw new Error('expected a refusal');
  return { status: r.error.status, code: r.error.code };
};

describe('Function: parseForm', () => {
  it('should read plain fields, + as space and UTF-8 escapes', () => {
    const f = ok('service_code=SZ-01&description=%E8%B7%AF%E7%81%AF+%E4%B8%8D%E4%BA%AE&lat=22.7');
    expect(Object.fromEntries(f.fields)).toEqual({ service_code: 'SZ-01', description: '路灯 不亮', lat: '22.7' });
  });

  it('should read attribute[CODE], repeated attribute[CODE] and attribute[CODE][] as value lists', () => {
    // Prepare: FixMyStreet repeats the key for an arrayref; PHP clients add [].
    const perl = perlQueryForm([
      ['attribute[fault]', ['off', 'flicker']],
      ['attribute[pole_number]', 'PS-1'],
    ]);
    const php = 'attribute%5Bfault%5D%5B%5D=off&attribute%5Bfault%5D%5B%5D=flicker&attribute[pole_number]=PS-1';
    // Act + Assess
    for (const text of [perl, php]) {
      const f = ok(text);
      expect(Object.fromEntries(f.attributes)).toEqual({ fault: ['off', 'flicker'], pole_number: ['PS-1'] });
      expect(f.fields.size).toBe(0);
    }
  });

  it('should keep an empty value and a key without =', () => {
    const f = ok('a=&b&attribute[x]=');
    expect(Object.fromEntries(f.fields)).toEqual({ a: '', b: '' });
    expect(f.attributes.get('x')).toEqual(['']);
  });

  it('should ignore odd field names but never let them reach an object prototype', () => {
    const f = ok('__proto__=x&constructor=y&a[b]=1&name%00=z&ok=1');
    // Names live in a Map: `__proto__` is just a key there, and odd names are skipped.
    expect([...f.fields.keys()]).toEqual(['__proto__', 'constructor', 'ok']);
    expect(f.fields.get('__proto__')).toBe('x');
    expect(({} as Record<string, unknown>).x).toBeUndefined();
    const g = ok('attribute[__proto__]=1');
    expect(g.attributes.get('__proto__')).toEqual(['1']);
  });

  it.each([
    ['a malformed escape', 'a=%E4%B8', 'MALFORMED_FORM'],
    ['a lone % sign', 'a=100%', 'MALFORMED_FORM'],
    ['a lone surrogate escape', 'a=%ED%A0%80', 'MALFORMED_FORM'],
    ['a repeated plain field', 'a=1&a=2', 'DUPLICATE_FIELD'],
    ['an empty attribute code', 'attribute[]=1', 'MALFORMED_ATTRIBUTE'],
    ['a nested attribute', 'attribute[a][b]=1', 'MALFORMED_ATTRIBUTE'],
    ['too many pairs', Array.from({ length: FORM_LIMITS.pairs + 1 }, (_, i) => `k${i}=1`).join('&'), 'TOO_MANY_FIELDS'],
    [
      'too many attributes',
      Array.from({ length: FORM_LIMITS.attributes + 1 }, (_, i) => `attribute[a${i}]=1`).join('&'),
      'MALFORMED_ATTRIBUTE',
    ],
    ['a 200-character name', `${'k'.repeat(200)}=1`, 'MALFORMED_FORM'],
  ])('should refuse %s with a 400', (_name, text, code) => {
    expect(refusal(text)).toEqual({ status: 400, code });
  });

  it('should serialize back without the omitted fields (the api_key is never stored)', () => {
    const f = ok('api_key=secret&service_code=SZ-01&attribute[fault]=off&attribute[fault]=flicker');
    const text = serializeForm(f, ['api_key']);
    expect(text).not.toContain('secret');
    const again = ok(text);
    expect(Object.fromEntries(again.fields)).toEqual({ service_code: 'SZ-01' });
    expect(again.attributes.get('fault')).toEqual(['off', 'flicker']);
  });
});
