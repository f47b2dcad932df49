/**
 * Checkout through the gateway with every real service in one broker: cart, checkout, orders and its saga,
 * payments (simulated gateway behind its breaker), inventory, shipping, users and products.
 */
import { http, loginAdmin, registerCustomer, startShop, type HttpResult, type Shop } from "../helpers/shop";

interface CheckoutBody {
	order: { id: string; status: string; failure_reason: string | null; total: number; shipment_id: string | null; payment_id: string | null };
	saga: { id: string; steps: Array<{ name: string; status: string; duration: number }> };
	trace_id: string;
	duration: number;
	upstream_calls: Array<{ name: string; action: string; code: number; duration: number }>;
}
interface Levels {
	on_hand: number;
	reserved: number;
	available: number;
}

const SERVICES = ["api", "users", "products", "inventory", "cart", "checkout", "orders", "payments", "shipping"] as const;
const ADDRESS = { street: "123 Main St", city: "Springfield", postal_code: "12345", country: "US" };

describe("checkout through the gateway", () => {
	let shop: Shop;
	let admin: string;
	let seq = 0;

	beforeAll(async () => {
		shop = await startShop([...SERVICES], { NAMESPACE: `t-co-${Date.now()}-${Math.random()}` });
		admin = await loginAdmin(shop.url, shop.config);
	});
	afterAll(() => shop.stop());

	/**
	 * Runs a test on a shop of its own: injected faults open Moleculer's circuit breakers of the failing endpoints
	 * for a few seconds, which must not leak into the other tests.
	 */
	async function onOwnShop(run: () => Promise<void>): Promise<void> {
		const [main, mainAdmin] = [shop, admin];
		shop = await startShop([...SERVICES], { NAMESPACE: `t-co-fault-${Date.now()}-${Math.random()}` });
		try {
			admin = await loginAdmin(shop.url, shop.config);
			await run();
		} finally {
			await shop.stop();
			[shop, admin] = [main, mainAdmin];
		}
	}

	const api = <T = Record<string, unknown>>(method: string, path: string, opts: { body?: unknown; token?: string; headers?: Record<string, string> } = {}) =>
		http<T>(shop.url, method, `/api/v1${path}`, opts);

	/** A product at 25.50 with `units` in stock. */
	async function product(units: number): Promise<string> {
		const id = `co-item-${++seq}-${Date.now()}`;
		const res = await api("POST", "/products", { token: admin, body: { id, name: `Item ${seq}`, brand: "Acme", category: "gadgets", price: 25.5 } });
		if (res.status !== 201) throw new Error(`product create failed: ${res.status} ${JSON.stringify(res.body)}`);
		await setStock(id, units);
		return id;
	}
	const setStock = async (id: string, units: number) => {
		const res = await api("PUT", `/inventory/${id}`, { token: admin, body: { warehouse_id: "wh-1", on_hand: units } });
		if (res.status !== 200) throw new Error(`setLevel failed: ${res.status} ${JSON.stringify(res.body)}`);
	};
	const levels = async (id: string) => (await api<Levels>("GET", `/inventory/${id}`, { token: admin })).body;
	/** The order's payments; waits out a circuit breaker that injected faults opened on this endpoint. */
	const net = async (orderId: string): Promise<{ net_charged_cents: number; rows: unknown[] }> => {
		const end = Date.now() + 10_000;
		for (;;) {
			try {
				return await shop.broker.call<{ net_charged_cents: number; rows: unknown[] }, object>("payments.listByOrder", { order_id: orderId });
			} catch (err) {
				if ((err as Error).name !== "ServiceNotAvailableError" || Date.now() > end) throw err;
				await new Promise(r => setTimeout(r, 250));
			}
		}
	};
	const checkout = (token: string, body: unknown, headers: Record<string, string> = {}) => api<CheckoutBody>("POST", "/checkout", { token, body, headers });

	async function shopper(productId: string, quantity = 1): Promise<string> {
		const { token } = await registerCustomer(shop.url);
		const add = await api("POST", "/cart/add", { token, body: { product_id: productId, quantity } });
		if (add.status !== 200) throw new Error(`add failed: ${add.status} ${JSON.stringify(add.body)}`);
		return token;
	}

	it("places a new order for a repeated X-Request-ID: only an Idempotency-Key replays a checkout", async () => {
		const [a, b] = [await product(5), await product(5)];
		const token = await shopper(a);
		const headers = { "x-request-id": `client-chosen-${Date.now()}` };
		const first = await checkout(token, { shipping_address: ADDRESS, payment_method: "card-456" }, headers);
		expect(first.status).toBe(201);
		await api("POST", "/cart/add", { token, body: { product_id: b, quantity: 2 } });
		const second = await checkout(token, { shipping_address: ADDRESS, payment_method: "card-456" }, headers);
		expect(second.status).toBe(201);
		expect(second.body.order.id).not.toBe(first.body.order.id);
		expect(second.body.order.total).toBe(51);
		expect((await api<{ items: unknown[] }>("GET", "/cart", { token })).body.items).toEqual([]);
	});

	it("walks a card-456 checkout to SHIPPED (201), then DELIVERED after the admin delivers it", async () => {
		const p = await product(5);
		const token = await shopper(p, 2);
		const cart = await api<{ id: string; subtotal: number; items: unknown[] }>("GET", "/cart", { token });
		expect(cart.body).toMatchObject({ subtotal: 51, currency: "USD", items: [{ product_id: p, price: 25.5, quantity: 2, line_total: 51 }] });

		const res = await checkout(token, { shipping_address: ADDRESS, payment_method: "card-456", cart_id: cart.body.id });
		expect(res.status).toBe(201);
		expect(res.headers.get("location")).toBe(`/api/v1/orders/${res.body.order.id}`);
		expect(res.body.order).toMatchObject({ status: "SHIPPED", total: 51, failure_reason: null });
		expect(res.body.saga.steps.map(s => [s.name, s.status])).toEqual([["payment", "DONE"], ["inventory", "DONE"], ["shipping", "DONE"]]);
		expect(res.body.trace_id).toBe(res.headers.get("x-trace-id"));
		const actions = res.body.upstream_calls.map(c => c.action);
		expect(actions).toEqual(expect.arrayContaining(["orders.create", "payments.charge", "inventory.reserve", "shipping.create", "inventory.commit"]));
		expect(res.body.upstream_calls.find(c => c.action === "payments.charge")).toMatchObject({ name: "payments", code: 200, duration: expect.any(Number) });
		expect((await net(res.body.order.id)).net_charged_cents).toBe(5100);
		expect(await levels(p)).toMatchObject({ on_hand: 3, reserved: 0, available: 3 });
		expect((await api<{ items: unknown[] }>("GET", "/cart", { token })).body.items).toEqual([]);

		const own = await api<{ rows: Array<{ id: string }>; net_charged_cents: number }>("GET", `/payments?order_id=${res.body.order.id}`, { token });
		expect(own.status).toBe(200);
		expect(own.body).toMatchObject({ net_charged_cents: 5100, rows: [{ id: res.body.order.payment_id }] });
		expect((await api("GET", `/payments?order_id=${res.body.order.id}`, { token: admin })).body).toEqual(own.body);
		const nosy = await registerCustomer(shop.url);
		expect((await api("GET", `/payments?order_id=${res.body.order.id}`, { token: nosy.token })).body).toEqual({ rows: [], net_charged_cents: 0 });
		expect((await api("GET", "/payments", { token })).status).toBe(422);

		const shipment = await api<{ status: string; tracking_number: string }>("GET", `/shipments/${res.body.order.shipment_id}`, { token });
		expect(shipment.body).toMatchObject({ status: "SHIPPED", tracking_number: expect.any(String) });
		const stranger = await registerCustomer(shop.url);
		expect((await api("GET", `/shipments/${res.body.order.shipment_id}`, { token: stranger.token })).status).toBe(404);
		expect((await api("POST", `/shipments/${res.body.order.shipment_id}/deliver`, { token })).status).toBe(403);
		expect((await api("POST", `/shipments/${res.body.order.shipment_id}/deliver`, { token: admin })).status).toBe(200);
		const end = Date.now() + 5000;
		let order = await api<{ status: string }>("GET", `/orders/${res.body.order.id}`, { token });
		while (order.body.status !== "DELIVERED" && Date.now() < end) {
			await new Promise(r => setTimeout(r, 25));
			order = await api<{ status: string }>("GET", `/orders/${res.body.order.id}`, { token });
		}
		expect(order.body.status).toBe("DELIVERED");
	});

	it("answers card-declined with 402 PAYMENT_ERROR, no inventory call and stock unchanged", async () => {
		const p = await product(5);
		const token = await shopper(p);
		const res = await checkout(token, { shipping_address: "123 Main St", payment_method: "card-declined" });
		expect(res.status).toBe(402);
		expect(res.body.order).toMatchObject({ status: "FAILED", failure_reason: "PAYMENT_ERROR", payment_id: expect.stringMatching(/^pay_/) });
		expect(res.body.upstream_calls.filter(c => c.name === "inventory")).toEqual([]);
		expect(res.body.upstream_calls.find(c => c.action === "payments.charge")).toMatchObject({ code: 402 });
		expect(await levels(p)).toMatchObject({ on_hand: 5, reserved: 0 });
		expect((await net(res.body.order.id)).net_charged_cents).toBe(0);
	});

	it("answers more than is in stock with 409 OUT_OF_STOCK and refunds the payment (net 0)", async () => {
		const p = await product(5);
		const token = await shopper(p, 3);
		await setStock(p, 1);
		const res = await checkout(token, { shipping_address: ADDRESS, payment_method: "card-456" });
		expect(res.status).toBe(409);
		expect(res.body.order).toMatchObject({ status: "FAILED", failure_reason: "OUT_OF_STOCK" });
		const payments = await net(res.body.order.id);
		expect(payments.rows).toHaveLength(1);
		expect(payments.net_charged_cents).toBe(0);
		expect(await levels(p)).toMatchObject({ on_hand: 1, reserved: 0 });
	});

	it("answers card-error with 503 after retries, charging nothing", async () => {
		const p = await product(5);
		const token = await shopper(p);
		const res = await checkout(token, { shipping_address: ADDRESS, payment_method: "card-error" });
		expect(res.status).toBe(503);
		expect(res.body.order).toMatchObject({ status: "FAILED", failure_reason: "PAYMENT_ERROR" });
		// The first attempt and the broker's retries, each a 503 from the gateway.
		const charges = res.body.upstream_calls.filter(c => c.action === "payments.charge");
		expect(charges.length).toBeGreaterThan(1);
		expect(charges.every(c => c.code === 503)).toBe(true);
		expect((await net(res.body.order.id)).net_charged_cents).toBe(0);
		expect(await levels(p)).toMatchObject({ on_hand: 5, reserved: 0 });
	});

	it("answers an injected payment outage (?behavior=payment:error=503:1) with 503, the failed attempts in upstream_calls and no inventory call", async () => {
		await onOwnShop(async () => {
			const p = await product(5);
			const token = await shopper(p);
			const res = await api<CheckoutBody>("POST", "/checkout?behavior=payment:error=503:1", { token, body: { shipping_address: ADDRESS, payment_method: "card-456" } });
			expect(res.status).toBe(503);
			// The failed charge may still be being undone when the answer leaves; it ends FAILED either way.
			expect(["FAILED", "COMPENSATING"]).toContain(res.body.order.status);
			const charges = res.body.upstream_calls.filter(c => c.action === "payments.charge");
			expect(charges.length).toBeGreaterThan(1);
			expect(charges.every(c => c.code === 503)).toBe(true);
			expect(res.body.upstream_calls.filter(c => c.name === "inventory")).toEqual([]);
			const end = Date.now() + 15_000;
			let order = (await api<{ status: string; failure_reason: string | null }>("GET", `/orders/${res.body.order.id}`, { token })).body;
			while (order.status !== "FAILED" && Date.now() < end) {
				await new Promise(r => setTimeout(r, 100));
				order = (await api<{ status: string; failure_reason: string | null }>("GET", `/orders/${res.body.order.id}`, { token })).body;
			}
			expect(order).toMatchObject({ status: "FAILED", failure_reason: "PAYMENT_ERROR" });
			expect((await net(res.body.order.id)).net_charged_cents).toBe(0);
			expect(await levels(p)).toMatchObject({ on_hand: 5, reserved: 0 });
			expect((await api<{ items: unknown[] }>("GET", "/cart", { token })).body.items).toHaveLength(1);
		});
	}, 60_000);

	it("answers a shipping outage (?behavior=shipping:error=503:1) with 503, then releases the stock and refunds the payment", async () => {
		await onOwnShop(async () => {
			const p = await product(5);
			const token = await shopper(p, 2);
			const res = await api<CheckoutBody>("POST", "/checkout?behavior=shipping:error=503:1", { token, body: { shipping_address: ADDRESS, payment_method: "card-456" } });
			expect(res.status).toBe(503);
			expect(res.body.upstream_calls.filter(c => c.action === "shipping.create").every(c => c.code === 503)).toBe(true);
			const end = Date.now() + 15_000;
			let order = (await api<{ status: string; failure_reason: string | null }>("GET", `/orders/${res.body.order.id}`, { token })).body;
			while (order.status !== "FAILED" && Date.now() < end) {
				await new Promise(r => setTimeout(r, 100));
				order = (await api<{ status: string; failure_reason: string | null }>("GET", `/orders/${res.body.order.id}`, { token })).body;
			}
			expect(order).toMatchObject({ status: "FAILED", failure_reason: "SHIPPING_ERROR" });
			const payments = await net(res.body.order.id);
			expect(payments.rows).toHaveLength(1);
			expect(payments.net_charged_cents).toBe(0);
			expect(await levels(p)).toMatchObject({ on_hand: 5, reserved: 0, available: 5 });
		});
	}, 60_000);

	it("fails an inventory outage (?behavior=inventory:error=503:1) as INVENTORY_UNAVAILABLE with 503, not OUT_OF_STOCK, and refunds", async () => {
		await onOwnShop(async () => {
			const p = await product(5);
			const token = await shopper(p, 1);
			const res = await api<CheckoutBody>("POST", "/checkout?behavior=inventory:error=503:1", { token, body: { shipping_address: ADDRESS, payment_method: "card-456" } });
			expect(res.status).toBe(503);
			const end = Date.now() + 15_000;
			let order = (await api<{ status: string; failure_reason: string | null }>("GET", `/orders/${res.body.order.id}`, { token })).body;
			while (order.status !== "FAILED" && Date.now() < end) {
				await new Promise(r => setTimeout(r, 100));
				order = (await api<{ status: string; failure_reason: string | null }>("GET", `/orders/${res.body.order.id}`, { token })).body;
			}
			expect(order).toMatchObject({ status: "FAILED", failure_reason: "INVENTORY_UNAVAILABLE" });
			expect((await net(res.body.order.id)).net_charged_cents).toBe(0);
			expect(await levels(p)).toMatchObject({ on_hand: 5, reserved: 0 });
		});
	}, 60_000);

	it("answers the same Idempotency-Key twice with the same order and one charge, and 422 for another body", async () => {
		const p = await product(5);
		const token = await shopper(p);
		const body = { shipping_address: ADDRESS, payment_method: "card-456" };
		const [a, b] = await Promise.all([checkout(token, body, { "Idempotency-Key": "idem-1" }), checkout(token, body, { "Idempotency-Key": "idem-1" })]);
		const c = await checkout(token, body, { "Idempotency-Key": "idem-1" });
		expect([a.status, b.status, c.status]).toEqual([201, 201, 201]);
		expect(new Set([a.body.order.id, b.body.order.id, c.body.order.id]).size).toBe(1);
		expect((await net(a.body.order.id)).rows).toHaveLength(1);
		expect(await levels(p)).toMatchObject({ on_hand: 4 });
		const other = await checkout(token, { ...body, payment_method: "card-789" }, { "Idempotency-Key": "idem-1" });
		expect(other.status).toBe(422);
		expect(other.body).toMatchObject({ type: "IDEMPOTENCY_KEY_REUSED" });
		const orders = await api<{ total: number }>("GET", "/orders", { token });
		expect(orders.body.total).toBe(1);
	});

	it("answers Prefer: respond-async with 202 and the PENDING order, which then ships", async () => {
		const p = await product(5);
		const token = await shopper(p);
		const res = await checkout(token, { shipping_address: ADDRESS, payment_method: "card-456" }, { Prefer: "respond-async" });
		expect(res.status).toBe(202);
		expect(res.body.order.status).toBe("PENDING");
		const end = Date.now() + 5000;
		let status = res.body.order.status;
		while (status !== "SHIPPED" && Date.now() < end) {
			await new Promise(r => setTimeout(r, 25));
			status = (await api<{ status: string }>("GET", `/orders/${res.body.order.id}`, { token })).body.status;
		}
		expect(status).toBe("SHIPPED");
	});

	describe("bad input leaves no order, charge or reservation behind", () => {
		const expectNothingPlaced = async (token: string, p: string) => {
			expect((await api<{ total: number }>("GET", "/orders", { token })).body.total).toBe(0);
			expect(await levels(p)).toMatchObject({ on_hand: 5, reserved: 0 });
		};

		it.each([0, -1, 2.5])("refuses a cart quantity of %p with 422 naming quantity", async quantity => {
			const p = await product(5);
			const { token } = await registerCustomer(shop.url);
			const res = await api<{ message: string }>("POST", "/cart/add", { token, body: { product_id: p, quantity } });
			expect(res.status).toBe(422);
			expect(res.body.message).toContain("quantity");
		});

		it("refuses more than inventory has in the cart with 409 naming what is available", async () => {
			const p = await product(5);
			const { token } = await registerCustomer(shop.url);
			const res = await api("POST", "/cart/add", { token, body: { product_id: p, quantity: 6 } });
			expect(res.status).toBe(409);
			expect(res.body).toMatchObject({ type: "INSUFFICIENT_STOCK", data: { available: 5 } });
			expect((await api("POST", "/cart/add", { token, body: { product_id: "no-such-product", quantity: 1 } })).status).toBe(404);
		});

		it("refuses an empty cart with 422 CART_EMPTY", async () => {
			const { token } = await registerCustomer(shop.url);
			const res = await checkout(token, { shipping_address: ADDRESS, payment_method: "card-456" });
			expect(res.status).toBe(422);
			expect(res.body).toMatchObject({ type: "CART_EMPTY" });
		});

		it.each<[string, unknown, number, string]>([
			["a missing body", undefined, 422, "shipping_address"],
			["a missing payment method", { shipping_address: ADDRESS }, 422, "payment_method"],
			["an unknown saved payment method", { shipping_address: ADDRESS, payment_method: "pm_nope" }, 404, "pm_nope"],
			["an unknown saved address", { shipping_address: "addr_nope", payment_method: "card-456" }, 404, "addr_nope"],
			["a card number instead of a token", { shipping_address: ADDRESS, payment_method: "4111111111111111" }, 422, "payment_method"],
		])("refuses %s with a %d naming the problem", async (_what, body, status, named) => {
			const p = await product(5);
			const token = await shopper(p);
			const res: HttpResult<{ message: string }> = await api("POST", "/checkout", { token, body });
			expect(res.status).toBe(status);
			expect(res.body.message).toContain(named);
			await expectNothingPlaced(token, p);
			expect((await api<{ items: unknown[] }>("GET", "/cart", { token })).body.items).toHaveLength(1);
		});

		it("answers 401 without a token", async () => {
			expect((await checkout("", { shipping_address: ADDRESS, payment_method: "card-456" })).status).toBe(401);
			expect((await api("GET", "/cart")).status).toBe(401);
		});
	});

	it("sells exactly the 10 units in stock to 200 concurrent checkouts, never below zero, refunding every loser", async () => {
		const p = await product(10);
		const tokens: string[] = [];
		for (let i = 0; i < 200; i += 20) tokens.push(...(await Promise.all(Array.from({ length: 20 }, () => shopper(p)))));
		const t0 = Date.now();
		const results = await Promise.all(tokens.map(t => checkout(t, { shipping_address: ADDRESS, payment_method: "card-456" })));
		const elapsed = Date.now() - t0;
		const byStatus = results.reduce<Record<number, number>>((acc, r) => ({ ...acc, [r.status]: (acc[r.status] ?? 0) + 1 }), {});
		expect(byStatus).toEqual({ 201: 10, 409: 190 });
		expect(await levels(p)).toMatchObject({ on_hand: 0, reserved: 0, available: 0 });
		const nets = await Promise.all(results.map(async r => [r.status, (await net(r.body.order.id)).net_charged_cents] as const));
		for (const [status, cents] of nets) expect(cents).toBe(status === 201 ? 2550 : 0);
		// Printed for the report: how long 200 concurrent checkouts took end to end.
		process.stdout.write(`200 concurrent checkouts: ${elapsed} ms\n`);
	}, 180_000);
});

