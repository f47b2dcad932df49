import type { ServiceBroker } from "moleculer";
import { EventsMixin } from "../../mixins/events.mixin";
import { EVENTS, type DomainEvent } from "../../services/common/events";
import { startShop, type Shop } from "../helpers/shop";
import { alice, fakeServices, netCharged, newFakeState, orderInput, waitFor, type FakeState } from "./orders-fakes";
import type { OrderResult, PublicOrder } from "../../services/orders/model";
import { recentOrdersOf } from "../../services/orders/recent";

const bob = { id: "u_bob", email: "b@example.com", name: "Bob", role: "customer" as const };
const admin = { id: "u_admin", email: "admin@example.com", name: "Admin", role: "admin" as const };

describe("orders saga (broker level, stand-in payments, inventory and shipping)", () => {
	let shop: Shop;
	let broker: ServiceBroker;
	let fake: FakeState;
	const events: Array<{ name: string; event: DomainEvent }> = [];
	const eventsOf = (orderId: string) => events.filter(e => e.event.order_id === orderId);
	const create = (over: Record<string, unknown> = {}) => broker.call("orders.create", orderInput(over)) as Promise<OrderResult>;
	const get = (id: string, user: object = alice) => broker.call("orders.get", { id }, { meta: { user } }) as Promise<PublicOrder>;

	beforeAll(async () => {
		shop = await startShop(["orders"]);
		broker = shop.broker;
		fake = newFakeState({});
		for (const schema of fakeServices(fake)) broker.createService(schema);
		const record = (name: string) => (event: DomainEvent) => {
			events.push({ name, event });
		};
		broker.createService({
			name: "order-event-recorder",
			mixins: [EventsMixin({ handlers: Object.fromEntries([EVENTS.ORDER_CREATED, EVENTS.ORDER_UPDATED, EVENTS.ORDER_CANCELLED].map(n => [n, record(n)])) })],
		});
		await broker.waitForServices(["payments", "inventory", "shipping", "order-event-recorder"]);
	});
	afterAll(() => shop.stop());
	beforeEach(() => {
		fake.log.length = 0;
		fake.available.set("laptop-123", 10).set("mouse-1", 100);
		fake.onHand.set("laptop-123", 10).set("mouse-1", 100);
		fake.failRefunds = 0;
		fake.delayMs = 0;
		fake.refuseStreets.clear();
		fake.loseShippingAnswers = false;
		fake.reserveThenVanish = false;
	});

	it("charges, reserves and ships: the order ends SHIPPED with its history and decimal money", async () => {
		const res = await create();
		expect(res.order).toMatchObject({ status: "SHIPPED", failure_reason: null, total: 1050.99, currency: "USD", user_id: alice.id });
		expect(res.outcome).toBeNull();
		expect(res.order.id).toMatch(/^ord_/);
		expect(res.order.items[0]).toEqual({ product_id: "laptop-123", name: "Laptop", price: 999.99, quantity: 1, shop_id: "shopflow", amount: 999.99 });
		expect(res.order.payment_id).toEqual(expect.any(String));
		expect(res.order.shipment_id).toBe(`shp_${res.order.id}`);
		expect(res.order.history.map(h => h.status)).toEqual(["PENDING", "PAID", "STOCK_RESERVED", "SHIPPED"]);
		expect(res.saga.status).toBe("COMPLETED");
		expect(res.saga.steps.map(s => [s.name, s.status])).toEqual([["payment", "DONE"], ["inventory", "DONE"], ["shipping", "DONE"]]);
		expect(res.saga.steps.every(s => typeof s.duration === "number")).toBe(true);
		expect(fake.log).toEqual([`payments.charge ${res.order.id}`, `inventory.reserve ${res.order.id}`, `shipping.create ${res.order.id}`]);
		expect(netCharged(fake, res.order.id)).toBe(105_099);
		expect(fake.onHand.get("laptop-123")).toBe(9);
	});

	it("fails a declined payment with PAYMENT_ERROR and never calls inventory", async () => {
		const res = await create({ payment: { token: "card-declined" } });
		expect(res.order).toMatchObject({ status: "FAILED", failure_reason: "PAYMENT_ERROR" });
		expect(res.outcome).toEqual({ failure_reason: "PAYMENT_ERROR", http_status: 402 });
		expect(res.order.history.map(h => h.status)).toEqual(["PENDING", "FAILED"]);
		expect(res.saga.steps[0]).toMatchObject({ name: "payment", status: "FAILED", error: { code: 402, type: "PAYMENT_DECLINED", retryable: false } });
		expect(fake.log.some(l => l.startsWith("inventory."))).toBe(false);
		expect(fake.log.filter(l => l.startsWith("payments.charge"))).toHaveLength(1);
	});

	it("refunds the payment when stock runs out and fails the order with OUT_OF_STOCK", async () => {
		fake.available.set("laptop-123", 0);
		const res = await create();
		const id = res.order.id;
		expect(res.order).toMatchObject({ status: "FAILED", failure_reason: "OUT_OF_STOCK" });
		expect(res.outcome).toEqual({ failure_reason: "OUT_OF_STOCK", http_status: 409 });
		expect(res.order.history.map(h => h.status)).toEqual(["PENDING", "PAID", "COMPENSATING", "FAILED"]);
		expect(res.saga.steps[1]).toMatchObject({ status: "FAILED", error: { code: 409, type: "INSUFFICIENT_STOCK" } });
		expect(fake.log).toEqual([`payments.charge ${id}`, `inventory.reserve ${id}`, `payments.refund ${res.order.payment_id}`]);
		expect(netCharged(fake, id)).toBe(0);
	});

	it("releases the stock and then refunds when shipping fails, compensating in reverse order", async () => {
		fake.refuseStreets.add("Nowhere 0");
		const res = await create({ shipping_address: { street: "Nowhere 0", city: "X" } });
		const id = res.order.id;
		expect(res.order).toMatchObject({ status: "FAILED", failure_reason: "SHIPPING_ERROR" });
		expect(fake.log).toEqual([
			`payments.charge ${id}`,
			`inventory.reserve ${id}`,
			`shipping.create ${id}`,
			`inventory.release ${id}`,
			`payments.refund ${res.order.payment_id}`,
		]);
		expect(res.saga.steps.map(s => s.status)).toEqual(["COMPENSATED", "COMPENSATED", "FAILED"]);
		expect(fake.available.get("laptop-123")).toBe(10);
		expect(netCharged(fake, id)).toBe(0);
	});

	it("retries a refund that fails twice until it succeeds", async () => {
		fake.available.set("laptop-123", 0);
		fake.failRefunds = 2;
		const res = await create();
		expect(res.order).toMatchObject({ status: "FAILED", failure_reason: "OUT_OF_STOCK" });
		expect(fake.log.filter(l => l.startsWith("payments.refund"))).toHaveLength(3);
		expect(netCharged(fake, res.order.id)).toBe(0);
		const log = (await broker.call("orders.sagaLog", { id: res.saga.id }, { meta: { user: admin } })) as {
			steps: Array<{ name: string; compensation_attempts: number }>;
			data: { payment_token: string };
		};
		expect(log.steps[0]).toMatchObject({ name: "payment", compensation_attempts: 3 });
		expect(log.data.payment_token).not.toBe("card-456");
	});

	it("undoes a shipment whose answer was lost (technical failure) and marks the step's error retryable", async () => {
		fake.loseShippingAnswers = true;
		const res = await create();
		const id = res.order.id;
		expect(res.order).toMatchObject({ status: "FAILED", failure_reason: "SHIPPING_ERROR" });
		expect(res.saga.steps[2]).toMatchObject({ status: "COMPENSATED", error: { code: 500 } });
		expect(fake.log).toContain(`shipping.cancel ${id}`);
		expect(fake.shipments.get(id)?.status).toBe("CANCELLED");
		expect(fake.onHand.get("laptop-123")).toBe(10);
		expect(netCharged(fake, id)).toBe(0);
	});

	it("releases a reservation whose answer was lost even when the retries then found no inventory node", async () => {
		fake.reserveThenVanish = true;
		const res = await create();
		const id = res.order.id;
		expect(res.order).toMatchObject({ status: "FAILED", failure_reason: "INVENTORY_UNAVAILABLE" });
		expect(res.outcome).toEqual({ failure_reason: "INVENTORY_UNAVAILABLE", http_status: 503 });
		expect(res.saga.steps[1]).toMatchObject({ status: "COMPENSATED", error: { type: "SERVICE_NOT_AVAILABLE" } });
		expect(fake.log).toContain(`inventory.release ${id}`);
		expect(fake.available.get("laptop-123")).toBe(10);
		expect(netCharged(fake, id)).toBe(0);
	});

	it("answers a gateway outage after Moleculer's retries with a retryable 503 step error and charges nothing", async () => {
		const res = await create({ payment: { token: "card-error" } });
		expect(res.order).toMatchObject({ status: "FAILED", failure_reason: "PAYMENT_ERROR" });
		expect(res.saga.steps[0].error).toMatchObject({ code: 503, retryable: true });
		expect(res.outcome).toEqual({ failure_reason: "PAYMENT_ERROR", http_status: 503 });
		expect(fake.log.filter(l => l.startsWith("payments.charge")).length).toBeGreaterThan(1);
		expect(fake.log).toContain(`payments.listByOrder ${res.order.id}`);
		expect(fake.log.some(l => l.startsWith("inventory."))).toBe(false);
	});

	it("returns the PENDING order at once with respond_async and finishes the saga in the background", async () => {
		fake.delayMs = 50;
		const res = await create({ respond_async: true });
		expect(res.order.status).toBe("PENDING");
		await waitFor(async () => (await get(res.order.id)).status === "SHIPPED");
	});

	it("gives the same order for the same idempotency key", async () => {
		const a = await create({ idempotency_key: "idem-1" });
		const b = await create({ idempotency_key: "idem-1" });
		expect(b.order.id).toBe(a.order.id);
		expect(fake.log.filter(l => l.startsWith("payments.charge"))).toHaveLength(1);
		await expect(create({ idempotency_key: "idem-1", user_id: bob.id })).rejects.toMatchObject({ code: 409, type: "IDEMPOTENCY_KEY_REUSED" });
	});

	it("cancels an order before it ships: refund, release, CANCELLED", async () => {
		fake.delayMs = 150;
		const res = await create({ respond_async: true });
		await waitFor(async () => (await get(res.order.id)).status === "PAID");
		const cancelled = (await broker.call("orders.cancel", { id: res.order.id }, { meta: { user: alice } })) as PublicOrder;
		expect(cancelled.status).toBe("CANCELLED");
		expect(cancelled.history.map(h => h.status)).toContain("COMPENSATING");
		expect(netCharged(fake, res.order.id)).toBe(0);
		expect(fake.available.get("laptop-123")).toBe(10);
		expect(fake.log.some(l => l.startsWith("shipping.create"))).toBe(false);
	});

	it("refuses to cancel a shipped order with 409 and hides another user's order with 404", async () => {
		const res = await create();
		await expect(broker.call("orders.cancel", { id: res.order.id }, { meta: { user: alice } })).rejects.toMatchObject({ code: 409, type: "ORDER_NOT_CANCELLABLE" });
		await expect(get(res.order.id, bob)).rejects.toMatchObject({ code: 404 });
		await expect(broker.call("orders.cancel", { id: res.order.id }, { meta: { user: bob } })).rejects.toMatchObject({ code: 404 });
		expect((await get(res.order.id, admin)).id).toBe(res.order.id);
	});

	it("moves a shipped order to DELIVERED on shipping's event, once", async () => {
		const res = await create();
		await broker.call("shipping.deliver", { order_id: res.order.id, user_id: alice.id });
		await waitFor(async () => (await get(res.order.id)).status === "DELIVERED");
		await broker.call("shipping.deliver", { order_id: res.order.id, user_id: alice.id });
		await new Promise(r => setTimeout(r, 200));
		const order = await get(res.order.id);
		expect(order.history.filter(h => h.status === "DELIVERED")).toHaveLength(1);
	});

	it("forgets its copy of an order once the saga is over, and shipping's later event still moves it on", async () => {
		const recent = recentOrdersOf(broker.getLocalService("orders") as object);
		const shipped = await create();
		const failed = await create({ payment: { token: "card-declined" } });
		expect(recent.get(shipped.order.id)).toBeUndefined();
		expect(recent.get(failed.order.id)).toBeUndefined();
		await broker.call("shipping.deliver", { order_id: shipped.order.id, user_id: alice.id });
		await waitFor(async () => (await get(shipped.order.id)).status === "DELIVERED");
		expect(recent.get(shipped.order.id)).toBeUndefined();
	});

	it("lists only the caller's orders, paginated, and everything for an admin", async () => {
		await create({ user_id: bob.id });
		const mine = (await broker.call("orders.list", { page_size: 2 }, { meta: { user: alice } })) as { rows: PublicOrder[]; total: number; total_pages: number; page: number };
		expect(mine.rows.length).toBeLessThanOrEqual(2);
		expect(mine.rows.every(o => o.user_id === alice.id)).toBe(true);
		expect(mine.total_pages).toBe(Math.ceil(mine.total / 2));
		const bobs = (await broker.call("orders.list", {}, { meta: { user: bob } })) as { rows: PublicOrder[]; total: number };
		expect(bobs.total).toBe(1);
		const all = (await broker.call("orders.list", { status: "FAILED" }, { meta: { user: admin } })) as { rows: PublicOrder[]; total: number };
		expect(all.total).toBeGreaterThan(0);
		expect(all.rows.every(o => o.status === "FAILED")).toBe(true);
	});

	it("counts orders by status and failure reason and finds them by status", async () => {
		const stats = (await broker.call("orders.stats")) as { total: number; by_status: Record<string, number>; by_failure_reason: Record<string, number> };
		expect(stats.total).toBe(Object.values(stats.by_status).reduce((a, b) => a + b, 0));
		expect(stats.by_failure_reason.OUT_OF_STOCK).toBeGreaterThan(0);
		const failed = (await broker.call("orders.find", { status: "FAILED", limit: 100 })) as { rows: PublicOrder[] };
		expect(failed.rows).toHaveLength(stats.by_status.FAILED);
	});

	it("emits order.created and one order.updated per transition, with status, user and failure reason", async () => {
		const ok = await create();
		fake.available.set("laptop-123", 0);
		const oos = await create();
		await waitFor(async () => eventsOf(ok.order.id).length >= 4 && eventsOf(oos.order.id).length >= 4);
		const summary = (id: string) => eventsOf(id).map(e => `${e.name}:${String(e.event.status)}`);
		expect(summary(ok.order.id)).toEqual(["order.created:PENDING", "order.updated:PAID", "order.updated:STOCK_RESERVED", "order.updated:SHIPPED"]);
		expect(summary(oos.order.id)).toEqual(["order.created:PENDING", "order.updated:PAID", "order.updated:COMPENSATING", "order.updated:FAILED"]);
		expect(eventsOf(oos.order.id)[3].event).toMatchObject({ user_id: alice.id, failure_reason: "OUT_OF_STOCK", event_id: expect.any(String) });
	});

	it("emits order.cancelled when a customer cancels", async () => {
		fake.delayMs = 100;
		const res = await create({ respond_async: true });
		await broker.call("orders.cancel", { id: res.order.id }, { meta: { user: alice } });
		await waitFor(async () => eventsOf(res.order.id).some(e => e.name === EVENTS.ORDER_CANCELLED));
	});

	it("refuses bad input with a validation error and stores nothing", async () => {
		const before = ((await broker.call("orders.stats")) as { total: number }).total;
		await expect(broker.call("orders.create", orderInput({ items: [] }))).rejects.toMatchObject({ code: 422 });
		await expect(broker.call("orders.create", orderInput({ items: [{ product_id: "x", name: "X", price_cents: 100, quantity: 2.5 }] }))).rejects.toMatchObject({ code: 422 });
		expect(((await broker.call("orders.stats")) as { total: number }).total).toBe(before);
	});
});

