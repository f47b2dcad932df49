// Small charts drawn as inline SVG (no chart library): bars, stacked bars and a line over the feed's 10-second
// buckets of the last 10 minutes. Colours come from ops.css classes, so the strict CSP (no inline styles) holds.
import type { SeriesPoint } from "./types";

const W = 480;
const H = 190;
const PAD = { left: 62, right: 8, top: 10, bottom: 22 };
const innerW = W - PAD.left - PAD.right;
const innerH = H - PAD.top - PAD.bottom;

/** A round axis maximum at or above `v`. */
export function niceMax(v: number): number {
	if (v <= 0) return 1;
	const p = 10 ** Math.floor(Math.log10(v));
	for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
	return 10 * p;
}

function Axis({ max, unit, points }: { max: number; unit: string; points: SeriesPoint[] }) {
	const ticks = [0, max / 2, max];
	return (
		<g class="axis">
			{ticks.map(t => {
				const y = PAD.top + innerH - (t / max) * innerH;
				return (
					<g key={t}>
						<line x1={PAD.left} x2={W - PAD.right} y1={y} y2={y} class="grid" />
						<text x={PAD.left - 4} y={y + 4} text-anchor="end">
							{Number.isInteger(t) ? t : t.toFixed(1)}
							{unit}
						</text>
					</g>
				);
			})}
			<text x={PAD.left} y={H - 4}>
				{points.length > 0 ? `${Math.round((Date.now() - points[0].t) / 60_000)} min ago` : ""}
			</text>
			<text x={W - PAD.right} y={H - 4} text-anchor="end">
				now
			</text>
		</g>
	);
}

const slot = (points: SeriesPoint[]) => innerW / Math.max(1, points.length);

/** Orders per minute, one bar per 10-second bucket (its count times six). */
export function OrdersChart({ points }: { points: SeriesPoint[] }) {
	const rates = points.map(p => p.orders * 6);
	const max = niceMax(Math.max(...rates, 0));
	const w = slot(points);
	return (
		<svg viewBox={`0 0 ${W} ${H}`} class="chart" role="img" aria-label={`Orders per minute; latest ${rates[rates.length - 1] ?? 0}`}>
			<Axis max={max} unit="" points={points} />
			{rates.map((r, i) =>
				r > 0 ? <rect key={points[i].t} class="bar-orders" x={PAD.left + i * w + 1} width={Math.max(1, w - 2)} y={PAD.top + innerH - (r / max) * innerH} height={(r / max) * innerH} /> : null,
			)}
		</svg>
	);
}

/** The colour class of a failure reason. */
export function reasonClass(reason: string): string {
	return `reason-${reason.toLowerCase().replace(/_/g, "-")}`;
}

/** Failed orders per minute, stacked by reason. */
export function FailuresChart({ points, reasons }: { points: SeriesPoint[]; reasons: string[] }) {
	const totals = points.map(p => Object.values(p.failed).reduce((a, b) => a + b, 0) * 6);
	const max = niceMax(Math.max(...totals, 0));
	const w = slot(points);
	return (
		<figure class="chart-figure">
			<svg viewBox={`0 0 ${W} ${H}`} class="chart" role="img" aria-label="Failed orders per minute by reason">
				<Axis max={max} unit="" points={points} />
				{points.map((p, i) => {
					let y = PAD.top + innerH;
					return (
						<g key={p.t}>
							{reasons.map(r => {
								const h = (((p.failed[r] ?? 0) * 6) / max) * innerH;
								if (h <= 0) return null;
								y -= h;
								return <rect key={r} class={reasonClass(r)} x={PAD.left + i * w + 1} width={Math.max(1, w - 2)} y={y} height={h} />;
							})}
						</g>
					);
				})}
			</svg>
			<figcaption class="legend">
				{reasons.map(r => (
					<span key={r}>
						<i class={`swatch ${reasonClass(r)}`} />
						{r}
					</span>
				))}
			</figcaption>
		</figure>
	);
}

/** The 95th percentile of checkout latency per bucket, as a line (gaps where no checkout was answered). */
export function LatencyChart({ points }: { points: SeriesPoint[] }) {
	const values = points.map(p => p.p95_ms);
	const max = niceMax(Math.max(...values.map(v => v ?? 0), 0));
	const w = slot(points);
	const xy = (i: number, v: number) => `${PAD.left + i * w + w / 2},${PAD.top + innerH - (v / max) * innerH}`;
	const segments: string[][] = [];
	let current: string[] = [];
	values.forEach((v, i) => {
		if (v === null) {
			if (current.length) segments.push(current);
			current = [];
		} else current.push(xy(i, v));
	});
	if (current.length) segments.push(current);
	const last = [...values].reverse().find(v => v !== null);
	return (
		<svg viewBox={`0 0 ${W} ${H}`} class="chart" role="img" aria-label={`p95 checkout latency; latest ${last ?? "none"} ms`}>
			<Axis max={max} unit=" ms" points={points} />
			{segments.map(s => (
				<polyline key={s[0]} class="line-latency" points={s.join(" ")} />
			))}
			{values.map((v, i) => (v === null ? null : <circle key={points[i].t} class="dot-latency" r={2.5} cx={PAD.left + i * w + w / 2} cy={PAD.top + innerH - (v / max) * innerH} />))}
		</svg>
	);
}
