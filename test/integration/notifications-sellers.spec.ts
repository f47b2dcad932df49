/**
 * Sellers' notifications through the gateway with every real service: a two-shop order tells each shop's owner once
 * that it was paid and once that it was cancelled, naming that shop's lines alone, on the channels the owner chose;
 * a redelivery (new event ids) tells nobody again; the customer's own notifications are unchanged.
 */
import type { ServiceSchema } from "moleculer";
import { EventsMixin, type EventsMethods } from "../../mixins/events.mixin";
import { EVENTS } from "../../services/common/events";
import { http, loginAdmin, registerCustomer, startShop, type Shop } from "../helpers/shop";

interface Row {
	id: string;
	event: string;
	order_id: string | null;
	milestone: string | null;
	shop_id?: string;
	seller_event?: string;
	title: string;
	message: string;
	channel: string;
	channels: string[];
}
interface Page {
	rows: Row[];
	total: number;
}
interface Order {
	id: string;
	status: string;
	total: number;
}

/** Publishes order events again, as a redelivery by the orders service would (with new event ids). */
const replayer: ServiceSchema = { name: "replayer", mixins: [EventsMixin({ handlers: {} })] };

const SERVICES = ["api", "users", "products", "search", "inventory", "reviews", "shops", "cart", "checkout", "orders", "payments", "shipping", "settings", "notifications"] as const;
const ADDRESS = { street: "1 Market St", city: "Springfield", postal_code: "12345", country: "US" };

