/**
 * Totals beyond what one payment can charge (10,000,000.00 USD) through the gateway: the cart refuses an add or
 * update that takes it there, checkout refuses such a cart before it claims it, orders.create before it stores an
 * order, all with 422 ORDER_TOTAL_TOO_HIGH, never a card decline. Amounts whose cents leave the safe integers are
 * refused with a 4xx as well.
 */
import type { DbMethods } from "../../mixins/db.mixin";
import { http, loginAdmin, registerCustomer, startShop, type Shop } from "../helpers/shop";

interface ErrorBody {
	code: number;
	type: string;
	data: { field: string; total: number | null; limit: number; currency: string };
}
interface CartBody {
	items: Array<{ product_id: string; quantity: number }>;
	subtotal: number;
}

const SERVICES = ["api", "users", "products", "inventory", "cart", "checkout", "orders", "payments", "shipping"] as const;
const ADDRESS = { street: "123 Main St", city: "Springfield", postal_code: "12345", country: "US" };
const BODY = { shipping_address: ADDRESS, payment_method: "card-456" };

describe("order totals beyond the payment limit", () => {
	let shop: Shop;
	let admin: string;
	let seq = 0;

	beforeAll(async () => {
		shop = await startShop([...SERVICES], { NAMESPACE: `hpl-limit-${Date.now()}-${Math.random()}` });
		admin = await loginAdmin(shop.url, shop.config);
	});
	afterAll(() => shop.stop());

	const api = <T = Record<string, unknown>>(method: string, path: string, opts: { body?: unknown; token?: string; headers?: Record<string, string>; raw?: string } = {}) =>
		http<T>(shop.url, method, `/api/v1${path}`, opts);

	/** A product at `price` with 50 units in stock. */
	async function product(price: number): Promise<string> {
		const id = `limit-item-${++seq}-${Date.now()}`;
		const res = await api("POST", "/products", { token: admin, body: { id, name: `Item ${seq}`, brand: "Acme", category: "gadgets", price } });
		if (res.status !== 201) throw new Error(`product create failed: ${res.status} ${JSON.stringify(res.body)}`);
		const stock = await api("PUT", `/inventory/${id}`, { token: admin, body: { warehouse_id: "wh-1", on_hand: 50 } });
		if (stock.status !== 200) throw new Error(`setLevel failed: ${stock.status} ${JSON.stringify(stock.body)}`);
		return id;
	}
	const setPrice = async (id: string, price: number) => expect((await api("PUT", `/products/${id}`, { token: admin, body: { price } })).status).toBe(200);
	const add = (token: string, product_id: string, quantity: number) => api<ErrorBody>("POST", "/cart/add", { token, body: { product_id, quantity } });
	const cartOf = async (token: string) => (await api<CartBody>("GET", "/cart", { token })).body;
	const ordersOf = async (userId: string) => (await shop.broker.call<{ rows: unknown[] }, object>("orders.find", { user_id: userId })).rows;
	const paymentsOf = (userId: string) => (shop.broker.getLocalService("payments") as unknown as DbMethods).collection<{ id: string }>("payments").find({ user_id: userId });
	const levels = async (id: string) => (await api<{ on_hand: number; reserved: number }>("GET", `/inventory/${id}`, { token: admin })).body;

	it("refuses to add 11 units at 1,000,000 (422 ORDER_TOTAL_TOO_HIGH naming the limit) and stores nothing", async () => {
		const p = await product(1_000_000);
		const { token } = await registerCustomer(shop.url);
		const res = await add(token, p, 11);
		expect(res.status).toBe(422);
		expect(res.body).toMatchObject({ code: 422, type: "ORDER_TOTAL_TOO_HIGH", data: { field: "quantity", total: 11_000_000, limit: 10_000_000, currency: "USD" } });
		expect((await cartOf(token)).items).toEqual([]);

		// Exactly the limit is chargeable; one unit more, of this or another product, is not.
		expect((await add(token, p, 10)).status).toBe(200);
		expect((await add(token, p, 1)).body).toMatchObject({ type: "ORDER_TOTAL_TOO_HIGH", data: { total: 11_000_000 } });
		expect((await add(token, await product(0.01), 1)).body).toMatchObject({ type: "ORDER_TOTAL_TOO_HIGH", data: { total: 10_000_000.01 } });
		const raised = await api<ErrorBody>("PUT", `/cart/items/${p}`, { token, body: { quantity: 12 } });
		expect(raised.body).toMatchObject({ code: 422, type: "ORDER_TOTAL_TOO_HIGH", data: { field: "quantity", total: 12_000_000 } });
		expect(await cartOf(token)).toMatchObject({ items: [{ product_id: p, quantity: 10 }], subtotal: 10_000_000 });
	});

	it("refuses at checkout a cart that a price rise took to 1,000,000 x 11, before anything runs: no order, payment or reservation", async () => {
		const p = await product(900_000);
		const { token, id: userId } = await registerCustomer(shop.url);
		expect((await add(token, p, 11)).status).toBe(200);
		await setPrice(p, 1_000_000);
		const before = await cartOf(token);
		expect(before.subtotal).toBe(11_000_000);

		const res = await api<ErrorBody>("POST", "/checkout", { token, body: BODY, headers: { "idempotency-key": `limit-${Date.now()}` } });
		expect(res.status).toBe(422);
		expect(res.body).toMatchObject({ code: 422, type: "ORDER_TOTAL_TOO_HIGH", data: { field: "cart", total: 11_000_000, limit: 10_000_000, currency: "USD" } });
		expect(await ordersOf(userId)).toEqual([]);
		expect(await paymentsOf(userId)).toEqual([]);
		expect(await levels(p)).toMatchObject({ on_hand: 50, reserved: 0 });
		expect(await cartOf(token)).toEqual(before);

		// Fewer units are allowed even over the limit; at the limit the same cart checks out (nothing was left claimed).
		expect((await api("PUT", `/cart/items/${p}`, { token, body: { quantity: 10 } })).status).toBe(200);
		const placed = await api<{ order: { status: string; total: number } }>("POST", "/checkout", { token, body: BODY });
		expect(placed.status).toBe(201);
		expect(placed.body.order).toMatchObject({ status: "SHIPPED", total: 10_000_000 });
		expect(await levels(p)).toMatchObject({ on_hand: 40, reserved: 0 });
	});

	it("has orders.create refuse a total beyond the limit before it stores an order", async () => {
		const userId = `u_limit_${Date.now()}`;
		const create = (price_cents: number, quantity: number) =>
			shop.broker.call("orders.create", {
				user_id: userId,
				items: [{ product_id: "x", name: "X", price_cents, quantity }],
				currency: "USD",
				shipping_address: ADDRESS,
				payment: { token: "card-456" },
			});
		await expect(create(100_000_001, 10)).rejects.toMatchObject({ code: 422, type: "ORDER_TOTAL_TOO_HIGH", data: { field: "items", total: 10_000_000.1 } });
		// Cents beyond the safe integers are refused as well, without a rounded total.
		await expect(create(1e300, 10_000)).rejects.toMatchObject({ code: 422, type: "ORDER_TOTAL_TOO_HIGH", data: { total: null } });
		expect(await ordersOf(userId)).toEqual([]);
		expect(await paymentsOf(userId)).toEqual([]);
	});

	it("answers a quantity or price too large for integer cents with a 4xx naming the field, storing nothing", async () => {
		const p = await product(1);
		const { token } = await registerCustomer(shop.url);
		for (const raw of ['{"product_id":"P","quantity":1e20}', '{"product_id":"P","quantity":9007199254740993}', '{"product_id":"P","quantity":1e400}']) {
			const res = await api<{ data: Array<{ field: string }> }>("POST", "/cart/add", { token, raw: raw.replace("P", p) });
			expect([res.status, res.body.data[0]?.field]).toEqual([422, "quantity"]);
		}
		expect((await cartOf(token)).items).toEqual([]);
		for (const price of ["1e20", "1e300", "1.7976931348623157e308", "1e400", "90071992547409.93"]) {
			const created = await api<{ message: string }>("POST", "/products", { token: admin, raw: `{"name":"Huge","brand":"Acme","category":"gadgets","price":${price}}` });
			expect([price, created.status, created.body.message]).toEqual([price, 422, expect.stringMatching(/price/)]);
			const changed = await api<{ message: string }>("PUT", `/products/${p}`, { token: admin, raw: `{"price":${price}}` });
			expect([price, changed.status, changed.body.message]).toEqual([price, 422, expect.stringMatching(/price/)]);
		}
		expect((await api<{ price: number }>("GET", `/products/${p}`)).body.price).toBe(1);
	});
});
