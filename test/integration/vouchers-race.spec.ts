/**
 * 200 customers race for a voucher with 10 uses, on a real broker with every service of a checkout: each has the
 * voucher applied to their cart (it applied to each while nobody had used it), then all 200 check out at once.
 * Exactly 10 orders get the discount and go through; the others fail with 409 VOUCHER_UNAVAILABLE before anything
 * is charged, and the voucher shows 10 uses. Redemption is one conditional update: a read-check-write would let
 * the interleaved checkouts through beyond 10.
 */
import type { ServiceBroker } from "moleculer";
import type { DbMethods } from "../../mixins/db.mixin";
import { startShop, type Shop } from "../helpers/shop";
import { SETTINGS_CHANGED_EVENT } from "../../services/settings/client";
import { snapshot } from "../helpers/settings";

const SERVICES = ["users", "products", "inventory", "cart", "checkout", "orders", "payments", "shipping", "vouchers"] as const;
const CUSTOMERS = 200;
const USES = 10;

interface Answer {
	order: { id: string; status: string; failure_reason: string | null; discount: number; total: number; subtotal: number };
}

const customer = (id: string) => ({ meta: { user: { id, email: `${id}@example.com`, name: id, role: "customer" } } });
const ADMIN = { meta: { user: { id: "admin", email: "admin@example.com", name: "Admin", role: "admin" } } };

describe("200 customers racing for a 10-use voucher", () => {
	let shop: Shop;
	let broker: ServiceBroker;

	beforeAll(async () => {
		shop = await startShop([...SERVICES], { NAMESPACE: `t-vrace-${Date.now()}-${Math.random()}` });
		broker = shop.broker;
		await broker.broadcast(SETTINGS_CHANGED_EVENT, snapshot(1));
	});
	afterAll(() => shop.stop());

	it("gives the discount to exactly 10 orders, refuses the rest with 409 before charging them, and shows 10 uses", async () => {
		const productId = `race-item-${Date.now()}`;
		await broker.call("products.create", { id: productId, name: "Race item", brand: "Acme", category: "gadgets", price: 40 }, ADMIN);
		await broker.call("inventory.setLevel", { product_id: productId, warehouse_id: "wh-1", on_hand: CUSTOMERS * 2 }, ADMIN);
		await broker.call("vouchers.create", { code: "Race10", type: "percent", value: 25, max_uses: USES }, ADMIN);

		// The customers exist in the users service (inserted: 200 slow password hashes would take most of a minute).
		const ids = Array.from({ length: CUSTOMERS }, (_, i) => `racer-${i}-${Date.now()}`);
		const users = (broker.getLocalService("users") as unknown as DbMethods).collection("users");
		const now = new Date().toISOString();
		await users.insertMany(
			ids.map(id => ({ id, email: `${id}@example.com`, name: id, password_hash: "x", role: "customer", notification_channel: "email", addresses: [], payment_methods: [], created_at: now, updated_at: now })),
		);
		await Promise.all(
			ids.map(async id => {
				await broker.call("cart.add", { product_id: productId, quantity: 1 }, customer(id));
				await broker.call("cart.applyVoucher", { code: "race10" }, customer(id));
			}),
		);

		const started = Date.now();
		const answers = await Promise.all(
			ids.map(id =>
				broker
					.call<Answer, object>("checkout.start", { shipping_address: { street: "1 Main St", city: "Springfield", country: "US" }, payment_method: "card-456" }, customer(id))
					.catch((err: { code?: number; type?: string }) => ({ error: err })),
			),
		);
		const took = Date.now() - started;

		const placed = answers.filter((a): a is Answer => "order" in a && a.order.status !== "FAILED");
		const failed = answers.filter((a): a is Answer => "order" in a && a.order.status === "FAILED");
		const refused = answers.filter(a => "error" in a) as Array<{ error: { code?: number; type?: string } }>;
		// 40.00 − 25 % = 30.00, shipping 4.99 (under 100), 8.25 %: 2.475 → 2.48 and 0.41: 37.88.
		expect(placed).toHaveLength(USES);
		for (const a of placed) expect(a.order).toMatchObject({ status: "SHIPPED", subtotal: 40, discount: 10, total: 37.88 });
		// The rest: their order failed at the voucher step (409), or checkout saw the voucher used up before placing one.
		expect(failed.length + refused.length).toBe(CUSTOMERS - USES);
		for (const a of failed) expect(a.order.failure_reason).toBe("VOUCHER_UNAVAILABLE");
		for (const r of refused) expect([r.error.code, r.error.type]).toEqual([409, "VOUCHER_UNAVAILABLE"]);

		const voucher = await broker.call<{ uses: number }, object>("vouchers.get", { code: "RACE10" }, ADMIN);
		expect(voucher.uses).toBe(USES);
		const { rows } = await broker.call<{ rows: Array<{ order_ids: string[] }> }, object>("vouchers.redemptions", { code: "race10" });
		expect(rows[0].order_ids.sort()).toEqual(placed.map(a => a.order.id).sort());
		// Nothing was charged for an order that failed at the voucher step.
		for (const a of failed) {
			const paid = await broker.call<{ rows: unknown[] }, object>("payments.listByOrder", { order_id: a.order.id });
			expect(paid.rows).toEqual([]);
		}
		console.log(`${CUSTOMERS} checkouts racing for ${USES} uses: ${placed.length} placed, ${failed.length} failed at the voucher step, ${refused.length} refused before placing, in ${took} ms`);
	}, 60_000);

	it("redeems a 10-use voucher exactly 10 times when 200 orders redeem it at the same moment, and each of them once", async () => {
		await broker.call("vouchers.create", { code: "Burst10", type: "fixed", value: 1, max_uses: USES }, ADMIN);
		const redeem = (i: number) =>
			broker.call("vouchers.redeem", { code: "burst10", order_id: `ord_burst_${i}`, user_id: `burst-${i}`, discount_cents: 100 }).then(
				() => "ok",
				(err: { type?: string }) => err.type,
			);
		// Every order twice (a redelivered step racing its first delivery).
		const outcomes = await Promise.all([...Array.from({ length: CUSTOMERS }, (_, i) => redeem(i)), ...Array.from({ length: CUSTOMERS }, (_, i) => redeem(i))]);
		const { rows } = await broker.call<{ rows: Array<{ uses: number; order_ids: string[] }> }, object>("vouchers.redemptions", { code: "BURST10" });
		expect(rows[0].uses).toBe(USES);
		expect(rows[0].order_ids).toHaveLength(USES);
		expect(outcomes.filter(o => o === "ok")).toHaveLength(2 * USES);
		expect(outcomes.filter(o => o !== "ok").every(o => o === "VOUCHER_UNAVAILABLE")).toBe(true);
	});
});
