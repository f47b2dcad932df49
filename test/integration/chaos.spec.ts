import { runScenario } from "../chaos/run";
import { SCENARIOS } from "../chaos/scenarios";
import { startChaosShop, type ChaosShop } from "../chaos/shop";
import { http, registerCustomer } from "../helpers/shop";

interface Upstream {
	name: string;
	action: string;
	code: number;
	duration: number;
}
interface CheckoutBody {
	order: { id: string; status: string; failure_reason: string | null };
	upstream_calls: Upstream[];
	trace_id: string;
}

describe("fault injection on a real checkout", () => {
	let shop: ChaosShop;
	beforeAll(async () => {
		shop = await startChaosShop({ productCount: 2, stock: 1000 });
	});
	afterAll(() => shop.stop());

	let token = "";

	async function checkout(behavior: string): Promise<{ status: number; body: CheckoutBody }> {
		const user = await registerCustomer(shop.url);
		token = user.token;
		const add = await http(shop.url, "POST", "/api/v1/cart/add", { token: user.token, body: { product_id: shop.products[0], quantity: 1 } });
		expect(add.status).toBeLessThan(300);
		return http<CheckoutBody>(shop.url, "POST", `/api/v1/checkout?behavior=${encodeURIComponent(behavior)}`, {
			token: user.token,
			body: { shipping_address: "1 Test Street", payment_method: "card-456" },
		});
	}

	it("shows the failed payment attempts with code 503 and no inventory call when payment always fails", async () => {
		const res = await checkout("payment:error=503:1");
		// 503, or 202 while the refund that compensates the unknown charge keeps failing under the same behavior
		// (the saga then goes on without the request's context and ends FAILED).
		expect([202, 503]).toContain(res.status);
		// The refund that compensates the unknown charge fails under the same behavior until the saga goes on without it.
		let order = res.body.order;
		for (let i = 0; i < 100 && order.status !== "FAILED"; i++) {
			await new Promise(r => setTimeout(r, 100));
			order = (await http<CheckoutBody["order"]>(shop.url, "GET", `/api/v1/orders/${order.id}`, { token })).body;
		}
		expect(order).toMatchObject({ status: "FAILED", failure_reason: "PAYMENT_ERROR" });
		const charges = res.body.upstream_calls.filter(c => c.action === "payments.charge");
		expect(charges.length).toBeGreaterThan(1);
		expect(charges.every(c => c.code === 503)).toBe(true);
		expect(res.body.upstream_calls.some(c => c.name === "inventory")).toBe(false);
	});

	it("lets a checkout succeed with slow inventory, the delay showing on the inventory call", async () => {
		const res = await checkout("inventory:latency=500-1000ms");
		expect(res.status).toBe(201);
		const reserve = res.body.upstream_calls.find(c => c.action === "inventory.reserve");
		expect(reserve?.duration).toBeGreaterThanOrEqual(500);
		expect(reserve?.duration).toBeLessThan(3000);
	});
});

describe("the chaos run, small", () => {
	it.each([2, 4, 8])("keeps every invariant in seed scenario %i with 20 checkouts", async id => {
		const scenario = SCENARIOS.find(s => s.id === id);
		if (!scenario) throw new Error(`no scenario ${id}`);
		const report = await runScenario(scenario, { checkouts: 20, concurrency: 10, quiescenceTimeoutMs: 60_000 });
		expect(report.load.checkouts.length).toBe(20);
		// A checkout that fails before its order is stored (an injected fault that outlasts the retries) places none.
		expect(report.orders.length).toBeGreaterThan(0);
		expect(report.orders.length).toBeLessThanOrEqual(20);
		expect(report.violations).toEqual([]);
		expect(report.injectedErrors + report.injectedDelays).toBeGreaterThan(0);
	}, 120_000);
});

describe("business metrics on GET /metrics", () => {
	it("counts orders created, completed and failed by reason, compensations, refunds, injected faults and dead letters", async () => {
		const shop = await startChaosShop({ productCount: 1, stock: 100 });
		try {
			const buy = async (payment: string, behavior = ""): Promise<void> => {
				const user = await registerCustomer(shop.url);
				await http(shop.url, "POST", "/api/v1/cart/add", { token: user.token, body: { product_id: shop.products[0], quantity: 1 } });
				await http(shop.url, "POST", `/api/v1/checkout${behavior ? `?behavior=${behavior}` : ""}`, {
					token: user.token,
					body: { shipping_address: "1 Test Street", payment_method: payment },
				});
			};
			await buy("card-456");
			await buy("card-declined");
			await buy("card-456", "payment:error=503:1");
			let text = "";
			const value = (re: RegExp): number => Number(re.exec(text)?.[1] ?? NaN);
			// The failed charge's compensation finishes in the background.
			for (let i = 0; i < 100 && !(value(/^shopflow_orders_failed_total\{[^}]*reason="PAYMENT_ERROR"[^}]*\} (\d+)/m) >= 2); i++) {
				await new Promise(r => setTimeout(r, 100));
				text = (await http<string>(shop.url, "GET", "/metrics")).body;
			}
			expect(value(/^shopflow_orders_created_total(?:\{[^}]*\})? (\d+)/m)).toBe(3);
			expect(value(/^shopflow_orders_completed_total\{[^}]*status="SHIPPED"[^}]*\} (\d+)/m)).toBeGreaterThanOrEqual(1);
			expect(value(/^shopflow_orders_failed_total\{[^}]*reason="PAYMENT_ERROR"[^}]*\} (\d+)/m)).toBe(2);
			expect(value(/^shopflow_faults_injected_total\{[^}]*target="payments"[^}]*fault="error"[^}]*\} (\d+)/m)).toBeGreaterThanOrEqual(4);
			expect(value(/^shopflow_saga_compensations_total(?:\{[^}]*\})? (\d+)/m)).toBeGreaterThanOrEqual(1);
			expect(text).toMatch(/^shopflow_refunds_total(\{[^}]*\})? \d+/m);
			expect(text).toMatch(/^shopflow_orders_failed_total\{[^}]*reason="OUT_OF_STOCK"[^}]*\} 0/m);
			expect(text).toMatch(/^shopflow_events_dead_letters\{[^}]*service="notifications"[^}]*\} 0/m);
			expect(text).toMatch(/^moleculer_request_total\{/m);
		} finally {
			await shop.stop();
		}
	}, 60_000);
});
