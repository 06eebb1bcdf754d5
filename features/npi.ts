/**
 * National Provider Identifier check digit (CMS NPI standard: Luhn over the 9 base digits
 * prefixed with the card issuer prefix 80840).
 */

/**
 * The Luhn check digit of a 9-digit NPI base (with the 80840 prefix), 0-9.
 * @throws RangeError when `base9` is not exactly 9 digits.
 */
export function npiCheckDigit(base9: string): number {
  if (!/^\d{9}$/.test(base9)) throw new RangeError('npiCheckDigit: base must be 9 digits');
  const digits = `80840${base9}`;
  let sum = 0;
  // Double every second digit from the right of the base (the check digit is not included).
  for (let i = digits.length - 1, dbl = true; i >= 0; i--, dbl = !dbl) {
    let d = digits.charCodeAt(i) - 48;
    if (dbl) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return (10 - (sum % 10)) % 10;
}

/** True when `npi` is 10 digits whose last digit is the Luhn check digit of `80840` + first 9. */
export function isValidNpi(npi: string): boolean {
  return /^\d{10}$/.test(npi) && npiCheckDigit(npi.slice(0, 9)) === Number(npi[9]);
}
