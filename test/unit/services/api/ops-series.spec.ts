import { BUCKET_MS, BUCKETS, OpsSeries, p95 } from "../../../../services/api/ops-series";

describe("the console's time series", () => {
	it("reads the p95 of a histogram as the upper bound of its slot", () => {
		expect(p95([])).toBeNull();
		expect(p95([0, 0, 0])).toBeNull();
		// 19 calls up to 5 ms and one between 75 and 100 ms: the 95th is still in the first slot.
		expect(p95([19, 0, 0, 0, 0, 1])).toBe(5);
		expect(p95([18, 0, 0, 0, 0, 2])).toBe(100);
	});

	it("puts the difference of the counters in the current bucket, and a reading after a pause only sets the baseline", () => {
		let now = 1_000_000 * BUCKET_MS;
		const s = new OpsSeries(() => now);
		s.recordCounters(100, { PAYMENT_ERROR: 3 });
		now += 2000;
		s.recordCounters(104, { PAYMENT_ERROR: 4, OUT_OF_STOCK: 1 });
		let last = s.points()[BUCKETS - 1];
		expect(last).toMatchObject({ orders: 4, failed: { PAYMENT_ERROR: 1, OUT_OF_STOCK: 1 } });
		// No console for a minute: the 50 orders of that minute do not show as a spike.
		now += 60_000;
		s.recordCounters(154, { PAYMENT_ERROR: 4, OUT_OF_STOCK: 1 });
		last = s.points()[BUCKETS - 1];
		expect(last.orders).toBe(0);
		// A node that restarted (its counter went down) adds nothing negative.
		now += 2000;
		s.recordCounters(10, {});
		expect(s.points()[BUCKETS - 1].orders).toBe(0);
	});

	it("keeps ten minutes of 10-second buckets, empty ones included, with the latency of the checkouts", () => {
		let now = 2_000_000 * BUCKET_MS;
		const s = new OpsSeries(() => now);
		s.recordLatency(40);
		s.recordLatency(400);
		now += BUCKET_MS;
		const points = s.points();
		expect(points).toHaveLength(BUCKETS);
		expect(points[BUCKETS - 2]).toMatchObject({ checkouts: 2, p95_ms: 500 });
		expect(points[BUCKETS - 1]).toMatchObject({ checkouts: 0, p95_ms: null });
		expect(points[BUCKETS - 1].t - points[0].t).toBe((BUCKETS - 1) * BUCKET_MS);
	});
});
