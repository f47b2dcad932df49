/**
 * Real checkouts through the gateway leave the customer one notification per milestone of their order (placed,
 * payment failed, shipped, delivered, cancelled, refunded), in their words, never twice, and nothing to anyone else.
 */
import type { ServiceSchema } from "moleculer";
import { EventsMixin, type EventsMethods } from "../../mixins/events.mixin";
import { EVENTS } from "../../services/common/events";
import { expectedMilestones, type Milestone } from "../../services/notifications/messages";
import { http, loginAdmin, registerCustomer, startShop, type Shop } from "../helpers/shop";
import { payloadOf } from "../helpers/events";

interface Row {
	event: string;
	order_id: string | null;
	milestone: Milestone | null;
	title: string;
	message: string;
	channel: string;
}
interface Page {
	rows: Row[];
	total: number;
}
interface Order {
	id: string;
	user_id: string;
	status: string;
	failure_reason: string | null;
	shipment_id: string;
	total: number;
	history: Array<{ status: string; reason: string | null }>;
}

/** Publishes order events as if the orders service had sent them again (a redelivery with a new event id). */
const replayer: ServiceSchema = { name: "replayer", mixins: [EventsMixin({ handlers: {} })] };

const ADDRESS = { street: "1 Elm St", city: "Springfield", postal_code: "12345", country: "US" };

