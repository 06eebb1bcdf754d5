/**
 * Helpers of the console's browser tests and screenshot script: build the bundle when it is
 * missing or older than its sources, serve the real app on 127.0.0.1 (free port), seed it with
 * a small scored benchmark and hand-made exceptions, and launch Debian's Chromium headless
 * through playwright-core (never a downloaded browser).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { build } from 'vite';
import type { DecisionResponse } from '../core/decision.js';
import type { Invoice } from '../core/invoice.js';
import { packageRoot } from '../core/paths.js';
import { consoleBundleDir } from '../api/routes/console.js';
import { generateBenchmark, readSplitRecords } from '../datasets/benchmark/index.js';
import type { StoreConfig } from '../store/index.js';
import { makeInvoice } from './fixtures.js';
import { startHarness, type Harness } from './harness.js';

/** Debian's chromium package. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

function newestMtime(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return t;
}

/** The core modules the console's sources import (`../../core/<name>.js`), as paths of their sources. */
function coreModulesOfConsole(): string[] {
  const src = join(packageRoot(), 'console', 'src');
  const names = new Set<string>();
  for (const f of readdirSync(src).filter((n) => n.endsWith('.ts')))
    for (const m of readFileSync(join(src, f), 'utf8').matchAll(/from '\.\.\/\.\.\/core\/([\w-]+)\.js'/g))
      names.add(m[1]!);
  return [...names].map((n) => join(packageRoot(), 'core', `${n}.ts`));
}

/**
 * Builds `dist/console` with vite unless it is newer than every file of `console/` and of the
 * core modules the console bundles (core/currency.ts, core/review-tasks.ts).
 */
export async function ensureConsoleBuilt(): Promise<void> {
  const index = join(consoleBundleDir(), 'index.html');
  let built = 0;
  try {
    built = statSync(index).mtimeMs;
  } catch {
    built = 0;
  }
  const sources = Math.max(
    newestMtime(join(packageRoot(), 'console')),
    ...coreModulesOfConsole().map((p) => statSync(p).mtimeMs),
  );
  if (built > sources) return;
  await build({ configFile: join(packageRoot(), 'console', 'vite.config.ts') });
}

/** Launches headless Chromium with the flags CI needs (no sandbox as root, nothing phoning home). */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}

/** A harness listening on 127.0.0.1 with its base URL. */
export interface ConsoleServer {
  h: Harness;
  base: string;
}

/** Starts the real app on a free port of 127.0.0.1. */
export async function startConsoleServer(cfg: StoreConfig, clock?: () => Date): Promise<ConsoleServer> {
  const h = await startHarness(cfg, clock ? { clock } : {});
  const address = await h.app.listen({ host: '127.0.0.1', port: 0 });
  return { h, base: address };
}

/** What {@link seedConsole} scored, by role in the tests. */
export interface Seeded {
  /** Benchmark invoices scored. */
  benchmark: DecisionResponse[];
  /** A coding exception (line 2 describes a wheelchair, bills a nebulizer). */
  coding: DecisionResponse;
  /** The later invoice of a duplicate pair (invoice number with 0 typed as O). */
  duplicate: DecisionResponse;
  /** An exception whose line description holds markup and a script. */
  xss: DecisionResponse;
}

/** The description of {@link Seeded.xss}: must render as text, never run. */
export const XSS_DESCRIPTION =
  '<script>window.__xss = 1</script><img src=x onerror="window.__xss = 2"> wheelchair';

/**
 * Scores `benchmarkInvoices` invoices of a freshly generated 1,000-invoice benchmark (seed 7,
 * test split) and three hand-made exceptions.
 */
export async function seedConsole(h: Harness, benchmarkInvoices = 30): Promise<Seeded> {
  const dir = mkdtempSync(join(tmpdir(), 'console-bench-'));
  let records: { invoice: Invoice }[];
  try {
    await generateBenchmark({ invoices: 1000, seed: 7, out: dir, splitFractions: [0.9, 0.05, 0.05] });
    records = (await readSplitRecords(dir, 'test')) as unknown as { invoice: Invoice }[];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const benchmark: DecisionResponse[] = [];
  for (const r of records.slice(0, benchmarkInvoices)) benchmark.push(await h.scoreOk(r.invoice));

  const mismatch = (id: string, over: Partial<Invoice>, description: string): Invoice => {
    const inv = makeInvoice({ invoice_id: id, invoice_number: `N-${id}`, facility_id: 'FAC-EAST', ...over });
    inv.lines[1] = { ...inv.lines[1]!, description };
    return inv;
  };
  const coding = await h.scoreOk(mismatch('cs-coding', {}, 'Standard wheelchair, fixed full length arms'));
  await h.scoreOk(
    makeInvoice({
      invoice_id: 'cs-dup-a',
      invoice_number: 'INV-10080',
      vendor: { id: 'V-700', name: 'Delta Oxygen LLC' },
    }),
  );
  const duplicate = await h.scoreOk(
    makeInvoice({
      invoice_id: 'cs-dup-b',
      invoice_number: 'INV-1OO80',
      vendor: { id: 'V-700', name: 'Delta Oxygen LLC' },
    }),
  );
  const xss = await h.scoreOk(
    mismatch('cs-xss', { vendor: { id: 'V-800', name: 'Echo Rehab' } }, XSS_DESCRIPTION),
  );
  return { benchmark, coding, duplicate, xss };
}
