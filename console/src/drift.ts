/**
 * Drift of the served models on the dashboard: per model, the PSI of the score and of the
 * features furthest from the reference (`GET /v1/models/{name}/drift`, last 7 days) as bars
 * against the watch and drift thresholds, the status in the caption. A model without a report
 * (no registry, no reference histograms, a role that may not read it) says why, without a chart.
 */
import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { api, apiPath } from './api.js';
import { ChartFigure, PALETTE } from './charts.js';
import type { DriftDistribution, DriftResponse } from './types.js';

/** The models whose drift is drawn. */
export const DRIFT_MODELS = ['coding-mismatch', 'duplicate'] as const;
/** Distributions drawn per model: the score and the features with the highest PSI. */
const BARS = 12;

const psiText = (d: DriftDistribution) => (d.psi === null ? 'n/a' : d.psi.toFixed(3));

/** The caption of a model's report: status, rows, window, score PSI and the drifting features. */
export function driftCaption(r: DriftResponse): string {
  const drifting = r.features.filter((f) => f.status === 'drift').map((f) => `${f.feature} ${psiText(f)}`);
  return (
    `${r.model}: ${r.status} over ${r.rows} ${r.unit}s in ${r.window.hours} h; score PSI ${psiText(r.score)} ` +
    `(${r.score.status}). ${drifting.length ? `Drift: ${drifting.join(', ')}.` : 'No feature in drift.'} ` +
    `PSI ${r.thresholds.psi.watch} watch, ${r.thresholds.psi.drift} drift.`
  );
}

function bars(r: DriftResponse) {
  const shown = [r.score, ...[...r.features].sort((a, b) => (b.psi ?? 0) - (a.psi ?? 0)).slice(0, BARS - 1)];
  const colour = (d: DriftDistribution) =>
    d.status === 'drift' ? PALETTE[5] : d.status === 'watch' ? PALETTE[1] : PALETTE[0];
  return {
    type: 'bar' as const,
    data: {
      labels: shown.map((d) => d.feature),
      datasets: [
        {
          label: 'PSI',
          data: shown.map((d) => d.psi ?? 0),
          backgroundColor: shown.map(colour),
        },
      ],
    },
    options: { indexAxis: 'y' as const, scales: { x: { beginAtZero: true } } },
  };
}

/** One figure per model in {@link DRIFT_MODELS}. */
export function DriftFigures() {
  const [reports, setReports] = useState<(DriftResponse | string)[] | null>(null);
  useEffect(() => {
    void Promise.all(
      DRIFT_MODELS.map((m) =>
        api<DriftResponse>(apiPath`/v1/models/${m}/drift?hours=168`).catch((e: Error) => e.message),
      ),
    ).then(setReports);
  }, []);
  if (!reports) return html`<p>Loading drift…</p>`;
  return html`${DRIFT_MODELS.map((m, i) => {
    const r = reports[i]!;
    return typeof r === 'string'
      ? html`<figure id=${`drift-${m}`} class="drift-unavailable">
          <h3>Drift: ${m}</h3>
          <figcaption>Drift of ${m}: unavailable (${r}).</figcaption>
        </figure>`
      : html`<${ChartFigure}
          id=${`drift-${m}`}
          title=${`Drift: ${r.model} (${r.status})`}
          caption=${driftCaption(r)}
          config=${bars(r)}
        />`;
  })}`;
}
