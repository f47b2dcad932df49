import type { ServiceBroker } from "moleculer";
import { startShop, type Shop } from "../../helpers/shop";

interface CreateCall {
	user_id: string;
	items: Array<{ product_id: string; name: string; price_cents: number; quantity: number }>;
	currency: string;
	shipping_address: Record<string, unknown>;
	payment: { token: string; method_id: string | null };
	idempotency_key: string;
	respond_async: boolean;
}
interface Body {
	order: { id: string; status: string; failure_reason: string | null };
	saga: { id: string; steps: Array<{ name: string; status: string; duration: number }> };
	trace_id: string;
	duration: number;
	upstream_calls: unknown[];
}

/** Stand-ins for the catalog and for orders, with the contract's action names: this test is about checkout. */
const catalog: Record<string, { name: string; price_cents: number; active: boolean }> = {
	"laptop-123": { name: "Laptop", price_cents: 99999, active: true },
	"mouse-1": { name: "Mouse", price_cents: 1999, active: true },
};
const step = (name: string, status: string, error?: object) => ({ name, status, duration: 2, ...(error ? { error } : {}) });
const createCalls: CreateCall[] = [];
const fakeOrders = {
	name: "orders",
	actions: {
		// Asked when a keyed checkout finds its cart empty: here no key has an order behind it yet.
		byKey: { handler: () => null },
		create: {
			async handler(ctx: { params: CreateCall }) {
				createCalls.push(ctx.params);
				await new Promise(r => setTimeout(r, 30));
				const items = ctx.params.items.map(i => ({ product_id: i.product_id, name: i.name, price: i.price_cents / 100, quantity: i.quantity }));
				const order = (status: string, failure_reason: string | null = null) => ({ id: `ord_${createCalls.length}`, user_id: ctx.params.user_id, status, failure_reason, items });
				const saga = (steps: object[]) => ({ id: `saga_${createCalls.length}`, status: "X", steps });
				if (ctx.params.respond_async) return { order: order("PENDING"), saga: saga([step("payment", "PENDING")]), outcome: null };
				// orders tells how a failed order ends (outcome); the steps' errors disagree, so a status taken from them would show.
				const failed = (reason: string, http: number, steps: object[]) => ({ order: order("FAILED", reason), saga: saga(steps), outcome: { failure_reason: reason, http_status: http } });
				const odd = { code: 500, type: "ODD", retryable: false, kind: "business" };
				switch (ctx.params.payment.token) {
					case "card-declined":
						return failed("PAYMENT_ERROR", 402, [step("payment", "FAILED", odd)]);
					case "card-error":
						return failed("PAYMENT_ERROR", 503, [step("payment", "FAILED", odd)]);
					case "card-oos":
						return failed("OUT_OF_STOCK", 409, [step("payment", "COMPENSATED"), step("inventory", "FAILED", { ...odd, code: 402 })]);
					default:
						return { order: order("SHIPPED"), saga: saga([step("payment", "DONE"), step("inventory", "DONE"), step("shipping", "DONE")]), outcome: null };
				}
			},
		},
	},
};

