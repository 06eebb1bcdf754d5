/**
 * How a text shows to whoever reads it: echoed in an error (control characters escaped), blank
 * (nothing visible), or reordered (bidirectional controls). The rules core/validate.ts applies to
 * invoices and the routes to names.
 */
import type { FieldError } from './errors.js';

/**
 * `text` fit to echo in a field error's `path` and the `detail`: each NUL character, other control
 * character (C0 but tab, line feed and carriage return; DEL; C1) and unpaired surrogate written as
 * its JSON escape (`\u0000`, `\u0007`, `\u009b`, `\ud800`), the rest unchanged.
 */
export function printable(text: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are the ones escaped
  return text.replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\p{Cs}]/gu, (c) =>
    codePointEscape(c),
  );
}

/** `c` as its JSON escape, `\u0007` for BEL. */
export function codePointEscape(c: string): string {
  return `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
}

/** Message of a required text field that is {@link isBlankText}. */
export const BLANK_TEXT = 'must not be blank (only spaces or invisible characters)';

/** The field error of an optional text that is given and {@link isBlankText} (at `path`), or none. */
export function blankTextErrors(path: string, text: string | undefined): FieldError[] {
  return text !== undefined && isBlankText(text) ? [{ path, message: BLANK_TEXT }] : [];
}

/**
 * Bidirectional embedding, override and isolate controls (U+202A-U+202E, U+2066-U+2069): each
 * changes the order in which the characters after it are shown, so a vendor name or line
 * description reads as other text than it holds (`"Acme \u202eseilppuS"` is shown as
 * `Acme Supplies`). The one rule of text a reviewer reads: every string of an invoice (vendor name,
 * invoice and PO numbers, line descriptions...) and a vendor profile's name refuse them. Other
 * invisible format characters are accepted and kept as sent (nothing is stripped): joiners
 * (U+200C, U+200D: Persian and Indic spelling, emoji sequences), direction marks (U+200E,
 * U+200F, U+061C: mixed right-to-left and left-to-right text shown in order), soft hyphens and
 * zero-width spaces (left by PDF and OCR extraction); none reorders the text around it. Vendor
 * ids refuse every one of them (core/validate.ts `VENDOR_ID_INVISIBLE`).
 */
const REORDERING_CONTROL = /[\u202a-\u202e\u2066-\u2069]/u;

/** Message of a text holding a {@link REORDERING_CONTROL}. */
export const TEXT_REORDERING =
  'must not contain bidirectional embedding, override or isolate controls (U+202A-U+202E, U+2066-U+2069): the text would be shown in another order than it holds';

/**
 * Field errors of every string in `value` (below `path`, JSON pointers) holding a
 * {@link REORDERING_CONTROL}; strings at the pointers in `skip` are left to their own rule.
 */
export function reorderingErrors(
  value: unknown,
  path: string,
  skip: ReadonlySet<string> = new Set(),
): FieldError[] {
  return holdsReordering(value) ? reorderingWalk(value, path, skip) : [];
}

/**
 * Whether any string in `value` (object keys not included) holds a {@link REORDERING_CONTROL}:
 * the walk of {@link reorderingWalk} without a path per value, so the usual text costs no strings.
 */
function holdsReordering(value: unknown): boolean {
  if (typeof value === 'string') return REORDERING_CONTROL.test(value);
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (holdsReordering(value[i])) return true;
    return false;
  }
  if (value !== null && typeof value === 'object')
    for (const k in value)
      if (Object.hasOwn(value, k) && holdsReordering((value as Record<string, unknown>)[k])) return true;
  return false;
}

/** {@link reorderingErrors}' walk naming each field. */
function reorderingWalk(value: unknown, path: string, skip: ReadonlySet<string>): FieldError[] {
  if (skip.has(path)) return [];
  if (typeof value === 'string')
    return REORDERING_CONTROL.test(value) ? [{ path, message: TEXT_REORDERING }] : [];
  if (Array.isArray(value)) return value.flatMap((v, i) => reorderingWalk(v, `${path}/${i}`, skip));
  if (value !== null && typeof value === 'object')
    return Object.entries(value).flatMap(([k, v]) => reorderingWalk(v, `${path}/${printable(k)}`, skip));
  return [];
}

/**
 * Field errors of a text a person reads beside invoices (a key name, an ERP reason, an ERP
 * record's description) at `path`: {@link blankTextErrors}, else {@link reorderingErrors}; none
 * when `text` is absent.
 */
export function displayTextErrors(path: string, text: string | undefined): FieldError[] {
  if (text === undefined) return [];
  const blank = blankTextErrors(path, text);
  return blank.length > 0 ? blank : reorderingErrors(text, path);
}

/**
 * Whether `text` shows nothing: empty, or only white space, control and invisible format
 * characters (U+200B zero-width space, U+FEFF, bidi marks), default-ignorable code points
 * (U+034F combining grapheme joiner, variation selectors, U+3164 and U+115F/U+1160 Hangul
 * fillers) and U+2800 braille blank. The one "blank text" rule of every required text field,
 * and of key names, vendor profile names and promotion reasons.
 */
export function isBlankText(text: string): boolean {
  return !/[^\p{White_Space}\p{Cc}\p{Cf}\p{Default_Ignorable_Code_Point}\u115f\u1160\u3164\uffa0\u2800]/u.test(
    text,
  );
}
