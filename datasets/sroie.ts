/**
 * SROIE receipts loader: reads the SROIE 2019 train split (626 scanned Malaysian receipts with
 * OCR lines, CC BY 4.0; `<shared datasets>/invoices/sroie/sroie_train.jsonl`, see its README)
 * and converts each receipt into an {@link Invoice} of the API schema: vendor, printed invoice
 * number, day-first date, total in integer cents and the item lines recovered from the OCR.
 * The conversion rules and their known limits are documented in `datasets/samples/README.md`.
 *
 * Used by the samples builder (`datasets/samples/sroie_invoices.jsonl`) and by anyone who needs
 * real retail receipts in the invoice schema (duplicate-detection smoke tests, parser tests).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Invoice, InvoiceLine } from '../core/invoice.js';
import { validateInvoice } from '../core/validate.js';
import { parseDecimalToCents } from './reference.js';
import { iso } from './synth.js';

/**
 * Invoice number for a receipt that prints none: `NONUM-` + 10 hex of sha256(SROIE key).
 * The SROIE key itself is not printed on the receipt, and near-consecutive keys would fake a
 * near-identical invoice number between unrelated receipts; the hash carries no such signal.
 */
export function unnumberedReceiptNumber(key: string): string {
  return `NONUM-${createHash('sha256').update(key).digest('hex').slice(0, 10).toUpperCase()}`;
}

/** One record of `sroie_train.jsonl`. */
export interface SroieReceipt {
  key: string;
  split: string;
  entities: { company: string; date: string; address: string; total: string };
  ocr_lines: string[];
}

const MONTHS: Readonly<Record<string, number>> = {
  JAN: 1,
  FEB: 2,
  MAR: 3,
  APR: 4,
  MAY: 5,
  JUN: 6,
  JUL: 7,
  AUG: 8,
  SEP: 9,
  OCT: 10,
  NOV: 11,
  DEC: 12,
};

function isoIfValid(year: number, month: number, day: number): string | null {
  if (year < 2000 || year > 2030 || month < 1 || month > 12 || day < 1) return null;
  const d = new Date(Date.UTC(year, month - 1, day));
  if (d.getUTCMonth() !== month - 1) return null;
  return iso(d);
}

function fullYear(y: string): number {
  return y.length === 2 ? 2000 + Number(y) : Number(y);
}

function monthNumber(name: string): number {
  return MONTHS[name.slice(0, 3).toUpperCase()] ?? 0;
}

/**
 * Parses a SROIE date as printed, day first (Malaysian receipts): `dd/mm/yyyy`, `dd-mm-yy`,
 * `dd.mm.yy`, `02 APR 2018`, `14/JUN/2017`, `05-JAN-2017`, `OCT 3, 2016`, `yyyy-mm-dd`,
 * `yyyy/mm/dd`, `yyyymmdd`, `ddmmyyyy`; surrounding parentheses are ignored. A numeric date
 * whose day-first reading is impossible is read month first (`12/28/2017`).
 * @returns `YYYY-MM-DD`, or null when no format fits or the date does not exist.
 */
export function parseReceiptDate(text: string): string | null {
  const s = text
    .trim()
    .replace(/^\((.*)\)$/, '$1')
    .trim();
  let m = /^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4}|\d{2})$/.exec(s);
  if (m) {
    const year = fullYear(m[3] ?? '');
    // Day first; month first only when the day-first reading is impossible (12/28/2017).
    return isoIfValid(year, Number(m[2]), Number(m[1])) ?? isoIfValid(year, Number(m[1]), Number(m[2]));
  }
  m = /^(\d{4})[/.-](\d{1,2})[/.-](\d{1,2})$/.exec(s);
  if (m) return isoIfValid(Number(m[1]), Number(m[2]), Number(m[3]));
  m = /^(\d{1,2})[\s/.-]*([A-Za-z]{3,9})[\s/.,-]*(\d{4}|\d{2})$/.exec(s);
  if (m) return isoIfValid(fullYear(m[3] ?? ''), monthNumber(m[2] ?? ''), Number(m[1]));
  m = /^([A-Za-z]{3,9})[\s.]+(\d{1,2}),?\s+(\d{4})$/.exec(s);
  if (m) return isoIfValid(Number(m[3]), monthNumber(m[1] ?? ''), Number(m[2]));
  m = /^(\d{8})$/.exec(s);
  if (m) {
    const d = m[1] ?? '';
    const ymd = isoIfValid(Number(d.slice(0, 4)), Number(d.slice(4, 6)), Number(d.slice(6, 8)));
    return ymd ?? isoIfValid(Number(d.slice(4, 8)), Number(d.slice(2, 4)), Number(d.slice(0, 2)));
  }
  return null;
}

