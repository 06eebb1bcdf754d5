/**
 * The model card page parsed by a real HTML parser (headless Chromium via playwright-core): the
 * shipped coding card with hostile strings in it (escaped, never markup), a reliability diagram
 * with one dot per non-empty bin, thresholds with their guarantee, label mix and drift status.
 */
import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shippedModelsDir } from '../bin/models-dir.js';
import type { ModelCard } from '../models/card.js';
import { renderCardPage } from '../monitoring/card-page.js';
import type { DriftReport } from '../monitoring/drift.js';
import { launchChromium } from './console-harness.js';
import { startHarness, type Harness } from './harness.js';

const HOSTILE = '<script>window.pwned=1</script><img src=x onerror="window.pwned=2">';

function card(): ModelCard {
  const c = JSON.parse(
    readFileSync(join(shippedModelsDir(), 'coding-mismatch', '1', 'card.json'), 'utf8'),
  ) as ModelCard;
  const t = c.training!;
  t.notes = [...t.notes, `note ${HOSTILE}`];
  t.labels.benchmark.files[0]!.path = `"><b id="injected">x</b>${HOSTILE}`;
  t.calibration.reliabilityTest = [
    { lo: 0, hi: 0.1, count: 900, meanScore: 0.02, positiveRate: 0.015 },
    { lo: 0.1, hi: 0.2, count: 0, meanScore: null, positiveRate: null },
    { lo: 0.2, hi: 0.3, count: 40, meanScore: 0.25, positiveRate: 0.3 },
    { lo: 0.9, hi: 1, count: 60, meanScore: 0.95, positiveRate: 0.9 },
  ];
  t.labels.mix = {
    sources: ['reviewer', 'erp'],
    perSource: {
      reviewer: { labels: 12, rows: 15, positives: 4, weight: 3 },
      audit_sample: { labels: 0, rows: 0, positives: 0, weight: 3 },
      erp: { labels: 7, rows: 9, positives: 2, weight: 1 },
    },
  };
  return c;
}

const drift = {
  model: 'coding-mismatch@1',
  tenant_id: 'default',
  unit: 'line',
  window: { from: '2026-12-01T00:00:00.000Z', to: '2026-12-02T00:00:00.000Z', hours: 24 },
  rows: 149,
  status: 'drift',
  thresholds: {
    psi: { watch: 0.1, drift: 0.25 },
    jsBits: { watch: 0.018, drift: 0.045 },
    missingShareIncrease: { watch: 0.05, drift: 0.2 },
    sparse_rows_per_bin: 5,
    min_rows: 30,
  },
  reference: { source: 'test', rows: 1000 },
  score: {
    feature: 'score',
    n: 149,
    psi: 0.05,
    js_bits: 0.01,
    statistic: 'psi',
    missing_share: 0,
    reference_missing_share: 0,
    status: 'ok',
  },
  features: [
    {
      feature: 'unit_price_fee_log_ratio',
      n: 149,
      psi: 0.61,
      js_bits: 0.1,
      statistic: 'psi',
      missing_share: 0,
      reference_missing_share: 0,
      status: 'drift',
    },
  ],
} as DriftReport;

