import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { ServiceBroker } from "moleculer";
import ShippingService from "../../../services/shipping.service";
import { EventsMixin } from "../../../mixins/events.mixin";
import { EVENTS } from "../../../services/common/events";
import { startShop, type Shop } from "../../helpers/shop";

const admin = { meta: { user: { id: "admin-1", email: "admin@x", name: "Admin", role: "admin" } } };
const as = (id: string) => ({ meta: { user: { id, email: `${id}@x`, name: id, role: "customer" } } });

async function waitFor(check: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
	const end = Date.now() + ms;
	while (!(await check())) {
		if (Date.now() > end) throw new Error("condition not met in time");
		await new Promise(r => setTimeout(r, 20));
	}
}

describe("shipping service", () => {
	let shop: Shop;
	let broker: ServiceBroker;
	/** Stand-in for the catalog's inventory service: counts commits and releases per order. */
	const inventoryCalls: Array<{ action: string; order_id: string }> = [];
	let failCommits = 0;
	const events: Array<{ name: string; payload: Record<string, unknown> }> = [];
	let seq = 0;
	const order = () => ({ order_id: `ord_ship_${++seq}_${Date.now()}`, user_id: "cust", address: { street: "1 Main St", city: "Springfield" }, items: [{ product_id: "p", quantity: 2, name: "P" }] });

	beforeAll(async () => {
		shop = await startShop([], { NAMESPACE: `t-ship-${Date.now()}-${Math.random()}` });
		broker = shop.broker;
		broker.createService({ name: "shipping", mixins: [ShippingService], settings: { deliveryDelayMs: 0 } });
		broker.createService({
			name: "inventory",
			actions: {
				commit(ctx: { params: { order_id: string } }) {
					if (failCommits > 0) {
						failCommits--;
						throw Object.assign(new Error("inventory down"), { code: 503, retryable: true });
					}
					inventoryCalls.push({ action: "commit", order_id: ctx.params.order_id });
					return { order_id: ctx.params.order_id, status: "COMMITTED" };
				},
				release(ctx: { params: { order_id: string } }) {
					inventoryCalls.push({ action: "release", order_id: ctx.params.order_id });
					return { order_id: ctx.params.order_id, status: "RELEASED" };
				},
			},
		});
		const record = (name: string) => (event: Record<string, unknown>) => {
			events.push({ name, payload: event });
		};
		broker.createService({
			name: "shiprecorder",
			mixins: [EventsMixin({ handlers: { [EVENTS.ORDER_SHIPPED]: record(EVENTS.ORDER_SHIPPED), [EVENTS.ORDER_DELIVERED]: record(EVENTS.ORDER_DELIVERED) } })],
		});
		await broker.waitForServices(["shipping", "inventory", "shiprecorder"]);
	});
	afterAll(() => shop.stop());

	it("ships an order once: tracking number, carrier, SHIPPED, stock committed, order.shipped emitted", async () => {
		const o = order();
		const [a, b] = await Promise.all([broker.call("shipping.create", o), broker.call("shipping.create", o)]);
		expect(a).toEqual(b);
		expect(a).toMatchObject({ order_id: o.order_id, status: "SHIPPED", carrier: expect.any(String), tracking_number: expect.any(String), shipment_id: expect.stringMatching(/^shp_/) });
		expect(inventoryCalls.filter(c => c.order_id === o.order_id)).toEqual([{ action: "commit", order_id: o.order_id }]);
		await waitFor(() => events.some(e => e.name === EVENTS.ORDER_SHIPPED && e.payload.order_id === o.order_id));
		expect(events.find(e => e.payload.order_id === o.order_id)?.payload).toMatchObject({ user_id: "cust", shipment_id: (a as { shipment_id: string }).shipment_id });
	});

	it("gives the claim back when the commit fails, so a retry ships", async () => {
		const o = order();
		failCommits = 100; // more than the broker's retries of inventory.commit
		await expect(broker.call("shipping.create", o, { retries: 0 })).rejects.toMatchObject({ code: 503 });
		failCommits = 0;
		await expect(broker.call("shipping.create", o, { retries: 0 })).resolves.toMatchObject({ status: "SHIPPED" });
	});

	it("cancels as compensation: releases stock, is idempotent, and refuses a later create with 409", async () => {
		const o = order();
		await broker.call("shipping.create", o);
		const first = await broker.call("shipping.cancel", { order_id: o.order_id });
		const second = await broker.call("shipping.cancel", { order_id: o.order_id });
		expect(first).toEqual(second);
		expect(first).toMatchObject({ order_id: o.order_id, status: "CANCELLED" });
		expect(inventoryCalls.filter(c => c.order_id === o.order_id).map(c => c.action)).toEqual(["commit", "release", "release"]);
		await expect(broker.call("shipping.create", o)).rejects.toMatchObject({ code: 409, type: "SHIPMENT_CANCELLED" });
	});

	it("cancels an order that never shipped by leaving a tombstone, so a late create cannot ship it", async () => {
		const o = order();
		await expect(broker.call("shipping.cancel", { order_id: o.order_id })).resolves.toMatchObject({ status: "CANCELLED" });
		await expect(broker.call("shipping.create", o)).rejects.toMatchObject({ code: 409 });
		expect(inventoryCalls.filter(c => c.order_id === o.order_id).map(c => c.action)).toEqual(["release"]);
	});

	it("delivers as admin once, emits order.delivered, and answers 404 unknown and 409 cancelled", async () => {
		const o = order();
		const shipped = await broker.call<{ shipment_id: string }, object>("shipping.create", o);
		const delivered = await broker.call("shipping.deliver", { id: shipped.shipment_id }, admin);
		expect(delivered).toMatchObject({ id: shipped.shipment_id, status: "DELIVERED", delivered_at: expect.any(String) });
		await expect(broker.call("shipping.deliver", { id: shipped.shipment_id }, admin)).resolves.toMatchObject({ status: "DELIVERED" });
		await waitFor(() => events.some(e => e.name === EVENTS.ORDER_DELIVERED && e.payload.order_id === o.order_id));
		await new Promise(r => setTimeout(r, 100));
		expect(events.filter(e => e.name === EVENTS.ORDER_DELIVERED && e.payload.order_id === o.order_id)).toHaveLength(1);
		await expect(broker.call("shipping.deliver", { id: "shp_unknown" }, admin)).rejects.toMatchObject({ code: 404 });
		const c = order();
		const other = await broker.call<{ shipment_id: string }, object>("shipping.create", c);
		await broker.call("shipping.cancel", { order_id: c.order_id });
		await expect(broker.call("shipping.deliver", { id: other.shipment_id }, admin)).rejects.toMatchObject({ code: 409, type: "SHIPMENT_CANCELLED" });
		await expect(broker.call("shipping.cancel", { order_id: o.order_id })).rejects.toMatchObject({ code: 409, type: "SHIPMENT_DELIVERED" });
	});

	it("shows a shipment to its owner and an admin, and 404 to another customer", async () => {
		const shipped = await broker.call<{ shipment_id: string }, object>("shipping.create", order());
		await expect(broker.call("shipping.get", { id: shipped.shipment_id }, as("cust"))).resolves.toMatchObject({ status: "SHIPPED", history: [{ status: "PREPARING" }, { status: "SHIPPED" }] });
		await expect(broker.call("shipping.get", { id: shipped.shipment_id }, admin)).resolves.toMatchObject({ id: shipped.shipment_id });
		await expect(broker.call("shipping.get", { id: shipped.shipment_id }, as("someone-else"))).rejects.toMatchObject({ code: 404 });
	});
});