describe("checkout while the payment gateway is down", () => {
	let shop: Shop;
	beforeAll(async () => {
		shop = await startShop([...SERVICES], { NAMESPACE: `t-co-breaker-${Date.now()}-${Math.random()}` });
	});
	afterAll(() => shop.stop());

	it("retries card-error, then answers 503 quickly once the breaker is open", async () => {
		const admin = await loginAdmin(shop.url, shop.config);
		const id = `breaker-item-${Date.now()}`;
		await http(shop.url, "POST", "/api/v1/products", { token: admin, body: { id, name: "Breaker item", brand: "Acme", category: "gadgets", price: 10 } });
		await http(shop.url, "PUT", `/api/v1/inventory/${id}`, { token: admin, body: { warehouse_id: "wh-1", on_hand: 100 } });
		const { token } = await registerCustomer(shop.url);
		await http(shop.url, "POST", "/api/v1/cart/add", { token, body: { product_id: id, quantity: 1 } });

		const durations: number[] = [];
		let state = "CLOSED";
		for (let i = 0; i < 10 && state !== "OPEN"; i++) {
			const t0 = Date.now();
			const res = await http<CheckoutBody>(shop.url, "POST", "/api/v1/checkout", { token, body: { shipping_address: ADDRESS, payment_method: "card-error" } });
			durations.push(Date.now() - t0);
			expect(res.status).toBe(503);
			state = (await shop.broker.call<{ state: string }>("payments.breakerState")).state;
		}
		expect(state).toBe("OPEN");
		// With the breaker open even a good card is refused at once: the gateway is down for everyone.
		const t0 = Date.now();
		const res = await http<CheckoutBody & { order: { status: string } }>(shop.url, "POST", "/api/v1/checkout", {
			token,
			body: { shipping_address: ADDRESS, payment_method: "card-456" },
		});
		const openDuration = Date.now() - t0;
		expect(res.status).toBe(503);
		expect(res.body.order).toMatchObject({ status: "FAILED", failure_reason: "PAYMENT_ERROR" });
		expect(openDuration).toBeLessThan(1500);
		process.stdout.write(`card-error checkouts until the breaker opened: ${durations.join(", ")} ms; with it open: ${openDuration} ms\n`);
	}, 60_000);
});
