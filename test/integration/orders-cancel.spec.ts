/**
 * A cancel that arrives while the shipping step runs (audit D2), through the gateway with every real service:
 * the saga ships the order, and the cancel answers 409 ORDER_NOT_CANCELLABLE as soon as the order is SHIPPED,
 * instead of waiting for a terminal state that SHIPPED is not (it waited out the request's 10 s).
 */
import { http, loginAdmin, registerCustomer, startShop, type Shop } from "../helpers/shop";

const SERVICES = ["api", "users", "products", "inventory", "cart", "checkout", "orders", "payments", "shipping"] as const;
const ADDRESS = { street: "123 Main St", city: "Springfield", postal_code: "12345", country: "US" };

describe("cancelling an order while it is being shipped", () => {
	let shop: Shop;
	beforeAll(async () => {
		shop = await startShop([...SERVICES], { NAMESPACE: `t-cancel-${Date.now()}-${Math.random()}` });
	});
	afterAll(() => shop.stop());

	const api = <T = Record<string, unknown>>(method: string, path: string, opts: { body?: unknown; token?: string; headers?: Record<string, string> } = {}) =>
		http<T>(shop.url, method, `/api/v1${path}`, opts);

	it("answers 409 ORDER_NOT_CANCELLABLE as soon as the order is SHIPPED, charged once", async () => {
		const admin = await loginAdmin(shop.url, shop.config);
		const id = `cancel-item-${Date.now()}`;
		await api("POST", "/products", { token: admin, body: { id, name: "Cancel item", brand: "Acme", category: "gadgets", price: 10 } });
		await api("PUT", `/inventory/${id}`, { token: admin, body: { warehouse_id: "wh-1", on_hand: 10 } });
		const { token } = await registerCustomer(shop.url);
		await api("POST", "/cart/add", { token, body: { product_id: id, quantity: 1 } });

		const placed = await api<{ order: { id: string } }>("POST", "/checkout?behavior=shipping:latency=1500ms", {
			token,
			body: { shipping_address: ADDRESS, payment_method: "card-456" },
			headers: { Prefer: "respond-async" },
		});
		expect(placed.status).toBe(202);
		await new Promise(r => setTimeout(r, 400));
		const t0 = Date.now();
		const res = await api<{ type: string; data: { status: string } }>("POST", `/orders/${placed.body.order.id}/cancel`, { token });
		const took = Date.now() - t0;
		expect(res.status).toBe(409);
		expect(res.body).toMatchObject({ type: "ORDER_NOT_CANCELLABLE", data: { status: "SHIPPED" } });
		// The shipment took 1.5 s from the start; the cancel answers when it is done, not seconds later.
		expect(took).toBeLessThan(3000);
		const payments = await shop.broker.call<{ net_charged_cents: number }, object>("payments.listByOrder", { order_id: placed.body.order.id });
		expect(payments.net_charged_cents).toBe(1000);
	}, 60_000);
});
