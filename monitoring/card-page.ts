/**
 * The model card as an HTML page (`GET /v1/models/{name}/versions/{v}/card.html`): metrics on
 * the test split and per exception kind, the reliability diagram (server-rendered SVG), the
 * serving thresholds with their Learn-then-Test guarantee, data and label hashes, the label mix
 * by provenance, and the tenant's drift status of that version. Self-contained (inline CSS and
 * SVG, no script, no network); every value from the card is HTML-escaped.
 */
import { createHash } from 'node:crypto';
import type { ModelCard } from '../models/card.js';
import type { KindMetrics, ModelCardDraft, SplitMetrics, ThresholdChoice } from '../models/spec.js';
import type { DriftReport } from './drift.js';

/** The drift section's input: a report, or why there is none (no reference histograms...). */
export type CardDrift = { report: DriftReport } | { unavailable: string };

/** Escapes text for HTML element content and double-quoted attributes. */
export function escapeHtml(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

const e = (v: unknown): string => escapeHtml(v === null || v === undefined ? '—' : String(v));
const num = (v: number | null | undefined, digits = 4): string =>
  v === null || v === undefined || !Number.isFinite(v) ? '—' : String(Number(v.toFixed(digits)));

function table(head: readonly string[], rows: readonly (readonly string[])[], caption?: string): string {
  return [
    '<table>',
    caption ? `<caption>${e(caption)}</caption>` : '',
    `<thead><tr>${head.map((h) => `<th>${e(h)}</th>`).join('')}</tr></thead>`,
    `<tbody>${rows.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`).join('')}</tbody>`,
    '</table>',
  ].join('');
}

type Bin = NonNullable<ModelCardDraft['calibration']['reliabilityTest']>[number];

/**
 * Reliability diagram as SVG: share of positives (y) against mean calibrated score (x) per
 * non-empty bin, dot area by count, with the diagonal of perfect calibration.
 */
export function reliabilitySvg(bins: readonly Bin[], size = 320): string {
  const pad = 40;
  const w = size - 2 * pad;
  const x = (v: number) => pad + v * w;
  const y = (v: number) => size - pad - v * w;
  const total = bins.reduce((s, b) => s + b.count, 0) || 1;
  const dots = bins
    .filter((b) => b.count > 0 && b.meanScore !== null && b.positiveRate !== null)
    .map((b) => {
      const r = 3 + 9 * Math.sqrt(b.count / total);
      return (
        `<circle cx="${x(b.meanScore!).toFixed(1)}" cy="${y(b.positiveRate!).toFixed(1)}" r="${r.toFixed(1)}" ` +
        `fill="#4c78a8" fill-opacity="0.7"><title>${e(
          `[${b.lo}, ${b.hi}): ${b.count} rows, mean score ${num(b.meanScore)}, positives ${num(b.positiveRate)}`,
        )}</title></circle>`
      );
    });
  const ticks = [0, 0.25, 0.5, 0.75, 1]
    .map(
      (t) =>
        `<text x="${x(t)}" y="${size - pad + 16}" text-anchor="middle">${t}</text>` +
        `<text x="${pad - 6}" y="${y(t) + 4}" text-anchor="end">${t}</text>`,
    )
    .join('');
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" class="reliability" width="${size}" height="${size}" `,
    `viewBox="0 0 ${size} ${size}" role="img" aria-label="Reliability diagram" font-size="11">`,
    `<rect x="${pad}" y="${pad}" width="${w}" height="${w}" fill="none" stroke="#999"/>`,
    `<line x1="${x(0)}" y1="${y(0)}" x2="${x(1)}" y2="${y(1)}" stroke="#999" stroke-dasharray="4 3"/>`,
    ticks,
    `<text x="${size / 2}" y="${size - 6}" text-anchor="middle">mean calibrated score</text>`,
    `<text x="12" y="${size / 2}" text-anchor="middle" transform="rotate(-90 12 ${size / 2})">share of exceptions</text>`,
    ...dots,
    '</svg>',
  ].join('');
}

function thresholdRows(side: string, served: number, t: ThresholdChoice | undefined): string[] {
  if (!t) return [e(side), e(num(served)), '—', '—', '—', '—'];
  return [
    e(side),
    e(num(served)),
    e(`${t.risk} ≤ ${t.alpha} with probability ≥ ${1 - t.delta} (${t.method})`),
    e(`${t.calibrationErrors} errors among ${t.calibrationSelected} of ${t.calibrationN}`),
    e(`${num(t.coverageCalibration)} / ${num(t.coverageTest)}`),
    t.feasible ? 'yes' : 'no: safe default (nothing on this side)',
  ];
}

