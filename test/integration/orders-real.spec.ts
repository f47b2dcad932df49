/**
 * orders with the real payments, inventory, shipping and products services in one broker: the saga's outcomes
 * as the other services record them (net charge, stock levels, shipments).
 */
import type { ServiceBroker } from "moleculer";
import { startShop, type Shop } from "../helpers/shop";
import type { OrderResult, PublicOrder } from "../../services/orders/model";

const admin = { meta: { user: { id: "u_admin", email: "admin@example.com", name: "Admin", role: "admin" } } };
const carol = { id: "u_carol", email: "c@example.com", name: "Carol", role: "customer" };

interface Levels {
	on_hand: number;
	reserved: number;
	available: number;
}

describe("orders with the real payments, inventory and shipping", () => {
	let shop: Shop;
	let broker: ServiceBroker;
	let seq = 0;

	async function product(units: number): Promise<string> {
		const id = `o-item-${++seq}-${Date.now()}`;
		await broker.call("products.create", { id, name: `Item ${seq}`, brand: "Acme", category: "gadgets", price: 25.5 }, admin);
		await broker.call("inventory.setLevel", { product_id: id, warehouse_id: "wh-1", on_hand: units }, admin);
		return id;
	}
	const create = (productId: string, over: Record<string, unknown> = {}, quantity = 1) =>
		broker.call("orders.create", {
			user_id: carol.id,
			items: [{ product_id: productId, name: "Item", price_cents: 2550, quantity }],
			currency: "USD",
			shipping_address: { street: "1 Elm St", city: "Springfield", postal_code: "12345", country: "US" },
			payment: { token: "card-456", method_id: null },
			...over,
		}) as Promise<OrderResult>;
	const levels = (id: string) => broker.call("inventory.levels", { product_id: id }, admin) as Promise<Levels>;
	const net = async (orderId: string) => ((await broker.call("payments.listByOrder", { order_id: orderId })) as { net_charged_cents: number }).net_charged_cents;
	const get = (id: string) => broker.call("orders.get", { id }, { meta: { user: carol } }) as Promise<PublicOrder>;

	beforeAll(async () => {
		shop = await startShop(["products", "inventory", "payments", "shipping", "orders"], { NAMESPACE: `t-ord-${Date.now()}-${Math.random()}` });
		broker = shop.broker;
	});
	afterAll(() => shop.stop());

	it("ships an order: charged once, stock committed, then DELIVERED after shipping.deliver", async () => {
		const p = await product(5);
		const res = await create(p, {}, 2);
		expect(res.order).toMatchObject({ status: "SHIPPED", total: 51 });
		expect(await net(res.order.id)).toBe(5100);
		expect(await levels(p)).toMatchObject({ on_hand: 3, reserved: 0, available: 3 });
		await broker.call("shipping.deliver", { id: res.order.shipment_id }, admin);
		const end = Date.now() + 5000;
		while ((await get(res.order.id)).status !== "DELIVERED" && Date.now() < end) await new Promise(r => setTimeout(r, 25));
		expect((await get(res.order.id)).history.map(h => h.status)).toEqual(["PENDING", "PAID", "STOCK_RESERVED", "SHIPPED", "DELIVERED"]);
	});

	it("fails a declined card with PAYMENT_ERROR, leaving stock untouched", async () => {
		const p = await product(5);
		const res = await create(p, { payment: { token: "card-declined" } });
		expect(res.order).toMatchObject({ status: "FAILED", failure_reason: "PAYMENT_ERROR" });
		expect(res.saga.steps[0].error).toMatchObject({ code: 402, retryable: false });
		expect(await levels(p)).toMatchObject({ on_hand: 5, reserved: 0 });
		expect(await net(res.order.id)).toBe(0);
	});

	it("refunds when stock runs out: OUT_OF_STOCK and a net charge of 0", async () => {
		const p = await product(1);
		const res = await create(p, {}, 3);
		expect(res.order).toMatchObject({ status: "FAILED", failure_reason: "OUT_OF_STOCK" });
		expect(res.saga.steps[1].error).toMatchObject({ code: 409, type: "INSUFFICIENT_STOCK" });
		expect(await net(res.order.id)).toBe(0);
		expect(await levels(p)).toMatchObject({ on_hand: 1, reserved: 0 });
	});

	it("answers a gateway outage with a technical payment failure and charges nothing", async () => {
		const p = await product(5);
		const res = await create(p, { payment: { token: "card-error" } });
		expect(res.order).toMatchObject({ status: "FAILED", failure_reason: "PAYMENT_ERROR" });
		expect(res.saga.steps[0].error).toMatchObject({ retryable: true });
		expect(res.saga.steps[0].error?.code).toBeGreaterThanOrEqual(500);
		expect(await net(res.order.id)).toBe(0);
		expect(await levels(p)).toMatchObject({ on_hand: 5, reserved: 0 });
	});

	it("never oversells: 25 concurrent orders for 5 units give exactly 5 shipments and 20 refunded failures", async () => {
		const p = await product(5);
		const results = await Promise.all(Array.from({ length: 25 }, () => create(p)));
		const shipped = results.filter(r => r.order.status === "SHIPPED");
		const failed = results.filter(r => r.order.status === "FAILED");
		expect(shipped).toHaveLength(5);
		expect(failed).toHaveLength(20);
		expect(failed.every(r => r.order.failure_reason === "OUT_OF_STOCK")).toBe(true);
		expect(await levels(p)).toMatchObject({ on_hand: 0, reserved: 0, available: 0 });
		const nets = await Promise.all(results.map(r => net(r.order.id)));
		expect(nets.filter(n => n === 2550)).toHaveLength(5);
		expect(nets.filter(n => n === 0)).toHaveLength(20);
	});
});
