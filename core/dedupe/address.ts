/**
 * Address keys: two spellings of one place should meet in the same key, without a geocoder.
 * `normalizeAddress` makes the text canonical (full-width → half-width, building/door numerals → digits, 号楼/幢 → 栋,
 * noise words 门口/附近/对面 dropped); `placeKeys` pulls the parts that name a place: 小区+栋 (building), 路+号 (door),
 * two crossing roads, 小区 alone (estate), 村+组 (village), and the road itself as a weak key (roads are kilometres
 * long: the engine asks for more similar text when only the road is shared). Keys are also taken from a report's text
 * ("和平路12号水管爆了"), which lets a report with coordinates only meet one with a typed address.
 */

import { nfkcLower, nfkcLowerJoined } from '../text/fold.ts';
import { codePointAt, isSeparator } from './text.ts';

const CN_DIGIT: Record<string, number> = {
  零: 0,
  〇: 0,
  一: 1,
  二: 2,
  两: 2,
  三: 3,
  四: 4,
  五: 5,
  六: 6,
  七: 7,
  八: 8,
  九: 9,
};
const CN_UNIT: Record<string, number> = { 十: 10, 百: 100, 千: 1000 };

/** 三 → 3, 十二 → 12, 一百零五 → 105, 五〇三 (digit by digit) → 503. Returns undefined for anything else. */
export function chineseNumeral(s: string): number | undefined {
  if (!s || !/^[零〇一二两三四五六七八九十百千]+$/.test(s)) return undefined;
  if (!/[十百千]/.test(s)) {
    let n = 0;
    for (const ch of s) n = n * 10 + (CN_DIGIT[ch] ?? 0);
    return n;
  }
  let total = 0;
  let digit = 0;
  for (const ch of s) {
    const d = CN_DIGIT[ch];
    if (d !== undefined) {
      digit = d;
      continue;
    }
    const unit = CN_UNIT[ch]!;
    total += (digit === 0 && unit === 10 ? 1 : digit) * unit;
    digit = 0;
  }
  return total + digit;
}

/** Words that say where the reporter stands relative to the place, not the place. */
const NOISE = /(斜对面|对面|门口|门前|附近|旁边|周边|周围|一带|边上|那边|这边|这里|那里|楼下|路边|后面|背后)/g;
/** A Chinese numeral right before a building/door unit is a number, not part of a name (五一路 stays). */
const NUMERAL_BEFORE_UNIT = /([零〇一二两三四五六七八九十百千]+)(?=号楼|号|栋|幢|座|单元|室|层|楼|期|组)/g;

export function normalizeAddress(text: string): string {
  const folded = nfkcLower(text);
  return normalizeFolded(folded, text, kindsOf(folded));
}

/**
 * What a text holds, as bits (`CHAR_KIND` per code unit, or-ed over its units; for a clause of free text, while its
 * bounds are found): each pattern below runs only on a text holding a character it needs. Normalizing only removes
 * characters, turns numerals into digits and 号楼/幢/# into 栋 (English: ASCII only), so a character absent from the
 * folded text is absent from its normal form.
 */
const NOISE_CHAR = 1;
const NUMERAL_CHAR = 2;
const UNIT_CHAR = 4;
const LATIN_CHAR = 8;
const ESTATE_CHAR = 16;
const ROAD_END_CHAR = 32;
const CROSSING_JOIN_CHAR = 64;
const VILLAGE_CHAR = 128;
/** A character the text patterns start from (see `textPlaceKeys`). */
const PLACE_CHAR = 256;
/** What 号楼/幢/栋楼 → 栋 needs. */
const LOU_CHAR = 512;
/** What a 栋 or 座 of the normal form comes from (栋 座, or 幢 号楼 # made into 栋). */
const BUILDING_UNIT_CHAR = 1024;
const DOOR_CHAR = 2048;
/** Every bit: nothing known about the text, every step runs when its own check says so. */
const ANY_CHARS = 4095;
/** Set on a clause cut between separators: it holds none ([\s\p{P}\p{S}], so no `#` either). */
const NO_SEPARATOR = 4096;
const CHAR_KIND = new Uint16Array(0x10000);
const markChars = (chars: string, bit: number) => {
  for (const ch of chars) CHAR_KIND[ch.charCodeAt(0)]! |= bit;
};
// One character of every NOISE word (斜对面 对面 后面 → 面, 门口 门前 → 门, 附近 → 近, 旁边 周边 边上 那边 这边 路边 → 边 ...).
markChars('面门近旁周带边里楼背', NOISE_CHAR);
markChars('零〇一二两三四五六七八九十百千', NUMERAL_CHAR);
// The first character of every unit NUMERAL_BEFORE_UNIT looks ahead for (号楼 号 栋 幢 座 单元 室 层 楼 期 组).
markChars('号栋幢座单室层楼期组', UNIT_CHAR);
markChars('abcdefghijklmnopqrstuvwxyz', LATIN_CHAR);
// The last character of every strong estate suffix (小区 花园 家园 新村 山庄 公寓 大厦 苑).
markChars('区园村庄寓厦苑', ESTATE_CHAR);
// The last character of every road suffix (大道 公路 大街 路 街 巷 弄).
markChars('路街巷弄道', ROAD_END_CHAR);
markChars('与和交、及', CROSSING_JOIN_CHAR);
markChars('村', VILLAGE_CHAR);
markChars('栋座幢号路街巷弄道区园村庄寓厦苑', PLACE_CHAR);
markChars('楼幢', LOU_CHAR);
markChars('栋座幢楼#', BUILDING_UNIT_CHAR);
markChars('号', DOOR_CHAR);

