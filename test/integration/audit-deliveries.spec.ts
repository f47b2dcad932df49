/**
 * The audit trail beyond admin writes, through the gateway: with AUDIT_REQUIRED a write whose audit cannot be
 * stored is refused and not made; deliveries (admin and seller) and refunds leave entries with what they changed.
 */
import { eventually } from "../helpers/eventually";
import { http, loginAdmin, registerCustomer, startShop, type Shop } from "../helpers/shop";
import type { Entry, PageBody, VerifyBody } from "../helpers/audit";

describe("audit trail with AUDIT_REQUIRED", () => {
	let shop: Shop;

	beforeAll(async () => {
		// No audit service on this node and none elsewhere: audited writes cannot be recorded.
		shop = await startShop(["api", "users", "settings"], { NAMESPACE: `t-audit-req-${Date.now()}`, AUDIT_REQUIRED: "true" });
	});

	afterAll(async () => {
		await shop?.stop();
	});

	it("refuses an audited write with 503 when its audit entry cannot be stored, and does not make it", async () => {
		const admin = await loginAdmin(shop.url, shop.config);
		const res = await http<{ type: string; data: { dependency: string } }>(shop.url, "PUT", "/api/v1/admin/flags/reviews", { token: admin, body: { enabled: false } });
		expect(res.status).toBe(503);
		expect(res.body).toMatchObject({ type: "SERVICE_UNAVAILABLE", data: { dependency: "audit" } });
		const flags = await http<Record<string, boolean>>(shop.url, "GET", "/api/v1/admin/flags", { token: admin });
		expect(flags.body.reviews).toBe(true);
	});
});

