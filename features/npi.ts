/**
 * National Provider Identifier check digit (CMS NPI standard: Luhn over the 9 base digits
 * prefixed with the card issuer prefix 80840).
 */

/** True when `npi` is 10 digits whose last digit is the Luhn check digit of `80840` + first 9. */
export function isValidNpi(npi: string): boolean {
  if (!/^\d{10}$/.test(npi)) return false;
  const digits = `80840${npi.slice(0, 9)}`;
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
  return (10 - (sum % 10)) % 10 === Number(npi[9]);
}