/** The `CHAR_KIND` bits of every unit of `s`. */
function kindsOf(s: string): number {
  let kinds = 0;
  for (let i = 0; i < s.length; i++) kinds |= CHAR_KIND[s.charCodeAt(i)]!;
  return kinds;
}

/**
 * `normalizeAddress(text)` given `t = nfkcLower(text)` (a clause cut from folded text is folded already), and `kinds`:
 * the `CHAR_KIND` bits of the characters of `folded` (or ANY_CHARS), plus NO_SEPARATOR when it holds none.
 */
function normalizeFolded(folded: string, text: string, kinds: number): string {
  let t = folded;
  // Each step runs only when the characters it acts on are there (a clause of free text rarely needs more than one).
  if ((kinds & NO_SEPARATOR) === 0 && t.includes('#')) t = t.replace(/(\d+)\s*#\s*(?:楼)?/g, '$1栋');
  if ((kinds & NO_SEPARATOR) === 0 && hasSeparator(t))
    t = t.replace(/[\s\p{P}\p{S}]+/gu, (m, offset: number, whole: string) => {
      // Keep a hyphen between two digits ("7-10栋", "3-501"), drop every other separator.
      const prev = whole[offset - 1] ?? '';
      const next = whole[offset + m.length] ?? '';
      return m.includes('-') && /\d/.test(prev) && /\d/.test(next) ? '-' : '';
    });
  if ((kinds & NOISE_CHAR) !== 0) t = t.replace(NOISE, '');
  if ((kinds & (NUMERAL_CHAR | UNIT_CHAR)) === (NUMERAL_CHAR | UNIT_CHAR))
    t = t.replace(NUMERAL_BEFORE_UNIT, (m) => String(chineseNumeral(m) ?? m));
  if ((kinds & LOU_CHAR) !== 0) {
    if (t.includes('楼')) t = t.replace(/号楼/g, '栋');
    if (t.includes('幢')) t = t.replace(/幢/g, '栋');
    if (t.includes('栋楼')) t = t.replace(/栋楼/g, '栋');
  }
  // English: common suffixes and directions, ordinals.
  if ((kinds & LATIN_CHAR) !== 0 && /[a-z]/.test(t) && !/[\u4e00-\u9fff]/.test(t)) t = normalizeEnglishAddress(text);
  return t;
}

function hasSeparator(t: string): boolean {
  for (let i = 0; i < t.length; i++) {
    const cp = codePointAt(t, i);
    if (isSeparator(cp)) return true;
    if (cp > 0xffff) i++;
  }
  return false;
}

const EN_ABBR: [RegExp, string][] = [
  [/\bstreet\b/g, 'st'],
  [/\bavenue\b/g, 'ave'],
  [/\broad\b/g, 'rd'],
  [/\bboulevard\b/g, 'blvd'],
  [/\bplace\b/g, 'pl'],
  [/\bdrive\b/g, 'dr'],
  [/\blane\b/g, 'ln'],
  [/\bparkway\b/g, 'pkwy'],
  [/\bcourt\b/g, 'ct'],
  [/\beast\b/g, 'e'],
  [/\bwest\b/g, 'w'],
  [/\bnorth\b/g, 'n'],
  [/\bsouth\b/g, 's'],
];

function normalizeEnglishAddress(text: string): string {
  let t = nfkcLower(text).split(',')[0] ?? '';
  t = t.replace(/[^\w\s-]/g, ' ').replace(/\b(\d+)(st|nd|rd|th)\b/g, '$1');
  for (const [re, s] of EN_ABBR) t = t.replace(re, s);
  return t.replace(/\s+/g, ' ').trim();
}

/**
 * Place names are keyed by their last two characters before the suffix (和平路, 民西路, 坪山大道, 鹃文苑): free text has no
 * word boundaries, so "你好和平路12号" and the address "深圳市坪山区和平路12号" must cut the name the same way.
 */
const HAN2 = '[\\u4e00-\\u9fff]{2}';
const ROAD_SUFFIX = '大道|公路|大街|路|街|巷|弄';
/** Strong estate suffixes name a place even in running text; weak ones are also plain words (公园, 城市, 政府). */
const STRONG_ESTATE = '小区|花园|家园|新村|山庄|公寓|大厦|苑';
const WEAK_ESTATE = '中心|广场|大院|园|城|府|庭|湾|阁|居|邸';
/** 路 followed by 灯/面/边/上 ... is a word (路灯, 路面), not the end of a road name. */
const NOT_ROAD_END = '(?![灯面边上段况线费过旁道])';
const DOOR_RE = new RegExp(`(${HAN2}(?:${ROAD_SUFFIX}))(\\d+(?:-\\d+)?)号`);
/** Any run of Han characters before a building number: the estate is cut from its end by `estateOf`. */
const BUILDING_RE = /([\u4e00-\u9fff]{2,})((?:\d+|[a-z])期)?((?:\d+|[a-z])(?:-\d+)?)(?:栋|座)/;
const ESTATE_RE = new RegExp(
  `(${HAN2}(?:${STRONG_ESTATE}))(?:小区)?((?:\\d+|[a-z])期)?|(${HAN2}(?:${WEAK_ESTATE}))((?:\\d+|[a-z])期)?$`,
);
const CROSSING_RE = new RegExp(
  `(${HAN2}(?:${ROAD_SUFFIX}))(?:与|和|交|、|及)(${HAN2}(?:${ROAD_SUFFIX}))${NOT_ROAD_END}`,
);
const ROAD_RE = new RegExp(`(${HAN2}(?:${ROAD_SUFFIX}))${NOT_ROAD_END}`);
const ESTATE_END = new RegExp(`(${HAN2}(?:${STRONG_ESTATE}|${WEAK_ESTATE}))$`);

/**
 * The estate part of the characters before a building number: 2 characters + suffix when there is a suffix
 * (六联花园, 翠华庭), else the last 2 (金地朗悦 → 朗悦: many estates have no suffix). 小区 is dropped first.
 */
function estateOf(run: string): string {
  const name = run.length > 3 && run.endsWith('小区') ? run.slice(0, -2) : run;
  return ESTATE_END.exec(name)?.[1] ?? name.slice(-2);
}
const VILLAGE_RE = new RegExp(`(${HAN2}村)(?:(\\d+)组)?`);
const EN_DOOR_RE = /^(\d+[a-z]?(?:-\d+)?) ([a-z0-9 ]+?(?: (?:st|ave|rd|blvd|pl|dr|ln|pkwy|ct|way|ter|sq))?)$/;

/** Most place keys a report keeps (address keys first, then keys found in its text). */
export const MAX_PLACE_KEYS = 4;

/**
 * The place keys of an address (or of free text with `fromText`), most specific first.
 * Equal keys mean "the same place": `b:` 小区+栋, `d:` 路+号, `x:` crossing (roads sorted), `e:` 小区, `v:` 村(+组),
 * `r:` a road (weak: only with more similar text), `en:` house number + street.
 */
export function placeKeys(address: string, opts: { fromText?: boolean } = {}): string[] {
  if (opts.fromText) return textPlaceKeys(address.normalize('NFKC'));
  const folded = nfkcLower(address);
  const kinds = kindsOf(folded);
  const t = normalizeFolded(folded, address, kinds);
  if (!t) return [];
  if (!/[\u4e00-\u9fff]/.test(t)) {
    const m = EN_DOOR_RE.exec(t);
    return m ? [`en:${m[1]} ${m[2]}`] : [];
  }
  const keys = precisePlaces(t, kinds);
  if (!keys.some((k) => k.startsWith('b:'))) {
    const estate = ESTATE_RE.exec(t);
    if (estate) keys.push(`e:${estate[1] ?? estate[3]}${estate[2] ?? estate[4] ?? ''}`);
  }
  const v = (kinds & VILLAGE_CHAR) !== 0 ? VILLAGE_RE.exec(t) : null;
  if (v) keys.push(v[2] ? `v:${v[1]}#${v[2]}` : `v:${v[1]}`);
  const door = (kinds & DOOR_CHAR) !== 0 && t.includes('号') ? DOOR_RE.exec(t) : null;
  const road = door?.[1] ?? ((kinds & ROAD_END_CHAR) !== 0 ? ROAD_RE.exec(t)?.[1] : undefined);
  if (road) keys.push(`r:${road}`);
  return distinctFirst(keys, MAX_PLACE_KEYS);
}

/** `[...new Set(keys)].slice(0, max)`. */
function distinctFirst(keys: readonly string[], max: number): string[] {
  const out: string[] = [];
  for (const k of keys) if (out.length < max && !out.includes(k)) out.push(k);
  return out;
}

/** A crossing joins two roads with one of these. */
const CROSSING_CHAR = /[与和交、及]/;

/**
 * Building, door and crossing: the forms that name one spot unambiguously. Each pattern runs only when the character
 * it must match is there (BUILDING_RE backtracks over every run of Han characters: quadratic on a long clause).
 */
function precisePlaces(t: string, kinds = ANY_CHARS): string[] {
  const keys: string[] = [];
  if ((kinds & BUILDING_UNIT_CHAR) !== 0 && (t.includes('栋') || t.includes('座'))) {
    const building = BUILDING_RE.exec(t);
    if (building) keys.push(`b:${estateOf(building[1]!)}${building[2] ?? ''}#${building[3]}`);
  }
  if ((kinds & DOOR_CHAR) !== 0 && t.includes('号')) {
    const door = DOOR_RE.exec(t);
    if (door) keys.push(`d:${door[1]}#${door[2]}`);
  }
  if ((kinds & CROSSING_JOIN_CHAR) !== 0 && CROSSING_CHAR.test(t)) {
    const x = CROSSING_RE.exec(t);
    if (x) keys.push(`x:${[x[1]!, x[2]!].sort().join('×')}`);
  }
  return keys;
}

/** A name cut from a sentence that holds a function word (这里的小区 → 里的小区) is not a name. */
const FUNCTION_CHARS = /[的了这那我你他她它们是有个就都也很太]/;

/** Words ending in 路/街/道 that are not road names: 马路, 道路, 走路, 修路, 一路, 小路, 网路, 出路, 水路 ... */
const ROAD_STOP = new Set([...'马道走修一小大网出水铁公过上下来去回进思套']);
/** `ROAD_STOP.has(road.replace(/(?:大道|公路|大街|路|街|巷|弄)$/, '').slice(-1))`, without the pattern. */
function notARoad(road: string): boolean {
  const n = road.length;
  const two = n >= 2 ? road.slice(n - 2) : '';
  const cut =
    two === '大道' || two === '公路' || two === '大街' ? 2 : '路街巷弄'.includes(road.slice(-1)) && n > 0 ? 1 : 0;
  return ROAD_STOP.has(road.slice(0, n - cut).slice(-1));
}

/**
 * PLACE_CHAR marks the characters one of the text patterns needs: a building or door unit (栋 座 幢 号), a road
 * suffix, a strong estate suffix (小区 花园 家园 新村 山庄 公寓 大厦 苑).
 */
const isHighSurrogate = (c: number) => c >= 0xd800 && c <= 0xdbff;

/** Estate words that are places in running text too (园/城/府/中心 are also 公园, 城市, 政府, 市中心). */
const TEXT_ESTATE_RE = new RegExp(`(${HAN2}(?:${STRONG_ESTATE}))`);

/**
 * Keys found in free text, clause by clause (punctuation stays a boundary, so "水管爆了，路面" never reads as a road):
 * building, door, crossing, estates with a strong suffix, and the first road named (not 马路/道路/走路).
 */
/**
 * The keys of a text given in NFKC, or in NFKC and lowercase (`lowered`: its clauses are then folded already, as a
 * piece of a folded text is; see `textPlaceKeysOf`).
 */
function textPlaceKeys(unified: string, lowered = false): string[] {
  const keys: string[] = [];
  const roads: string[] = [];
  const folded = unified.includes('#') ? unified.replace(/(\d+)\s*#\s*(?:楼)?/g, '$1栋') : unified;
  // Clauses are the runs between separators ([\s\p{P}\p{S}]). Most clauses of a message name no place: without one
  // of the PLACE_CHAR characters no pattern below can match (normalizeAddress only removes characters, turns
  // numerals into digits and 号楼/幢 into 栋). So the search jumps from one such character to the next and cuts out
  // only the clause around it, in text order.
  const n = folded.length;
  for (let from = 0; keys.length < MAX_PLACE_KEYS; ) {
    let at = from;
    while (at < n && (CHAR_KIND[folded.charCodeAt(at)]! & PLACE_CHAR) === 0) at++;
    if (at >= n) break;
    // The bounds of the clause, and the CHAR_KIND bits of its characters on the way (surrogates have none).
    let kinds = CHAR_KIND[folded.charCodeAt(at)]!;
    let start = at;
    while (start > 0) {
      const c = folded.charCodeAt(start - 1);
      const pair = c >= 0xdc00 && c <= 0xdfff && start > 1 && isHighSurrogate(folded.charCodeAt(start - 2));
      if (isSeparator(pair ? codePointAt(folded, start - 2) : c)) break;
      kinds |= CHAR_KIND[c]!;
      start -= pair ? 2 : 1;
    }
    let end = at + 1;
    while (end < n) {
      const cp = codePointAt(folded, end);
      if (isSeparator(cp)) break;
      if (cp <= 0xffff) kinds |= CHAR_KIND[cp]!;
      end += cp > 0xffff ? 2 : 1;
    }
    from = end;
    const clause = folded.slice(start, end);
    // A clause of the NFKC-only text is lowercased by normalizeAddress: its bits are not those of its normal form.
    if (!lowered) kinds = ANY_CHARS;
    const t = lowered ? normalizeFolded(clause, clause, kinds | NO_SEPARATOR) : normalizeAddress(clause);
    // The place character (Han) stays in the normal form unless a noise word took it (路边): then look.
    if ((kinds & NOISE_CHAR) !== 0 && !/[\u4e00-\u9fff]/.test(t)) continue;
    let precise = precisePlaces(t, kinds);
    if (precise.length > 0) precise = precise.filter((k) => !FUNCTION_CHARS.test(k));
    let building = false;
    for (const k of precise) {
      keys.push(k);
      if (k.startsWith('b:')) building = true;
    }
    if (!building && (kinds & ESTATE_CHAR) !== 0) {
      const estate = TEXT_ESTATE_RE.exec(t);
      if (estate && !FUNCTION_CHARS.test(estate[1]!)) keys.push(`e:${estate[1]}`);
    }
    const road = (kinds & ROAD_END_CHAR) !== 0 ? ROAD_RE.exec(t)?.[1] : undefined;
    if (road && !FUNCTION_CHARS.test(road) && !notARoad(road)) roads.push(`r:${road}`);
  }
  // Road keys go last: the precise keys of later clauses matter more than the road of the first. Distinct, in order.
  for (const r of roads) keys.push(r);
  return distinctFirst(keys, MAX_PLACE_KEYS);
}

/**
 * `placeKeys(parts.join(' '), { fromText: true })`, from the text already folded to lowercase (the sketch folds the
 * same parts, and remembers them). Every key is cut from `normalizeAddress(clause)`, which lowercases anyway, and
 * lowercasing changes no separator, digit or `#`, so the clauses and keys are the same; except around a Greek sigma,
 * whose lowercase depends on the characters after it (σ or ς): such a text takes the NFKC path.
 */
export function textPlaceKeysOf(parts: readonly string[]): string[] {
  return textPlaceKeysOfLowered(parts, nfkcLowerJoined(parts, ' '));
}

/** `textPlaceKeysOf(parts)` given `lowered = nfkcLowerJoined(parts, ' ')` (folded once by the caller). */
export function textPlaceKeysOfLowered(parts: readonly string[], lowered: string): string[] {
  if (lowered.includes('σ') || lowered.includes('ς')) return textPlaceKeys(parts.join(' ').normalize('NFKC'));
  return textPlaceKeys(lowered, true);
}

/** A key that names a whole road: a weaker match than a door, a building or a crossing. */
export const isRoadKey = (k: string) => k.startsWith('r:');

/** Door, building, crossing, English house number: one spot. (Estates and villages are areas; roads are lines.) */
export const isPreciseKey = (k: string) => /^(?:b|d|x|en):/.test(k);
