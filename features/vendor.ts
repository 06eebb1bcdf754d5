/**
 * Vendor-name normalisation for blocking and comparison. The original name is always kept
 * beside the normalised key by callers.
 */

/** Legal-form suffixes dropped from vendor names (compared after punctuation removal). */
const LEGAL_SUFFIXES = [
  'sdn bhd',
  'bhd',
  'sdn',
  'inc',
  'incorporated',
  'llc',
  'l l c',
  'ltd',
  'limited',
  'corp',
  'corporation',
  'co',
  'company',
  'plc',
  'gmbh',
  'ag',
  'sa',
  'pte',
  'pty',
  'lp',
  'llp',
  'pc',
  'pllc',
];
const SUFFIX_RE = new RegExp(`(?:\\s(?:${LEGAL_SUFFIXES.map((s) => s.replace(/ /g, '\\s')).join('|')}))+$`);

/**
 * Canonical vendor key: NFKC, upper-case folded to lower, `&` -> `and`, punctuation removed,
 * trailing legal suffixes (Inc, LLC, Sdn Bhd, GmbH...) and parenthesised parts removed.
 * @example normaliseVendorName('MR. D.I.Y. (M) SDN BHD') === 'mr diy'
 */
export function normaliseVendorName(name: string): string {
  let s = name.normalize('NFKC').toLowerCase();
  s = s.replace(/\([^)]*\)/g, ' ');
  s = s.replace(/&/g, ' and ');
  // Join dotted initials ("d.i.y." -> "diy") before punctuation becomes spaces.
  s = s.replace(/\b([a-z0-9])\.(?=[a-z0-9]\.)/g, '$1').replace(/\b([a-z0-9])\.(?=\s|$)/g, '$1');
  s = s
    .replace(/[^a-z0-9]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  const stripped = s.replace(SUFFIX_RE, '').trim();
  return stripped.length > 0 ? stripped : s;
}