describe("notifications of a checkout", () => {
	let shop: Shop;
	let admin: string;
	const sleep = (ms: number): Promise<void> => new Promise(r => setTimeout(r, ms));

	/** A product with `stock` units in one warehouse. */
	async function product(stock: number): Promise<string> {
		const id = `ntf-item-${Date.now()}-${Math.random().toString(36).slice(2, 6)}`;
		expect((await http(shop.url, "POST", "/api/v1/products", { token: admin, body: { id, name: "Lamp", brand: "Acme", category: "home", price: 19.99 } })).status).toBe(201);
		expect((await http(shop.url, "PUT", `/api/v1/inventory/${id}`, { token: admin, body: { warehouse_id: "wh-1", on_hand: stock } })).status).toBe(200);
		return id;
	}

	async function checkout(token: string, productId: string, paymentMethod: string): Promise<{ status: number; order: Order }> {
		expect((await http(shop.url, "POST", "/api/v1/cart/add", { token, body: { product_id: productId, quantity: 2 } })).status).toBeLessThan(300);
		const res = await http<{ order: Order }>(shop.url, "POST", "/api/v1/checkout", { token, body: { shipping_address: ADDRESS, payment_method: paymentMethod } });
		return { status: res.status, order: res.body.order };
	}

	/** The customer's notifications once `count` are there and no more arrive for a moment (newest first). */
	async function settled(token: string, count: number): Promise<Row[]> {
		const read = async (): Promise<Page> => (await http<Page>(shop.url, "GET", "/api/v1/account/notifications?page_size=100", { token })).body;
		const end = Date.now() + 10_000;
		let page = await read();
		while (page.total < count && Date.now() < end) {
			await sleep(50);
			page = await read();
		}
		// Late duplicates would arrive within the in-process bus's retry delays: wait past them.
		await sleep(500);
		return (await read()).rows;
	}

	const milestones = (rows: Row[]): Milestone[] => rows.map(r => r.milestone as Milestone).sort();

	beforeAll(async () => {
		shop = await startShop(["api", "users", "products", "inventory", "cart", "checkout", "orders", "payments", "shipping", "notifications"], {
			NAMESPACE: `t-ntfc-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`,
		});
		shop.broker.createService(replayer);
		await shop.broker.waitForServices(["replayer"], 5000);
		admin = await loginAdmin(shop.url, shop.config);
	});
	afterAll(() => shop.stop());

	it("tells the customer of a delivered order three things: placed, shipped and delivered, once each", async () => {
		const id = await product(10);
		const alice = await registerCustomer(shop.url);
		const bob = await registerCustomer(shop.url);
		const { status, order } = await checkout(alice.token, id, "card-456");
		expect(status).toBe(201);
		expect(order.status).toBe("SHIPPED");
		expect((await http(shop.url, "POST", `/api/v1/shipments/${order.shipment_id}/deliver`, { token: admin })).status).toBe(200);

		const rows = await settled(alice.token, 3);
		expect(milestones(rows)).toEqual(["delivered", "placed", "shipped"]);
		expect(rows.map(r => r.title).sort()).toEqual(["Order delivered", "Order placed", "Order shipped"]);
		expect(rows.every(r => r.order_id === order.id && r.channel === "email")).toBe(true);
		expect(rows.find(r => r.milestone === "placed")?.message).toBe(`Thank you for your order ${order.id} (total ${order.total.toFixed(2)} USD). We will let you know when it ships.`);
		expect(rows.find(r => r.milestone === "shipped")?.message).toMatch(new RegExp(`^Your order ${order.id} is on its way with \\w+, tracking number \\w+\\.$`));

		const final = (await http<Order>(shop.url, "GET", `/api/v1/orders/${order.id}`, { token: alice.token })).body;
		expect(milestones(rows)).toEqual(expectedMilestones(final).sort());
		expect((await http<Page>(shop.url, "GET", "/api/v1/account/notifications", { token: bob.token })).body.total).toBe(0);
	});

	it("tells the customer once when the order's events are delivered again, under new event ids too", async () => {
		const id = await product(10);
		const carol = await registerCustomer(shop.url);
		const { order } = await checkout(carol.token, id, "card-456");
		expect((await http(shop.url, "POST", `/api/v1/shipments/${order.shipment_id}/deliver`, { token: admin })).status).toBe(200);
		expect(await settled(carol.token, 3)).toHaveLength(3);

		const bus = shop.broker.getLocalService("replayer") as unknown as EventsMethods;
		const base = { order_id: order.id, user_id: carol.id, failure_reason: null, reason: "reported by shipping", total_cents: Math.round(order.total * 100), currency: "USD" };
		await bus.publish(null, EVENTS.ORDER_UPDATED, payloadOf(EVENTS.ORDER_UPDATED, { ...base, status: "SHIPPED" }));
		await bus.publish(null, EVENTS.ORDER_UPDATED, payloadOf(EVENTS.ORDER_UPDATED, { ...base, status: "DELIVERED" }));
		await bus.publish(null, EVENTS.ORDER_CREATED, payloadOf(EVENTS.ORDER_CREATED, { ...base, status: "PENDING", items: [] }));
		const rows = await settled(carol.token, 4);
		expect(milestones(rows)).toEqual(["delivered", "placed", "shipped"]);
	});

	it("tells the customer whose card is declined that the order was placed and the payment failed", async () => {
		const id = await product(10);
		const dave = await registerCustomer(shop.url);
		const { status, order } = await checkout(dave.token, id, "card-declined");
		expect(status).toBe(402);
		const rows = await settled(dave.token, 2);
		expect(milestones(rows)).toEqual(["payment_failed", "placed"]);
		expect(rows.find(r => r.milestone === "payment_failed")?.message).toContain(`We could not take the payment of ${order.total.toFixed(2)} USD for your order ${order.id}`);
		expect(milestones(rows)).toEqual(expectedMilestones(order).sort());
	});

	it("tells the customer of an order that ran out of stock that it was cancelled and refunded, and nothing about compensating", async () => {
		const id = await product(5);
		const erin = await registerCustomer(shop.url);
		expect((await http(shop.url, "POST", "/api/v1/cart/add", { token: erin.token, body: { product_id: id, quantity: 2 } })).status).toBeLessThan(300);
		// The stock goes before the checkout reserves it.
		expect((await http(shop.url, "PUT", `/api/v1/inventory/${id}`, { token: admin, body: { warehouse_id: "wh-1", on_hand: 1 } })).status).toBe(200);
		const res = await http<{ order: Order }>(shop.url, "POST", "/api/v1/checkout", { token: erin.token, body: { shipping_address: ADDRESS, payment_method: "card-456" } });
		expect(res.status).toBe(409);
		const order = res.body.order;
		expect(order.failure_reason).toBe("OUT_OF_STOCK");

		const rows = await settled(erin.token, 3);
		expect(milestones(rows)).toEqual(["cancelled", "placed", "refunded"]);
		expect(rows.find(r => r.milestone === "cancelled")?.message).toBe(
			`We are sorry: we had to cancel your order ${order.id} because an item ran out of stock. Your payment will be refunded in full.`,
		);
		expect(rows.find(r => r.milestone === "refunded")?.message).toContain(`We have refunded ${order.total.toFixed(2)} USD for your order ${order.id}.`);
		expect(rows.some(r => /compensat/i.test(`${r.title} ${r.message}`))).toBe(false);
		expect(milestones(rows)).toEqual(expectedMilestones(order).sort());
	});
});
