/**
 * The operations dashboard: every figure comes from its own /v1/kpis/<figure> route, drawn as
 * a chart (people compare shapes) with a caption that states the latest numbers; below them the
 * served models' drift (drift.ts).
 */
import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import type { ChartConfiguration } from 'chart.js';
import { api } from './api.js';
import { ChartFigure, PALETTE } from './charts.js';
import { DriftFigures } from './drift.js';
import { pct } from './format.js';
import type { KpiResponse } from './types.js';

type Point = Record<string, unknown> & { period: string };
const FIGURES = [
  'straight-through',
  'first-pass-match',
  'manual-touch',
  'exception-aging',
  'discount-capture',
  'blocked-by-reason',
  'review-load',
  'auto-approve',
  'score-distributions',
] as const;
type Figures = Record<(typeof FIGURES)[number], KpiResponse<Point>>;

const daysAgo = (n: number) => new Date(Date.now() - n * 86_400_000).toISOString().slice(0, 10);

/** One line per group over the periods. */
function lines(
  r: KpiResponse<Point>,
  value: (p: Point) => number | null,
  percent = true,
): ChartConfiguration {
  const groups = [...new Set(r.points.map((p) => String(p.group ?? 'all')))].slice(0, 8);
  return {
    type: 'line',
    data: {
      labels: r.periods,
      datasets: groups.map((g, i) => ({
        label: g,
        data: r.periods.map((period) => {
          const p = r.points.find((x) => x.period === period && String(x.group ?? 'all') === g);
          return p ? value(p) : null;
        }),
        borderColor: PALETTE[i % PALETTE.length],
        backgroundColor: PALETTE[i % PALETTE.length],
        spanGaps: true,
      })),
    },
    options: {
      scales: {
        y: percent ? { min: 0, max: 1, ticks: { format: { style: 'percent' } } } : { beginAtZero: true },
      },
    },
  };
}

/** Stacked bars: one dataset per key, summed per period. */
function stacked(
  periods: string[],
  keys: string[],
  value: (period: string, key: string) => number,
): ChartConfiguration {
  return {
    type: 'bar',
    data: {
      labels: periods,
      datasets: keys.map((k, i) => ({
        label: k,
        data: periods.map((p) => value(p, k)),
        backgroundColor: PALETTE[i % PALETTE.length],
      })),
    },
    options: { scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true } } },
  };
}

const last = <T>(xs: T[]): T | undefined => xs[xs.length - 1];

function rateCaption(r: KpiResponse<Point>): string {
  const all = r.points;
  const n = all.reduce((a, p) => a + Number(p.n), 0);
  const c = all.reduce((a, p) => a + Number(p.count), 0);
  return `${pct(n ? c / n : null)} over the range (${c} of ${n} invoices). ${r.definition}`;
}

export function DashboardView() {
  const [from, setFrom] = useState(daysAgo(89));
  const [to, setTo] = useState(daysAgo(0));
  const [bucket, setBucket] = useState('week');
  const [groupBy, setGroupBy] = useState('none');
  const [dateField, setDateField] = useState('received');
  const [data, setData] = useState<Figures | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    const q = `from=${from}&to=${to}&bucket=${bucket}&group_by=${groupBy}&date_field=${dateField}`;
    setError(null);
    Promise.all(FIGURES.map((f) => api<KpiResponse<Point>>(`/v1/kpis/${f}?${q}`)))
      .then((rs) => setData(Object.fromEntries(FIGURES.map((f, i) => [f, rs[i]!])) as Figures))
      .catch((e: Error) => setError(e.message));
  }, [from, to, bucket, groupBy, dateField]);
  const set = (f: (v: string) => void) => (e: Event) => f((e.target as HTMLInputElement).value);

  return html`<section aria-labelledby="dash-title">
    <h1 id="dash-title">Dashboard</h1>
    <form class="filters" aria-label="Range" onSubmit=${(e: Event) => e.preventDefault()}>
      <label>From <input type="date" value=${from} onChange=${set(setFrom)} /></label>
      <label>To <input type="date" value=${to} onChange=${set(setTo)} /></label>
      <label
        >Period
        <select value=${bucket} onChange=${set(setBucket)}>
          <option value="day">day</option>
          <option value="week">week</option>
          <option value="month">month</option>
        </select></label
      >
      <label
        >Split by
        <select value=${groupBy} onChange=${set(setGroupBy)}>
          <option value="none">none</option>
          <option value="facility">facility</option>
          <option value="vendor">vendor</option>
        </select></label
      >
      <label
        >Date
        <select value=${dateField} onChange=${set(setDateField)}>
          <option value="received">received</option>
          <option value="invoice">invoice date</option>
        </select></label
      >
    </form>
    ${error && html`<p role="alert" class="error">${error}</p>`} ${!data && !error && html`<p>Loading…</p>`}
    ${data && html`<div class="grid">${charts(data)}</div>`}
    <div class="grid drift"><${DriftFigures} /></div>
  </section>`;
}

