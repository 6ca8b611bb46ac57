// The overview's weekly series (uPlot), from /v1/events/aggregate?group_by=week&fill=zero.
// Records whose date spans several weeks are not drawn in any: the caller lists them apart.
import uPlot from "../vendor/uplot/uPlot.esm.js";

const DAY = 86400;

// The Monday of an ISO week ("2020-W15"), in seconds since the epoch (UTC).
export function isoWeekStart(key) {
  const [year, week] = key.split("-W").map(Number);
  const jan4 = Date.UTC(year, 0, 4) / 1000;
  const weekday = (new Date(jan4 * 1000).getUTCDay() + 6) % 7; // Monday 0
  return jan4 - weekday * DAY + (week - 1) * 7 * DAY;
}

let plot = null;
let observer = null;

export function drawWeeks(container, weeks) {
  plot?.destroy();
  observer?.disconnect();
  const xs = weeks.map((w) => isoWeekStart(w.key.week));
  const ys = weeks.map((w) => w.count);
  const width = () => Math.max(280, container.clientWidth);
  plot = new uPlot(
    {
      width: width(),
      height: 200,
      legend: { show: false },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true }, y: { range: (u, min, max) => [0, Math.max(1, max)] } },
      axes: [{ stroke: "#333" }, { stroke: "#333", values: (u, v) => v.map((n) => (Number.isInteger(n) ? n : "")) }],
      series: [
        {},
        {
          label: "Events",
          stroke: "#0b4f8a",
          fill: "rgba(47, 127, 193, 0.6)",
          paths: uPlot.paths.bars({ size: [0.9, 40] }),
          points: { show: false },
        },
      ],
    },
    [xs, ys],
    container,
  );
  observer = new ResizeObserver(() => plot.setSize({ width: width(), height: 200 }));
  observer.observe(container);
}
