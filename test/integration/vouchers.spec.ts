/**
 * Vouchers through the gateway: admin CRUD with case-insensitive codes, POST|DELETE /cart/voucher with a 422 that
 * names why a voucher does not apply (404 for an unknown code), the whole bill of a cart and of its order (a
 * foreign address, a scoped voucher, shipping and tax) against a hand computation, the charge being the order's
 * total, and the voucher's use given back when the order fails. Redeem and release repeated (a redelivered or
 * resumed saga step) count once.
 */
import { http, loginAdmin, registerCustomer, startShop, type Shop } from "../helpers/shop";
import { BILL_SETTINGS } from "../helpers/settings";
import type { SettingsCacheVars } from "../../services/settings/client";

const SERVICES = ["api", "users", "products", "inventory", "cart", "checkout", "orders", "payments", "shipping", "vouchers", "settings"] as const;
const GERMANY = { street: "Unter den Linden 1", city: "Berlin", postal_code: "10117", country: "DE" };

interface Bill {
	subtotal: number;
	discount: number;
	shipping_fee: number;
	tax: number;
	total: number;
	voucher?: { code: string; discount: number };
}
interface ErrorBody {
	code: number;
	type: string;
	data: { field?: string; code?: string; reason?: string };
}
interface VoucherBody {
	code: string;
	uses: number;
	max_uses: number | null;
}

