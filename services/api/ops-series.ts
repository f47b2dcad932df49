/**
 * The console's time series, as pure code: 10-second buckets over the last 10 minutes of orders placed, orders
 * failed by reason, and request latencies (a small fixed histogram per bucket, from which the p95 is read).
 * Counter values come in as cluster-wide totals; a bucket gets the difference since the previous reading, and a
 * reading after a long pause (no console was open) only sets the baseline, so a pause never shows as a spike.
 */

/** Bucket width and how many buckets are kept. */
export const BUCKET_MS = 10_000;
export const BUCKETS = 60;
/** A reading this long after the previous one only sets the baseline. */
const STALE_MS = 15_000;
/** Upper bounds of the latency histogram, in milliseconds (the last bucket is everything above). */
export const LATENCY_BOUNDS_MS = [5, 10, 25, 50, 75, 100, 150, 200, 300, 500, 750, 1000, 1500, 2000, 3000, 5000, 10_000, 30_000];

export interface Bucket {
	/** Start of the bucket, epoch ms. */
	t: number;
	orders: number;
	failed: Record<string, number>;
	/** Latency counts per bound (and one above the last bound), for checkouts. */
	latency: number[];
}

export interface SeriesPoint {
	t: number;
	orders: number;
	failed: Record<string, number>;
	/** 95th percentile of checkout latency in the bucket (upper bound of its histogram slot), null without checkouts. */
	p95_ms: number | null;
	checkouts: number;
}

/** The 95th percentile of a histogram, as the upper bound of the slot it falls in. */
export function p95(counts: readonly number[]): number | null {
	const total = counts.reduce((a, b) => a + b, 0);
	if (total === 0) return null;
	const rank = Math.ceil(total * 0.95);
	let seen = 0;
	for (let i = 0; i < counts.length; i++) {
		seen += counts[i];
		if (seen >= rank) return LATENCY_BOUNDS_MS[i] ?? LATENCY_BOUNDS_MS[LATENCY_BOUNDS_MS.length - 1] * 2;
	}
	return null;
}

export class OpsSeries {
	private readonly buckets: Bucket[] = [];
	private last: { at: number; created: number; failed: Record<string, number> } | null = null;

	constructor(private readonly now: () => number = Date.now) {}

	/** The bucket for a time, created (and old ones dropped) on demand. */
	private bucket(at: number): Bucket {
		const t = at - (at % BUCKET_MS);
		let b = this.buckets[this.buckets.length - 1];
		if (!b || b.t !== t) {
			b = { t, orders: 0, failed: {}, latency: new Array<number>(LATENCY_BOUNDS_MS.length + 1).fill(0) };
			this.buckets.push(b);
			while (this.buckets.length > BUCKETS) this.buckets.shift();
		}
		return b;
	}

	/** One checkout's duration, as the gateway or the playground measured it. */
	recordLatency(ms: number): void {
		let i = 0;
		while (i < LATENCY_BOUNDS_MS.length && ms > LATENCY_BOUNDS_MS[i]) i++;
		this.bucket(this.now()).latency[i]++;
	}

	/** A reading of the cluster's counters: orders created, and orders failed by reason. */
	recordCounters(created: number, failed: Record<string, number>): void {
		const at = this.now();
		const prev = this.last;
		this.last = { at, created, failed: { ...failed } };
		if (!prev || at - prev.at > STALE_MS) return;
		const b = this.bucket(at);
		// A counter that went down (a node restarted) counts from its new value.
		b.orders += Math.max(0, created - prev.created);
		for (const [reason, n] of Object.entries(failed)) {
			const d = n - (prev.failed[reason] ?? 0);
			if (d > 0) b.failed[reason] = (b.failed[reason] ?? 0) + d;
		}
	}

	/** The last BUCKETS buckets, oldest first, empty ones included, up to now. */
	points(): SeriesPoint[] {
		const end = this.now() - (this.now() % BUCKET_MS);
		const byT = new Map(this.buckets.map(b => [b.t, b]));
		const out: SeriesPoint[] = [];
		for (let t = end - (BUCKETS - 1) * BUCKET_MS; t <= end; t += BUCKET_MS) {
			const b = byT.get(t);
			out.push({
				t,
				orders: b?.orders ?? 0,
				failed: { ...(b?.failed ?? {}) },
				p95_ms: b ? p95(b.latency) : null,
				checkouts: b ? b.latency.reduce((x, y) => x + y, 0) : 0,
			});
		}
		return out;
	}
}
