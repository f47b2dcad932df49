/**
 * Each order's event stream through the gateway, every service in one broker (issue 16, docs/history.md):
 * GET /orders/:id/history lists every change of an order with seq 1..n (owner and admins; another user's order is
 * 404), and POST /admin/orders/rebuild folds the stream back into the order and finds no difference, for a happy
 * order, a declined one, a compensated one, a cancelled one, a two-shop order delivered by both sellers and
 * refunded; an order edited behind the service's back is reported field by field.
 */
import { http, loginAdmin, registerCustomer, startShop, type Shop } from "../helpers/shop";
import { eventually } from "../helpers/eventually";
import type { OrderDoc } from "../../services/orders/model";
import type { Repository } from "../../mixins/db.mixin";

interface StreamEvent {
	seq: number;
	type: string;
	at: string;
	actor: string;
	data: Record<string, unknown>;
}
interface OrderBody {
	id: string;
	status: string;
	failure_reason: string | null;
	shipments: Array<{ id: string; shop_id: string; status: string }>;
	history: Array<{ status: string }>;
}
interface Report {
	checked: number;
	differences: Array<{ order_id: string; field: string; stored: unknown; rebuilt: unknown }>;
	without_stream: number;
}

const SERVICES = ["api", "users", "products", "search", "inventory", "shops", "cart", "checkout", "orders", "payments", "shipping", "settings", "ledger"] as const;
const ADDRESS = { street: "1 Stream St", city: "Springfield", postal_code: "12345", country: "US" };
const STATUS_TYPES = ["paid", "stock_reserved", "shipped", "delivered", "compensating", "failed", "cancelled"];