describe("shipping service with automatic delivery", () => {
	it("delivers after the configured delay, and on restart delivers what fell due while it was down", async () => {
		const namespace = `t-ship-auto-${Date.now()}-${Math.random()}`;
		const dataDir = path.join(os.tmpdir(), namespace);
		const start = async (delay: number) => {
			const shop = await startShop([], { NAMESPACE: namespace, DATA_DIR: dataDir });
			shop.broker.createService({ name: "shipping", mixins: [ShippingService], settings: { deliveryDelayMs: delay } });
			shop.broker.createService({ name: "inventory", actions: { commit: () => ({ status: "COMMITTED" }), release: () => ({ status: "RELEASED" }) } });
			await shop.broker.waitForServices(["shipping", "inventory"]);
			return shop;
		};
		let shop = await start(150);
		try {
			const a = await shop.broker.call<{ shipment_id: string }, object>("shipping.create", { order_id: "auto-1", user_id: "u" });
			await waitFor(async () => (await shop.broker.call<{ status: string }, object>("shipping.get", { id: a.shipment_id })).status === "DELIVERED", 3000);
			const b = await shop.broker.call<{ shipment_id: string }, object>("shipping.create", { order_id: "auto-2", user_id: "u" });
			await shop.stop();
			await new Promise(r => setTimeout(r, 250));
			shop = await start(150);
			await waitFor(async () => (await shop.broker.call<{ status: string }, object>("shipping.get", { id: b.shipment_id })).status === "DELIVERED", 3000);
		} finally {
			await shop.stop();
			fs.rmSync(dataDir, { recursive: true, force: true });
		}
	});
});