describe("notifications to sellers", () => {
	let shop: Shop;
	let admin: string;
	let alice: { token: string; id: string };
	let bob: { token: string; id: string };
	let aliceShop: string;
	let bobShop: string;
	const tag = Math.random().toString(36).slice(2, 8);
	const sleep = (ms: number): Promise<void> => new Promise(r => setTimeout(r, ms));
	const api = <T = Record<string, unknown>>(method: string, path: string, opts: { body?: unknown; token?: string; headers?: Record<string, string> } = {}) =>
		http<T>(shop.url, method, `/api/v1${path}`, opts);

	async function openShop(token: string, name: string): Promise<string> {
		const res = await api<{ id: string }>("POST", "/shops", { token, body: { name, description: "test shop" } });
		expect(res.status).toBe(201);
		expect((await api("POST", `/admin/shops/${res.body.id}/approve`, { token: admin })).status).toBe(200);
		return res.body.id;
	}

	async function product(token: string, shopId: string, name: string): Promise<string> {
		const res = await api<{ id: string }>("POST", `/shops/${shopId}/products`, { token, body: { name, brand: `Brand${tag}`, category: "gadgets", price: 20 } });
		expect(res.status).toBe(201);
		expect((await api("PUT", `/inventory/${res.body.id}`, { token, body: { warehouse_id: "wh-1", on_hand: 100 } })).status).toBe(200);
		return res.body.id;
	}

	async function fill(token: string, lines: Array<[string, number]>): Promise<void> {
		for (const [product_id, quantity] of lines) expect((await api("POST", "/cart/add", { token, body: { product_id, quantity } })).status).toBeLessThan(300);
	}

	/** The user's notifications about one order once `count` are there and none more come for a moment. */
	async function settled(token: string, orderId: string, count: number): Promise<Row[]> {
		const read = async (): Promise<Row[]> => (await api<Page>("GET", "/account/notifications?page_size=100", { token })).body.rows.filter(r => r.order_id === orderId);
		const end = Date.now() + 15_000;
		let rows = await read();
		while (rows.length < count && Date.now() < end) {
			await sleep(50);
			rows = await read();
		}
		// Late duplicates would arrive within the retry delays: wait past them.
		await sleep(800);
		return read();
	}

	beforeAll(async () => {
		shop = await startShop([...SERVICES], { NAMESPACE: `t-ntfs-${Date.now()}-${Math.random().toString(36).slice(2, 8)}` });
		shop.broker.createService(replayer);
		await shop.broker.waitForServices(["replayer"], 5000);
		admin = await loginAdmin(shop.url, shop.config);
		[alice, bob] = await Promise.all([registerCustomer(shop.url), registerCustomer(shop.url)]);
		aliceShop = await openShop(alice.token, `Alice ${tag}`);
		bobShop = await openShop(bob.token, `Bob ${tag}`);
	});
	afterAll(() => shop.stop());

	it("tells each shop's owner once that a two-shop order was paid, naming only its own lines, on its chosen channels", async () => {
		const [lamp, desk, radio] = [await product(alice.token, aliceShop, `Lamp ${tag}`), await product(alice.token, aliceShop, `Desk ${tag}`), await product(bob.token, bobShop, `Radio ${tag}`)];
		// Bob wants sms and push, not email.
		const prefs = await api("PUT", "/account/preferences", { token: bob.token, body: { notification_channels: { email: false, sms: true, push: true } } });
		expect(prefs.status).toBe(200);
		const carol = await registerCustomer(shop.url);
		await fill(carol.token, [[lamp, 2], [desk, 1], [radio, 3]]);
		const res = await api<{ order: Order }>("POST", "/checkout", { token: carol.token, body: { shipping_address: ADDRESS, payment_method: "card-456" } });
		expect(res.status).toBe(201);
		const order = res.body.order;

		const aliceRows = await settled(alice.token, order.id, 1);
		expect(aliceRows).toHaveLength(1);
		const a = aliceRows[0];
		expect(a).toMatchObject({ shop_id: aliceShop, seller_event: "paid", milestone: null, channel: "email", channels: ["email"], event: EVENTS.ORDER_UPDATED });
		expect(a.message).toBe(`Order ${order.id} is paid: 2 × Lamp ${tag}, 1 × Desk ${tag}. Please prepare the shipment.`);
		expect(a.message).not.toContain("Radio");

		const bobRows = await settled(bob.token, order.id, 1);
		expect(bobRows).toHaveLength(1);
		expect(bobRows[0]).toMatchObject({ shop_id: bobShop, seller_event: "paid", channel: "sms", channels: ["sms", "push"] });
		expect(bobRows[0].message).toBe(`Order ${order.id} is paid: 3 × Radio ${tag}. Please prepare the shipment.`);

		// The customer's own notifications are the customer's milestones alone; sellers' never reach them.
		const carolRows = await settled(carol.token, order.id, 2);
		expect(carolRows.every(r => r.shop_id === undefined && r.milestone !== null)).toBe(true);

		// The orders service delivering the PAID event again (a new event id) tells nobody twice.
		const bus = shop.broker.getLocalService("replayer") as unknown as EventsMethods;
		const again = { order_id: order.id, user_id: carol.id, status: "PAID", failure_reason: null, reason: null, total_cents: Math.round(order.total * 100), currency: "USD" };
		await bus.publish(null, EVENTS.ORDER_UPDATED, again);
		await bus.publish(null, EVENTS.ORDER_UPDATED, again);
		await sleep(500);
		expect(await settled(alice.token, order.id, 1)).toHaveLength(1);
		expect(await settled(bob.token, order.id, 1)).toHaveLength(1);
	});

	it("tells each owner once that a paid order was cancelled, and nothing to a seller without lines in it", async () => {
		const lamp = await product(alice.token, aliceShop, `Lamp2 ${tag}`);
		const dave = await registerCustomer(shop.url);
		await fill(dave.token, [[lamp, 1]]);
		// A slow reservation leaves time to cancel the paid order before it ships.
		const placed = await api<{ order: Order }>("POST", "/checkout?behavior=inventory:latency=1500ms", {
			token: dave.token,
			body: { shipping_address: ADDRESS, payment_method: "card-456" },
			headers: { Prefer: "respond-async" },
		});
		expect(placed.status).toBe(202);
		const orderId = placed.body.order.id;
		const cancel = await api<Order>("POST", `/orders/${orderId}/cancel`, { token: dave.token });
		expect(cancel.status).toBeLessThan(300);
		const end = Date.now() + 10_000;
		let status = cancel.body.status;
		while (status !== "CANCELLED" && Date.now() < end) {
			await sleep(100);
			status = (await api<Order>("GET", `/orders/${orderId}`, { token: dave.token })).body.status;
		}
		expect(status).toBe("CANCELLED");
		const history = (await api<{ history: Array<{ status: string }> }>("GET", `/orders/${orderId}`, { token: dave.token })).body.history.map(h => h.status);

		const rows = await settled(alice.token, orderId, history.includes("PAID") ? 2 : 1);
		const cancelled = rows.filter(r => r.seller_event === "cancelled");
		expect(cancelled).toHaveLength(1);
		expect(cancelled[0].message).toBe(`Order ${orderId} was cancelled (the customer cancelled it): do not ship 1 × Lamp2 ${tag}.`);
		expect(rows.filter(r => r.seller_event === "paid")).toHaveLength(history.includes("PAID") ? 1 : 0);
		expect(await settled(bob.token, orderId, 0)).toHaveLength(0);
	});

	it("tells the owner that an order cancelled after payment (out of stock) will not ship", async () => {
		const radio = await product(bob.token, bobShop, `Radio2 ${tag}`);
		const erin = await registerCustomer(shop.url);
		await fill(erin.token, [[radio, 2]]);
		// The stock goes before the checkout reserves it: paid, then out of stock, refunded.
		expect((await api("PUT", `/inventory/${radio}`, { token: bob.token, body: { warehouse_id: "wh-1", on_hand: 1 } })).status).toBe(200);
		const res = await api<{ order: Order & { failure_reason: string } }>("POST", "/checkout", { token: erin.token, body: { shipping_address: ADDRESS, payment_method: "card-456" } });
		expect(res.status).toBe(409);
		const orderId = res.body.order.id;
		const rows = await settled(bob.token, orderId, 2);
		expect(rows.map(r => r.seller_event).sort()).toEqual(["cancelled", "paid"]);
		expect(rows.find(r => r.seller_event === "cancelled")?.message).toBe(`Order ${orderId} was cancelled (an item ran out of stock): do not ship 2 × Radio2 ${tag}.`);
	});

	it("tells nobody but the customer about a declined payment", async () => {
		const desk = await product(alice.token, aliceShop, `Desk3 ${tag}`);
		const fay = await registerCustomer(shop.url);
		await fill(fay.token, [[desk, 1]]);
		const res = await api<{ order: Order }>("POST", "/checkout", { token: fay.token, body: { shipping_address: ADDRESS, payment_method: "card-declined" } });
		expect(res.status).toBe(402);
		expect(await settled(fay.token, res.body.order.id, 2)).toHaveLength(2);
		expect(await settled(alice.token, res.body.order.id, 0)).toHaveLength(0);
	});
});