describe('model card page', () => {
  let browser: Browser;
  let page: Page;
  const c = card();

  beforeAll(async () => {
    browser = await launchChromium();
    page = await browser.newPage();
    await page.setContent(renderCardPage(c, { report: drift }));
  }, 60_000);
  afterAll(async () => browser?.close());

  it('escapes every card string: no script, image or injected element, the text shown as text', async () => {
    expect(await page.locator('script').count()).toBe(0);
    expect(await page.locator('img').count()).toBe(0);
    expect(await page.locator('#injected').count()).toBe(0);
    expect(await page.evaluate('window.pwned')).toBeUndefined();
    const text = await page.locator('body').innerText();
    expect(text).toContain(`note ${HOSTILE}`);
    expect(text).toContain('"><b id="injected">x</b>');
  });

  it('shows title, thresholds with their guarantee, metrics per kind, data hashes and label mix', async () => {
    expect(await page.title()).toBe('Model card coding-mismatch@1');
    const t = c.training!;
    const approve = t.thresholds.autoApprove;
    const thresholds = await page.locator('h2#thresholds + table').innerText();
    expect(thresholds).toContain(`≤ ${approve.alpha} with probability ≥ ${1 - approve.delta}`);
    expect(thresholds).toContain(`${approve.calibrationErrors} errors among ${approve.calibrationSelected}`);
    const tables = await page.locator('table').allInnerTexts();
    const perKind = tables.find((x) => x.startsWith('Per exception kind'))!;
    for (const k of t.metrics.perKind) expect(perKind).toContain(k.kind);
    const data = await page.locator('h2#data + table').innerText();
    expect(data).toContain(t.data.hash);
    expect(data).toContain(t.labels.hash);
    expect(data).toContain(c.artefacts.onnxSha256);
    const mix = await page.locator('h2#labels + table tbody tr').allInnerTexts();
    expect(mix.map((r) => r.split('\t'))).toEqual([
      ['reviewer', '12', '15', '4', '3'],
      ['audit_sample', '0', '0', '0', '3'],
      ['erp', '7', '9', '2', '1'],
    ]);
  });

  it('draws the reliability diagram: one dot per non-empty bin, placed by mean score and share of exceptions', async () => {
    const dots = page.locator('svg.reliability circle');
    expect(await dots.count()).toBe(3);
    const pos = await dots.evaluateAll((cs) =>
      cs.map((el) => [Number(el.getAttribute('cx')), Number(el.getAttribute('cy'))]),
    );
    // 320 px square, 40 px padding: x = 40 + 240 * score, y = 280 - 240 * rate
    expect(pos).toEqual([
      [44.8, 276.4],
      [100, 208],
      [268, 64],
    ]);
  });

  it('shows the tenant’s drift status with the drifting feature; a card without a reference says why', async () => {
    expect(await page.locator('.drift-status b').innerText()).toBe('drift');
    expect(await page.locator('h2#drift ~ table').innerText()).toContain('unit_price_fee_log_ratio');
    const other = await browser.newPage();
    const plain = card();
    delete plain.training!.calibration.reliabilityTest;
    delete plain.training!.labels.mix;
    await other.setContent(
      renderCardPage(plain, { unavailable: 'coding-mismatch@1 has no reference <histograms>' }),
    );
    expect(await other.locator('.drift-status').innerText()).toContain('unavailable');
    expect(await other.locator('.drift-status').innerText()).toContain('no reference <histograms>');
    expect(await other.locator('svg.reliability').count()).toBe(0);
    expect(await other.locator('.no-reliability').count()).toBe(1);
    await other.close();
  });

  it('draws the shipped duplicate card’s reliability diagram and label mix', async () => {
    const dup = JSON.parse(
      readFileSync(join(shippedModelsDir(), 'duplicate', '1', 'card.json'), 'utf8'),
    ) as ModelCard;
    const bins = dup.training!.calibration.reliabilityTest!;
    const other = await browser.newPage();
    await other.setContent(renderCardPage(dup, { unavailable: 'no tenant' }));
    expect(await other.locator('svg.reliability circle').count()).toBe(
      bins.filter((b) => b.count > 0).length,
    );
    expect(bins.filter((b) => b.count > 0).length).toBeGreaterThan(3);
    const mix = await other.locator('h2#labels + table tbody tr').allInnerTexts();
    expect(mix.map((r) => r.split('\t')[0])).toEqual(['reviewer', 'audit_sample', 'erp']);
    await other.close();
  });
});

describe('GET /v1/models/{name}/versions/{v}/card.html', () => {
  let h: Harness;
  const dir = mkdtempSync(join(tmpdir(), 'card-page-models-'));

  beforeAll(async () => {
    cpSync(shippedModelsDir(), dir, { recursive: true });
    h = await startHarness(
      { engine: 'pglite' },
      {
        wire: { models: { dir, reloadMs: null }, monitoring: { flushMs: 0 } },
        app: (w) => ({
          monitoring: { monitoring: w.monitoring, store: w.monitoringStore, defaultAuditRate: 0 },
        }),
      },
    );
  }, 120_000);
  afterAll(async () => {
    await h?.close();
    await h?.wired.closeModels();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers the shipped card as text/html with its tenant’s drift; 404 problem for an unknown version; readers only', async () => {
    const r = await h.call('auditor', {
      method: 'GET',
      url: '/v1/models/coding-mismatch/versions/v2/card.html',
    });
    expect(r.statusCode, r.body).toBe(200);
    expect(r.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(r.body).toContain('<title>Model card coding-mismatch@2</title>');
    // nothing scored yet in this tenant: the shipped reference exists, so the status is insufficient data
    expect(r.body).toMatch(/<b data-status="insufficient_data">insufficient_data<\/b>/);
    // The page's inline stylesheet is admitted by its hash in style-src; nothing else is loosened.
    const css = /<style>([^<]*)<\/style>/.exec(r.body)![1]!;
    const hash = `'sha256-${createHash('sha256').update(css).digest('base64')}'`;
    const csp = String(r.headers['content-security-policy']);
    expect(csp).toContain(`style-src 'self' ${hash}`);
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).toContain("script-src 'self'");
    const byAlias = await h.call('auditor', {
      method: 'GET',
      url: '/v1/models/coding-mismatch/versions/champion/card.html',
    });
    expect(byAlias.statusCode, byAlias.body).toBe(200);
    expect(byAlias.body).toContain('<title>Model card coding-mismatch@4</title>');
    expect(
      await h.call('auditor', { method: 'GET', url: '/v1/models/coding-mismatch/versions/99/card.html' }),
    ).toBeProblem(404, 'TRIAGE_MODEL_NOT_FOUND');
    expect(
      await h.call('reviewer', { method: 'GET', url: '/v1/models/coding-mismatch/versions/1/card.html' }),
    ).toBeProblem(403, 'TRIAGE_FORBIDDEN');
  });
});
