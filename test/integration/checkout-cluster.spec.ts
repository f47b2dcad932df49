/**
 * Checkout across two brokers over the real NATS, with the cart in the real Redis: the gateway, users, cart and
 * checkout on one node; products, inventory, orders, payments and shipping on the other.
 */
import { http, loginAdmin, NATS_URL, REDIS_URL, registerCustomer, startShop, type Shop } from "../helpers/shop";

interface CheckoutBody {
	order: { id: string; status: string; failure_reason: string | null };
	upstream_calls: Array<{ name: string; action: string; code: number }>;
}

describe("checkout across two nodes over NATS with the cart in Redis", () => {
	const namespace = `t-co-cluster-${process.pid}-${Date.now()}`;
	const env = { NATS_URL, REDIS_URL, NAMESPACE: namespace };
	let front: Shop;
	let back: Shop;

	beforeAll(async () => {
		back = await startShop(["products", "inventory", "orders", "payments", "shipping"], env, `back-${process.pid}`);
		front = await startShop(["api", "users", "cart", "checkout"], env, `front-${process.pid}`);
		await front.broker.waitForServices(["products", "inventory", "orders", "payments", "shipping"], 10_000);
	}, 30_000);
	afterAll(async () => {
		await front?.stop();
		await back?.stop();
	});

	it("ships a card-456 order, declines card-declined with 402, and answers a repeated key with the same order", async () => {
		const admin = await loginAdmin(front.url, front.config);
		const id = `cluster-item-${Date.now()}`;
		expect((await http(front.url, "POST", "/api/v1/products", { token: admin, body: { id, name: "Cluster item", brand: "Acme", category: "gadgets", price: 12.5 } })).status).toBe(201);
		await http(front.url, "PUT", `/api/v1/inventory/${id}`, { token: admin, body: { warehouse_id: "wh-1", on_hand: 10 } });
		const { token } = await registerCustomer(front.url);
		const add = () => http(front.url, "POST", "/api/v1/cart/add", { token, body: { product_id: id, quantity: 2 } });
		expect((await add()).status).toBe(200);
		expect((await http(front.url, "GET", "/api/v1/cart", { token })).body).toMatchObject({ subtotal: 25, items: [{ product_id: id, quantity: 2 }] });

		const body = { shipping_address: { street: "1 Node St", city: "Natsville" }, payment_method: "card-456" };
		const first = await http<CheckoutBody>(front.url, "POST", "/api/v1/checkout", { token, body, headers: { "Idempotency-Key": "cluster-1" } });
		expect(first.status).toBe(201);
		expect(first.body.order.status).toBe("SHIPPED");
		expect(first.body.upstream_calls.map(c => c.action)).toEqual(expect.arrayContaining(["orders.create", "payments.charge", "inventory.reserve", "shipping.create"]));
		const again = await http<CheckoutBody>(front.url, "POST", "/api/v1/checkout", { token, body, headers: { "Idempotency-Key": "cluster-1" } });
		expect(again.status).toBe(201);
		expect(again.body.order.id).toBe(first.body.order.id);
		const payments = await back.broker.call<{ rows: unknown[]; net_charged_cents: number }, object>("payments.listByOrder", { order_id: first.body.order.id });
		expect(payments).toMatchObject({ net_charged_cents: 2500, rows: [expect.anything()] });

		expect((await add()).status).toBe(200);
		const declined = await http<CheckoutBody>(front.url, "POST", "/api/v1/checkout", { token, body: { ...body, payment_method: "card-declined" } });
		expect(declined.status).toBe(402);
		expect(declined.body.order).toMatchObject({ status: "FAILED", failure_reason: "PAYMENT_ERROR" });
		const levels = await http(front.url, "GET", `/api/v1/inventory/${id}`, { token: admin });
		expect(levels.body).toMatchObject({ on_hand: 8, reserved: 0 });
	}, 30_000);
});
