import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isTriageError } from '../core/errors.js';
import type { FeeScheduleEntry, ReferenceData } from '../core/reference.js';
import {
  REFERENCE_DATA_VERSION,
  REFERENCE_FILES,
  defaultReferenceDir,
  loadFieldCodeTables,
  loadReferenceData,
  medianCents,
  packageRoot,
  parseDecimalToCents,
} from './reference.js';

let ref: ReferenceData;
beforeAll(() => {
  ref = loadReferenceData();
});

function fee(code: string, source: FeeScheduleEntry['source'], modifier = ''): FeeScheduleEntry | undefined {
  return ref.fees.get(code)?.find((e) => e.source === source && e.modifier === modifier);
}

function errorCodeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return isTriageError(e) ? e.code : `not a TriageError: ${String(e)}`;
  }
  return undefined;
}

describe('parseDecimalToCents', () => {
  it('parses CMS decimal strings by string arithmetic, half up on the third decimal', () => {
    expect(parseDecimalToCents('00720.00')).toBe(72_000);
    expect(parseDecimalToCents('146.312')).toBe(14_631);
    expect(parseDecimalToCents('30.525')).toBe(3_053);
    expect(parseDecimalToCents('0.048')).toBe(5);
    expect(parseDecimalToCents('0.003')).toBe(0);
    expect(parseDecimalToCents('6.5')).toBe(650);
    expect(parseDecimalToCents('25')).toBe(2_500);
    expect(parseDecimalToCents('.5')).toBe(50);
    expect(parseDecimalToCents('-1.73')).toBe(-173);
    expect(parseDecimalToCents('-0.005')).toBe(-1);
    // 0.1 + 0.2 style drift cannot happen: 1.005 * 100 is 100.49999... in binary floating point.
    expect(parseDecimalToCents('1.005')).toBe(101);
  });

  it('rejects what is not a plain decimal', () => {
    for (const bad of ['', '.', 'N/A', '1,000.00', 'RM 5.00', '1.2.3', '1e3']) {
      expect(parseDecimalToCents(bad)).toBeNull();
    }
  });
});

describe('medianCents', () => {
  it('takes the middle value, or the mean of the two middle values rounded half up', () => {
    expect(medianCents([300, 100, 200])).toBe(200);
    expect(medianCents([485, 514])).toBe(500); // (4.85 + 5.14) / 2 = 4.995 -> 5.00
    expect(medianCents([47, 48])).toBe(48); // 0.475 -> 0.48
  });
});