describe("orders saga when a compensation keeps failing", () => {
	let shop: Shop;
	let stopped = false;
	const fake = newFakeState({ "laptop-123": 0, "mouse-1": 100 });

	beforeAll(async () => {
		shop = await startShop(["orders"]);
		for (const schema of fakeServices(fake)) shop.broker.createService(schema);
		await shop.broker.waitForServices(["payments", "inventory", "shipping"]);
	});
	afterAll(async () => {
		if (!stopped) await shop.stop();
	});

	it("answers with the COMPENSATING order instead of waiting forever, and finishes once the refund goes through", async () => {
		fake.failRefunds = 1_000;
		const t0 = Date.now();
		const res = (await shop.broker.call("orders.create", orderInput())) as OrderResult;
		expect(Date.now() - t0).toBeLessThan(5_000);
		expect(res.order).toMatchObject({ status: "COMPENSATING", failure_reason: null });
		// The outcome is known before the order has its failure_reason: what the failing step declares.
		expect(res.outcome).toEqual({ failure_reason: "OUT_OF_STOCK", http_status: 409 });
		expect(netCharged(fake, res.order.id)).toBe(105_099);
		fake.failRefunds = 0;
		await waitFor(async () => ((await shop.broker.call("orders.get", { id: res.order.id }, { meta: { user: alice } })) as PublicOrder).status === "FAILED", 20_000);
		expect(netCharged(fake, res.order.id)).toBe(0);
	});

	it("stops promptly on shutdown while a compensation is being retried, leaving the saga resumable", async () => {
		fake.failRefunds = 1_000;
		const res = (await shop.broker.call("orders.create", orderInput({ respond_async: true }))) as OrderResult;
		await waitFor(async () => {
			const log = (await shop.broker.call("orders.sagaLog", { id: res.saga.id })) as { steps: Array<{ compensation_attempts: number }> };
			return log.steps[0].compensation_attempts >= 2;
		});
		const log = (await shop.broker.call("orders.sagaLog", { id: res.saga.id })) as { status: string; lease_owner: string | null };
		expect(log.status).toBe("COMPENSATING");
		expect(log.lease_owner).toEqual(expect.any(String));
		const t0 = Date.now();
		await shop.stop();
		stopped = true;
		expect(Date.now() - t0).toBeLessThan(3_000);
	});
});
