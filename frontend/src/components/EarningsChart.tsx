// Earnings over time with uPlot (loaded with this module, on the Money screen only).
// Amounts are bigint until here; the chart's y axis is in dollars as a float, for
// drawing only. uPlot's own legend said "Time: --" whenever the pointer was off the
// plot, so the readout under the chart is ours: the hovered date and the running
// total then (exact, from the bigints), or the latest total when nothing is hovered.
import { useEffect, useRef, useState } from "react";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { formatUsdc } from "../lib/money";
import { dateTime } from "../lib/time";

export interface EarningPoint {
  at: number; // ms
  cumulative: bigint; // base units
}

export default function EarningsChart({ points }: { points: EarningPoint[] }) {
  const el = useRef<HTMLDivElement>(null);
  /** The time under the pointer (ms), or null when it is off the chart. */
  const [hovered, setHovered] = useState<number | null>(null);
  useEffect(() => {
    const node = el.current;
    if (!node) return;
    const xs = points.map((p) => Math.floor(p.at / 1000));
    const ys = points.map((p) => Number(p.cumulative) / 1e6);
    const span = (xs.at(-1) ?? 0) - (xs[0] ?? 0);
    const tickFormat: Intl.DateTimeFormatOptions =
      span < 600
        ? { hour: "numeric", minute: "2-digit", second: "2-digit" }
        : span < 86_400
          ? { hour: "numeric", minute: "2-digit" }
          : span < 300 * 86_400
            ? { month: "short", day: "numeric" }
            : { month: "short", year: "numeric" };
    const dark = matchMedia("(prefers-color-scheme: dark)").matches;
    const ink = dark ? "#c7c9d1" : "#3b3d4a";
    const plot = new uPlot(
      {
        width: node.clientWidth || 320,
        height: 200,
        series: [{}, { label: "Earned", stroke: "#6366f1", fill: "rgba(99,102,241,0.15)", width: 2 }],
        axes: [
          {
            stroke: ink,
            grid: { stroke: dark ? "#2a2c37" : "#e5e7eb" },
            // One line per tick, in the unit the span needs (uPlot's own two-line date
            // labels overlapped on a phone); the readout below gives the full date.
            space: 70,
            values: (_u, splits) => splits.map((s) => new Date(s * 1000).toLocaleString(undefined, tickFormat)),
          },
          {
            stroke: ink,
            grid: { stroke: dark ? "#2a2c37" : "#e5e7eb" },
            values: (_u, vals) => vals.map((v) => `$${v}`),
          },
        ],
        scales: { x: { time: true } },
        legend: { show: false },
        // The time under the pointer, not uPlot's nearest point: the total is a step line, and
        // several points share the instant a payment landed (the step's foot and top).
        hooks: {
          setCursor: [
            (u) => {
              const left = u.cursor.left;
              setHovered(left == null || left < 0 ? null : u.posToVal(left, "x") * 1000);
            },
          ],
        },
      },
      [xs, ys],
      node,
    );
    const ro = new ResizeObserver(() => plot.setSize({ width: node.clientWidth, height: 200 }));
    ro.observe(node);
    return () => {
      ro.disconnect();
      plot.destroy();
    };
  }, [points]);
  const last = points.at(-1);
  // The running total at the hovered time: the last point at or before it (none yet: nothing earned).
  const point =
    hovered === null
      ? undefined
      : { at: hovered, cumulative: points.findLast((p) => p.at <= hovered)?.cumulative ?? 0n };
  return (
    <figure className="chart-figure">
      <div ref={el} className="chart" role="img" aria-label="Chart of your earnings over time" />
      <figcaption className="chart-readout" data-testid="chart-readout">
        {point ? (
          <>
            <time dateTime={new Date(point.at).toISOString()}>{dateTime(point.at)}</time>:{" "}
            <strong className="money">{formatUsdc(point.cumulative)}</strong> earned by then
          </>
        ) : last ? (
          <>
            <strong className="money">{formatUsdc(last.cumulative)}</strong> earned in total. Point at or tap the chart
            to see a date.
          </>
        ) : null}
      </figcaption>
    </figure>
  );
}
