/**
 * A small, dependency-free SVG line chart: KMS calls (log scale) against
 * messages, one polyline per series. Deterministic output for a given input,
 * so a rerun only changes the file when the figures change.
 */
const WIDTH = 720;
const HEIGHT = 400;
const MARGIN = { left: 70, right: 200, top: 40, bottom: 50 };
const COLORS = ["#c0392b", "#2471a3", "#1e8449", "#7d3c98", "#b9770e"];

const xmlText = (text) => String(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/**
 * @param {{ title: string, xLabel: string, yLabel: string, xMax: number,
 *   series: { name: string, points: [number, number][] }[] }} chart
 */
export function kmsCallsChart(chart) {
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const most = Math.max(...chart.series.flatMap((s) => s.points.map((p) => p[1])));
  const yMaxExp = Math.ceil(Math.log10(Math.max(10, most)) - 1e-9);
  const x = (value) => MARGIN.left + (value / chart.xMax) * plotW;
  // log10(1 + calls): 0 calls sits on the axis and a single call stays visibly above it.
  const y = (value) => MARGIN.top + plotH - (Math.log10(1 + value) / yMaxExp) * plotH;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="12" role="img">`,
    `<title>${xmlText(chart.title)}</title>`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="#ffffff"/>`,
    `<text x="${MARGIN.left}" y="22" font-size="14" font-weight="bold">${xmlText(chart.title)}</text>`,
  ];
  for (const tick of [0, ...Array.from({ length: yMaxExp + 1 }, (_, e) => 10 ** e)]) {
    const at = y(tick);
    parts.push(
      `<line x1="${MARGIN.left}" y1="${at.toFixed(1)}" x2="${MARGIN.left + plotW}" y2="${at.toFixed(1)}" stroke="#dddddd"/>`,
      `<text x="${MARGIN.left - 8}" y="${(at + 4).toFixed(1)}" text-anchor="end">${tick.toLocaleString("en-US")}</text>`,
    );
  }
  for (let i = 0; i <= 5; i++) {
    const value = (chart.xMax * i) / 5;
    parts.push(
      `<line x1="${x(value).toFixed(1)}" y1="${MARGIN.top + plotH}" x2="${x(value).toFixed(1)}" y2="${MARGIN.top + plotH + 5}" stroke="#333333"/>`,
      `<text x="${x(value).toFixed(1)}" y="${MARGIN.top + plotH + 20}" text-anchor="middle">${value.toLocaleString("en-US")}</text>`,
    );
  }
  parts.push(
    `<line x1="${MARGIN.left}" y1="${MARGIN.top}" x2="${MARGIN.left}" y2="${MARGIN.top + plotH}" stroke="#333333"/>`,
    `<line x1="${MARGIN.left}" y1="${MARGIN.top + plotH}" x2="${MARGIN.left + plotW}" y2="${MARGIN.top + plotH}" stroke="#333333"/>`,
    `<text x="${MARGIN.left + plotW / 2}" y="${HEIGHT - 12}" text-anchor="middle">${xmlText(chart.xLabel)}</text>`,
    `<text transform="translate(18 ${MARGIN.top + plotH / 2}) rotate(-90)" text-anchor="middle">${xmlText(chart.yLabel)}</text>`,
  );
  chart.series.forEach((series, i) => {
    const color = COLORS[i % COLORS.length];
    const points = series.points.map(([px, py]) => `${x(px).toFixed(1)},${y(py).toFixed(1)}`).join(" ");
    const legendY = MARGIN.top + 10 + i * 22;
    parts.push(
      `<polyline fill="none" stroke="${color}" stroke-width="2" points="${points}"/>`,
      `<line x1="${WIDTH - MARGIN.right + 15}" y1="${legendY}" x2="${WIDTH - MARGIN.right + 35}" y2="${legendY}" stroke="${color}" stroke-width="2"/>`,
      `<text x="${WIDTH - MARGIN.right + 40}" y="${legendY + 4}">${xmlText(series.name)}</text>`,
    );
  });
  parts.push("</svg>");
  return `${parts.join("\n")}\n`;
}