function charts(d: Figures) {
  const aging = d['exception-aging'];
  const bands = ['0-2', '3-5', '6-10', '11+'];
  const agingAt = (period: string, band: string) =>
    aging.points
      .filter((p) => p.period === period)
      .reduce((a, p) => a + Number((p.bands as Record<string, number>)[band] ?? 0), 0);
  const lastAging = aging.points.filter((p) => p.period === last(aging.periods));
  const blocked = d['blocked-by-reason'];
  const reasonTotals = new Map<string, number>();
  for (const p of blocked.points)
    reasonTotals.set(String(p.reason), (reasonTotals.get(String(p.reason)) ?? 0) + Number(p.count));
  const reasons = [...reasonTotals.entries()].sort((a, b) => b[1] - a[1]).map(([r]) => r);
  const load = d['review-load'];
  const queues = [...new Set(load.points.map((p) => String(p.queue)))];
  const auto = d['auto-approve'];
  const bound = auto.bounds ?? [];
  const autoN = auto.points.reduce((a, p) => a + Number(p.n), 0);
  const autoA = auto.points.reduce((a, p) => a + Number(p.auto_approved), 0);
  const disc = d['discount-capture'];
  const scores = d['score-distributions'];
  const bins = Array.from({ length: 10 }, (_, i) => `${(i / 10).toFixed(1)}–${((i + 1) / 10).toFixed(1)}`);
  const binTotals = (score: string) =>
    scores.points
      .filter((p) => p.score === score)
      .reduce(
        (acc, p) => acc.map((v, i) => v + ((p.bins as number[])[i] ?? 0)),
        new Array<number>(10).fill(0),
      );
  const scorePeriods = scores.periods.filter((per) => scores.points.some((p) => p.period === per)).slice(-4);
  return html` <${ChartFigure}
      id="kpi-straight-through"
      title=${d['straight-through'].title}
      caption=${rateCaption(d['straight-through'])}
      config=${lines(d['straight-through'], (p) => p.rate as number | null)}
    />
    <${ChartFigure}
      id="kpi-first-pass-match"
      title=${d['first-pass-match'].title}
      caption=${rateCaption(d['first-pass-match'])}
      config=${lines(d['first-pass-match'], (p) => p.rate as number | null)}
    />
    <${ChartFigure}
      id="kpi-manual-touch"
      title=${d['manual-touch'].title}
      caption=${rateCaption(d['manual-touch'])}
      config=${lines(d['manual-touch'], (p) => p.rate as number | null)}
    />
    <${ChartFigure}
      id="kpi-exception-aging"
      title=${aging.title}
      caption=${`At the last period's end: ${lastAging.reduce((a, p) => a + Number(p.open), 0)} open, ${lastAging.reduce((a, p) => a + Number(p.past_sla), 0)} past the ${aging.sla_days}-day SLA.`}
      config=${stacked(aging.periods, bands, agingAt)}
    />
    <${ChartFigure}
      id="kpi-discount-capture"
      title=${disc.title}
      caption=${disc.note ?? `${disc.points.reduce((a, p) => a + Number(p.captured), 0)} of ${disc.points.reduce((a, p) => a + Number(p.offered), 0)} discounts captured.`}
      config=${lines(disc, (p) => p.rate as number | null)}
    />
    <${ChartFigure}
      id="kpi-blocked-by-reason"
      title=${blocked.title}
      caption=${
        reasons.length
          ? `Most common: ${reasons
              .slice(0, 3)
              .map((r) => `${r} (${reasonTotals.get(r)})`)
              .join(', ')}.`
          : 'No invoice blocked.'
      }
      config=${stacked(blocked.periods, reasons.slice(0, 8), (per, r) => Number(blocked.points.find((p) => p.period === per && p.reason === r)?.count ?? 0))}
    />
    <${ChartFigure}
      id="kpi-review-load"
      title=${load.title}
      caption=${`Open at the last period's end: ${queues.map((q) => `${q} ${Number(load.points.find((p) => p.period === last(load.periods) && p.queue === q)?.open_at_end ?? 0)}`).join(', ') || 'none'}.`}
      config=${stacked(load.periods, queues, (per, q) => Number(load.points.find((p) => p.period === per && p.queue === q)?.open_at_end ?? 0))}
    />
    <${ChartFigure}
      id="kpi-auto-approve"
      title=${auto.title}
      caption=${`${pct(autoN ? autoA / autoN : null)} auto-approved (${autoA} of ${autoN}). ${bound.length ? bound.map((b) => `${b.model}: at most ${pct(b.alpha, 2)} exceptions among auto-approved, with probability ${pct(1 - b.delta, 0)}; test coverage ${pct(b.coverage_test)}`).join('; ') : (auto.note ?? '')}`}
      config=${{
        type: 'line',
        data: {
          labels: auto.periods,
          datasets: [
            {
              label: 'auto-approve rate',
              data: auto.periods.map(
                (per) =>
                  (auto.points.find((p) => p.period === per)?.auto_approve_rate as number | null) ?? null,
              ),
              borderColor: PALETTE[0],
              backgroundColor: PALETTE[0],
              spanGaps: true,
            },
            {
              label: 'observed exception rate (reviewed auto-approvals)',
              data: auto.periods.map(
                (per) =>
                  (auto.points.find((p) => p.period === per)?.observed_exception_rate as number | null) ??
                  null,
              ),
              borderColor: PALETTE[1],
              backgroundColor: PALETTE[1],
              spanGaps: true,
            },
            ...bound.map((b, i) => ({
              label: `bound ${b.model} (alpha)`,
              data: auto.periods.map(() => b.alpha),
              borderColor: PALETTE[2 + i],
              borderDash: [6, 4],
              pointRadius: 0,
            })),
          ],
        },
        options: { scales: { y: { min: 0, max: 1, ticks: { format: { style: 'percent' } } } } },
      }}
    />
    ${(['coding_mismatch', 'duplicate'] as const).map(
      (score) =>
        html`<${ChartFigure}
          id=${`kpi-scores-${score}`}
          title=${`${scores.title}: ${score.replace('_', ' ')}`}
          caption=${`Counts per score bin over the range: ${binTotals(score).join(', ')} (bins of 0.1 from 0 to 1).`}
          config=${{
            type: 'bar',
            data: {
              labels: bins,
              datasets: scorePeriods.map((per, i) => ({
                label: per,
                data:
                  (scores.points.find((p) => p.period === per && p.score === score)?.bins as number[]) ?? [],
                backgroundColor: PALETTE[i % PALETTE.length],
              })),
            },
            options: { scales: { y: { beginAtZero: true } } },
          }}
        />`,
    )}`;
}
