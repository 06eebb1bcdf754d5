/**
 * The shipped certified routing policy (datasets/policies/certified-policy.json) loads through
 * `POLICY_FILE` and routes by its own thresholds instead of the champions' cards: an invoice of
 * the golden fixture that the cards send to coding review (line coding score just above the
 * card's 0.0354) is auto-approved under the certified `coding.review_at`, with the same scores.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../bin/config.js';
import { wire } from '../bin/bootstrap.js';
import { readGzipJson, type GoldenInput } from '../bin/golden-decisions.js';
import { registerVendorMaster } from '../bin/service-detector.js';

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

  it('routes by the certified thresholds, not the cards', async () => {
    const id = 'bm7-0001837';
    const cards = await decide(id, undefined);
    const certified = await decide(id, loadConfig({ ...process.env, POLICY_FILE: policyFile }).policyFile);
    expect(cards.decision).toBe('REVIEW');
    expect(cards.queue).toBe('coding');
    expect(cards.versions.policy).toBe('policy-default@1');
    expect(certified.scores).toEqual(cards.scores);
    expect(certified.decision).toBe('AUTO_APPROVE');
    expect(certified.versions.policy).toBe('policy-certified@1');
    expect(certified.versions.thresholds?.['coding.review_at']).toBe('policy:policy-certified@1');
  }, 120_000);
});
