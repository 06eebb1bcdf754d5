/**
 * Charts with Chart.js (canvas; no inline scripts or styles, so it runs under the strict CSP).
 * Every chart has a text caption that states its numbers for screen readers and tests.
 */
import { html } from 'htm/preact';
import { useEffect, useRef } from 'preact/hooks';
import { Chart, registerables, type ChartConfiguration } from 'chart.js';

Chart.register(...registerables);
Chart.defaults.animation = false;
Chart.defaults.font.family = 'system-ui, sans-serif';
Chart.defaults.color = '#1f2933';

/** Colour-blind-safe palette (Okabe-Ito), readable on white. */
export const PALETTE = [
  '#0072B2',
  '#D55E00',
  '#009E73',
  '#CC79A7',
  '#E69F00',
  '#56B4E9',
  '#000000',
  '#999933',
];

/** A chart in a figure with a caption. `config` is rebuilt when `deps` change. */
export function ChartFigure({
  id,
  title,
  caption,
  config,
}: {
  id: string;
  title: string;
  caption: string;
  config: ChartConfiguration;
}) {
  const canvas = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    if (!canvas.current) return;
    const chart = new Chart(canvas.current, {
      ...config,
      options: { responsive: true, maintainAspectRatio: false, ...config.options },
    });
    return () => chart.destroy();
  }, [JSON.stringify(config.data), JSON.stringify(config.options ?? {})]);
  return html`<figure class="chart" id=${id} aria-labelledby=${`${id}-t`}>
    <h3 id=${`${id}-t`}>${title}</h3>
    <div class="canvas-box">
      <canvas ref=${canvas} role="img" aria-label=${`${title}: ${caption}`}></canvas>
    </div>
    <figcaption>${caption}</figcaption>
  </figure>`;
}