describe("checkout service", () => {
	let shop: Shop;
	let broker: ServiceBroker;

	beforeAll(async () => {
		shop = await startShop(["users", "cart", "checkout"], { NAMESPACE: `t-checkout-${Date.now()}-${Math.random()}` });
		broker = shop.broker;
		broker.createService({
			name: "products",
			actions: { getMany: (ctx: { params: { ids: string[] } }) => ({ rows: ctx.params.ids.filter(id => catalog[id]).map(id => ({ id, currency: "USD", ...catalog[id] })) }) },
		});
		broker.createService({
			name: "inventory",
			actions: {
				availability: (ctx: { params: { items: Array<{ product_id: string; quantity: number }> } }) => ({
					ok: true,
					items: ctx.params.items.map(i => ({ product_id: i.product_id, requested: i.quantity, available: 1000, ok: true })),
				}),
			},
		});
		broker.createService(fakeOrders);
		await broker.waitForServices(["users", "cart", "checkout", "products", "inventory", "orders"]);
	});
	afterAll(() => shop.stop());

	/** A registered customer with one laptop and two mice in the cart; `call` runs checkout.start as that customer. */
	async function customer(items: Array<[string, number]> = [["laptop-123", 1], ["mouse-1", 2]]) {
		const email = `c${Math.random().toString(36).slice(2)}@example.com`;
		const reg = await broker.call<{ user: { id: string; email: string; name: string; role: string } }, object>("users.register", { email, password: "long-enough-pw", name: "C" });
		const meta = (headers: Record<string, string> = {}) => ({ user: reg.user, headers });
		for (const [product_id, quantity] of items) await broker.call("cart.add", { product_id, quantity }, { meta: meta() });
		return {
			user: reg.user,
			meta,
			async call(params: object, headers: Record<string, string> = {}) {
				const m = meta(headers) as ReturnType<typeof meta> & { $statusCode?: number; $location?: string };
				const body = await broker.call<Body, object>("checkout.start", params, { meta: m });
				return { status: m.$statusCode, location: m.$location, body };
			},
			cart: () => broker.call<{ items: Array<{ product_id: string; quantity: number }> }, object>("cart.get", {}, { meta: meta() }),
		};
	}
	const body = { shipping_address: { street: "123 Main St", city: "Springfield", postal_code: "12345", country: "US" }, payment_method: "card-456" };

	it("places the order at catalog prices, answers 201 with saga, trace id and call chain, and empties the cart", async () => {
		const c = await customer();
		const before = createCalls.length;
		const res = await c.call(body);
		expect(res.status).toBe(201);
		expect(res.location).toBe(`/api/v1/orders/${res.body.order.id}`);
		expect(res.body).toMatchObject({
			order: { status: "SHIPPED" },
			saga: { id: expect.any(String), steps: [{ name: "payment", status: "DONE", duration: 2 }, { name: "inventory" }, { name: "shipping" }] },
			trace_id: expect.any(String),
			duration: expect.any(Number),
			upstream_calls: expect.any(Array),
		});
		expect(createCalls.length).toBe(before + 1);
		expect(createCalls[before]).toMatchObject({
			user_id: c.user.id,
			items: [
				{ product_id: "laptop-123", name: "Laptop", price_cents: 99999, quantity: 1 },
				{ product_id: "mouse-1", name: "Mouse", price_cents: 1999, quantity: 2 },
			],
			currency: "USD",
			shipping_address: { street: "123 Main St", city: "Springfield" },
			payment: { token: "card-456", method_id: null },
			respond_async: false,
		});
		expect((await c.cart()).items).toEqual([]);
	});

	it("ignores prices a client sends and charges what the catalog says", async () => {
		const c = await customer([["mouse-1", 1]]);
		const before = createCalls.length;
		await c.call({ ...body, items: [{ product_id: "mouse-1", price: 0.01, quantity: 1 }], price: 0.01 });
		expect(createCalls[before].items).toEqual([{ product_id: "mouse-1", name: "Mouse", price_cents: 1999, quantity: 1, shop_id: null, discount_cents: 0 }]);
	});

	it("uses a saved payment method and a saved address", async () => {
		const c = await customer([["mouse-1", 1]]);
		const pm = await broker.call<{ id: string }, object>("users.addPaymentMethod", { token: "card-789", brand: "visa", last4: "4242" }, { meta: c.meta() });
		const addr = await broker.call<{ id: string }, object>("users.addAddress", { street: "9 Elm St", city: "Shelbyville" }, { meta: c.meta() });
		const before = createCalls.length;
		expect((await c.call({ shipping_address: addr.id, payment_method: pm.id })).status).toBe(201);
		expect(createCalls[before]).toMatchObject({ payment: { token: "card-789", method_id: pm.id }, shipping_address: { id: addr.id, street: "9 Elm St" } });
	});

	it.each([
		["card-declined", 402, "PAYMENT_ERROR"],
		["card-error", 503, "PAYMENT_ERROR"],
		["card-oos", 409, "OUT_OF_STOCK"],
	])("answers a failed saga with %s as the %d its outcome declares and keeps the cart for another try", async (token, status, reason) => {
		const c = await customer([["mouse-1", 1]]);
		const res = await c.call({ ...body, payment_method: token });
		expect(res.status).toBe(status);
		expect(res.body.order).toMatchObject({ status: "FAILED", failure_reason: reason });
		expect(res.body.saga.steps.length).toBeGreaterThan(0);
		expect((await c.cart()).items).toHaveLength(1);
	});

	it("answers Prefer: respond-async with 202 and the PENDING order at once", async () => {
		const c = await customer([["mouse-1", 1]]);
		const res = await c.call(body, { prefer: "respond-async" });
		expect(res.status).toBe(202);
		expect(res.body.order.status).toBe("PENDING");
		expect(createCalls[createCalls.length - 1].respond_async).toBe(true);
	});

	describe("bad input places nothing", () => {
		it("refuses an empty cart with 422 CART_EMPTY", async () => {
			const c = await customer([]);
			const before = createCalls.length;
			await expect(c.call(body)).rejects.toMatchObject({ code: 422, type: "CART_EMPTY", data: [expect.objectContaining({ field: "cart" })] });
			expect(createCalls.length).toBe(before);
			// The call records it had collected do not ride back in the failed call's meta.
			const meta: Record<string, unknown> = c.meta();
			await expect(broker.call("checkout.start", body, { meta })).rejects.toMatchObject({ code: 422 });
			expect(meta).not.toHaveProperty("$calls");
		});

		it.each([
			[{}, ["shipping_address", "payment_method"]],
			[{ shipping_address: "1 Main St" }, ["payment_method"]],
			[{ payment_method: "card-456" }, ["shipping_address"]],
			[{ shipping_address: { city: "No street" }, payment_method: "card-456" }, ["shipping_address"]],
		])("refuses %j with 422 naming the missing fields", async (params, fields) => {
			const c = await customer([["mouse-1", 1]]);
			const before = createCalls.length;
			const err = await c.call(params).catch(e => e as { code: number; data: Array<{ field: string }> });
			expect(err).toMatchObject({ code: 422 });
			const named = (err as { data: Array<{ field: string }> }).data.map(d => d.field).join(" ");
			for (const f of fields) expect(named).toContain(f);
			expect(createCalls.length).toBe(before);
		});

		it.each([
			[{ payment_method: "pm_unknown" }, 404, "PAYMENT_METHOD_NOT_FOUND"],
			[{ shipping_address: "addr_unknown" }, 404, "ADDRESS_NOT_FOUND"],
			[{ payment_method: "4111 1111 1111 1111" }, 422, "CARD_NUMBER_REFUSED"],
			[{ cart_id: "cart_someone-else" }, 404, "CART_NOT_FOUND"],
		])("refuses %j with %d %s", async (over, code, type) => {
			const c = await customer([["mouse-1", 1]]);
			const before = createCalls.length;
			await expect(c.call({ ...body, ...over })).rejects.toMatchObject({ code, type });
			expect(createCalls.length).toBe(before);
			expect((await c.cart()).items).toHaveLength(1);
		});

		it("refuses a cart whose product left the catalog with 409 naming it", async () => {
			catalog["gone-soon"] = { name: "Gone", price_cents: 500, active: true };
			const c = await customer([["gone-soon", 1]]);
			catalog["gone-soon"].active = false;
			await expect(c.call(body)).rejects.toMatchObject({ code: 409, type: "PRODUCT_UNAVAILABLE", data: { product_id: "gone-soon" } });
		});
	});

	describe("Idempotency-Key", () => {
		it("answers a repeat with the first response and places the order once", async () => {
			const c = await customer([["mouse-1", 1]]);
			const before = createCalls.length;
			const first = await c.call(body, { "idempotency-key": "key-1" });
			await broker.call("cart.add", { product_id: "mouse-1", quantity: 1 }, { meta: c.meta() });
			const second = await c.call(body, { "idempotency-key": "key-1" });
			expect(second).toEqual(first);
			expect(createCalls.length).toBe(before + 1);
		});

		it("treats a repeat after the key's time to live as a new checkout", async () => {
			const c = await customer([["mouse-1", 1]]);
			const before = createCalls.length;
			const first = await c.call(body, { "idempotency-key": "key-ttl" });
			type Svc = { requests(): { updateWhere(q: object, u: object): Promise<number> }; keyExpiry: { runOnce(): Promise<number> } };
			const svc = broker.getLocalService("checkout") as unknown as Svc;
			// The record is made two days old, then the expiry pass runs.
			await svc.requests().updateWhere({ user_id: c.user.id }, { $set: { created_at: new Date(Date.now() - 48 * 3_600_000).toISOString() } });
			expect(await svc.keyExpiry.runOnce()).toBeGreaterThanOrEqual(1);
			await broker.call("cart.add", { product_id: "mouse-1", quantity: 1 }, { meta: c.meta() });
			const second = await c.call(body, { "idempotency-key": "key-ttl" });
			expect(second.body.order.id).not.toBe(first.body.order.id);
			expect(createCalls.length).toBe(before + 2);
		});

		it("places the order once when ten duplicates arrive together", async () => {
			const c = await customer([["mouse-1", 1]]);
			const before = createCalls.length;
			const all = await Promise.all(Array.from({ length: 10 }, () => c.call(body, { "idempotency-key": "burst" })));
			expect(new Set(all.map(r => r.body.order.id)).size).toBe(1);
			expect(all.every(r => r.status === 201)).toBe(true);
			expect(createCalls.length).toBe(before + 1);
		});

		it("replays a failure's status too", async () => {
			const c = await customer([["mouse-1", 1]]);
			const a = await c.call({ ...body, payment_method: "card-declined" }, { "idempotency-key": "k-declined" });
			const b = await c.call({ ...body, payment_method: "card-declined" }, { "idempotency-key": "k-declined" });
			expect([a.status, b.status]).toEqual([402, 402]);
			expect(b.body.order.id).toBe(a.body.order.id);
		});

		it("refuses the same key with a different body with 422 IDEMPOTENCY_KEY_REUSED", async () => {
			const c = await customer([["mouse-1", 1]]);
			await c.call(body, { "idempotency-key": "k-body" });
			await expect(c.call({ ...body, payment_method: "card-789" }, { "idempotency-key": "k-body" })).rejects.toMatchObject({
				code: 422,
				type: "IDEMPOTENCY_KEY_REUSED",
				data: [expect.objectContaining({ field: "Idempotency-Key" })],
			});
		});

		it("keeps keys per user: another customer's identical key is a new checkout", async () => {
			const a = await customer([["mouse-1", 1]]);
			const b = await customer([["mouse-1", 1]]);
			const ra = await a.call(body, { "idempotency-key": "shared" });
			const rb = await b.call(body, { "idempotency-key": "shared" });
			expect(rb.body.order.id).not.toBe(ra.body.order.id);
		});

		it("lets a key be used again after bad input placed nothing", async () => {
			const c = await customer([]);
			await expect(c.call(body, { "idempotency-key": "retry-me" })).rejects.toMatchObject({ type: "CART_EMPTY" });
			await broker.call("cart.add", { product_id: "mouse-1", quantity: 1 }, { meta: c.meta() });
			await expect(c.call(body, { "idempotency-key": "retry-me" })).resolves.toMatchObject({ status: 201 });
		});

		it("refuses a malformed key with 422 naming the header", async () => {
			const c = await customer([["mouse-1", 1]]);
			await expect(c.call(body, { "idempotency-key": "has spaces in it" })).rejects.toMatchObject({ code: 422, data: [expect.objectContaining({ field: "Idempotency-Key" })] });
		});
	});
});

