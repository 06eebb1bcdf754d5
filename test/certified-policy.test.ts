/**
 * The shipped certified routing policy (datasets/policies/certified-policy.json) is the served
 * default (bin/served-policy.ts) and also loads through `POLICY_FILE`: an invoice of the golden
 * fixture that the cards would send to coding review (line coding score just above the card's
 * 0.0354) is auto-approved under the certified `coding.review_at` either way, with the same scores;
 * and the hand-built samples' resubmissions (duplicate score 1.000) are held on the duplicate
 * score alone (`ap.hold_at` is the duplicate card's hold threshold, not 1).
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../bin/config.js';
import { wire } from '../bin/bootstrap.js';
import { readGzipJson, type GoldenInput } from '../bin/golden-decisions.js';
import { registerVendorMaster } from '../bin/service-detector.js';
import { scoreFile } from '../bin/cli.js';

const policyFile = fileURLToPath(new URL('../datasets/policies/certified-policy.json', import.meta.url));
const golden = readGzipJson<GoldenInput>(fileURLToPath(new URL('./golden/input.json.gz', import.meta.url)));

async function decide(invoiceId: string, file: string | undefined) {
  const w = await wire(
    { engine: 'pglite' },
    { models: { reloadMs: null }, ...(file ? { policyFile: file } : {}) },
  );
  try {
    await registerVendorMaster(w.repo, golden.vendors);
    const invoice = golden.invoices.find((i) => i.invoice_id === invoiceId);
    if (!invoice) throw new Error(`${invoiceId} is not in the golden input`);
    return (await w.scoring.score(invoice)).decision;
  } finally {
    await w.repo.close();
    await w.closeModels();
  }
}

describe('datasets/policies/certified-policy.json through POLICY_FILE', () => {
  it('is the policy file of the configuration', () => {
    const env = { ...process.env, POLICY_FILE: policyFile };
    expect(loadConfig(env).policyFile).toBe(policyFile);
  });

  it('is the served default: the same decision with or without POLICY_FILE', async () => {
    // bm7-0001837: line coding score just above the coding card's 0.0354 (REVIEW/coding under
    // the cards, test/models-serving.test.ts routes a non-certified champion by its card),
    // below the certified coding.review_at.
    const id = 'bm7-0001837';
    const served = await decide(id, undefined);
    const certified = await decide(id, loadConfig({ ...process.env, POLICY_FILE: policyFile }).policyFile);
    expect(served.versions.policy).toBe('policy-certified@1');
    expect(served.versions.thresholds?.['coding.review_at']).toBe('policy:policy-certified@1');
    expect(certified.scores).toEqual(served.scores);
    expect(served.decision).toBe('AUTO_APPROVE');
    expect(certified.decision).toBe('AUTO_APPROVE');
    expect(certified.versions.policy).toBe('policy-certified@1');
    expect(certified.versions.thresholds?.['coding.review_at']).toBe('policy:policy-certified@1');
  }, 120_000);

  it('is the policy the CLI scores a file under with --policy-file', async () => {
    const samples = fileURLToPath(new URL('../datasets/samples/hcpcs_invoices.jsonl', import.meta.url));
    const out = `${process.env.TMPDIR ?? '/tmp'}/certified-policy-cli-${process.pid}.jsonl`;
    await scoreFile(samples, { store: { engine: 'pglite' }, policyFile, out });
    const { readFileSync, rmSync } = await import('node:fs');
    const decisions = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map(
        (l) =>
          JSON.parse(l) as {
            invoice_id: string;
            decision: string;
            queue?: string;
            scores: { duplicate: number };
            versions: { policy: string; thresholds?: Record<string, string> };
          },
      );
    rmSync(out);
    expect(decisions.length).toBe(60);
    // the exact resubmission and the two re-keyed ones: held in the AP queue on the duplicate
    // score (duplicate@5: 0.998 to 1 at 3 decimals)
    const byId = new Map(decisions.map((d) => [d.invoice_id, d]));
    for (const id of ['hc-2025-0058', 'hc-2025-0023', 'hc-2025-0048']) {
      expect(byId.get(id)?.scores.duplicate).toBeGreaterThanOrEqual(0.99);
      expect([id, byId.get(id)?.decision, byId.get(id)?.queue]).toEqual([id, 'HOLD', 'ap']);
    }
    expect(new Set(decisions.map((d) => d.versions.policy))).toEqual(new Set(['policy-certified@1']));
    expect(decisions[0]!.versions.thresholds?.['ap.hold_at']).toBe('policy:policy-certified@1');
  }, 300_000);
});
