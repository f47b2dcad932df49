/**
 * A payments node that goes away and comes back while checkouts are in flight (a deploy, a supervisor restarting it)
 * is not a card failure: the saga's payment step finds no node for `payments.charge` (the call reached nobody, so
 * trying again is safe) and waits for one, up to SAGA_NODE_WAIT_MS, instead of failing the orders as PAYMENT_ERROR
 * after the retry policy's 350 ms. Three brokers over the real NATS; payments alone on one of them.
 */
import { http, loginAdmin, NATS_URL, REDIS_URL, registerCustomer, startShop, type Shop } from "../helpers/shop";
import { SAGA_NODE_WAIT_MS } from "../../config/resilience";

interface CheckoutBody {
	order: { id: string; status: string; failure_reason: string | null; total: number };
}

describe("checkouts in flight while the payments node restarts", () => {
	const namespace = `t-pay-restart-${process.pid}-${Date.now()}`;
	const env = { NATS_URL, REDIS_URL, NAMESPACE: namespace };
	const payNode = `pay-${process.pid}`;
	let front: Shop;
	let back: Shop;
	let pay: Shop | null = null;

	beforeAll(async () => {
		pay = await startShop(["payments"], env, payNode);
		back = await startShop(["products", "inventory", "orders", "shipping"], env, `pr-back-${process.pid}`);
		front = await startShop(["api", "users", "cart", "checkout"], env, `pr-front-${process.pid}`);
		await front.broker.waitForServices(["products", "inventory", "orders", "payments", "shipping"], 10_000);
	}, 30_000);
	afterAll(async () => {
		await front?.stop();
		await back?.stop();
		await pay?.stop();
	});

	it("charges each order once and ships it when payments is back within the wait, instead of failing it as PAYMENT_ERROR", async () => {
		expect(SAGA_NODE_WAIT_MS).toBeGreaterThanOrEqual(5_000);
		const admin = await loginAdmin(front.url, front.config);
		const productId = `restart-item-${Date.now()}`;
		await http(front.url, "POST", "/api/v1/products", { token: admin, body: { id: productId, name: "Restart item", brand: "Acme", category: "gadgets", price: 25 } });
		await http(front.url, "PUT", `/api/v1/inventory/${productId}`, { token: admin, body: { warehouse_id: "wh-1", on_hand: 10 } });
		const customers = await Promise.all(Array.from({ length: 4 }, () => registerCustomer(front.url)));
		for (const c of customers) expect((await http(front.url, "POST", "/api/v1/cart/add", { token: c.token, body: { product_id: productId, quantity: 1 } })).status).toBe(200);

		// The payments node goes away (its broker says goodbye: every node drops its endpoints at once).
		await pay!.stop();
		pay = null;
		await new Promise(r => setTimeout(r, 300));
		await expect(front.broker.call("payments.listByOrder", { order_id: "none" })).rejects.toMatchObject({ type: expect.stringMatching(/^SERVICE_NOT_(FOUND|AVAILABLE)$/) });

		const started = Date.now();
		const body = { shipping_address: { street: "1 Main St", city: "Springfield", postal_code: "12345", country: "US" }, payment_method: "card-456" };
		const checkouts = customers.map(c => http<CheckoutBody>(front.url, "POST", "/api/v1/checkout", { token: c.token, body }));
		// ...and comes back two seconds later, under the same node id, with an empty store: nothing was charged yet.
		await new Promise(r => setTimeout(r, 2_000));
		pay = await startShop(["payments"], env, payNode);

		const answers = await Promise.all(checkouts);
		for (const a of answers) {
			expect(a.status).toBe(201);
			expect(a.body.order).toMatchObject({ status: "SHIPPED", failure_reason: null });
		}
		expect(Date.now() - started).toBeGreaterThanOrEqual(2_000);
		// One charge per order, of its total.
		for (const a of answers) {
			const { rows } = await pay.broker.call<{ rows: Array<{ status: string; amount_cents: number }> }, object>("payments.listByOrder", { order_id: a.body.order.id });
			expect(rows.filter(r => r.status !== "REFUNDED").map(r => r.amount_cents)).toEqual([Math.round(a.body.order.total * 100)]);
		}
	}, 40_000);
});
