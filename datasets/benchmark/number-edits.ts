/**
 * Re-keyed invoice numbers: the edits an AP clerk or an OCR engine makes when a resubmitted
 * invoice is keyed again. Every edit replaces `from` at position `at` with `to`, so each one
 * can be written into the label, parsed back and re-applied (the tests replay them).
 *
 * Change strings: `invoice_number:<op>@<at>:<from as JSON>><to as JSON>`, e.g.
 * `invoice_number:ocr@5:"0">"O"`, `invoice_number:prefix@0:"">"INV#"`,
 * `invoice_number:sep@3:"-">""`, `invoice_number:zeros@4:"">"00"`, `invoice_number:suffix@9:"">"-1"`.
 */
import type { Rng } from '../synth.js';

/** The kinds of re-keying edits. */
export const NUMBER_EDIT_OPS = ['ocr', 'zeros', 'prefix', 'suffix', 'sep'] as const;
export type NumberEditOp = (typeof NUMBER_EDIT_OPS)[number];

/** One edit: replace `from` (possibly empty) at index `at` with `to`. */
export interface NumberEdit {
  op: NumberEditOp;
  at: number;
  from: string;
  to: string;
}

/** OCR confusions, both directions (digit read as letter and back). */
export const OCR_CONFUSIONS: ReadonlyArray<readonly [string, string]> = [
  ['0', 'O'],
  ['0', 'D'],
  ['1', 'I'],
  ['1', 'l'],
  ['5', 'S'],
  ['8', 'B'],
  ['2', 'Z'],
  ['6', 'G'],
  ['O', '0'],
  ['I', '1'],
  ['S', '5'],
  ['B', '8'],
];

const PREFIXES = ['INV', 'INV-', '#', 'No.', 'INV#'];
const SUFFIXES = ['-1', 'A', '-01', '/1'];
const SEPARATORS = ['', ' ', '/', '.', '_'];

/** The change string of an edit. */
export function formatNumberEdit(e: NumberEdit): string {
  return `invoice_number:${e.op}@${e.at}:${JSON.stringify(e.from)}>${JSON.stringify(e.to)}`;
}

/** Parses a change string written by {@link formatNumberEdit}; null for other changes. */
export function parseNumberEdit(change: string): NumberEdit | null {
  const m =
    /^invoice_number:(ocr|zeros|prefix|suffix|sep)@(\d+):("(?:[^"\\]|\\.)*")>("(?:[^"\\]|\\.)*")$/.exec(
      change,
    );
  if (!m) return null;
  return {
    op: m[1] as NumberEditOp,
    at: Number(m[2]),
    from: JSON.parse(m[3] ?? '""') as string,
    to: JSON.parse(m[4] ?? '""') as string,
  };
}

/**
 * Applies one edit.
 * @throws Error when `number` does not hold `from` at `at` (the edit does not belong to it).
 */
export function applyNumberEdit(number: string, e: NumberEdit): string {
  if (number.slice(e.at, e.at + e.from.length) !== e.from || e.at > number.length)
    throw new Error(`edit ${formatNumberEdit(e)} does not apply to ${JSON.stringify(number)}`);
  return number.slice(0, e.at) + e.to + number.slice(e.at + e.from.length);
}

/** All edits of one op that apply to `number`. */
function candidates(number: string, op: NumberEditOp): NumberEdit[] {
  const out: NumberEdit[] = [];
  switch (op) {
    case 'ocr':
      for (let i = 0; i < number.length; i++) {
        for (const [from, to] of OCR_CONFUSIONS) if (number[i] === from) out.push({ op, at: i, from, to });
      }
      break;
    case 'zeros': {
      const m = /\d+/.exec(number);
      if (m) {
        const at = m.index;
        if (m[0].startsWith('0')) out.push({ op, at, from: '0', to: '' });
        out.push({ op, at, from: '', to: '0' }, { op, at, from: '', to: '00' });
      }
      break;
    }
    case 'prefix': {
      const m = /^[A-Za-z]+[-#]?(?=\d)/.exec(number);
      if (m) out.push({ op, at: 0, from: m[0], to: '' });
      for (const p of PREFIXES) if (!number.startsWith(p)) out.push({ op, at: 0, from: '', to: p });
      break;
    }
    case 'suffix':
      for (const s of SUFFIXES) out.push({ op, at: number.length, from: '', to: s });
      break;
    case 'sep':
      for (let i = 0; i < number.length; i++) {
        const c = number[i] as string;
        if (c === '-' || c === '/') {
          for (const to of SEPARATORS) if (to !== c) out.push({ op, at: i, from: c, to });
        } else if (i > 0 && /[A-Za-z]/.test(number[i - 1] as string) && /\d/.test(c)) {
          out.push({ op, at: i, from: '', to: '-' });
        }
      }
      break;
  }
  return out;
}

const OP_WEIGHTS: ReadonlyArray<readonly [NumberEditOp, number]> = [
  ['ocr', 40],
  ['sep', 20],
  ['zeros', 15],
  ['prefix', 15],
  ['suffix', 10],
];

/**
 * Draws one edit (70%) or two (30%) that turn `number` into a different, still valid invoice
 * number (1-64 characters, at least one letter or digit).
 * @returns the edits in application order and the re-keyed number.
 */
export function drawNumberEdits(number: string, rng: Rng): { edits: NumberEdit[]; result: string } {
  const count = rng.chance(0.3) ? 2 : 1;
  const edits: NumberEdit[] = [];
  let current = number;
  for (let n = 0; n < count; n++) {
    for (let attempt = 0; attempt < 10; attempt++) {
      const x = rng.float() * 100;
      let acc = 0;
      let op: NumberEditOp = 'suffix';
      for (const [o, w] of OP_WEIGHTS) {
        acc += w;
        if (x < acc) {
          op = o;
          break;
        }
      }
      const options = candidates(current, op);
      if (options.length === 0) continue;
      const edit = rng.pick(options);
      const next = applyNumberEdit(current, edit);
      if (next === number || next.length > 64 || !/[A-Za-z0-9]/.test(next) || next.trim() !== next) continue;
      edits.push(edit);
      current = next;
      break;
    }
  }
  if (edits.length === 0) {
    const edit: NumberEdit = { op: 'suffix', at: number.length, from: '', to: '-1' };
    edits.push(edit);
    current = applyNumberEdit(number, edit);
  }
  return { edits, result: current };
}
