/**
 * The results as an SVG bar chart, made from the numbers of a run (never drawn by hand):
 * each scenario's RKMS req/s beside the bare Fastify route's, on a log scale so that the
 * cached read (tens of thousands) and creation (hundreds) both read.
 */
import type { Row } from './scenarios.js';

const WIDTH = 900;
const ROW_HEIGHT = 34;
const LABEL_WIDTH = 330;
const TOP = 56;
const BAR = 12;

export function chartSvg(rows: readonly Row[], title: string): string {
  const height = TOP + rows.length * ROW_HEIGHT + 40;
  const max = Math.max(...rows.flatMap((r) => [r.rkms.rps, r.bare?.rps ?? 0]), 10);
  const decades = Math.ceil(Math.log10(max));
  const plot = WIDTH - LABEL_WIDTH - 90;
  const x = (rps: number) => (rps <= 1 ? 0 : (Math.log10(rps) / decades) * plot);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="10" y="20" font-size="15" font-weight="bold">${escape(title)}</text>`,
    `<rect x="${LABEL_WIDTH}" y="30" width="12" height="10" fill="#2f6db5"/><text x="${LABEL_WIDTH + 16}" y="39">RKMS</text>`,
    `<rect x="${LABEL_WIDTH + 70}" y="30" width="12" height="10" fill="#b8b8b8"/><text x="${LABEL_WIDTH + 86}" y="39">bare Fastify route, same pattern</text>`,
  ];
  for (let d = 0; d <= decades; d++) {
    const gx = LABEL_WIDTH + (d / decades) * plot;
    parts.push(
      `<line x1="${gx}" y1="${TOP - 6}" x2="${gx}" y2="${height - 30}" stroke="#e3e3e3"/>`,
      `<text x="${gx}" y="${height - 14}" text-anchor="middle" fill="#555">${(10 ** d).toLocaleString('en-US')}</text>`,
    );
  }
  parts.push(
    `<text x="${LABEL_WIDTH + plot / 2}" y="${height - 1}" text-anchor="middle" fill="#555">requests per second (log scale)</text>`,
  );
  rows.forEach((r, i) => {
    const y = TOP + i * ROW_HEIGHT;
    parts.push(
      `<text x="${LABEL_WIDTH - 8}" y="${y + BAR + 4}" text-anchor="end">${escape(`(${r.key}) ${r.scenario}`)}</text>`,
    );
    parts.push(bar(LABEL_WIDTH, y, x(r.rkms.rps), '#2f6db5', Math.round(r.rkms.rps).toLocaleString('en-US')));
    if (r.bare) {
      const ratio = `${Math.round(r.bare.rps).toLocaleString('en-US')} (RKMS ${(r.rkms.rps / r.bare.rps).toFixed(2)}×)`;
      parts.push(bar(LABEL_WIDTH, y + BAR + 2, x(r.bare.rps), '#b8b8b8', ratio));
    }
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

function bar(x0: number, y: number, width: number, color: string, label: string): string {
  return (
    `<rect x="${x0}" y="${y}" width="${Math.max(1, width).toFixed(1)}" height="${BAR}" fill="${color}"/>` +
    `<text x="${(x0 + width + 4).toFixed(1)}" y="${y + BAR - 2}" font-size="10" fill="#333">${escape(label)}</text>`
  );
}

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
