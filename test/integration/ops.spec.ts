/**
 * The operations console's routes through real HTTP: admins only; the live stream (server-sent events read with
 * fetch() and the Authorization header) sends a snapshot at once and an update when an order is placed; the chaos
 * playground runs a seed scenario as real checkouts and reports the invariants; it is guarded and bounded.
 */
import { SERVICE_NAMES } from "../../services/common/names";
import { http, loginAdmin, registerCustomer, startShop, type Shop } from "../helpers/shop";

interface SseEvent {
	event: string;
	data: Record<string, unknown>;
}

/** An open event stream: every event received so far, and a way to wait for one. */
interface SseReader {
	status: number;
	contentType: string | null;
	events: SseEvent[];
	waitFor(pred: (e: SseEvent) => boolean, ms?: number): Promise<SseEvent>;
	close(): void;
}

async function openStream(base: string, token: string): Promise<SseReader> {
	const abort = new AbortController();
	const res = await fetch(`${base}/api/v1/admin/ops/stream`, { headers: { authorization: `Bearer ${token}` }, signal: abort.signal });
	const events: SseEvent[] = [];
	const waiters: Array<() => void> = [];
	void (async () => {
		const reader = res.body!.getReader();
		const decoder = new TextDecoder();
		let buf = "";
		try {
			for (;;) {
				const { value, done } = await reader.read();
				if (done) break;
				buf += decoder.decode(value, { stream: true });
				let i: number;
				while ((i = buf.indexOf("\n\n")) >= 0) {
					const frame = buf.slice(0, i);
					buf = buf.slice(i + 2);
					const event = /^event: (.*)$/m.exec(frame)?.[1];
					const data = /^data: (.*)$/m.exec(frame)?.[1];
					if (event && data) events.push({ event, data: JSON.parse(data) as Record<string, unknown> });
					for (const w of waiters.splice(0)) w();
				}
			}
		} catch {
			// aborted
		}
	})();
	return {
		status: res.status,
		contentType: res.headers.get("content-type"),
		events,
		async waitFor(pred, ms = 15_000) {
			const end = Date.now() + ms;
			for (;;) {
				const found = events.find(pred);
				if (found) return found;
				if (Date.now() > end) throw new Error(`no such event within ${ms} ms; got ${events.map(e => e.event).join(", ")}`);
				await new Promise<void>(r => {
					waiters.push(r);
					setTimeout(r, 200);
				});
			}
		},
		close: () => abort.abort(),
	};
}