/**
 * Parses a printed money amount (`31.00`, `RM 13.30`, `RM21.85`, `$8.20`, `1,234.50`, `-1.73`)
 * into integer cents. @returns null when it is not an amount.
 */
export function parseMoneyToCents(text: string): number | null {
  const s = text
    .trim()
    .replace(/^(RM|MYR|\$)\s*/i, '')
    .replace(/,(?=\d{3}(\D|$))/g, '')
    .replace(/\s+/g, '');
  if (!/^-?\d*\.?\d+$/.test(s)) return null;
  return parseDecimalToCents(s);
}

/**
 * Vendor id of a SROIE company: upper case, `&` → `AND`, dots and apostrophes dropped
 * (`D.I.Y.` → `DIY`), every other run of non-alphanumerics collapsed into one `-`.
 */
export function vendorSlug(company: string): string {
  const slug = company
    .toUpperCase()
    .replace(/&/g, ' AND ')
    .replace(/[.'’`]/g, '')
    .replace(/[^A-Z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return (slug || 'UNKNOWN').slice(0, 64).replace(/-+$/, '');
}

/**
 * Invoice-number labels, best first. The value follows on the same line (after `:`/`#`/`.`) or on
 * the next non-punctuation line.
 */
export const INVOICE_NUMBER_LABELS: ReadonlyArray<{ name: string; re: RegExp }> = [
  {
    name: 'INVOICE NO',
    re: /\b(?:CASH\s+|TAX\s+)?INV(?:OICE|OLCE|0ICE)?[\s.-]*(?:NO\b\.?|NUMBER|#)(?:\s*\/\s*DATE)?|\bTAXINV\s*:/i,
  },
  { name: 'BILL NO', re: /\b(?:CASH\s+)?BILL\s*(?:NO\b\.?|#)|\bC\.?B\s*#/i },
  { name: 'CASH BILL', re: /\bCASH\s+BILL\s*:/i },
  { name: 'RECEIPT NO', re: /\b(?:RECEIPT|RCPT)(?:\s*\/\s*TRX)?\s*(?:NO\b\.?|#|:)/i },
  { name: 'DOC NO', re: /\bDOC(?:UMENT)?[\s.]*(?:NO\b\.?|#)/i },
  { name: 'TRANS NO', re: /\b(?:TRANS(?:ACTION)?|TRX|TXN)[\s.]*(?:NO\b\.?|#)/i },
  { name: 'SALES NO', re: /\b(?:CASH\s+)?(?:SALES|SLIP)[\s.]*(?:NO\b\.?|#)/i },
  { name: 'CHECK NO', re: /\b(?:CHECK|CHK)\s*(?:NO\b\.?|#)/i },
  { name: 'ORDER NO', re: /\bORDER\s*(?:NO\b\.?|#)/i },
];

/** A plausible invoice number: 3-40 characters, at least 2 digits, not a date, time or amount. */
function cleanInvoiceNumber(raw: string): string | null {
  const token = raw
    .replace(/^[\s:#.-]+/, '')
    .replace(/-\s+(?=\d)/, '-') // "V042- 520388"
    .replace(/\(\d{1,2}\/\d{1,2}\/\d{2,4}\)$/, '')
    .split(/\s+/)[0];
  if (!token) return null;
  const value = token.replace(/[.,:;]+$/, '');
  if (value.length < 3 || value.length > 40) return null;
  if (!/^[A-Z0-9][A-Z0-9\-/_.#]*$/i.test(value)) return null;
  if ((value.match(/\d/g) ?? []).length < 2) return null;
  if (/^\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}$/.test(value) || /^\d{1,2}:\d{2}/.test(value)) return null;
  if (/^-?\d+\.\d{2}$/.test(value)) return null;
  return value.toUpperCase();
}

/** A line that is only a label (`DATE :`, `CASHIER:`), as in a block of labels printed before their values. */
const LABEL_ONLY = /^[A-Z][A-Z .()/]*:\s*$/i;

/**
 * The value of a label printed alone on its line: the next line, skipping a lone `:`, up to two
 * lines of text without digits, and a block of further labels (`INV NO: | DATE : | CS-SA-0130363`,
 * where the first value after the block belongs to the first label).
 */
function valueAfterLabel(lines: readonly string[], from: number): string | null {
  let i = from;
  while (i < lines.length && LABEL_ONLY.test(lines[i] ?? '')) i++;
  for (let tries = 0; i < lines.length && tries < 3; i++, tries++) {
    const c = lines[i] ?? '';
    if (/^[\s:#.]*$/.test(c)) continue;
    const value = cleanInvoiceNumber(c);
    if (value) return value;
    if (/\d/.test(c)) return null;
  }
  return null;
}

/**
 * Extracts the printed invoice/receipt number from OCR lines: the first line matching the best
 * label of {@link INVOICE_NUMBER_LABELS}, value on the same line or the next one or two lines.
 * @returns the number and the label that found it, or null.
 */
export function extractInvoiceNumber(lines: readonly string[]): { value: string; label: string } | null {
  for (const { name, re } of INVOICE_NUMBER_LABELS) {
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i] ?? '';
      const m = re.exec(line);
      if (!m) continue;
      const rest = line.slice(m.index + m[0].length);
      const value = /^[\s:#.]*$/.test(rest) ? valueAfterLabel(lines, i + 1) : cleanInvoiceNumber(rest);
      if (value) return { value, label: name };
    }
  }
  return null;
}

// --- line items -------------------------------------------------------------------------------

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

/** How the lines of a converted receipt were obtained. */
export type LineSource = 'items_reconciled' | 'items_partial' | 'fallback';

/** Conversion result of one receipt. */
export type SroieConversion =
  | {
      ok: true;
      invoice: Invoice;
      invoiceNumberLabel: string | null;
      lineSource: LineSource;
      totalFromOcr: boolean;
    }
  | { ok: false; key: string; reason: 'date_unparsed' | 'total_unparsed' };

/** Finds a total printed next to a TOTAL label (used when `entities.total` is blank). */
function totalFromOcr(lines: readonly string[]): number | null {
  const labels = [/\bNETT?\s+TOTAL\b/i, /\bGRAND\s+TOTAL\b/i, /\bTOTAL\s+AMOUNT\b/i, /^TOTAL\b/i];
  for (const re of labels) {
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i] ?? '';
      const m = re.exec(line);
      if (!m) continue;
      for (const c of [line.slice(m.index + m[0].length).replace(/^[\s:]+/, ''), lines[i + 1] ?? '']) {
        const cents = parseMoneyToCents(c);
        if (cents !== null) return cents;
      }
    }
  }
  return null;
}

/**
 * Accepts extracted items when their sum is the total (±5 sen rounding) or within the range
 * taxes, service charges and unextracted discounts explain (total between 0.9× and 1.2× the sum).
 */
function reconcile(items: readonly ExtractedItem[], totalCents: number): LineSource {
  if (items.length === 0 || totalCents <= 0) return 'fallback';
  const sum = items.reduce((s, i) => s + i.amountCents, 0);
  if (Math.abs(sum - totalCents) <= 5) return 'items_reconciled';
  if (sum > 0 && totalCents >= sum * 0.9 && totalCents <= sum * 1.2) return 'items_partial';
  return 'fallback';
}

/**
 * Converts one SROIE receipt into an {@link Invoice} (currency MYR, document type invoice).
 * @returns the invoice with how it was derived, or why the receipt was skipped.
 */
export function convertReceipt(r: SroieReceipt): SroieConversion {
  const date = parseReceiptDate(r.entities.date);
  if (!date) return { ok: false, key: r.key, reason: 'date_unparsed' };
  let total = parseMoneyToCents(r.entities.total);
  const fromOcr = total === null;
  if (total === null) total = totalFromOcr(r.ocr_lines);
  if (total === null) return { ok: false, key: r.key, reason: 'total_unparsed' };
  const number = extractInvoiceNumber(r.ocr_lines);
  const { items, firstText } = extractItems(r.ocr_lines);
  const lineSource = reconcile(items, total);
  const lines: InvoiceLine[] =
    lineSource === 'fallback'
      ? [
          {
            line_number: 1,
            description: (firstText ?? 'Receipt total').slice(0, 200),
            quantity: 1,
            unit_price_cents: total,
            amount_cents: total,
          },
        ]
      : items.map((it, i) => ({
          line_number: i + 1,
          description: it.description.slice(0, 200),
          quantity: it.quantity,
          unit_price_cents: it.unitCents,
          amount_cents: it.amountCents,
        }));
  const invoice: Invoice = {
    invoice_id: `sroie-${r.key}`,
    vendor: { id: vendorSlug(r.entities.company), name: r.entities.company.trim().slice(0, 200) },
    invoice_number: (number?.value ?? unnumberedReceiptNumber(r.key)).slice(0, 64),
    invoice_date: date,
    currency: 'MYR',
    total_cents: total,
    document_type: 'invoice',
    lines,
  };
  return { ok: true, invoice, invoiceNumberLabel: number?.label ?? null, lineSource, totalFromOcr: fromOcr };
}

/** Counts of a SROIE conversion run. */
export interface SroieStats {
  receipts: number;
  converted: number;
  skipped: number;
  skippedKeys: string[];
  invoiceNumberExtracted: number;
  invoiceNumberFallback: number;
  byLabel: Record<string, number>;
  itemsReconciled: number;
  itemsPartial: number;
  fallbackLine: number;
  lines: number;
  totalFromOcr: number;
}

/** Converts every receipt, validating each invoice. */
export function convertSroie(receipts: readonly SroieReceipt[]): { invoices: Invoice[]; stats: SroieStats } {
  const invoices: Invoice[] = [];
  const stats: SroieStats = {
    receipts: receipts.length,
    converted: 0,
    skipped: 0,
    skippedKeys: [],
    invoiceNumberExtracted: 0,
    invoiceNumberFallback: 0,
    byLabel: {},
    itemsReconciled: 0,
    itemsPartial: 0,
    fallbackLine: 0,
    lines: 0,
    totalFromOcr: 0,
  };
  for (const r of receipts) {
    const c = convertReceipt(r);
    if (!c.ok) {
      stats.skipped++;
      stats.skippedKeys.push(`${c.key} (${c.reason})`);
      continue;
    }
    invoices.push(validateInvoice(c.invoice, `/${c.invoice.invoice_id}`));
    stats.converted++;
    stats.lines += c.invoice.lines.length;
    if (c.totalFromOcr) stats.totalFromOcr++;
    if (c.invoiceNumberLabel) {
      stats.invoiceNumberExtracted++;
      stats.byLabel[c.invoiceNumberLabel] = (stats.byLabel[c.invoiceNumberLabel] ?? 0) + 1;
    } else {
      stats.invoiceNumberFallback++;
    }
    if (c.lineSource === 'items_reconciled') stats.itemsReconciled++;
    else if (c.lineSource === 'items_partial') stats.itemsPartial++;
    else stats.fallbackLine++;
  }
  return { invoices, stats };
}

/** Path of the SROIE train split inside a shared datasets directory. */
export function sroieTrainFile(sharedDatasets: string): string {
  return join(sharedDatasets, 'invoices', 'sroie', 'sroie_train.jsonl');
}

/**
 * Reads the SROIE train split (one JSON receipt per line) from the shared datasets directory
 * (see {@link sharedDatasetsDir}).
 * @throws Error when the file is missing or a line is not JSON.
 */
export function readSroie(shared: string): SroieReceipt[] {
  const file = sroieTrainFile(shared);
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as SroieReceipt);
}

/**
 * The SROIE train receipts as invoices, straight from the shared datasets folder: reads
 * `<shared>/invoices/sroie/sroie_train.jsonl` and converts it ({@link convertSroie}).
 * @param shared the shared datasets directory (see `sharedDatasetsDir()` in datasets/shared.ts).
 * @returns the invoices (validated, `invoice_id` = `sroie-<key>`) and the conversion counts.
 * @throws Error when the file is missing or not JSON Lines.
 */
export function loadSroieInvoices(shared: string): { invoices: Invoice[]; stats: SroieStats } {
  return convertSroie(readSroie(shared));
}