describe('loadReferenceData', () => {
  it('reports the edition', () => {
    expect(ref.version).toBe(REFERENCE_DATA_VERSION);
    expect(ref.version).toBe('HCPCS 2025-01; DMEPOS 2025-01; PFS 2025-A; CLFS 2025-Q1; ASP 2025-Q1');
  });

  it('resolves the default directory from the package root', () => {
    const root = packageRoot();
    expect(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).name).toBe('invoice-triage');
    expect(defaultReferenceDir()).toBe(join(root, 'datasets', 'reference'));
  });

  it('keeps the 8,259 procedure codes and none of the 383 modifiers', () => {
    expect(ref.hcpcs.size).toBe(8_259);
    expect(ref.hcpcs.has('RR')).toBe(false);
    expect(ref.hcpcs.has('NU')).toBe(false);
    expect([...ref.hcpcs.keys()].every((c) => /^[A-Z][0-9A-Z]{4}$/.test(c))).toBe(true);
  });

  it('maps E0601 (CPAP) with both descriptions, BETOS, coverage and ISO dates', () => {
    expect(ref.hcpcs.get('E0601')).toEqual({
      code: 'E0601',
      shortDescription: 'Cont airway pressure device',
      longDescription: 'Continuous positive airway pressure (cpap) device',
      betos: 'D1E',
      coverage: 'D',
      addedDate: '1988-01-01',
      terminationDate: null,
      pricingIndicators: ['36'], // capped rental DME
    });
  });

  it('carries termination dates of discontinued codes', () => {
    expect(ref.hcpcs.get('J0135')?.terminationDate).toBe('2024-12-31'); // adalimumab, 20 mg
    expect(ref.hcpcs.get('E2300')?.terminationDate).toBe('2024-03-31'); // power seat elevation
    const terminated = [...ref.hcpcs.values()].filter((c) => c.terminationDate !== null);
    expect(terminated).toHaveLength(1_145);
  });

  it('prices DMEPOS at the median of the state non-rural fees', () => {
    // E0601 RR, the 53 "XX (NR)" cells sorted: 6 x 48.72, 4 x 49.12, 7 x 49.37, 6 x 49.55,
    // 5 x 49.56, ... The 27th value (the median) falls in the 49.56 run (positions 24-28): 4956 cents.
    expect(fee('E0601', 'DMEPOS', 'RR')?.amountCents).toBe(4_956);
    // L3000 (UCB foot insert, no modifier): 22 x 369.41, 4 x 376.64, 6 x 378.49, ... -> 27th = 378.49.
    expect(fee('L3000', 'DMEPOS')?.amountCents).toBe(37_849);
    // A4253 NU (glucose strips, per 50): 8.32 in all 53 states.
    expect(fee('A4253', 'DMEPOS', 'NU')?.amountCents).toBe(832);
  });

  it('keeps one DMEPOS entry per (code, modifier), preferring the row without a second modifier', () => {
    // E0431 RR has three rows (Mod2 blank, QB, QF); the blank-Mod2 row has median 21.56.
    const e0431 = ref.fees.get('E0431')?.filter((e) => e.source === 'DMEPOS' && e.modifier === 'RR');
    expect(e0431).toHaveLength(1);
    expect(e0431?.[0]?.amountCents).toBe(2_156);
    // E0747 NU exists only with Mod2 = KF; that row is used.
    expect(fee('E0747', 'DMEPOS', 'NU')?.amountCents).toBe(547_151);
  });

  it('prices DMEPEN, PFS and CLFS entries', () => {
    expect(fee('B4035', 'DMEPEN')?.amountCents).toBe(668);
    expect(fee('Q0035', 'PFS', 'TC')?.amountCents).toBe(1_326);
    expect(fee('Q0035', 'PFS', '26')?.amountCents).toBe(809);
    expect(fee('G0480', 'CLFS')?.amountCents).toBe(11_443); // rate "114.43"
    expect(fee('G0027', 'CLFS')?.amountCents).toBe(650); // rate "6.5"
    expect(fee('G0328', 'CLFS', 'QW')?.amountCents).toBe(1_805);
  });

  it('prices ASP drugs per billing unit', () => {
    // J1745 infliximab: payment_limit "30.525" per "10 MG" -> 3052.5 cents, half up -> 3053.
    expect(fee('J1745', 'ASP')).toEqual({
      code: 'J1745',
      modifier: '',
      source: 'ASP',
      amountCents: 3_053,
      billingUnit: '10 MG',
    });
    expect(fee('J0897', 'ASP')?.billingUnit).toBe('1 MG');
    // A9606 has payment_limit "N/A" and J2002 rounds to 0 cents ("0.003"): no entry.
    expect(ref.fees.get('A9606')?.some((e) => e.source === 'ASP') ?? false).toBe(false);
    expect(ref.fees.get('J2002')?.some((e) => e.source === 'ASP') ?? false).toBe(false);
  });

  it('drops CPT codes and counts entries per source', () => {
    expect(ref.fees.has('99213')).toBe(false);
    expect(ref.fees.has('0001U')).toBe(false);
    const counts: Record<string, number> = {};
    for (const list of ref.fees.values())
      for (const e of list) counts[e.source] = (counts[e.source] ?? 0) + 1;
    expect(counts).toEqual({ DMEPOS: 2_637, DMEPEN: 47, PFS: 243, CLFS: 45, ASP: 841 });
    const all = [...ref.fees.values()].flat();
    expect(all.every((e) => Number.isInteger(e.amountCents) && e.amountCents > 0)).toBe(true);
  });

  it('loads the CMS code tables', () => {
    const tables = loadFieldCodeTables();
    expect(tables.get('betos_code')?.get('D1E')).toBe('Other DME');
    // The shared README says 112 BETOS / 29 TOS rows; the file itself holds 107 / 34 (190 in all).
    expect(tables.get('betos_code')?.size).toBe(107);
    expect(tables.get('type_of_service')?.size).toBe(34);
  });
});

describe('loadReferenceData errors', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'triage-ref-'));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('throws TRIAGE_REFERENCE_DATA_INVALID when a file is missing', () => {
    expect(errorCodeOf(() => loadReferenceData(join(dir, 'nowhere')))).toBe('TRIAGE_REFERENCE_DATA_INVALID');
  });

  it('throws TRIAGE_REFERENCE_DATA_INVALID when a required column is absent', () => {
    const src = defaultReferenceDir();
    for (const rel of Object.values(REFERENCE_FILES)) {
      mkdirSync(dirname(join(dir, rel)), { recursive: true });
      copyFileSync(join(src, rel), join(dir, rel));
    }
    const asp = join(dir, REFERENCE_FILES.asp);
    writeFileSync(asp, readFileSync(asp, 'utf8').replace('payment_limit', 'limit'));
    let message = '';
    try {
      loadReferenceData(dir);
    } catch (e) {
      expect(isTriageError(e, 'TRIAGE_REFERENCE_DATA_INVALID')).toBe(true);
      message = (e as Error).message;
    }
    expect(message).toContain('payment_limit');
  });
});