function splitRows(ms: readonly SplitMetrics[]): string[][] {
  return ms.map((m) => [
    e(m.split),
    e(m.unit),
    e(m.n),
    e(m.positives),
    e(num(m.rocAuc)),
    e(num(m.prAuc)),
    e(num(m.ece)),
    e(`${num(m.atReview.precision)} / ${num(m.atReview.recall)}`),
    e(`${num(m.atHold.precision)} / ${num(m.atHold.recall)}`),
  ]);
}

function kindRows(ms: readonly KindMetrics[]): string[][] {
  return ms.map((m) => [
    e(m.kind),
    m.isHardNegative ? 'hard negative' : 'exception',
    e(m.n),
    e(num(m.rocAuc)),
    e(`${num(m.precisionAtReview)} / ${num(m.recallAtReview)}`),
    e(`${num(m.precisionAtHold)} / ${num(m.recallAtHold)}`),
    e(`${num(m.flaggedRateAtReview)} / ${num(m.flaggedRateAtHold)}`),
  ]);
}

function driftSection(d: CardDrift): string {
  if ('unavailable' in d)
    return `<p class="drift-status">Drift: <b>unavailable</b> (${e(d.unavailable)})</p>`;
  const r = d.report;
  const worst = [...r.features]
    .filter((f) => f.status === 'drift' || f.status === 'watch')
    .sort((a, b) => (b.psi ?? 0) - (a.psi ?? 0))
    .slice(0, 10);
  return [
    `<p class="drift-status">Drift for this tenant: <b data-status="${e(r.status)}">${e(r.status)}</b> over `,
    `${e(r.rows)} ${e(r.unit)}s from ${e(r.window.from)} to ${e(r.window.to)}; score PSI ${e(num(r.score.psi))} `,
    `(${e(r.score.status)}). Thresholds: PSI ${e(r.thresholds.psi.watch)} watch, ${e(r.thresholds.psi.drift)} drift.</p>`,
    worst.length
      ? table(
          ['feature', 'statistic', 'PSI', 'JS (bits)', 'missing share', 'status'],
          worst.map((f) => [
            e(f.feature),
            e(f.statistic),
            e(num(f.psi)),
            e(num(f.js_bits)),
            e(num(f.missing_share)),
            e(f.status),
          ]),
          'Features in watch or drift (highest PSI first, at most 10)',
        )
      : '<p>No feature in watch or drift.</p>',
  ].join('');
}

const CSS = `body{font:14px/1.45 system-ui,sans-serif;margin:2em;max-width:72em;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.5em}th,td{border:1px solid #ccc;padding:.25em .6em;text-align:left}
caption{text-align:left;font-weight:600;padding:.3em 0}code{font-size:12px}h2{margin-top:1.6em}`;

/**
 * The CSP source expression (`'sha256-<base64>'`) admitting the page's one inline stylesheet in
 * `style-src`, so that a browser applies it under the API's `style-src 'self'`.
 */
export const CARD_PAGE_STYLE_SOURCE = `'sha256-${createHash('sha256').update(CSS).digest('base64')}'`;

