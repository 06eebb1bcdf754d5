/**
 * The item lines of a SROIE receipt, recovered from its OCR lines: the item block between the
 * item header and the totals, each line split into a description or numbers, and the numbers
 * assigned to the descriptions as quantity, unit price and amount (integer cents).
 */
import { parseDecimalToCents } from './reference.js';

/** A number printed on a receipt. */
interface Num {
  value: number;
  /** Cents when the number is a plausible money amount (≤ 4 decimals). */
  cents: number | null;
  decimals: number;
  /** Printed as a quantity (`X2`, `2X`, `2 PC`). */
  qty: boolean;
}

/** A receipt line between the item header and the totals. */
type Tok =
  | { kind: 'desc'; text: string; at: Num | null; lead: Num | null; trail: Num[] }
  | { kind: 'num'; nums: Num[]; pair: readonly [Num, Num] | null };

function num(text: string, qty = false): Num | null {
  const t = text
    .replace(/^(RM|\$)/i, '')
    .replace(/(?<=\d)(?:SR|ZR|Z|S)$/i, '')
    .replace(/,(?=\d{3}\b)/g, '');
  if (!/^-?\d*\.?\d+$/.test(t)) return null;
  const decimals = t.includes('.') ? t.length - t.indexOf('.') - 1 : 0;
  const cents = decimals <= 4 ? parseDecimalToCents(t) : null;
  return { value: Number(t), cents, decimals, qty };
}

const TAX_CODE = /^(?:\[?(?:SR|ZR|Z|S|E|T|D|N|ZRL|OS|EX)\]?|\*+|\.S|X|EA|PC|PCS|UNIT|-UNIT|CS|RM|\(RM\)|:)$/i;
const HEADER_WORDS = new Set([
  'ITEM',
  'ITEMS',
  'DESCRIPTION',
  'DESC',
  'CODE/DESC',
  'CODE',
  'QTY',
  'QUANTITY',
  'PRICE',
  'U/P',
  'U.P',
  'U.PRICE',
  'UNIT',
  'S/PRICE',
  'U/PRICE',
  'AMOUNT',
  'AMT',
  'AMT(RM)',
  'AMOUNT(RM)',
  'TOTAL',
  'TAX',
  'RM',
  '(RM)',
  'DISC',
  'DISC%',
  'PRODUCT',
  'NAME',
  'IOU',
  'D',
  'EV',
  'VALUE',
  'PARTICULARS',
  'NO',
  'NO.',
  '@',
  'S.PRICE',
  'U.P.',
  'GST',
  'CODE&DESC',
  'ITEM/DESC',
  'STK',
  'SST',
  'ISS',
  'EXC',
  'SALE',
  'RTN',
  'UOM',
  'SIZE',
]);
const STRONG_HEADER = /^(ITEMS?|DESCRIPTION|DESC|CODE\/DESC|QTY|QUANTITY|PRODUCT|PARTICULARS)$/;
const END_MARKER =
  /\bTOTAL\b|SUB-?\s?TOTAL|\bITEMS?\s*COUNT|\bNO\.? OF ITEMS?|\bITEM\(?S?\)?\s*:|\bQTY\(?S?\)?\s*:|\bROUNDING\b|\bROUND(?:ING)?\s*ADJ|\bCASH\s*:|\bCHANGE\b|^GST\b(?!\s*(?:ID|REG|NO\b|NUMBER|#))|^SERVICE\s+(?:CHARGE|TAX)|\bAMOUNT\s+DUE|\bNET\s+AMOUNT|\bPAYABLE\b/i;
/** Header lines of a receipt without an item header: the items start after the last of them. */
const META_LINE = new RegExp(
  [
    /^(?:DATE|TIME|CASHIER|TERMINAL|TABLE|SERVER|SALESPERSON|MEMBER|SLIP|DOC|TRANS|POS|PAX|ORDER|SERVED|OPERATOR|STAFF)\b/
      .source,
    /\b(?:INVOICE|RECEIPT|BILL|COUNTER|CASHIER|TEL|FAX|HRS|HOURS)\b|\bGST\s*(?:ID|REG)/.source,
    /\b(?:0?[1-9]|[12]\d|3[01])[/-](?:0?[1-9]|1[0-2])[/-](?:\d{4}|\d{2})\b/.source,
  ].join('|'),
  'i',
);
/** Subtotals printed between groups of items (Gardenia: `TOTAL 0% SUPPLIES:`): skipped, not an end. */
const GROUP_SUBTOTAL = /^TOTAL\s+\d+%\s+SUPPLIES\s*:?$/i;

function isHeaderLine(line: string): boolean {
  const words = line.trim().toUpperCase().split(/\s+/).filter(Boolean);
  return words.length > 0 && words.every((w) => HEADER_WORDS.has(w));
}

/** Index range [start, end) of the item block: after the item header, before the first total. */
function itemRegion(lines: readonly string[]): { start: number; end: number; header: boolean } | null {
  let start = -1;
  let header = false;
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] ?? '').trim().toUpperCase();
    if (isHeaderLine(line) && line.split(/\s+/).some((w) => STRONG_HEADER.test(w))) {
      let j = i + 1;
      while (j < lines.length && (isHeaderLine(lines[j] ?? '') || TAX_CODE.test((lines[j] ?? '').trim())))
        j++;
      start = j;
      header = true;
      break;
    }
  }
  const firstEnd = (from: number): number => {
    for (let i = from; i < lines.length; i++) {
      const line = lines[i] ?? '';
      if (END_MARKER.test(line) && !GROUP_SUBTOTAL.test(line.trim())) return i;
    }
    return -1;
  };
  if (start < 0) {
    const end = firstEnd(0);
    if (end < 0) return null;
    for (let i = end - 1; i >= 0; i--) {
      if (META_LINE.test(lines[i] ?? '')) {
        start = i + 1;
        break;
      }
    }
    if (start < 0) return null;
  }
  // A lone ":" or a value printed right after a metadata label is not an item.
  const end = firstEnd(start);
  if (end < 0 || end <= start) return null;
  return { start, end, header };
}

