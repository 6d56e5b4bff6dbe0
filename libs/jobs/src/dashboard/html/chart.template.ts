import { Html, html } from './html.template';

const WIDTH = 180;
const HEIGHT = 36;

/**
 * The last hour of a queue as a small inline SVG bar chart: one pair of bars per 5-minute bucket,
 * completions above the axis and failures below it, scaled to the busiest bucket. Geometry is given in
 * attributes only (the Content-Security-Policy allows no inline styles).
 */
export function throughputChart(completed: number[], failed: number[]): Html {
  const max = Math.max(1, ...completed, ...failed);
  const step = WIDTH / completed.length;
  const half = HEIGHT / 2;
  const bars = completed.map((done, i) => {
    const up = Math.round((done / max) * (half - 1));
    const down = Math.round((failed[i] / max) * (half - 1));
    const x = (i * step + 1).toFixed(1);
    const w = (step - 2).toFixed(1);
    return html`<rect
        class="bar-completed"
        x="${x}"
        y="${half - up}"
        width="${w}"
        height="${up}"
      ></rect
      ><rect class="bar-failed" x="${x}" y="${half}" width="${w}" height="${down}"></rect>`;
  });
  const total = completed.reduce((a, b) => a + b, 0);
  const failures = failed.reduce((a, b) => a + b, 0);
  return html`<svg
    class="chart"
    viewBox="0 0 ${WIDTH} ${HEIGHT}"
    width="${WIDTH}"
    height="${HEIGHT}"
    role="img"
    aria-label="${`Last hour: ${total} completed, ${failures} failed`}"
  >
    <title>${`Last hour, 5-minute buckets: ${total} completed, ${failures} failed`}</title>
    <line class="axis" x1="0" y1="${half}" x2="${WIDTH}" y2="${half}"></line>
    ${bars}
  </svg>`;
}