describe("audit trail of deliveries and refunds", () => {
	let shop: Shop;
	let admin: string;
	const ADDRESS = { street: "1 Audit St", city: "Springfield", postal_code: "12345", country: "US" };
	const api = <T = Record<string, unknown>>(method: string, path: string, opts: { body?: unknown; token?: string } = {}) =>
		http<T>(shop.url, method, `/api/v1${path}`, opts);

	beforeAll(async () => {
		shop = await startShop(["api", "users", "products", "inventory", "cart", "checkout", "orders", "payments", "shipping", "audit"], {
			NAMESPACE: `t-audit-orders-${Date.now()}`,
		});
		admin = await loginAdmin(shop.url, shop.config);
	});

	afterAll(async () => {
		await shop?.stop();
	});

	/** A customer with one unit of a new product in the cart. */
	async function customerWithCart(): Promise<{ token: string; id: string }> {
		const id = `audit-item-${Math.random().toString(36).slice(2, 8)}`;
		expect((await api("POST", "/products", { token: admin, body: { id, name: "Audit item", brand: "Acme", category: "gadgets", price: 10 } })).status).toBe(201);
		expect((await api("PUT", `/inventory/${id}`, { token: admin, body: { warehouse_id: "wh-1", on_hand: 10 } })).status).toBe(200);
		const customer = await registerCustomer(shop.url);
		expect((await api("POST", "/cart/add", { token: customer.token, body: { product_id: id, quantity: 1 } })).status).toBe(200);
		return customer;
	}

	it("records an admin's delivery with the shipment's status before and after", async () => {
		const { token } = await customerWithCart();
		const placed = await api<{ order: { id: string; status: string; shipment_id: string } }>("POST", "/checkout", {
			token,
			body: { shipping_address: ADDRESS, payment_method: "card-456" },
		});
		expect(placed.status).toBe(201);
		const shipmentId = placed.body.order.shipment_id;
		expect((await api("POST", `/shipments/${shipmentId}/deliver`, { token: admin })).status).toBe(200);
		const rows = (await api<PageBody<Entry>>("GET", `/admin/audit?entity=shipment&entity_id=${shipmentId}`, { token: admin })).body.rows;
		expect(rows).toHaveLength(1);
		expect(rows[0]).toMatchObject({ action: "shipping.deliver", actor: { role: "admin" }, before: { status: "SHIPPED" }, after: { status: "DELIVERED" } });
	}, 30_000);

	/** A placed order of a new customer (one unit of a new product), with its shipment and parcels. */
	async function placedOrder(): Promise<{ id: string; shipment_id: string; shipments: Array<{ id: string }> }> {
		const { token } = await customerWithCart();
		const placed = await api<{ order: { id: string; shipment_id: string; shipments: Array<{ id: string }> } }>("POST", "/checkout", {
			token,
			body: { shipping_address: ADDRESS, payment_method: "card-456" },
		});
		expect(placed.status).toBe(201);
		return placed.body.order;
	}
	const auditOf = async (entity: string, id: string): Promise<Entry[]> =>
		(await api<PageBody<Entry>>("GET", `/admin/audit?entity=${entity}&entity_id=${encodeURIComponent(id)}`, { token: admin })).body.rows;

	it("records a delivery raced by ten clicks and repeated once, by its parcel's id, with the shipment before and after", async () => {
		const order = await placedOrder();
		const parcel = order.shipments[0].id;
		const raced = await Promise.all(Array.from({ length: 10 }, () => api("POST", `/shipments/${parcel}/deliver`, { token: admin })));
		expect(raced.map(r => r.status)).toEqual(Array(10).fill(200));
		expect((await api("POST", `/shipments/${parcel}/deliver`, { token: admin })).status).toBe(200);
		const rows = await auditOf("shipment", parcel);
		expect(rows).toHaveLength(1);
		expect(rows[0]).toMatchObject({ action: "shipping.deliver", before: { status: "SHIPPED" }, after: { status: "DELIVERED" } });
	}, 30_000);

	it("records ten simultaneous refunds of one order as one refund of the order and one of its payment", async () => {
		const order = await placedOrder();
		const refunds = await Promise.all(Array.from({ length: 10 }, () => api("POST", `/admin/orders/${order.id}/refund`, { token: admin })));
		expect(refunds.map(r => r.status)).toEqual(Array(10).fill(200));
		const orderRows = await auditOf("order", order.id);
		expect(orderRows.map(r => r.action)).toEqual(["orders.refund"]);
		expect(orderRows[0].before).toMatchObject({ refunded_at: null });
		const payments = await shop.broker.call<{ rows: Array<{ id: string; status: string }> }, object>("payments.listByOrder", { order_id: order.id });
		expect(payments.rows.map(p => p.status)).toEqual(["REFUNDED"]);
		const paymentRows = await auditOf("payment", payments.rows[0].id);
		expect(paymentRows).toHaveLength(1);
		expect(paymentRows[0]).toMatchObject({ action: "payments.refund", before: { status: "CAPTURED" }, after: { status: "REFUNDED" } });
	}, 30_000);

	it("records the refund of a checkout whose shipping step failed, once, by the system (the saga)", async () => {
		const customer = await customerWithCart();
		const res = await api<{ order: { id: string; status: string } }>("POST", "/checkout?behavior=shipping:error=503", {
			token: customer.token,
			body: { shipping_address: ADDRESS, payment_method: "card-456" },
		});
		expect(res.status).toBeGreaterThanOrEqual(400);
		let payments: { rows: Array<{ id: string; status: string }> } = { rows: [] };
		await eventually(async () => {
			payments = await shop.broker.call("payments.listByOrder", { order_id: res.body.order?.id ?? "" });
			expect(payments.rows.map(p => p.status)).toEqual(["REFUNDED"]);
		}, 20_000);
		const rows = (await api<PageBody<Entry>>("GET", `/admin/audit?entity=payment&entity_id=${payments.rows[0].id}`, { token: admin })).body.rows;
		expect(rows).toHaveLength(1);
		expect(rows[0]).toMatchObject({ action: "payments.refund", actor: { id: "system", role: "system" }, before: { status: "CAPTURED" }, after: { status: "REFUNDED" } });
		expect((await api<VerifyBody>("GET", "/admin/audit/verify", { token: admin })).body.ok).toBe(true);
	}, 60_000);
});