/** Splits a receipt line into a numeric token, a description, or nothing (noise). */
function tokenize(line: string): Tok | null {
  const s = line.trim();
  if (s === '' || TAX_CODE.test(s) || GROUP_SUBTOTAL.test(s)) return null;
  // "1 * 55.90", "3 X 2.9000", "1.40*1", "10.99*1.306", "@3 X RM 2.50"
  let m =
    /^@?\s*(RM|\$)?\s*(-?\d{1,6}(?:\.\d+)?)\s*[*xX@]\s*(RM|\$)?\s*(-?\d{1,6}(?:\.\d+)?)(?:\s+\S{1,4})?$/.exec(
      s,
    );
  if (m) {
    const a = num(m[2] ?? '');
    const b = num(m[4] ?? '');
    if (a && b) return { kind: 'num', nums: [], pair: [a, b] };
  }
  // "X1", "1X", "2 PC", "1 PCS", "1X 000007996511" (quantity then article number)
  m = /^(?:[xX]\s*(\d+)|(\d+)\s*(?:[xX]|PCS?|UNITS?|EA))(?:\s+\d{6,})?$/i.exec(s);
  if (m) {
    const q = num(m[1] ?? m[2] ?? '', true);
    if (q) return { kind: 'num', nums: [q], pair: null };
  }
  // Plain numbers, possibly with a currency prefix and a trailing tax code: "36.00 SR", "$7.10".
  const parts = s.split(/\s+/).filter((p) => !TAX_CODE.test(p));
  const nums = parts.map((p) => num(p));
  if (parts.length > 0 && nums.every((n) => n !== null)) {
    const kept = (nums as Num[]).filter((n) => !(n.decimals === 0 && Math.abs(n.value) >= 1_000_000));
    return kept.length > 0 ? { kind: 'num', nums: kept, pair: null } : null; // barcodes dropped
  }
  // Item codes and shelf locations ("GA06-07 - 6/24") are not descriptions, nor are labels
  // ("AMT PAID EXCL. GST :RM") and stray header words.
  const text = s.replace(/^\[?(?:SR|ZR)\]?\s*:\s*/i, '').replace(/^[\s:.\-*]+/, '');
  if (!/[A-Za-z]{3}/.test(text) || /[:=]/.test(text) || /^(?:RM|\$)\s*\d/i.test(text) || isHeaderLine(text)) {
    return null;
  }
  return describeToken(text);
}

/** A description line, with an `@ price`, a leading quantity and trailing amounts pulled out. */
function describeToken(s: string): Tok {
  let text = s;
  let at: Num | null = null;
  let lead: Num | null = null;
  const trail: Num[] = [];
  const atM = /@\s*(?:RM|\$)?\s*(\d+\.\d{2,4})\s*$/.exec(text);
  if (atM) {
    at = num(atM[1] ?? '');
    text = text.slice(0, atM.index).trim();
  } else {
    const tailM = /\s(-?\d+\.\d{2})(?:\s+(?:SR|ZR|Z|S))?$/.exec(text);
    if (tailM) {
      const n = num(tailM[1] ?? '');
      if (n) trail.push(n);
      text = text.slice(0, tailM.index).trim();
    }
  }
  const leadM = /^(\d{1,2})\s*[xX]?\s+(?=[A-Za-z])/.exec(text);
  if (leadM) {
    lead = num(leadM[1] ?? '', true);
    text = text.slice(leadM[0].length).trim();
  }
  return { kind: 'desc', text: cleanDescription(text), at, lead, trail };
}