describe("the operations console's routes", () => {
	let shop: Shop;
	let admin: string;
	let customer: { token: string; id: string };

	beforeAll(async () => {
		shop = await startShop([...SERVICE_NAMES], { SEED_DEMO_DATA: "true", RATE_LIMIT_PER_MINUTE: "100000", DELIVERY_DELAY_MS: "200" });
		admin = await loginAdmin(shop.url, shop.config);
		customer = await registerCustomer(shop.url);
	}, 60_000);
	afterAll(() => shop?.stop());

	it("are for admins only: 401 without a token, 403 for a customer", async () => {
		const routes: Array<[string, string, unknown?]> = [
			["GET", "/api/v1/admin/ops/stream"],
			["GET", "/api/v1/admin/ops/snapshot"],
			["GET", "/api/v1/admin/chaos/scenarios"],
			["POST", "/api/v1/admin/chaos/runs", { scenario: 1, checkouts: 1 }],
			["GET", "/api/v1/admin/chaos/runs/chaos_x"],
		];
		for (const [method, path, body] of routes) {
			expect([method, path, (await http(shop.url, method, path, { body })).status]).toEqual([method, path, 401]);
			expect([method, path, (await http(shop.url, method, path, { body, token: customer.token })).status]).toEqual([method, path, 403]);
		}
	});

	it("streams a snapshot at once and tells the console when an order is placed", async () => {
		const stream = await openStream(shop.url, admin);
		try {
			expect(stream.status).toBe(200);
			expect(stream.contentType).toMatch(/^text\/event-stream/);
			const first = await stream.waitFor(e => e.event === "snapshot");
			const created0 = first.data.orders_created as number;
			expect(first.data).toMatchObject({ sagas: expect.any(Object), breakers: expect.any(Array), dead_letters: expect.any(Object), outbox: expect.any(Object) });
			expect((first.data.series as unknown[]).length).toBe(60);

			expect((await http(shop.url, "POST", "/api/v1/cart/add", { token: customer.token, body: { product_id: "laptop-123", quantity: 1 } })).status).toBe(200);
			const placed = await http<{ order: { id: string }; trace_id: string }>(shop.url, "POST", "/api/v1/checkout", {
				token: customer.token,
				body: { shipping_address: "1 Main St", payment_method: "card-456" },
			});
			expect(placed.status).toBe(201);
			const checkout = await stream.waitFor(e => e.event === "checkout" && e.data.order_id === placed.body.order.id);
			expect(checkout.data).toMatchObject({ trace_id: placed.body.trace_id, status: "SHIPPED", code: 201 });
			// The next snapshots count the order cluster-wide (from the metrics of the node that created it).
			await stream.waitFor(e => e.event === "snapshot" && (e.data.orders_created as number) > created0);
		} finally {
			stream.close();
		}
	}, 30_000);

	it("runs a chaos scenario as real checkouts and reports its outcomes and invariants", async () => {
		const stream = await openStream(shop.url, admin);
		try {
			const scenarios = await http<{ enabled: boolean; rows: Array<{ id: number; name: string }> }>(shop.url, "GET", "/api/v1/admin/chaos/scenarios", { token: admin });
			expect(scenarios.body.enabled).toBe(true);
			expect(scenarios.body.rows.map(s => s.id)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);

			const started = await http<{ id: string; status: string }>(shop.url, "POST", "/api/v1/admin/chaos/runs", { token: admin, body: { scenario: 4, checkouts: 6, concurrency: 2 } });
			expect(started.status).toBe(202);
			expect(started.headers.get("location")).toBe(`/api/v1/admin/chaos/runs/${started.body.id}`);
			// One run at a time.
			const second = await http(shop.url, "POST", "/api/v1/admin/chaos/runs", { token: admin, body: { scenario: 1, checkouts: 1 } });
			expect(second.status).toBe(409);
			expect(second.body.type).toBe("CHAOS_RUN_IN_PROGRESS");

			// Outcomes come one by one on the stream, then the invariants.
			await stream.waitFor(e => e.event === "chaos" && e.data.id === started.body.id && (e.data.outcomes as unknown[]).length > 0, 30_000);
			const done = await stream.waitFor(e => e.event === "chaos" && e.data.id === started.body.id && e.data.status === "done", 90_000);
			const outcomes = done.data.outcomes as Array<{ order_id: string; status: string; trace_id: string }>;
			expect(outcomes).toHaveLength(6);
			for (const o of outcomes) expect(o.trace_id).toEqual(expect.any(String));
			expect(done.data.invariants).toEqual([
				{ name: "orders settle", status: "holds", violations: [] },
				{ name: "one charge per order", status: "holds", violations: [] },
				{ name: "money nets to zero for failed orders", status: "holds", violations: [] },
				{ name: "stock conserved", status: "holds", violations: [] },
				{ name: "orders rebuild from their streams", status: "holds", violations: [] },
			]);
			// Every checkout was a real order of the run's own customers, and the run can be read back.
			const run = await http<{ status: string; outcomes: unknown[] }>(shop.url, "GET", `/api/v1/admin/chaos/runs/${started.body.id}`, { token: admin });
			expect(run.body).toMatchObject({ status: "done", outcomes: expect.any(Array) });
			const first = outcomes.find(o => o.order_id);
			const order = await http<{ user_id: string }>(shop.url, "GET", `/api/v1/orders/${first!.order_id}`, { token: admin });
			expect(order.status).toBe(200);
			expect(order.body.user_id).not.toBe(customer.id);
			// The trace of a playground checkout is there to open.
			expect((await http(shop.url, "GET", `/api/v1/traces/${outcomes[0].trace_id}`, { token: admin })).status).toBe(200);
		} finally {
			stream.close();
		}
	}, 120_000);

	it("bounds a run: a scenario out of 1-8 or more than 100 checkouts is refused naming the field", async () => {
		for (const [body, field] of [
			[{ scenario: 9, checkouts: 1 }, "scenario"],
			[{ scenario: 1, checkouts: 101 }, "checkouts"],
			[{ scenario: 1, checkouts: 1, concurrency: 50 }, "concurrency"],
		] as const) {
			const res = await http(shop.url, "POST", "/api/v1/admin/chaos/runs", { token: admin, body });
			expect(res.status).toBe(422);
			expect(JSON.stringify(res.body)).toContain(field);
		}
	});
});

describe("the chaos playground where fault injection is off", () => {
	let shop: Shop;
	beforeAll(async () => {
		shop = await startShop(["api", "users"], { CHAOS_ENABLED: "false" });
	}, 60_000);
	afterAll(() => shop?.stop());

	it("is refused with 403 CHAOS_DISABLED", async () => {
		const admin = await loginAdmin(shop.url, shop.config);
		const scenarios = await http<{ enabled: boolean }>(shop.url, "GET", "/api/v1/admin/chaos/scenarios", { token: admin });
		expect(scenarios.body.enabled).toBe(false);
		const res = await http(shop.url, "POST", "/api/v1/admin/chaos/runs", { token: admin, body: { scenario: 1, checkouts: 1 } });
		expect(res.status).toBe(403);
		expect(res.body.type).toBe("CHAOS_DISABLED");
	});
});

describe("a gateway stopping with a console open", () => {
	let shop: Shop;
	beforeAll(async () => {
		shop = await startShop(["api", "users"]);
	}, 60_000);
	afterAll(() => shop?.stop());

	it("ends the console's stream first, so that its drain does not wait for it", async () => {
		const stream = await openStream(shop.url, await loginAdmin(shop.url, shop.config));
		await stream.waitFor(e => e.event === "snapshot");
		const api = shop.broker.getLocalService("api") as unknown as { drainHttp(ms: number): Promise<{ unfinished: number; ms: number }> };
		const drained = await api.drainHttp(5000);
		expect(drained.unfinished).toBe(0);
		expect(drained.ms).toBeLessThan(2000);
		stream.close();
	});
});
