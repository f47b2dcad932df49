/**
 * Which breaker speaks for the payment gateway (audit D1): one customer's `card-error` checkouts open the
 * payment service's own gateway breaker, so everybody gets the documented `503 PAYMENT_GATEWAY_UNAVAILABLE` for a
 * few seconds; they must not open Moleculer's breaker on `payments.charge`, which would answer other customers
 * "Service 'payments.charge' is not available" and show internal names in their order's history.
 */
import { http, loginAdmin, registerCustomer, startShop, type Shop } from "../helpers/shop";

interface CheckoutBody {
	order: { id: string; status: string; failure_reason: string | null };
}
interface OrderBody {
	status: string;
	history: Array<{ status: string; reason: string | null }>;
}

const SERVICES = ["api", "users", "products", "inventory", "cart", "checkout", "orders", "payments", "shipping"] as const;
const ADDRESS = { street: "123 Main St", city: "Springfield", postal_code: "12345", country: "US" };

describe("a customer's card-error checkouts and the other customers", () => {
	let shop: Shop;
	beforeAll(async () => {
		shop = await startShop([...SERVICES], { NAMESPACE: `t-pay-breaker-${Date.now()}-${Math.random()}` });
	});
	afterAll(() => shop.stop());

	const api = <T = Record<string, unknown>>(method: string, path: string, opts: { body?: unknown; token?: string } = {}) =>
		http<T>(shop.url, method, `/api/v1${path}`, opts);

	it("answers the others PAYMENT_GATEWAY_UNAVAILABLE from the gateway breaker, never 'payments.charge is not available'", async () => {
		const admin = await loginAdmin(shop.url, shop.config);
		const id = `pay-breaker-${Date.now()}`;
		await api("POST", "/products", { token: admin, body: { id, name: "Breaker item", brand: "Acme", category: "gadgets", price: 10 } });
		await api("PUT", `/inventory/${id}`, { token: admin, body: { warehouse_id: "wh-1", on_hand: 100 } });
		const [attacker, victim] = await Promise.all([registerCustomer(shop.url), registerCustomer(shop.url)]);
		for (const who of [attacker, victim]) await api("POST", "/cart/add", { token: who.token, body: { product_id: id, quantity: 1 } });

		// Six checkouts with their retries are more than the 20 failed calls Moleculer's breaker needs to judge.
		for (let i = 0; i < 6; i++) {
			const res = await api<CheckoutBody>("POST", "/checkout", { token: attacker.token, body: { shipping_address: ADDRESS, payment_method: "card-error" } });
			expect(res.status).toBe(503);
		}
		const res = await api<CheckoutBody>("POST", "/checkout", { token: victim.token, body: { shipping_address: ADDRESS, payment_method: "card-456" } });
		expect(res.status).toBe(503);
		const order = (await api<OrderBody>("GET", `/orders/${res.body.order.id}`, { token: victim.token })).body;
		const reasons = order.history.map(h => h.reason ?? "").join(" | ");
		expect(reasons).not.toMatch(/not available/);
		expect(reasons).toMatch(/circuit breaker is open/);

		// Straight at the service: the gateway's own answer, with its documented type.
		const direct = await shop.broker
			.call("payments.charge", { order_id: "o-direct", user_id: victim.id, amount_cents: 100, currency: "USD", token: "card-456", idempotency_key: `k-${Date.now()}` }, { retries: 0 })
			.then(() => null, (err: { type?: string }) => err);
		expect(direct).toMatchObject({ type: "PAYMENT_GATEWAY_UNAVAILABLE", code: 503 });
	}, 60_000);
});

describe("the card-error test token in production", () => {
	const PRODUCTION = { NODE_ENV: "production", JWT_SECRET: "a-production-secret-of-at-least-32-chars", ADMIN_PASSWORD: "a-strong-admin-pass", EVENTS_SIGNING_KEY: "e".repeat(40), DATA_DIR: "memory" };
	const charge = (shop: Shop, key: string) =>
		shop.broker
			.call("payments.charge", { order_id: `o-${key}`, user_id: "u-1", amount_cents: 100, currency: "USD", token: "card-error", idempotency_key: key }, { retries: 0 })
			.then(() => null, (err: { type?: string; code?: number }) => err);

	it("is declined (402) with fault injection off, so no customer can open the shared gateway breaker", async () => {
		const shop = await startShop(["payments"], { ...PRODUCTION, NAMESPACE: `t-pay-prod-${Date.now()}-${Math.random()}` });
		try {
			for (let i = 0; i < 12; i++) expect(await charge(shop, `k-prod-${i}`)).toMatchObject({ code: 402, type: "PAYMENT_DECLINED" });
			expect((await shop.broker.call<{ state: string }>("payments.breakerState")).state).toBe("CLOSED");
		} finally {
			await shop.stop();
		}
	});

	it("still simulates an outage with CHAOS_ENABLED=true, as in development", async () => {
		const shop = await startShop(["payments"], { ...PRODUCTION, CHAOS_ENABLED: "true", NAMESPACE: `t-pay-chaos-${Date.now()}-${Math.random()}` });
		try {
			expect(await charge(shop, "k-chaos")).toMatchObject({ code: 503, type: "PAYMENT_GATEWAY_UNAVAILABLE" });
		} finally {
			await shop.stop();
		}
	});
});
