/**
 * The orders routes through the gateway: ownership, pagination, cancel rules, the admin saga view.
 */
import { http, loginAdmin, registerCustomer, startShop, type Shop } from "../helpers/shop";
import { fakeServices, newFakeState } from "./orders-fakes";
import type { OrderDoc, OrderResult, PublicOrder } from "../../services/orders/model";
import type { Repository } from "../../mixins/db.mixin";
import { recentOrdersOf } from "../../services/orders/recent";

describe("orders through the gateway", () => {
	let shop: Shop;
	let ann: { token: string; id: string };
	let ben: { token: string; id: string };
	let adminToken: string;
	const fake = newFakeState({ "laptop-123": 100 });

	const place = (userId: string, token = "card-456") =>
		shop.broker.call("orders.create", {
			user_id: userId,
			items: [{ product_id: "laptop-123", name: "Laptop", price_cents: 99_999, quantity: 1 }],
			currency: "USD",
			shipping_address: { street: "123 Main St", city: "Springfield" },
			payment: { token },
		}) as Promise<OrderResult>;

	beforeAll(async () => {
		shop = await startShop(["api", "users", "orders"]);
		for (const schema of fakeServices(fake)) shop.broker.createService(schema);
		await shop.broker.waitForServices(["payments", "inventory", "shipping"]);
		ann = await registerCustomer(shop.url);
		ben = await registerCustomer(shop.url);
		adminToken = await loginAdmin(shop.url, shop.config);
	});
	afterAll(() => shop.stop());

	it("shows a customer their own order in the API shape and hides it from others with 404", async () => {
		const { order } = await place(ann.id);
		const res = await http<PublicOrder>(shop.url, "GET", `/api/v1/orders/${order.id}`, { token: ann.token });
		expect(res.status).toBe(200);
		expect(Object.keys(res.body).sort()).toEqual(
			[
				...["created_at", "currency", "failure_reason", "history", "id", "items", "payment_id", "shipment_id", "shipping_address", "status", "updated_at", "user_id"],
				// the whole bill
				...["subtotal", "discount", "shipping_fee", "tax", "tax_rate", "total"],
				// the marketplace: one shipment per shop, and an admin's refund of a shipped order
				...["shipments", "refunded_at"],
			].sort(),
		);
		expect(res.body).toMatchObject({ status: "SHIPPED", total: 999.99, items: [{ product_id: "laptop-123", name: "Laptop", price: 999.99, quantity: 1 }] });
		expect((await http(shop.url, "GET", `/api/v1/orders/${order.id}`, { token: ben.token })).status).toBe(404);
		expect((await http(shop.url, "GET", `/api/v1/orders/${order.id}`)).status).toBe(401);
		expect((await http(shop.url, "GET", `/api/v1/orders/${order.id}`, { token: adminToken })).status).toBe(200);
		expect((await http(shop.url, "GET", "/api/v1/orders/ord_unknown", { token: ann.token })).status).toBe(404);
	});

	it("writes an order right when another writer overtook the version this node remembers", async () => {
		const { order } = await place(ann.id);
		type OrdersSvc = { orders(): Repository<OrderDoc>; updateOrder(id: string, actor: string, change: (d: OrderDoc) => OrderDoc): Promise<OrderDoc | null> };
		const svc = shop.broker.getLocalService("orders") as unknown as OrdersSvc;
		const stored = (await svc.orders().findById(order.id)) as OrderDoc;
		// This node remembers the orders whose saga it is running; this one's saga is over, so remember it by hand.
		const recent = recentOrdersOf(svc);
		recent.remember(stored);
		// Another node (say) moves the order on: the version remembered here is now one revision behind.
		expect(await svc.orders().updateWhere({ id: order.id, rev: stored.rev }, { $set: { rev: stored.rev + 1, updated_at: "2030-01-01T00:00:00.000Z" } })).toBe(1);
		const seen: number[] = [];
		const after = await svc.updateOrder(order.id, "admin:test", d => {
			seen.push(d.rev);
			return { ...d, refunded_at: "2030-01-02T00:00:00.000Z", updated_at: "2030-01-02T00:00:00.000Z" };
		});
		expect(seen).toEqual([stored.rev, stored.rev + 1]);
		expect(after?.updated_at).toBe("2030-01-02T00:00:00.000Z");
		expect(await svc.orders().findById(order.id)).toMatchObject({ rev: stored.rev + 2, updated_at: "2030-01-02T00:00:00.000Z" });
		// A remembered version that says "nothing to change" is checked against the store: here it is current.
		recent.remember((await svc.orders().findById(order.id)) as OrderDoc);
		await svc.orders().updateWhere({ id: order.id }, { $set: { rev: stored.rev + 3 } });
		const checked: number[] = [];
		await svc.updateOrder(order.id, "admin:test", d => (checked.push(d.rev), d));
		expect(checked).toEqual([stored.rev + 2, stored.rev + 3]);
	});

	it("lists the caller's orders by status, paginated", async () => {
		await place(ann.id);
		await place(ann.id, "card-declined");
		const page = await http<{ rows: PublicOrder[]; total: number; page: number; page_size: number; total_pages: number }>(
			shop.url,
			"GET",
			"/api/v1/orders?status=SHIPPED&page=1&page_size=1",
			{ token: ann.token },
		);
		expect(page.status).toBe(200);
		expect(page.body).toMatchObject({ page: 1, page_size: 1 });
		expect(page.body.rows).toHaveLength(1);
		expect(page.body.total).toBeGreaterThanOrEqual(2);
		expect(page.body.total_pages).toBe(page.body.total);
		expect(page.body.rows[0]).toMatchObject({ user_id: ann.id, status: "SHIPPED" });
		const bens = await http<{ total: number }>(shop.url, "GET", "/api/v1/orders", { token: ben.token });
		expect(bens.body.total).toBe(0);
	});

	it("answers 422 naming the field for a bad status or page", async () => {
		const bad = await http<{ message: string }>(shop.url, "GET", "/api/v1/orders?status=LOST", { token: ann.token });
		expect(bad.status).toBe(422);
		expect(bad.body.message).toContain("status");
		const page = await http<{ message: string }>(shop.url, "GET", "/api/v1/orders?page=0", { token: ann.token });
		expect(page.status).toBe(422);
		expect(page.body.message).toContain("page");
	});

	it("refuses to cancel a shipped order with 409 and another user's order with 404", async () => {
		const { order } = await place(ann.id);
		const res = await http(shop.url, "POST", `/api/v1/orders/${order.id}/cancel`, { token: ann.token });
		expect(res.status).toBe(409);
		expect(res.body.type).toBe("ORDER_NOT_CANCELLABLE");
		expect((await http(shop.url, "POST", `/api/v1/orders/${order.id}/cancel`, { token: ben.token })).status).toBe(404);
	});

	it("shows the saga log to admins only, without the payment token", async () => {
		const { order, saga } = await place(ann.id);
		expect((await http(shop.url, "GET", `/api/v1/admin/sagas/${saga.id}`, { token: ann.token })).status).toBe(403);
		const log = await http<{ id: string; order_id: string; status: string; steps: Array<{ name: string; idempotency_key: string }>; lease_owner: string | null }>(
			shop.url,
			"GET",
			`/api/v1/admin/sagas/${saga.id}`,
			{ token: adminToken },
		);
		expect(log.status).toBe(200);
		expect(log.body).toMatchObject({ id: saga.id, order_id: order.id, status: "COMPLETED", lease_owner: null });
		expect(log.body.steps.map(s => s.idempotency_key)).toEqual([`${saga.id}:payment`, `${saga.id}:inventory`, `${saga.id}:shipping`]);
		expect(JSON.stringify(log.body)).not.toContain("card-456");
		expect((await http(shop.url, "GET", "/api/v1/admin/sagas/saga_nope", { token: adminToken })).status).toBe(404);
	});
});