/** Drops tax-code prefixes and long item codes: "SR I00100000035- 1 MEAT" → "1 MEAT". */
function cleanDescription(text: string): string {
  return text
    .replace(/^(?:\[?(?:SR|ZR)\]?\s+)/i, '')
    .replace(/^[A-Z]?\d{6,}\s*-?\s*/i, '')
    .replace(/^[\s\-*]+|[\s@*]+$/g, '')
    .replace(/\s+/g, ' ')
    .trim();
}

/** An extracted item. */
interface Item {
  quantity: number;
  unitCents: number;
  amountCents: number;
  strong: boolean;
}

function itemFrom(q: Num, p: Num, a: Num, strong: boolean): Item | null {
  if (p.cents === null || a.cents === null || a.cents === 0 || q.value === 0) return null;
  if (Math.abs(q.value) > 10_000 || q.decimals > 3) return null;
  // Exact for whole quantities at cent prices; 1 cent of rounding for weights and 3-4 decimal prices.
  const exact = Number.isInteger(q.value) && p.decimals <= 2;
  if (Math.abs(Math.round(q.value * p.value * 100) - a.cents) > (exact ? 0 : 1)) return null;
  return { quantity: q.value, unitCents: p.cents, amountCents: a.cents, strong };
}

/** Orders a printed pair as (quantity, price): the integer or the 3-decimal weight is the quantity. */
function orderPair([x, y]: readonly [Num, Num]): [Num, Num] {
  if (x.decimals === 0 && y.decimals > 0) return [x, y];
  if (y.decimals === 0 && x.decimals > 0) return [y, x];
  if (x.decimals === 2 && y.decimals !== 2) return [y, x];
  return [x, y];
}

/**
 * Finds quantity × unit price = amount among the numbers of one item record.
 * Strong: the three values are all printed; weak: a lone amount, read as quantity 1.
 */
function matchItem(desc: Extract<Tok, { kind: 'desc' }>, toks: readonly Tok[]): Item | null {
  const item = matchNumbers(desc, toks);
  // A discount line is only an item when it takes money off.
  if (item && /\bDISC(?:OUNT)?\b/i.test(desc.text) && item.amountCents > 0) return null;
  return item;
}

function matchNumbers(desc: Extract<Tok, { kind: 'desc' }>, toks: readonly Tok[]): Item | null {
  const plain: Num[] = [];
  const pairs: (readonly [Num, Num])[] = [];
  for (const t of toks) {
    if (t.kind !== 'num') continue;
    plain.push(...t.nums);
    if (t.pair) pairs.push(t.pair);
  }
  plain.push(...desc.trail);
  const amounts = plain.filter((n) => n.cents !== null && n.cents !== 0 && n.decimals >= 2).reverse();
  const qtys = [...(desc.lead ? [desc.lead] : []), ...plain.filter((n) => n.decimals === 0 || n.qty)];
  for (const a of amounts) {
    for (const pair of pairs) {
      const [q, p] = orderPair(pair);
      const hit = itemFrom(q, p, a, true);
      if (hit) return hit;
    }
    if (desc.at) {
      for (const q of qtys) {
        const hit = itemFrom(q, desc.at, a, true);
        if (hit) return hit;
      }
      const one = itemFrom({ value: 1, cents: 100, decimals: 0, qty: true }, desc.at, a, true);
      if (one) return one;
    }
    for (const q of qtys) {
      for (const p of plain) {
        if (p === a || p === q || p.decimals === 0) continue;
        const hit = itemFrom(q, p, a, true);
        if (hit) return hit;
      }
      if (q.qty && a.cents !== null && a.cents % q.value === 0 && Number.isInteger(q.value)) {
        return { quantity: q.value, unitCents: a.cents / q.value, amountCents: a.cents, strong: true };
      }
    }
  }
  // A pair alone: "1 * 55.90" with no separate amount printed.
  if (amounts.length === 0 && pairs.length === 1) {
    const [q, p] = orderPair(pairs[0] as readonly [Num, Num]);
    if (p.cents && Number.isFinite(q.value) && q.decimals <= 3 && q.value !== 0) {
      return {
        quantity: q.value,
        unitCents: p.cents,
        amountCents: Math.round(q.value * p.cents),
        strong: true,
      };
    }
  }
  const money = amounts.filter((n) => n.decimals === 2);
  const others = plain.filter((n) => !money.includes(n) && !(n.decimals === 0 && n.value === 1));
  if (money.length === 1 && others.length === 0 && pairs.length === 0) {
    const a = money[0] as Num;
    return { quantity: 1, unitCents: a.cents ?? 0, amountCents: a.cents ?? 0, strong: false };
  }
  return null;
}

