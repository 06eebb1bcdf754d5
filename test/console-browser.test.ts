/**
 * The review console in real headless Chromium (Debian's chromium via playwright-core) against
 * the real service on 127.0.0.1 and a real store (PostgreSQL when TEST_DATABASE_URL is set,
 * else PGlite), seeded with a small scored benchmark. Sign in; clear a worklist item with a
 * label (and a failed post that is retried); open a duplicate and see the differing fields;
 * verify the audit chain; load the dashboard; roles decide what the page offers; the key is
 * sent only to this origin; a description with <script> renders as text; a re-billed line
 * (LINE_REBILLED) is offered as the duplicate review, and after the first label of a decision
 * with findings of two tasks the page names the task left.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { engines, invoiceOfLines, makeInvoice } from './fixtures.js';
import {
  ensureConsoleBuilt,
  launchChromium,
  seedConsole,
  startConsoleServer,
  XSS_DESCRIPTION,
  type ConsoleServer,
  type Seeded,
} from './console-harness.js';
import type { KeyName } from './harness.js';

const engine = engines('cbrowser').at(-1)!;

describe(`review console in Chromium on ${engine.name}`, () => {
  let server: ConsoleServer;
  let browser: Browser;
  let seeded: Seeded;
  /** Requests that carried an API key, by URL. */
  const keyed: string[] = [];
  const dialogs: string[] = [];

  beforeAll(async () => {
    await ensureConsoleBuilt();
    server = await startConsoleServer(engine.config());
    seeded = await seedConsole(server.h);
    browser = await launchChromium();
  }, 240_000);
  afterAll(async () => {
    await browser?.close();
    await server?.h.close();
  });

  /** A fresh page signed in with the named harness key. */
  async function signIn(key: KeyName): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    page.on('request', (r) => {
      if (r.headers().authorization) keyed.push(r.url());
    });
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    await page.goto(`${server.base}/console/`);
    await page.getByLabel('API key').fill(server.h.keys[key]);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
    return page;
  }
  const api = (key: KeyName, url: string, init: { method?: string; body?: unknown } = {}) =>
    server.h.call(key, {
      method: (init.method ?? 'GET') as 'GET',
      url,
      ...(init.body ? { payload: init.body as object } : {}),
    });

  it('serves the page with anti-clickjacking and CSP headers; a wrong key is refused', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const res = await page.goto(`${server.base}/console/`);
    expect(res!.headers()['x-frame-options']).toBe('DENY');
    expect(res!.headers()['content-security-policy']).toContain("frame-ancestors 'none'");
    await page.getByLabel('API key').fill('itk_wrong');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByRole('alert').textContent()).resolves.toContain('unknown or revoked');
    await context.close();
  });

  it('a reviewer signs in, sees the worklist by priority, clears an item with a label; it is stored', async () => {
    const page = await signIn('reviewer');
    await page.getByRole('heading', { name: 'Worklist' }).waitFor();
    const rows = page.locator('table.worklist tbody tr');
    await rows.first().waitFor();
    const open = (await api('reviewer', '/v1/worklist?limit=500')).json().items as { decision_id: string }[];
    expect(await rows.count()).toBe(open.length);
    expect(await rows.first().getAttribute('data-decision')).toBe(open[0]!.decision_id);
    // Keyboard: j moves to the second item, k back, Enter opens the first.
    await page.keyboard.press('j');
    expect(await rows.nth(1).getAttribute('aria-selected')).toBe('true');
    await page.keyboard.press('k');
    await page.keyboard.press('Enter');
    await page.waitForURL(`**/#/invoice/${open[0]!.decision_id}`);
    await page.getByText('Claimed by you').waitFor();
    await page.getByRole('button', { name: 'False alarm' }).click();
    await page.waitForURL('**/#/worklist');
    const reviews = (await api('auditor', `/v1/reviews?decision_id=${open[0]!.decision_id}`)).json().items;
    expect(reviews).toHaveLength(1);
    expect(reviews[0]).toMatchObject({ outcome: 'false_positive', item_status: 'closed' });
    const after = (await api('reviewer', '/v1/worklist?limit=500')).json().items as { decision_id: string }[];
    expect(after.map((i) => i.decision_id)).not.toContain(open[0]!.decision_id);
    await rows.first().waitFor();
    expect(await page.locator(`tr[data-decision="${open[0]!.decision_id}"]`).count()).toBe(0);
    await page.context().close();
  });

  it('a failed label post is shown, kept, and stored once on retry', async () => {
    const page = await signIn('reviewer');
    await page.goto(`${server.base}/console/#/invoice/${seeded.coding.decision_id}`);
    // The line's contributions are charted and add up to its score.
    const attribution = page.locator('#attr-2 figcaption');
    await attribution.waitFor();
    const line2 = seeded.coding.lines[1]!.coding_mismatch!;
    expect(await attribution.textContent()).toContain(`(line score ${(line2 * 100).toFixed(1)}%)`);
    await page.route('**/v1/reviews', (r) => r.abort('connectionrefused'));
    await page.getByRole('button', { name: 'Confirm exception' }).click();
    await page.getByRole('heading', { name: /Labels not yet stored \(1\)/ }).waitFor();
    expect(await page.evaluate("localStorage.getItem('invoice-triage.pending-labels')")).toContain(
      seeded.coding.decision_id,
    );
    await page.unroute('**/v1/reviews');
    await page.getByRole('button', { name: 'Retry' }).click();
    await page.getByRole('heading', { name: /Labels not yet stored/ }).waitFor({ state: 'detached' });
    const reviews = (await api('auditor', `/v1/reviews?decision_id=${seeded.coding.decision_id}`)).json()
      .items;
    expect(reviews).toHaveLength(1);
    expect(reviews[0].outcome).toBe('confirmed');
    expect(await page.evaluate("localStorage.getItem('invoice-triage.pending-labels')")).toBe('[]');
    await page.context().close();
  });

  it('opens a duplicate: side by side, differing fields highlighted, the number edit spelled out', async () => {
    expect(seeded.duplicate.duplicates[0]?.invoice_id).toBe('cs-dup-a');
    const page = await signIn('multi');
    await page.goto(`${server.base}/console/#/invoice/${seeded.duplicate.decision_id}`);
    await page.getByRole('heading', { name: 'Possible duplicate of cs-dup-a' }).waitFor();
    const numberRow = page.locator('tr.differs[data-field="invoice_number"]');
    await numberRow.waitFor();
    expect(await numberRow.textContent()).toContain('INV-1OO80');
    expect(await numberRow.textContent()).toContain('INV-10080');
    expect(await page.locator('tr[data-field="total_cents"]').getAttribute('class')).toBe('');
    expect(await page.getByTestId('number-edit').textContent()).toMatch(/INV-10080.*INV-1OO80/);
    await page.context().close();
  });

  it('renders a description with <script> as text: nothing runs, no dialog', async () => {
    const page = await signIn('reviewer');
    await page.goto(`${server.base}/console/#/invoice/${seeded.xss.decision_id}`);
    await page.getByText(XSS_DESCRIPTION, { exact: true }).waitFor();
    expect(await page.evaluate('window.__xss')).toBeUndefined();
    expect(await page.locator('td.desc script, td.desc img').count()).toBe(0);
    expect(dialogs).toEqual([]);
    await page.context().close();
  });

  it('roles decide what the page offers: a reviewer sees no admin actions; an auditor cannot label', async () => {
    const reviewer = await signIn('reviewer');
    const nav = reviewer.getByRole('navigation', { name: 'Views' });
    expect(await nav.getByRole('link').allTextContents()).toEqual(['Worklist', 'Dashboard']);
    await reviewer.goto(`${server.base}/console/#/admin`);
    await reviewer.getByText('This view is not available for your roles').waitFor();
    expect(await reviewer.getByRole('button', { name: 'Revoke' }).count()).toBe(0);
    await reviewer.context().close();

    const auditor = await signIn('auditor');
    expect(
      await auditor.getByRole('navigation', { name: 'Views' }).getByRole('link').allTextContents(),
    ).toEqual(['Audit', 'Dashboard']);
    const target = seeded.benchmark.find((d) => d.decision !== 'AUTO_APPROVE') ?? seeded.xss;
    await auditor.goto(`${server.base}/console/#/invoice/${target.decision_id}`);
    await auditor.getByRole('heading', { name: 'Versions that decided' }).waitFor();
    expect(await auditor.getByRole('button', { name: /Confirm exception|False alarm/ }).count()).toBe(0);
    const post = await api('auditor', '/v1/reviews', {
      method: 'POST',
      body: { decision_id: target.decision_id, outcome: 'confirmed', idempotency_key: 'auditor-try' },
    });
    expect(post.statusCode).toBe(403);

    const admin = await signIn('admin');
    await admin.goto(`${server.base}/console/#/admin`);
    await admin.getByRole('button', { name: 'Revoke' }).first().waitFor();
    await admin.context().close();
    await auditor.context().close();
  });

  it('shows an item claimed by another reviewer as claimed, read only', async () => {
    // The duplicate was opened (so claimed) by the multi-role key above; claiming again renews it.
    const held = seeded.duplicate.decision_id;
    expect((await api('multi', `/v1/worklist/${held}/claim`, { method: 'POST' })).statusCode).toBe(200);
    const page = await signIn('reviewer');
    await page.locator(`tr[data-decision="${held}"]`).getByText('Claimed by test multi').waitFor();
    await page.goto(`${server.base}/console/#/invoice/${held}`);
    await page.getByText(/Claimed by test multi until .*: read only/).waitFor();
    expect(await page.getByRole('button', { name: 'False alarm' }).count()).toBe(0);
    await page.context().close();
  });

  it("an auditor verifies the audit chain and reads a decision's history", async () => {
    const page = await signIn('auditor');
    await page.getByRole('heading', { name: 'Audit' }).waitFor();
    await page.getByRole('button', { name: 'Verify the audit chain' }).click();
    const v = (await api('auditor', '/v1/audit/verify')).json();
    await page.getByText(`Chain intact: ${v.rows_checked} entries checked`).waitFor();
    await page.getByLabel('Decision id').fill(seeded.coding.decision_id);
    await page.getByRole('button', { name: 'Show history' }).click();
    await page.locator('ol.timeline > li').nth(2).waitFor();
    const kinds = await page.locator('ol.timeline > li > b').allTextContents();
    // The reviewer claimed the item on opening it; the label settled it: the review, the state
    // it moved to, and the claim the closed item no longer needs.
    expect(kinds).toEqual([
      'decision.created',
      'review.claimed',
      'review.created',
      'decision.state_changed',
      'review.released',
    ]);
    await page.context().close();
  });

  it('loads the dashboard: every figure charted, captions match the KPI routes', async () => {
    const page = await signIn('auditor');
    await page.goto(`${server.base}/console/#/dashboard`);
    const caption = page.locator('#kpi-straight-through figcaption');
    await caption.waitFor();
    const st = (await api('auditor', '/v1/kpis/straight-through')).json() as {
      points: { n: number; count: number }[];
    };
    const n = st.points.reduce((a, p) => a + p.n, 0);
    const c = st.points.reduce((a, p) => a + p.count, 0);
    expect(n).toBe(seeded.benchmark.length + 4);
    expect(await caption.textContent()).toContain(`(${c} of ${n} invoices)`);
    expect(await page.locator('figure.chart canvas').count()).toBe(10);
    expect(await page.locator('#kpi-discount-capture figcaption').textContent()).toMatch(
      /discounts captured|n\/a/,
    );
    await page.context().close();
  });

  it('renders money with its currency minor unit (ISO 4217): JPY none, KWD three decimals, USD two', async () => {
    // The same integer minor units in three currencies, each an exception (line 2 describes a
    // wheelchair but bills a nebulizer) so that it is on the worklist.
    const amounts: Record<string, { total: string; line2: string }> = {
      JPY: { total: '¥21,500', line2: '¥1,500' },
      KWD: { total: 'KWD 21.500', line2: 'KWD 1.500' },
      USD: { total: '$215.00', line2: '$15.00' },
    };
    const ids: Record<string, string> = {};
    for (const currency of Object.keys(amounts)) {
      const inv = makeInvoice({
        invoice_id: `cs-money-${currency}`,
        invoice_number: `M-${currency}`,
        vendor: { id: `V-9${currency}`, name: `Money ${currency}` },
        currency,
      });
      inv.lines[1] = { ...inv.lines[1]!, description: 'Standard wheelchair, fixed full length arms' };
      const d = await server.h.scoreOk(inv);
      expect(d.decision, currency).not.toBe('AUTO_APPROVE');
      ids[currency] = d.decision_id;
    }
    const flat = (t: string | null): string => (t ?? '').replace(/\s+/g, ' ').trim();
    const page = await signIn('reviewer');
    await page.getByRole('heading', { name: 'Worklist' }).waitFor();
    for (const [currency, want] of Object.entries(amounts)) {
      const row = page.locator(`tr[data-decision="${ids[currency]}"]`);
      await row.waitFor();
      // Column 7 is the total.
      expect(flat(await row.locator('td').nth(6).textContent()), currency).toBe(want.total);
    }
    for (const [currency, want] of Object.entries(amounts)) {
      await page.goto(`${server.base}/console/#/invoice/${ids[currency]}`);
      await page.getByRole('heading', { name: 'Header' }).waitFor();
      const total = page.locator('dl.facts dt:text-is("Total") + dd').first();
      // A hash change keeps the previous invoice's page (and its Header) until the new one
      // renders: poll until this invoice's total is shown.
      await expect
        .poll(async () => flat(await total.textContent()), { timeout: 15_000, message: currency })
        .toBe(want.total);
      const line2 = page.locator('table tr', { hasText: 'Standard wheelchair' }).first();
      expect(flat(await line2.textContent()), currency).toContain(want.line2);
    }
    await page.context().close();
  });

  /** A dated line of one item (quantity 1) for the line-rebill search. */
  const dated = (n: number, code: string, description: string, cents: number, serviceDate: string) => ({
    line_number: n,
    description,
    code: { system: 'HCPCS' as const, value: code },
    quantity: 1,
    unit_price_cents: cents,
    amount_cents: cents,
    service_date: serviceDate,
  });
  /** The options of the label form's "Exception reviewed" list, as shown. */
  const offered = (page: Page) => page.getByLabel('Exception reviewed').locator('option').allTextContents();
  type Stored = { task: string; outcome: string; item_status: string; unreviewed_tasks: string[] };
  const reviewsOf = async (decisionId: string): Promise<Stored[]> =>
    (await api('auditor', `/v1/reviews?decision_id=${decisionId}`)).json().items;

  it('offers no coding review of a line whose only reason is a rule (amount not quantity x price)', async () => {
    const vendor = { id: 'V-AM', name: 'Ashford Mobility Supply' };
    const line = dated(1, 'A7037', 'Tubing used with positive airway pressure device', 2_150, '2025-03-01');
    const decided = await server.h.scoreOk(
      invoiceOfLines('cs-am-1', vendor, '2025-03-10', [{ ...line, quantity: 2, amount_cents: 4_400 }]),
    );
    const lineCodes = decided.lines.flatMap((l) => l.reasons.map((r) => r.code));
    expect(lineCodes).toContain('LINE_AMOUNT_MISMATCH');
    expect(decided.lines[0]!.coding_mismatch).toBeLessThan(0.5);
    const page = await signIn('reviewer');
    await page.goto(`${server.base}/console/#/invoice/${decided.decision_id}`);
    await page.getByText('Claimed by you').waitFor();
    expect(await offered(page)).toEqual(['Other reason (amounts, NPI, totals)']);
    await page.context().close();
  });

  it('offers the duplicate review of a re-billed line: a false alarm stores a duplicate label, closes the item', async () => {
    const vendor = { id: 'V-LR', name: 'Lakeside Rehab Supply' };
    const tubing = dated(2, 'A7037', 'Tubing used with positive airway pressure device', 2_150, '2025-03-03');
    await server.h.scoreOk(
      invoiceOfLines('cs-lr-1', vendor, '2025-03-05', [
        dated(1, 'E0601', 'Continuous positive airway pressure (CPAP) device', 9_800, '2025-03-03'),
        tubing,
      ]),
    );
    // April: two new items and March's tubing line again; LINE_REBILLED is its only finding.
    const rebilled = await server.h.scoreOk(
      invoiceOfLines('cs-lr-2', vendor, '2025-04-14', [
        dated(
          1,
          'E0562',
          'Humidifier, heated, used with positive airway pressure device',
          31_000,
          '2025-04-10',
        ),
        tubing,
      ]),
    );
    expect(rebilled.reasons.map((r) => r.code)).toEqual(['LINE_REBILLED']);
    const page = await signIn('reviewer');
    await page.goto(`${server.base}/console/#/invoice/${rebilled.decision_id}`);
    await page.getByText('Claimed by you').waitFor();
    expect(await offered(page)).toEqual(['Duplicate submission', 'Other reason (amounts, NPI, totals)']);
    await page.getByRole('button', { name: 'False alarm' }).click();
    await page.waitForURL('**/#/worklist');
    expect(await reviewsOf(rebilled.decision_id)).toEqual([
      expect.objectContaining({
        task: 'duplicate',
        outcome: 'false_positive',
        item_status: 'closed',
        unreviewed_tasks: [],
      }),
    ]);
    await page.context().close();
  });

  it('names the task left after the first label of a decision with a re-billed line and a coding finding', async () => {
    const vendor = { id: 'V-RB', name: 'Riverbend Medical Supply LLC' };
    const nebulizer = dated(1, 'E0570', 'Nebulizer with compressor', 5_000, '2025-03-01');
    await server.h.scoreOk(
      invoiceOfLines('cs-rb-1', vendor, '2025-03-10', [
        nebulizer,
        dated(2, 'A4253', 'Blood glucose test strips, box of 50', 2_000, '2025-03-02'),
      ]),
    );
    // Line 1 of cs-rb-1 again (priced above the fee schedule) beside a line served two weeks later.
    const both = await server.h.scoreOk(
      invoiceOfLines('cs-rb-2', vendor, '2025-03-20', [
        nebulizer,
        dated(2, 'K0001', 'Standard wheelchair, fixed full length arms', 3_000, '2025-03-15'),
      ]),
    );
    expect(both.reasons.map((r) => r.code).sort()).toEqual(['LINE_REBILLED', 'PRICE_ABOVE_FEE_SCHEDULE']);
    const page = await signIn('reviewer');
    await page.goto(`${server.base}/console/#/invoice/${both.decision_id}`);
    await page.getByText('Claimed by you').waitFor();
    // The re-billed line is offered as the duplicate review, its price as the coding review.
    expect(await offered(page)).toEqual([
      'Duplicate submission',
      'Coding, line 1 (PRICE_ABOVE_FEE_SCHEDULE)',
      'Other reason (amounts, NPI, totals)',
    ]);
    const which = page.getByLabel('Exception reviewed');
    expect(await which.inputValue()).toBe('duplicate');
    await page.getByRole('button', { name: 'False alarm' }).click();
    await page
      .getByRole('status')
      .getByText('Label stored; the item stays on the worklist. Still to review: coding.')
      .waitFor();
    expect(await which.inputValue()).toBe('line-1');
    expect(page.url()).toContain(`#/invoice/${both.decision_id}`);
    expect(await reviewsOf(both.decision_id)).toEqual([
      expect.objectContaining({
        task: 'duplicate',
        item_status: 'open',
        unreviewed_tasks: ['coding-mismatch'],
      }),
    ]);
    await page.getByRole('button', { name: 'False alarm' }).click();
    await page.waitForURL('**/#/worklist');
    const reviews = await reviewsOf(both.decision_id);
    expect(reviews.map((r) => [r.task, r.outcome, r.item_status, r.unreviewed_tasks])).toEqual([
      ['duplicate', 'false_positive', 'closed', []],
      ['coding-mismatch', 'false_positive', 'closed', []],
    ]);
    await page.context().close();
  });

  it('sent the API key only to its own origin', () => {
    expect(keyed.length).toBeGreaterThan(10);
    expect(keyed.filter((u) => !u.startsWith(`${server.base}/`))).toEqual([]);
  });
});
