/**
 * `npm run console:screens`: screenshots of each console view at 1280x800 into docs/console/
 * (sign-in, worklist, invoice with a coding exception, duplicate side by side, audit, dashboard,
 * API keys), from the real service on an embedded PGlite store seeded like the browser tests.
 * Needs Debian's chromium (/usr/bin/chromium, or CHROMIUM_PATH).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { packageRoot } from '../core/paths.js';
import {
  ensureConsoleBuilt,
  launchChromium,
  seedConsole,
  startConsoleServer,
} from '../test/console-harness.js';
import type { KeyName } from '../test/harness.js';

const out = join(packageRoot(), 'docs', 'console');
mkdirSync(out, { recursive: true });
await ensureConsoleBuilt();
const server = await startConsoleServer({ engine: 'pglite' });
const seeded = await seedConsole(server.h, 40);
// A claim by another reviewer, so the worklist shows one.
await server.h.call('multi', { method: 'POST', url: `/v1/worklist/${seeded.xss.decision_id}/claim` });
const browser = await launchChromium();

async function page(key: KeyName | null): Promise<Page> {
  const p = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
  await p.goto(`${server.base}/console/`);
  if (key) {
    await p.getByLabel('API key').fill(server.h.keys[key]);
    await p.getByRole('button', { name: 'Sign in' }).click();
    await p.getByRole('button', { name: 'Sign out' }).waitFor();
  }
  return p;
}
async function shot(p: Page, name: string, hash: string, ready: string): Promise<void> {
  await p.goto(`${server.base}/console/${hash}`);
  await p.locator(ready).first().waitFor();
  await p.waitForTimeout(300);
  await p.screenshot({ path: join(out, `${name}.png`) });
  console.log(`wrote docs/console/${name}.png`);
}

try {
  const signin = await page(null);
  await signin.screenshot({ path: join(out, 'signin.png') });
  const reviewer = await page('reviewer');
  await shot(reviewer, 'worklist', '#/worklist', 'table.worklist tbody tr');
  await shot(reviewer, 'invoice', `#/invoice/${seeded.coding.decision_id}`, 'section.label-form');
  const multi = await page('multi');
  await shot(multi, 'duplicate', `#/invoice/${seeded.duplicate.decision_id}`, 'table.side-by-side');
  await multi.locator('#dup-title').scrollIntoViewIfNeeded();
  await multi.screenshot({ path: join(out, 'duplicate.png') });
  const auditor = await page('auditor');
  await shot(auditor, 'audit', '#/audit', 'button');
  await auditor.getByRole('button', { name: 'Verify the audit chain' }).click();
  await auditor.getByLabel('Decision id').fill(seeded.duplicate.decision_id);
  await auditor.getByRole('button', { name: 'Show history' }).click();
  await auditor.locator('ol.timeline li').first().waitFor();
  await auditor.screenshot({ path: join(out, 'audit.png') });
  await shot(auditor, 'dashboard', '#/dashboard', '#kpi-scores-duplicate figcaption');
  const admin = await page('admin');
  await shot(admin, 'admin', '#/admin', 'table tbody tr');
} finally {
  await browser.close();
  await server.h.close();
}