/** An extracted receipt line, before numbering. */
export interface ExtractedItem {
  description: string;
  quantity: number;
  unitCents: number;
  amountCents: number;
}

/**
 * Assigns the numbers around the descriptions of the item block to items, maximising the
 * number of consistent items (dynamic programming over how each run of numbers between two
 * descriptions splits into the tail of one item and the head of the next).
 */
export function extractItems(lines: readonly string[]): { items: ExtractedItem[]; firstText: string | null } {
  const region = itemRegion(lines);
  if (!region) return { items: [], firstText: null };
  const toks = lines
    .slice(region.start, region.end)
    .map(tokenize)
    .filter((t): t is Tok => t !== null);
  const descs: Extract<Tok, { kind: 'desc' }>[] = [];
  const gaps: Tok[][] = [[]];
  for (const t of toks) {
    const prev = descs[descs.length - 1];
    if (t.kind === 'desc' && prev && isContinuation(prev, t, gaps[gaps.length - 1] ?? [])) {
      prev.text = `${prev.text} ${t.text}`;
      prev.at ??= t.at;
      prev.trail.push(...t.trail);
    } else if (t.kind === 'desc') {
      descs.push(t);
      gaps.push([]);
    } else {
      (gaps[gaps.length - 1] as Tok[]).push(t);
    }
  }
  // For the fallback line: the first text that looks like an item name, not a stray word ("CASH").
  const firstText = descs.find((d) => (d.text.match(/[A-Za-z]/g) ?? []).length >= 5)?.text ?? null;
  if (descs.length === 0) return { items: [], firstText };
  return { items: assignItems(descs, gaps), firstText };
}

/** A description line continuing the previous one: `(10ROLL/PKT)`, or after an open parenthesis. */
function isContinuation(
  prev: Extract<Tok, { kind: 'desc' }>,
  next: Extract<Tok, { kind: 'desc' }>,
  between: Tok[],
) {
  if (between.length > 0 || prev.trail.length > 0 || prev.at) return false;
  const open = (prev.text.match(/\(/g) ?? []).length > (prev.text.match(/\)/g) ?? []).length;
  return open || next.text.startsWith('(');
}

const SCORE = (item: Item | null): number => (item === null ? 0 : item.strong ? 2 : 1);

function assignItems(descs: Extract<Tok, { kind: 'desc' }>[], gaps: Tok[][]): ExtractedItem[] {
  const k = descs.length;
  // best[i] maps "split point of gap i" → best score of items 1..i and the choices made.
  type State = { score: number; items: (Item | null)[] };
  let best = new Map<number, State>();
  const g0 = gaps[0] ?? [];
  for (let c = 0; c <= g0.length; c++) best.set(c, { score: 0, items: [] });
  for (let i = 1; i <= k; i++) {
    const prevGap = gaps[i - 1] ?? [];
    const gap = gaps[i] ?? [];
    const desc = descs[i - 1] as Extract<Tok, { kind: 'desc' }>;
    const next = new Map<number, State>();
    for (let c = gap.length; c >= 0; c--) {
      let chosen: State | null = null;
      for (const [cp, state] of best) {
        const item = matchItem(desc, [...prevGap.slice(cp), ...gap.slice(0, c)]);
        const score = state.score + SCORE(item);
        if (!chosen || score > chosen.score) chosen = { score, items: [...state.items, item] };
      }
      if (chosen) next.set(c, chosen);
    }
    best = next;
  }
  let final: State | null = null;
  for (const state of best.values()) if (!final || state.score > final.score) final = state;
  const out: ExtractedItem[] = [];
  (final?.items ?? []).forEach((item, i) => {
    const text = descs[i]?.text ?? '';
    if (item && /[A-Za-z]{2}/.test(text)) {
      out.push({
        description: text,
        quantity: item.quantity,
        unitCents: item.unitCents,
        amountCents: item.amountCents,
      });
    }
  });
  return out;
}
