/**
 * The demo data of a fresh start (SEED_DEMO_DATA): four vouchers and the shipping and tax of a few countries, and
 * the bill of a demo cart with a demo voucher and a German address against a hand computation, through the
 * gateway; the business metrics of vouchers redeemed and released (counted from voucher.* events) on /metrics.
 * Seeding again stores nothing and brings back no voucher an admin deleted.
 */
import { http, loginAdmin, registerCustomer, startShop, type Shop } from "../helpers/shop";

const SERVICES = ["api", "users", "products", "inventory", "shops", "cart", "checkout", "orders", "payments", "shipping", "vouchers", "settings"] as const;
const GERMANY = { street: "Unter den Linden 1", city: "Berlin", postal_code: "10117", country: "DE" };

describe("the demo vouchers and tax rates of a fresh start", () => {
	let shop: Shop;
	let admin: string;

	beforeAll(async () => {
		shop = await startShop([...SERVICES], { NAMESPACE: `t-vdemo-${Date.now()}-${Math.random()}`, SEED_DEMO_DATA: "true" });
		admin = await loginAdmin(shop.url, shop.config);
	});
	afterAll(() => shop.stop());

	const api = <T = Record<string, unknown>>(method: string, path: string, opts: { body?: unknown; token?: string } = {}) => http<T>(shop.url, method, `/api/v1${path}`, opts);

	it("holds one percent, one fixed, one free-shipping and one expired voucher, and the demo's shipping and tax", async () => {
		const list = await api<{ rows: Array<{ code: string; type: string; ends_at: string | null }> }>("GET", "/admin/vouchers?page_size=100", { token: admin });
		expect(list.body.rows.map(r => [r.code, r.type]).sort()).toEqual([
			["FREESHIP", "free_shipping"],
			["SAVE20", "fixed"],
			["SUMMER25", "percent"],
			["WELCOME10", "percent"],
		]);
		const settings = await api<{ shipping: unknown; tax: unknown }>("GET", "/settings");
		expect(settings.body).toMatchObject({ shipping: { flat_fee: 4.99, free_over: 100 }, tax: { default_rate: 0, rates: { DE: 19, FR: 20, GB: 20, NL: 21, CA: 5 } } });
	});

	it("bills a demo cart with WELCOME10 shipped to Germany as computed by hand, and charges that total", async () => {
		const { token } = await registerCustomer(shop.url);
		expect((await api("POST", "/cart/add", { token, body: { product_id: "anker-usb-c-hub-7in1", quantity: 2 } })).status).toBe(200);
		// 2 × 39.99 = 79.98; 10 % off: 7.998 → 8.00; goods 71.98 < 100: shipping 4.99.
		// DE 19 %: 71.98 → 13.6762 → 13.68, 4.99 → 0.9481 → 0.95: tax 14.63. Total 71.98 + 4.99 + 14.63 = 91.60.
		const expected = { subtotal: 79.98, discount: 8, shipping_fee: 4.99, tax: 14.63, total: 91.6, tax_rate: 19, voucher: { code: "WELCOME10", discount: 8 } };
		expect((await api("POST", "/cart/voucher", { token, body: { code: "welcome10", country: "DE" } })).body).toMatchObject(expected);
		// At home (US, no rate: the default 0 %).
		expect((await api("GET", "/cart", { token })).body).toMatchObject({ tax: 0, total: 76.97 });
		const res = await api<{ order: { id: string } }>("POST", "/checkout", { token, body: { shipping_address: GERMANY, payment_method: "card-456" } });
		expect(res.status).toBe(201);
		expect(res.body.order).toMatchObject({ status: "SHIPPED", ...expected });
		const paid = await shop.broker.call<{ net_charged_cents: number }, object>("payments.listByOrder", { order_id: res.body.order.id });
		expect(paid.net_charged_cents).toBe(9160);
		// Once per customer: a second cart of the same customer is refused the voucher.
		expect((await api("POST", "/cart/add", { token, body: { product_id: "anker-usb-c-hub-7in1", quantity: 1 } })).status).toBe(200);
		expect((await api("POST", "/cart/voucher", { token, body: { code: "WELCOME10" } })).body).toMatchObject({ code: 422, type: "VOUCHER_USED_UP" });
		expect((await api("POST", "/cart/voucher", { token, body: { code: "summer25" } })).body).toMatchObject({ code: 422, type: "VOUCHER_EXPIRED" });
	});

	it("counts vouchers redeemed and released, with their discounts in cents, on /metrics", async () => {
		const metric = async (name: string, type: string): Promise<number> => {
			const text = (await http<string>(shop.url, "GET", "/metrics")).body;
			const m = new RegExp(`^${name}\\{[^}]*type="${type}"[^}]*\\} (\\S+)$`, "m").exec(text);
			return m ? Number(m[1]) : NaN;
		};
		const before = {
			redeemed: await metric("shopflow_vouchers_redeemed_total", "fixed"),
			released: await metric("shopflow_vouchers_released_total", "fixed"),
			granted: await metric("shopflow_vouchers_discount_granted_cents_total", "fixed"),
			given: await metric("shopflow_vouchers_discount_released_cents_total", "fixed"),
		};
		expect(Object.values(before).every(Number.isFinite)).toBe(true);
		// WELCOME10 of the test before: 8.00 granted.
		expect(await metric("shopflow_vouchers_discount_granted_cents_total", "percent")).toBeGreaterThanOrEqual(800);
		const { token } = await registerCustomer(shop.url);
		expect((await api("POST", "/cart/add", { token, body: { product_id: "laptop-123", quantity: 1 } })).status).toBe(200);
		expect((await api("POST", "/cart/voucher", { token, body: { code: "SAVE20" } })).status).toBe(200);
		// A declined card: the saga redeemed SAVE20 before the payment and gives the use back.
		const declined = await api("POST", "/checkout", { token, body: { shipping_address: GERMANY, payment_method: "card-declined" } });
		expect(declined.status).toBe(402);
		const deadline = Date.now() + 5000;
		while (Date.now() < deadline && (await metric("shopflow_vouchers_released_total", "fixed")) === before.released) await new Promise(r => setTimeout(r, 50));
		expect(await metric("shopflow_vouchers_redeemed_total", "fixed")).toBe(before.redeemed + 1);
		expect(await metric("shopflow_vouchers_released_total", "fixed")).toBe(before.released + 1);
		expect(await metric("shopflow_vouchers_discount_granted_cents_total", "fixed")).toBe(before.granted + 2000);
		expect(await metric("shopflow_vouchers_discount_released_cents_total", "fixed")).toBe(before.given + 2000);
		expect((await api<{ uses: number }>("GET", "/admin/vouchers/SAVE20", { token: admin })).body.uses).toBe(0);
	});

	it("stores nothing when seeding again, and brings back no voucher an admin deleted nor resets one an admin changed", async () => {
		expect((await api("DELETE", "/admin/vouchers/FREESHIP", { token: admin })).status).toBe(200);
		expect((await api("PUT", "/admin/vouchers/SAVE20", { token: admin, body: { max_uses: 7 } })).status).toBe(200);
		const vouchers = shop.broker.getLocalService("vouchers") as unknown as { seedDemoVouchers(): Promise<number> };
		expect(await Promise.all([vouchers.seedDemoVouchers(), vouchers.seedDemoVouchers()])).toEqual([0, 0]);
		expect((await api("GET", "/admin/vouchers/FREESHIP", { token: admin })).status).toBe(404);
		expect((await api<{ max_uses: number }>("GET", "/admin/vouchers/SAVE20", { token: admin })).body.max_uses).toBe(7);
	});
});
