/**
 * The ratio chart: grouped bars of ours / theirs per metric and peer, on a log scale around 1, written as
 * SVG (no dependency) and converted to PNG with `rsvg-convert` (Debian: librsvg2-bin) or ImageMagick when
 * one is installed. Without a converter the PNG is skipped and the caller is told why.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BenchResults, metricDefs, ratio } from './report';

const COLORS = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#b07aa1', '#76b7b2', '#edc948'];
const WIDTH = 1100;
const HEIGHT = 520;
const MARGIN = { top: 70, right: 30, bottom: 90, left: 70 };
/** Log2 range of the y axis: 1/16 … 16. Bars beyond are clipped and labelled. */
const MAX_EXP = 4;

export function renderRatioSvg(results: BenchResults): string {
  const [ours, ...peers] = results.systems;
  const metrics = metricDefs(results.config).filter(
    (d) => d.chart && peers.some((p) => ratio(ours, p, d.id) !== null),
  );
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const y = (r: number) => {
    const e = Math.max(-MAX_EXP, Math.min(MAX_EXP, Math.log2(r)));
    return MARGIN.top + plotH / 2 - (e / MAX_EXP) * (plotH / 2);
  };
  const groupW = plotW / Math.max(1, metrics.length);
  const barW = Math.min(28, (groupW * 0.8) / Math.max(1, peers.length));
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" ` +
      `font-family="DejaVu Sans, Arial, sans-serif" font-size="12">`,
  );
  out.push(`<rect width="${WIDTH}" height="${HEIGHT}" fill="white"/>`);
  out.push(
    `<text x="${WIDTH / 2}" y="24" text-anchor="middle" font-size="16" font-weight="bold">` +
      `${esc(ours.label)} / peer, per metric (log scale, median of ${results.config.runs} run` +
      `${results.config.runs === 1 ? '' : 's'}, ${esc(results.date)})</text>`,
  );
  out.push(
    `<text x="${WIDTH / 2}" y="44" text-anchor="middle" fill="#555">` +
      `↑ = higher is better for ours · ↓ = lower is better for ours</text>`,
  );
  for (let e = -MAX_EXP; e <= MAX_EXP; e++) {
    const yy = y(2 ** e);
    out.push(
      `<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${yy}" y2="${yy}" ` +
        `stroke="${e === 0 ? '#000' : '#ddd'}" stroke-width="${e === 0 ? 1.5 : 1}"/>`,
    );
    const label = e >= 0 ? `${2 ** e}×` : `1/${2 ** -e}×`;
    out.push(`<text x="${MARGIN.left - 8}" y="${yy + 4}" text-anchor="end">${label}</text>`);
  }
  metrics.forEach((m, gi) => {
    const gx = MARGIN.left + gi * groupW + (groupW - barW * peers.length) / 2;
    peers.forEach((p, pi) => {
      const r = ratio(ours, p, m.id);
      if (r === null) return;
      const x = gx + pi * barW;
      const top = Math.min(y(r), y(1));
      const h = Math.max(1, Math.abs(y(r) - y(1)));
      out.push(
        `<rect x="${x.toFixed(1)}" y="${top.toFixed(1)}" width="${(barW - 2).toFixed(1)}" ` +
          `height="${h.toFixed(1)}" fill="${COLORS[pi % COLORS.length]}"/>`,
      );
      const ty = r >= 1 ? top - 4 : top + h + 12;
      out.push(
        `<text x="${(x + barW / 2 - 1).toFixed(1)}" y="${ty.toFixed(1)}" text-anchor="middle" ` +
          `font-size="9">${r >= 10 ? r.toFixed(0) : r.toFixed(2)}</text>`,
      );
    });
    const arrow = m.better === 'higher' ? '↑' : '↓';
    out.push(
      `<text x="${(MARGIN.left + gi * groupW + groupW / 2).toFixed(1)}" y="${HEIGHT - MARGIN.bottom + 20}" ` +
        `text-anchor="middle" font-size="13">${esc(m.chart ?? m.id)} ${arrow}</text>`,
    );
  });
  peers.forEach((p, pi) => {
    const lx = MARGIN.left + pi * 170;
    const ly = HEIGHT - 30;
    out.push(
      `<rect x="${lx}" y="${ly - 10}" width="12" height="12" fill="${COLORS[pi % COLORS.length]}"/>`,
    );
    out.push(`<text x="${lx + 18}" y="${ly}">vs ${esc(p.label)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n');
}

/** Writes `<base>.svg` and, when a converter is installed, `<base>.png`. Returns the PNG path or a reason. */
export function writeRatioChart(
  results: BenchResults,
  base: string,
): { png: string | null; svg: string; note?: string } {
  const svg = `${base}.svg`;
  writeFileSync(svg, renderRatioSvg(results));
  const png = `${base}.png`;
  const converters: Array<[string, string[]]> = [
    ['rsvg-convert', ['-f', 'png', '-o', png, svg]],
    ['magick', [svg, png]],
  ];
  for (const [tool, args] of converters) {
    if (!onPath(tool)) continue;
    try {
      execFileSync(tool, args, { stdio: 'pipe' });
      if (existsSync(png)) return { png, svg };
    } catch (error) {
      return { png: null, svg, note: `${tool} failed: ${(error as Error).message}` };
    }
  }
  return {
    png: null,
    svg,
    note: 'no SVG→PNG converter found (apt-get install librsvg2-bin); PNG chart skipped',
  };
}

function onPath(tool: string): boolean {
  return (process.env.PATH ?? '').split(':').some((dir) => dir && existsSync(join(dir, tool)));
}

function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