describe("vouchers through the gateway", () => {
	let shop: Shop;
	let admin: string;
	let seq = 0;

	beforeAll(async () => {
		shop = await startShop([...SERVICES], { NAMESPACE: `t-vouchers-${Date.now()}-${Math.random()}` });
		admin = await loginAdmin(shop.url, shop.config);
		// The shop's shipping and tax, set by the admin; the cart and checkout see them within a second.
		const set = await http(shop.url, "PUT", "/api/v1/admin/settings", { token: admin, body: BILL_SETTINGS });
		if (set.status !== 200) throw new Error(`settings update failed: ${set.status} ${JSON.stringify(set.body)}`);
		for (const name of ["cart", "checkout"]) {
			const cache = (shop.broker.getLocalService(name) as unknown as SettingsCacheVars).settingsCache;
			for (let i = 0; i < 100 && cache.settings.shipping.flat_fee !== BILL_SETTINGS.shipping.flat_fee; i++) await new Promise(r => setTimeout(r, 10));
		}
	});
	afterAll(() => shop.stop());

	const api = <T = Record<string, unknown>>(method: string, path: string, opts: { body?: unknown; token?: string; headers?: Record<string, string> } = {}) =>
		http<T>(shop.url, method, `/api/v1${path}`, opts);

	/** A product at `price` in `category` with 500 units in stock. */
	async function product(price: number, category: string): Promise<string> {
		const id = `v-item-${++seq}-${Date.now()}`;
		const res = await api("POST", "/products", { token: admin, body: { id, name: `Item ${seq}`, brand: "Acme", category, price } });
		if (res.status !== 201) throw new Error(`product create failed: ${res.status} ${JSON.stringify(res.body)}`);
		expect((await api("PUT", `/inventory/${id}`, { token: admin, body: { warehouse_id: "wh-1", on_hand: 500 } })).status).toBe(200);
		return id;
	}
	const voucher = async (body: Record<string, unknown>): Promise<string> => {
		const res = await api<VoucherBody>("POST", "/admin/vouchers", { token: admin, body });
		if (res.status !== 201) throw new Error(`voucher create failed: ${res.status} ${JSON.stringify(res.body)}`);
		return res.body.code;
	};
	const usesOf = async (code: string) => (await api<VoucherBody>("GET", `/admin/vouchers/${code}`, { token: admin })).body.uses;
	const add = (token: string, product_id: string, quantity: number) => api("POST", "/cart/add", { token, body: { product_id, quantity } });
	const code = (prefix: string) => `${prefix}${++seq}${Date.now() % 100000}`;

	it("lets an admin create, read, list, change and delete vouchers whose codes are case-insensitive", async () => {
		const c = code("Spring");
		const made = await api<VoucherBody & { type: string; value: number }>("POST", "/admin/vouchers", { token: admin, body: { code: c, type: "percent", value: 10 } });
		expect(made.status).toBe(201);
		expect(made.body).toMatchObject({ code: c.toUpperCase(), type: "percent", value: 10, uses: 0, active: true, max_uses: null });
		expect((await api("GET", `/admin/vouchers/${c.toLowerCase()}`, { token: admin })).status).toBe(200);
		expect((await api<ErrorBody>("POST", "/admin/vouchers", { token: admin, body: { code: c.toLowerCase(), type: "fixed", value: 5 } })).body).toMatchObject({ code: 409, type: "VOUCHER_EXISTS" });
		const changed = await api<VoucherBody>("PUT", `/admin/vouchers/${c}`, { token: admin, body: { max_uses: 5, ends_at: "2999-01-01T00:00:00Z" } });
		expect(changed.body).toMatchObject({ code: c.toUpperCase(), max_uses: 5, type: "percent", value: 10 });
		const list = await api<{ rows: VoucherBody[]; total: number }>("GET", "/admin/vouchers?page_size=100", { token: admin });
		expect(list.body.rows.map(r => r.code)).toContain(c.toUpperCase());
		expect((await api("DELETE", `/admin/vouchers/${c}`, { token: admin })).status).toBe(200);
		expect((await api<ErrorBody>("GET", `/admin/vouchers/${c}`, { token: admin })).body).toMatchObject({ code: 404, type: "VOUCHER_NOT_FOUND" });
	});

	it("refuses bad voucher input with a 422 naming the field, and customers with a 403", async () => {
		const bad = await api<ErrorBody & { data: Array<{ field: string }> }>("POST", "/admin/vouchers", { token: admin, body: { code: code("Big"), type: "percent", value: 150 } });
		expect(bad.status).toBe(422);
		expect(JSON.stringify(bad.body.data)).toContain("value");
		const window = await api("POST", "/admin/vouchers", { token: admin, body: { code: code("W"), type: "fixed", value: 5, starts_at: "2030-01-02", ends_at: "2030-01-01" } });
		expect(window.status).toBe(422);
		// A boolean or a number is not a date (converted, `true` was taken as 1 ms after 1970: found by openapi-fuzz).
		for (const starts_at of [true, 5, "soon"]) {
			const res = await api<ErrorBody>("POST", "/admin/vouchers", { token: admin, body: { code: code("D"), type: "fixed", value: 5, starts_at } });
			expect([res.status, JSON.stringify(res.body.data)]).toEqual([422, expect.stringContaining("starts_at")]);
		}
		const { token } = await registerCustomer(shop.url);
		expect((await api("POST", "/admin/vouchers", { token, body: { code: code("Mine"), type: "fixed", value: 5 } })).status).toBe(403);
	});

	it("says with a 422 why a voucher does not apply to the cart, and 404 for an unknown code", async () => {
		const gadget = await product(20, "gadgets");
		const { token } = await registerCustomer(shop.url);
		expect((await add(token, gadget, 1)).status).toBe(200);
		const cases: Array<[Record<string, unknown>, string]> = [
			[{ type: "percent", value: 10, ends_at: "2020-01-01T00:00:00Z" }, "VOUCHER_EXPIRED"],
			[{ type: "percent", value: 10, starts_at: "2999-01-01T00:00:00Z" }, "VOUCHER_NOT_STARTED"],
			[{ type: "fixed", value: 5, min_subtotal: 50 }, "VOUCHER_MIN_SUBTOTAL"],
			[{ type: "percent", value: 10, categories: ["books"] }, "VOUCHER_NOT_APPLICABLE"],
			[{ type: "percent", value: 10, active: false }, "VOUCHER_NOT_APPLICABLE"],
		];
		for (const [body, type] of cases) {
			const c = await voucher({ code: code("No"), ...body });
			const res = await api<ErrorBody>("POST", "/cart/voucher", { token, body: { code: c.toLowerCase() } });
			expect([res.status, res.body.type, res.body.data.code]).toEqual([422, type, c]);
		}
		const usedUp = await voucher({ code: code("Once"), type: "fixed", value: 1, max_uses: 1 });
		await shop.broker.call("vouchers.redeem", { code: usedUp, order_id: "ord_elsewhere", user_id: "someone-else", discount_cents: 100 });
		expect((await api<ErrorBody>("POST", "/cart/voucher", { token, body: { code: usedUp } })).body).toMatchObject({ code: 422, type: "VOUCHER_USED_UP" });
		expect((await api<ErrorBody>("POST", "/cart/voucher", { token, body: { code: "NOSUCHCODE" } })).body).toMatchObject({ code: 404, type: "VOUCHER_NOT_FOUND" });
		const cart = await api<Bill & { voucher?: unknown }>("GET", "/cart", { token });
		expect(cart.body.voucher).toBeUndefined();
		expect(cart.body.discount).toBe(0);
	});

	it("bills a cart with a scoped voucher and a German address as computed by hand, charges that total and shows it on the order", async () => {
		const gadget = await product(19.99, "gadgets");
		const book = await product(5.01, "books");
		const c = await voucher({ code: code("Gadget"), type: "percent", value: 15, categories: ["Gadgets"] });
		const { token, id: userId } = await registerCustomer(shop.url);
		expect((await add(token, gadget, 3)).status).toBe(200);
		expect((await add(token, book, 1)).status).toBe(200);
		// 3 × 19.99 = 59.97, 15 % off: 8.9955 → 9.00; the book 5.01 is out of scope. Subtotal 64.98, goods 55.98 < 100:
		// shipping 4.99. Tax DE 19 %: 50.97 → 9.6843 → 9.68; 5.01 → 0.9519 → 0.95; 4.99 → 0.9481 → 0.95: 11.58.
		// Total 55.98 + 4.99 + 11.58 = 72.55.
		const expected = { subtotal: 64.98, discount: 9, shipping_fee: 4.99, tax: 11.58, total: 72.55, tax_rate: 19, voucher: { code: c, discount: 9 } };
		const applied = await api<Bill>("POST", "/cart/voucher", { token, body: { code: c.toLowerCase(), country: "DE" } });
		expect(applied.status).toBe(200);
		expect(applied.body).toMatchObject(expected);
		expect((await api<Bill>("GET", "/cart?country=de", { token })).body).toMatchObject(expected);
		// At home (the default 8.25 %): 50.97 → 4.2050 → 4.21, 5.01 → 0.4133 → 0.41, 4.99 → 0.4117 → 0.41.
		expect((await api<Bill>("GET", "/cart", { token })).body).toMatchObject({ tax: 5.03, total: 66 });

		const res = await api<{ order: Bill & { id: string; status: string; payment_id: string } }>("POST", "/checkout", { token, body: { shipping_address: GERMANY, payment_method: "card-456" } });
		expect(res.status).toBe(201);
		expect(res.body.order).toMatchObject({ status: "SHIPPED", ...expected });
		expect((await api<Bill>("GET", `/orders/${res.body.order.id}`, { token })).body).toMatchObject(expected);
		const paid = await shop.broker.call<{ rows: Array<{ amount_cents: number; user_id: string }>; net_charged_cents: number }, object>("payments.listByOrder", { order_id: res.body.order.id });
		expect(paid.rows.map(r => r.amount_cents)).toEqual([7255]);
		expect(paid.rows[0].user_id).toBe(userId);
		expect(await usesOf(c)).toBe(1);
		// The order took the lines and the voucher out of the cart.
		expect((await api<Bill & { items: unknown[] }>("GET", "/cart", { token })).body).toMatchObject({ items: [], total: 0 });
		expect((await api<Bill>("GET", "/cart", { token })).body.voucher).toBeUndefined();
	});

	it("waives shipping with a free-shipping voucher and removes a voucher on DELETE /cart/voucher", async () => {
		const gadget = await product(10, "gadgets");
		const c = await voucher({ code: code("Ship"), type: "free_shipping", value: 0 });
		const { token } = await registerCustomer(shop.url);
		expect((await add(token, gadget, 1)).status).toBe(200);
		// 10.00 + 4.99 shipping, 8.25 %: 0.825 → 0.83 and 0.4117 → 0.41.
		expect((await api<Bill>("GET", "/cart", { token })).body).toMatchObject({ shipping_fee: 4.99, tax: 1.24, total: 16.23 });
		expect((await api<Bill>("POST", "/cart/voucher", { token, body: { code: c } })).body).toMatchObject({ shipping_fee: 0, tax: 0.83, total: 10.83, voucher: { code: c, discount: 4.99 } });
		const removed = await api<Bill>("DELETE", "/cart/voucher", { token });
		expect(removed.body).toMatchObject({ shipping_fee: 4.99, total: 16.23 });
		expect(removed.body.voucher).toBeUndefined();
	});

	it("gives the voucher's use back when the payment is declined, and refuses at checkout a voucher used up meanwhile (409, nothing charged)", async () => {
		const gadget = await product(30, "gadgets");
		const c = await voucher({ code: code("One"), type: "fixed", value: 5, max_uses: 1 });
		const { token, id: userId } = await registerCustomer(shop.url);
		expect((await add(token, gadget, 1)).status).toBe(200);
		expect((await api("POST", "/cart/voucher", { token, body: { code: c } })).status).toBe(200);
		const declined = await api<{ order: { id: string; status: string; failure_reason: string } }>("POST", "/checkout", { token, body: { shipping_address: GERMANY, payment_method: "card-declined" } });
		expect(declined.status).toBe(402);
		expect(declined.body.order).toMatchObject({ status: "FAILED", failure_reason: "PAYMENT_ERROR" });
		expect(await usesOf(c)).toBe(0);

		// Someone else takes the last use; this customer's next checkout is refused before anything is stored or charged.
		await shop.broker.call("vouchers.redeem", { code: c, order_id: "ord_someone_else", user_id: "someone-else", discount_cents: 500 });
		const refused = await api<ErrorBody>("POST", "/checkout", { token, body: { shipping_address: GERMANY, payment_method: "card-456" } });
		expect(refused.body).toMatchObject({ code: 409, type: "VOUCHER_UNAVAILABLE", data: { code: c, reason: "VOUCHER_USED_UP" } });
		const orders = await shop.broker.call<{ rows: Array<{ id: string }> }, object>("orders.find", { user_id: userId });
		expect(orders.rows.map(o => o.id)).toEqual([declined.body.order.id]);
		expect(await usesOf(c)).toBe(1);
	});

	it("refunds what was charged (the discounted total) and gives the voucher's use back when stock runs out after the payment", async () => {
		const gadget = await product(50, "gadgets");
		const c = await voucher({ code: code("Short"), type: "fixed", value: 10, max_uses: 5 });
		const { token } = await registerCustomer(shop.url);
		expect((await add(token, gadget, 2)).status).toBe(200);
		expect((await api("POST", "/cart/voucher", { token, body: { code: c } })).status).toBe(200);
		// Someone counted the stock again meanwhile: one unit left.
		expect((await api("PUT", `/inventory/${gadget}`, { token: admin, body: { warehouse_id: "wh-1", on_hand: 1 } })).status).toBe(200);
		const res = await api<{ order: Bill & { id: string; status: string; failure_reason: string } }>("POST", "/checkout", { token, body: { shipping_address: GERMANY, payment_method: "card-456" } });
		expect(res.status).toBe(409);
		// 100.00 − 10.00 = 90.00 < 100: shipping 4.99; DE 19 %: 17.10 + 0.95 (0.9481); total 113.04.
		expect(res.body.order).toMatchObject({ status: "FAILED", failure_reason: "OUT_OF_STOCK", subtotal: 100, discount: 10, shipping_fee: 4.99, tax: 18.05, total: 113.04 });
		const paid = await shop.broker.call<{ rows: Array<{ status: string; amount_cents: number; refunded_cents: number }>; net_charged_cents: number }, object>("payments.listByOrder", { order_id: res.body.order.id });
		expect(paid.rows.map(r => [r.status, r.amount_cents, r.refunded_cents])).toEqual([["REFUNDED", 11304, 11304]]);
		expect(paid.net_charged_cents).toBe(0);
		expect(await usesOf(c)).toBe(0);
	});

	it("grants no discount while vouchers are switched off: 503 on POST /cart/voucher, the cart says why, checkout refuses", async () => {
		const gadget = await product(10, "gadgets");
		const c = await voucher({ code: code("Off"), type: "percent", value: 50 });
		const { token } = await registerCustomer(shop.url);
		expect((await add(token, gadget, 1)).status).toBe(200);
		expect((await api<Bill>("POST", "/cart/voucher", { token, body: { code: c } })).body.discount).toBe(5);
		const flag = (enabled: boolean) => api("PUT", "/admin/flags/vouchers", { token: admin, body: { enabled } });
		expect((await flag(false)).status).toBe(200);
		try {
			const until = Date.now() + 2000;
			let cart = (await api<Bill & { voucher_problem?: { type: string } }>("GET", "/cart", { token })).body;
			while (!cart.voucher_problem && Date.now() < until) cart = (await api<Bill & { voucher_problem?: { type: string } }>("GET", "/cart", { token })).body;
			expect(cart).toMatchObject({ discount: 0, voucher_problem: { code: c, type: "FEATURE_DISABLED" } });
			expect((await api<ErrorBody>("POST", "/cart/voucher", { token, body: { code: c } })).body).toMatchObject({ code: 503, type: "FEATURE_DISABLED" });
			const refused = await api<ErrorBody>("POST", "/checkout", { token, body: { shipping_address: GERMANY, payment_method: "card-456" } });
			expect(refused.body).toMatchObject({ code: 409, type: "VOUCHER_UNAVAILABLE", data: { reason: "FEATURE_DISABLED" } });
		} finally {
			expect((await flag(true)).status).toBe(200);
			// Every node's copy is on again before the next test (within a second).
			const until = Date.now() + 2000;
			while ((await api<{ voucher_problem?: unknown }>("GET", "/cart", { token })).body.voucher_problem && Date.now() < until) await new Promise(r => setTimeout(r, 20));
		}
	});

	it("counts a redeem repeated for the same order once, releases once, and lets no late redeem use a released order's voucher", async () => {
		const c = await voucher({ code: code("Retry"), type: "fixed", value: 2, max_uses: 3 });
		const redeem = (order_id: string) => shop.broker.call("vouchers.redeem", { code: c.toLowerCase(), order_id, user_id: "u-retry", discount_cents: 200 });
		// A redelivered step: the same order five times at once, then twice more.
		await Promise.all(Array.from({ length: 5 }, () => redeem("ord_retry_1")));
		await redeem("ord_retry_1");
		await redeem("ord_retry_1");
		expect(await usesOf(c)).toBe(1);
		const release = () => shop.broker.call<{ status: string }, object>("vouchers.release", { code: c, order_id: "ord_retry_1" });
		expect((await Promise.all([release(), release()])).map(r => r.status).sort()).toEqual(["RELEASED", "RELEASED"]);
		expect(await usesOf(c)).toBe(0);
		// The redeem that arrives after its compensation (a lost answer, retried late) uses nothing.
		await expect(redeem("ord_retry_1")).rejects.toMatchObject({ code: 409, type: "VOUCHER_UNAVAILABLE", data: { reason: "VOUCHER_RELEASED" } });
		// A release that came before its redeem (the redeem never arrived, or arrives later) blocks it too.
		expect((await shop.broker.call<{ status: string }, object>("vouchers.release", { code: c, order_id: "ord_retry_2" })).status).toBe("NONE");
		await expect(redeem("ord_retry_2")).rejects.toMatchObject({ code: 409, type: "VOUCHER_UNAVAILABLE" });
		expect(await usesOf(c)).toBe(0);
	});
});