describe("checkout service without orders", () => {
	let shop: Shop;
	beforeAll(async () => {
		shop = await startShop(["users", "cart", "checkout"], { NAMESPACE: `t-checkout-down-${Date.now()}-${Math.random()}` });
		shop.broker.createService({
			name: "products",
			actions: { getMany: (ctx: { params: { ids: string[] } }) => ({ rows: ctx.params.ids.map(id => ({ id, name: id, price_cents: 100, currency: "USD", active: true })) }) },
		});
		shop.broker.createService({
			name: "inventory",
			actions: { availability: (ctx: { params: { items: Array<{ product_id: string; quantity: number }> } }) => ({ ok: true, items: ctx.params.items.map(i => ({ ...i, requested: i.quantity, available: 9, ok: true })) }) },
		});
		await shop.broker.waitForServices(["users", "cart", "checkout", "products", "inventory"]);
	});
	afterAll(() => shop.stop());

	it("answers 503 naming orders when it cannot be reached, and keeps the cart", async () => {
		const reg = await shop.broker.call<{ user: { id: string } }, object>("users.register", { email: `d${Date.now()}@example.com`, password: "long-enough-pw", name: "D" });
		const meta = { user: reg.user, headers: {} };
		await shop.broker.call("cart.add", { product_id: "p1", quantity: 1 }, { meta });
		await expect(
			shop.broker.call("checkout.start", { shipping_address: "1 Main St", payment_method: "card-456" }, { meta, retries: 0 }),
		).rejects.toMatchObject({ code: 503, data: { dependency: "orders" } });
		await expect(shop.broker.call("cart.get", {}, { meta })).resolves.toMatchObject({ items: [{ product_id: "p1" }] });
	});
});
