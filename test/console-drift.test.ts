/**
 * The console's dashboard draws the served models' drift, in real headless Chromium, against
 * the app with the shipped champions and the monitoring routes: the caption states what
 * `GET /v1/models/{name}/drift` answers; a role that may not read drift sees why, not a chart.
 */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shippedModelsDir } from '../bin/models-dir.js';
import type { DriftReport } from '../monitoring/drift.js';
import { ensureConsoleBuilt, launchChromium } from './console-harness.js';
import { makeInvoice } from './fixtures.js';
import { startHarness, type Harness, type KeyName } from './harness.js';

describe('dashboard drift in Chromium', () => {
  let h: Harness;
  let base: string;
  let browser: Browser;
  const dir = mkdtempSync(join(tmpdir(), 'console-drift-models-'));

  beforeAll(async () => {
    await ensureConsoleBuilt();
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
    // 24 two-line invoices: 48 coding rows, enough for a status
    for (let i = 0; i < 24; i++)
      await h.scoreOk(
        makeInvoice({
          invoice_id: `dr-${i}`,
          invoice_number: `DR-${1000 + i}`,
          vendor: { id: `V-${300 + (i % 6)}`, name: `Vendor ${i % 6} Medical` },
          invoice_date: `2025-03-${String(1 + (i % 28)).padStart(2, '0')}`,
        }),
      );
    base = await h.app.listen({ host: '127.0.0.1', port: 0 });
    browser = await launchChromium();
  }, 240_000);
  afterAll(async () => {
    await browser?.close();
    await h?.close();
    await h?.wired.closeModels();
    rmSync(dir, { recursive: true, force: true });
  });

  async function dashboard(key: KeyName): Promise<Page> {
    const page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
    await page.goto(`${base}/console/`);
    await page.getByLabel('API key').fill(h.keys[key]);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
    await page.goto(`${base}/console/#/dashboard`);
    return page;
  }

  it('draws each model’s PSI bars with the status and figures of the drift route in the caption', async () => {
    const page = await dashboard('ds');
    const caption = page.locator('#drift-coding-mismatch figcaption');
    await caption.waitFor();
    const r = (
      await h.call('ds', { method: 'GET', url: '/v1/models/coding-mismatch/drift?hours=168' })
    ).json<DriftReport>();
    expect(r.rows).toBe(48);
    const text = await caption.textContent();
    expect(text).toContain(`${r.model}: ${r.status} over ${r.rows} lines in 168 h`);
    expect(text).toContain(`score PSI ${r.score.psi!.toFixed(3)} (${r.score.status})`);
    for (const f of r.features.filter((x) => x.status === 'drift'))
      expect(text).toContain(`${f.feature} ${f.psi!.toFixed(3)}`);
    expect(await page.locator('#drift-coding-mismatch canvas').count()).toBe(1);
    expect(await page.locator('#drift-coding-mismatch h3').textContent()).toBe(
      `Drift: ${r.model} (${r.status})`,
    );
    await page.locator('#drift-duplicate figcaption').waitFor();
    await page.context().close();
  });

  it('a reviewer (no drift role) sees why instead of a chart', async () => {
    const page = await dashboard('reviewer');
    const caption = page.locator('#drift-coding-mismatch figcaption');
    await caption.waitFor();
    expect(await caption.textContent()).toMatch(/^Drift of coding-mismatch: unavailable \(.+\)\.$/);
    expect(await page.locator('#drift-coding-mismatch canvas').count()).toBe(0);
    await page.context().close();
  });
});