/** The HTML page of a card with the tenant's drift of that version (see the module doc). */
export function renderCardPage(card: ModelCard, drift: CardDrift): string {
  const t = card.training;
  const title = `${card.name}@${card.version}`;
  const parts: string[] = [
    '<!doctype html><html lang="en"><head><meta charset="utf-8">',
    `<title>Model card ${e(title)}</title><style>${CSS}</style></head><body>`,
    `<h1>Model card <code>${e(title)}</code></h1>`,
    table(
      ['task', 'architecture', 'source', 'created', 'parent', 'feature schema', 'seed'],
      [
        [
          e(card.task),
          e(card.architecture),
          e(card.source),
          e(card.createdAt),
          e(card.parentVersion),
          e(card.featureSchemaVersion),
          e(card.seed),
        ],
      ],
    ),
    '<h2 id="thresholds">Thresholds and their guarantee</h2>',
    table(
      [
        'side',
        'served threshold',
        'guarantee',
        'calibration split',
        'coverage calibration / test',
        'feasible',
      ],
      [
        thresholdRows('AUTO_APPROVE (score ≤)', card.thresholds.autoApprove, t?.thresholds.autoApprove),
        thresholdRows('HOLD (score ≥)', card.thresholds.hold, t?.thresholds.hold),
      ],
    ),
    '<h2 id="metrics">Metrics</h2>',
    `<p>Headline: ${e(card.evaluation.metric)} ${e(num(card.evaluation.value))} on ${e(card.evaluation.split)} `,
    `(${e(card.evaluation.size)} ${e(card.evaluation.unit)}s, dataset ${e(card.evaluation.datasetHash)}).</p>`,
  ];
  if (t) {
    parts.push(
      table(
        [
          'split',
          'unit',
          'n',
          'positives',
          'ROC-AUC',
          'PR-AUC',
          'ECE',
          'precision / recall at review',
          'at hold',
        ],
        splitRows(t.metrics.test),
        'Test split',
      ),
      table(
        [
          'kind',
          'type',
          'n',
          'ROC-AUC',
          'precision / recall at review',
          'at hold',
          'flagged rate review / hold',
        ],
        kindRows(t.metrics.perKind),
        'Per exception kind',
      ),
      '<h2 id="calibration">Calibration</h2>',
      `<p>${e(t.calibration.chosen)} (${e(t.calibration.selection)}); ECE on the test split `,
      `${e(num(t.calibration.eceBeforeTest))} before, ${e(num(t.calibration.eceAfterTest))} after.</p>`,
      t.calibration.reliabilityTest
        ? reliabilitySvg(t.calibration.reliabilityTest)
        : '<p class="no-reliability">Reliability diagram: not recorded in this card (trained before the card held its bins; retrain to record them).</p>',
      '<h2 id="data">Data</h2>',
      table(
        ['what', 'sha256 / value'],
        [
          ['training rows (features, label, weight)', `<code>${e(t.data.hash)}</code>`],
          ['labels used (ids, values, weights)', `<code>${e(t.labels.hash)}</code>`],
          ...t.labels.benchmark.files.map((f) => [
            `benchmark file ${e(f.path)} (${e(f.records)} records)`,
            `<code>${e(f.sha256)}</code>`,
          ]),
          ['ONNX graph', `<code>${e(card.artefacts.onnxSha256)}</code>`],
          ['rows per split', e(JSON.stringify(t.data.rows))],
        ],
      ),
      '<h2 id="labels">Label mix</h2>',
      t.labels.mix
        ? table(
            ['provenance', 'labels', 'rows', 'positive rows', 'weight'],
            Object.entries(t.labels.mix.perSource).map(([s, m]) => [
              e(s),
              e(m.labels),
              e(m.rows),
              e(m.positives),
              e(m.weight),
            ]),
            `Admitted: ${t.labels.mix.sources.join(', ')}; benchmark rows ${t.labels.benchmark.rows}`,
          )
        : `<p>Benchmark rows ${e(t.labels.benchmark.rows)}; ${e(t.labels.reviews.ids.length)} reviewer labels (weight ${e(t.labels.reviews.weight)}); provenance not recorded in this card.</p>`,
    );
  } else if (card.external) {
    const x = card.external;
    parts.push(
      '<h2 id="calibration">Calibration</h2>',
      `<p>${e(x.calibration.kind)}; ECE ${e(num(x.calibration.eceBefore))} before, ${e(num(x.calibration.eceAfter))} after. Reliability diagram: not provided by this external model.</p>`,
      '<h2 id="data">Data</h2>',
      table(
        ['what', 'value'],
        [
          ['training data', `<code>${e(x.trainingData.hash)}</code> (${e(x.trainingData.size)} rows)`],
          ['trained with', e(x.trainedWith)],
          ['ONNX graph', `<code>${e(card.artefacts.onnxSha256)}</code>`],
        ],
      ),
    );
  }
  parts.push('<h2 id="drift">Drift</h2>', driftSection(drift));
  const notes = t?.notes ?? card.external?.notes ?? [];
  if (notes.length)
    parts.push('<h2 id="notes">Notes</h2><ul>', ...notes.map((n) => `<li>${e(n)}</li>`), '</ul>');
  parts.push('</body></html>');
  return parts.join('');
}