describe("order event streams through the gateway", () => {
	let shop: Shop;
	let admin: string;
	let alice: { token: string; id: string };
	let bob: { token: string; id: string };
	let buyer: { token: string; id: string };
	let other: { token: string; id: string };
	let aliceShop: string;
	let bobShop: string;
	let aliceProduct: string;
	let bobProduct: string;
	const tag = Math.random().toString(36).slice(2, 8);

	const api = <T = Record<string, unknown>>(method: string, path: string, opts: { body?: unknown; token?: string; headers?: Record<string, string> } = {}) =>
		http<T>(shop.url, method, `/api/v1${path}`, opts);

	async function openShop(token: string, name: string): Promise<string> {
		const res = await api<{ id: string }>("POST", "/shops", { token, body: { name } });
		expect(res.status).toBe(201);
		expect((await api("POST", `/admin/shops/${res.body.id}/approve`, { token: admin })).status).toBe(200);
		return res.body.id;
	}

	async function product(token: string, shopId: string, name: string, price: number): Promise<string> {
		const res = await api<{ id: string }>("POST", `/shops/${shopId}/products`, { token, body: { name, brand: `Brand${tag}`, category: "gadgets", price } });
		expect(res.status).toBe(201);
		expect((await api("PUT", `/inventory/${res.body.id}`, { token, body: { warehouse_id: "wh-1", on_hand: 50 } })).status).toBe(200);
		return res.body.id;
	}

	/** Checks out the given lines as the buyer; answers the order (whatever the checkout's status). */
	async function checkout(lines: Array<[string, number]>, payment = "card-456", query = "", headers: Record<string, string> = {}): Promise<{ status: number; order: OrderBody }> {
		for (const [id, quantity] of lines) expect((await api("POST", "/cart/add", { token: buyer.token, body: { product_id: id, quantity } })).status).toBe(200);
		const res = await api<{ order: OrderBody }>("POST", `/checkout${query}`, { token: buyer.token, body: { shipping_address: ADDRESS, payment_method: payment }, headers });
		expect(res.body.order?.id).toEqual(expect.any(String));
		if (res.status >= 400) await api("DELETE", "/cart", { token: buyer.token });
		return { status: res.status, order: res.body.order };
	}

	const order = async (id: string): Promise<OrderBody> => (await api<OrderBody>("GET", `/orders/${id}`, { token: buyer.token })).body;

	async function history(id: string, token = buyer.token): Promise<StreamEvent[]> {
		const res = await api<StreamEvent[]>("GET", `/orders/${id}/history`, { token });
		expect(res.status).toBe(200);
		return res.body;
	}

	async function rebuild(id?: string): Promise<Report> {
		const res = await api<Report>("POST", "/admin/orders/rebuild", { token: admin, body: id ? { id } : {} });
		expect(res.status).toBe(200);
		return res.body;
	}

	/** The order's stream: numbered 1..n, opened by `created` (by the buyer), each status once and in the order's own order; rebuilt with no difference. */
	async function checkedStream(id: string): Promise<StreamEvent[]> {
		const events = await history(id);
		expect(events.map(e => e.seq)).toEqual(events.map((_, k) => k + 1));
		expect(events[0]).toMatchObject({ type: "created", actor: `user:${buyer.id}`, data: { status: "PENDING" } });
		const o = await order(id);
		// The statuses of the stream are the order's history after PENDING, one event each.
		expect(events.filter(e => STATUS_TYPES.includes(e.type)).map(e => String(e.data.status))).toEqual(o.history.slice(1).map(h => h.status));
		for (const e of events) expect(Object.keys(e).sort()).toEqual(["actor", "at", "data", "seq", "type"]);
		expect(await rebuild(id)).toEqual({ checked: 1, differences: [], without_stream: 0, without_stream_ids: [] });
		return events;
	}

	/** `fn`'s answer once it stops throwing, within eventually's time. */
	async function until<T>(fn: () => Promise<T>): Promise<T> {
		let out: T | undefined;
		await eventually(async () => {
			out = await fn();
		});
		return out as T;
	}

	const types = (events: StreamEvent[]) => events.map(e => e.type);
	const statusTypes = (events: StreamEvent[]) => types(events).filter(t => STATUS_TYPES.includes(t));

	beforeAll(async () => {
		shop = await startShop([...SERVICES], { NAMESPACE: `t-order-history-${Date.now()}-${Math.random()}` });
		admin = await loginAdmin(shop.url, shop.config);
		[alice, bob, buyer, other] = await Promise.all([registerCustomer(shop.url), registerCustomer(shop.url), registerCustomer(shop.url), registerCustomer(shop.url)]);
		aliceShop = await openShop(alice.token, `Alice stream ${tag}`);
		bobShop = await openShop(bob.token, `Bob stream ${tag}`);
		aliceProduct = await product(alice.token, aliceShop, `Lamp ${tag}`, 19.99);
		bobProduct = await product(bob.token, bobShop, `Mug ${tag}`, 7.5);
	});
	afterAll(() => shop.stop());

	it("a two-shop order delivered by both sellers and refunded: every change in order, by whom, and it rebuilds exactly", async () => {
		const { status, order: placed } = await checkout([
			[aliceProduct, 2],
			[bobProduct, 1],
		]);
		expect(status).toBe(201);
		const shipped = await until(async () => {
			const o = await order(placed.id);
			expect(o.shipments).toHaveLength(2);
			return o;
		});
		const parcel = (shopId: string) => shipped.shipments.find(s => s.shop_id === shopId)!.id;
		expect((await api("POST", `/shops/${aliceShop}/shipments/${parcel(aliceShop)}/deliver`, { token: alice.token })).status).toBe(200);
		await eventually(async () => expect((await order(placed.id)).shipments.find(s => s.shop_id === aliceShop)?.status).toBe("DELIVERED"));
		expect((await api("POST", `/shops/${bobShop}/shipments/${parcel(bobShop)}/deliver`, { token: bob.token })).status).toBe(200);
		await eventually(async () => expect((await order(placed.id)).status).toBe("DELIVERED"));
		expect((await api("POST", `/admin/orders/${placed.id}/refund`, { token: admin })).status).toBe(200);
		// A second refund changes nothing, so it adds no event.
		expect((await api("POST", `/admin/orders/${placed.id}/refund`, { token: admin })).status).toBe(200);

		const events = await checkedStream(placed.id);
		expect(statusTypes(events)).toEqual(["paid", "stock_reserved", "shipped", "delivered"]);
		expect(events.at(-1)).toMatchObject({ type: "refunded", actor: expect.stringMatching(/^admin:/) });
		expect(types(events).filter(t => t === "refunded")).toHaveLength(1);
		// Shipped per shipment, then each seller's delivery on its own, before the order's delivered.
		const delivered = events.filter(e => e.type === "shipment_delivered");
		expect(delivered.map(e => e.data.shop_id)).toEqual([aliceShop, bobShop]);
		expect(delivered.map(e => e.actor)).toEqual(["system:shipping", "system:shipping"]);
		expect(delivered.every(e => e.seq < events.find(x => x.type === "delivered")!.seq)).toBe(true);
		expect(new Set(events.filter(e => e.type.startsWith("shipment_") && e.type !== "shipment_delivered").map(e => e.data.shop_id))).toEqual(new Set([aliceShop, bobShop]));
		expect(events.find(e => e.type === "paid")?.data.payment_id).toEqual(expect.any(String));
		// The admin sees it too; another customer gets 404, a caller without a token 401.
		expect(await history(placed.id, admin)).toEqual(events);
		expect((await api("GET", `/orders/${placed.id}/history`, { token: other.token })).status).toBe(404);
		expect((await api("GET", `/orders/${placed.id}/history`)).status).toBe(401);
		expect((await api("GET", "/orders/ord_nope/history", { token: buyer.token })).status).toBe(404);
	});

	it("a declined card: created, then failed with PAYMENT_ERROR, nothing paid", async () => {
		const { status, order: placed } = await checkout([[aliceProduct, 1]], "card-declined");
		expect(status).toBe(402);
		const events = await checkedStream(placed.id);
		expect(statusTypes(events)).toEqual(["failed"]);
		expect(events.at(-1)).toMatchObject({ type: "failed", actor: "system:orders", data: { status: "FAILED", failure_reason: "PAYMENT_ERROR" } });
	});

	it("a compensated order (out of stock): paid, compensating, failed with OUT_OF_STOCK", async () => {
		const stock = (on_hand: number) => api("PUT", `/inventory/${bobProduct}`, { token: bob.token, body: { warehouse_id: "wh-1", on_hand } });
		expect((await api("POST", "/cart/add", { token: buyer.token, body: { product_id: bobProduct, quantity: 3 } })).status).toBe(200);
		expect((await stock(1)).status).toBe(200);
		const { status, order: placed } = await checkout([]);
		expect((await stock(50)).status).toBe(200);
		expect(status).toBe(409);
		const events = await checkedStream(placed.id);
		expect(statusTypes(events)).toEqual(["paid", "compensating", "failed"]);
		expect(events.at(-1)?.data).toMatchObject({ failure_reason: "OUT_OF_STOCK" });
	});

	it("a cancelled order: the customer's cancel request, then the saga's compensation", async () => {
		const { status, order: placed } = await checkout([[aliceProduct, 1]], "card-456", "?behavior=inventory:latency=1500ms", { Prefer: "respond-async" });
		expect(status).toBe(202);
		await new Promise(r => setTimeout(r, 300));
		const res = await api<OrderBody>("POST", `/orders/${placed.id}/cancel`, { token: buyer.token });
		expect([200, 202]).toContain(res.status);
		await eventually(async () => expect((await order(placed.id)).status).toBe("CANCELLED"));
		const events = await checkedStream(placed.id);
		expect(events.find(e => e.type === "cancel_requested")).toMatchObject({ actor: `user:${buyer.id}`, data: {} });
		expect(statusTypes(events).slice(-2)).toEqual(["compensating", "cancelled"]);
		expect(events.at(-1)?.actor).toBe("system:orders");
	});

	it("rebuilds every order with no difference, and reports a field edited behind the service's back", async () => {
		const all = await rebuild();
		expect(all.checked).toBeGreaterThanOrEqual(4);
		expect(all.differences).toEqual([]);
		expect((await api("POST", "/admin/orders/rebuild", { token: buyer.token, body: {} })).status).toBe(403);
		expect((await api("POST", "/admin/orders/rebuild", { token: admin, body: { id: "ord_nope" } })).status).toBe(404);

		const { order: placed } = await checkout([[aliceProduct, 1]]);
		const repo = (shop.broker.getLocalService("orders") as unknown as { orders(): Repository<OrderDoc> }).orders();
		expect(await repo.updateWhere({ id: placed.id }, { $set: { total_cents: 1, "shipping_address.city": "Elsewhere" } })).toBe(1);
		const report = await rebuild(placed.id);
		expect(report.differences.map(d => d.field)).toEqual(["shipping_address", "total_cents"]);
		expect(report.differences.find(d => d.field === "total_cents")).toMatchObject({ order_id: placed.id, stored: 1, rebuilt: expect.any(Number) });
		expect((await rebuild()).differences.map(d => d.order_id)).toEqual([placed.id, placed.id]);
	});
});
