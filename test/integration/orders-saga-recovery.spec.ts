/**
 * Orders saga recovery at broker level (stand-in payments, inventory and shipping): a saga a dead node left
 * behind is taken over once its lease expires, and runs to the end once.
 */
import { startShop, type Shop } from "../helpers/shop";
import { alice, fakeServices, netCharged, newFakeState, orderInput, waitFor } from "./orders-fakes";
import { newOrderDoc, newOrderIds, sagaDataFor, type PublicOrder } from "../../services/orders/model";
import { createSagaState } from "../../mixins/saga/engine";
import { orderSaga } from "../../services/orders/steps";

describe("orders saga recovery (saga mixin leases)", () => {
	let shop: Shop;
	const fake = newFakeState({ "laptop-123": 10, "mouse-1": 100 });
	type OrdersInternals = {
		collection(name: string): { insert(doc: object): Promise<unknown> };
		$sagaKv: { set(key: string, value: string, ttl?: number): Promise<void> };
		recoverSagas(): Promise<number>;
		prepareSaga(id: string, data: unknown): Promise<unknown>;
		runSaga(ctx: null, state: unknown): { done: Promise<unknown> };
	};

	beforeAll(async () => {
		shop = await startShop(["orders"]);
		for (const schema of fakeServices(fake)) shop.broker.createService(schema);
		await shop.broker.waitForServices(["payments", "inventory", "shipping"]);
	});
	afterAll(() => shop.stop());

	it("takes over a saga left RUNNING by a dead node once its lease expires, re-running the step with the same key", async () => {
		const svc = shop.broker.getLocalService("orders") as unknown as OrdersInternals;
		const { orderId, sagaId } = newOrderIds(`${Date.now()}-recovery-test`);
		const data = sagaDataFor(orderId, orderInput());
		const saga = createSagaState(orderSaga(async () => null, data), sagaId, data);
		// The dead node had charged (its answer stored) and was reserving stock when it died.
		const charge = (await shop.broker.call("payments.charge", {
			order_id: orderId,
			user_id: alice.id,
			amount_cents: data.total_cents,
			currency: "USD",
			token: "card-456",
			idempotency_key: `${sagaId}:payment`,
		})) as { payment_id: string };
		saga.steps[0] = { ...saga.steps[0], status: "DONE", attempts: 1, result: charge };
		saga.steps[1] = { ...saga.steps[1], status: "RUNNING", attempts: 1 };
		const doc = newOrderDoc(saga, undefined, [], new Date().toISOString());
		await svc.collection("orders").insert({ ...doc, status: "PAID", history: [...doc.history, { status: "PAID", at: doc.created_at, reason: "payment step done" }] });
		await svc.$sagaKv.set(`saga-lease:${sagaId}`, "dead-node:1234", 300);

		// While the dead node's lease lasts, nobody touches the saga.
		expect(await svc.recoverSagas()).toBe(0);
		await new Promise(r => setTimeout(r, 100));
		expect(fake.log).not.toContain(`inventory.reserve ${orderId}`);
		await new Promise(r => setTimeout(r, 250));
		await svc.recoverSagas(); // (the periodic sweep may have taken it first)
		await waitFor(async () => ((await shop.broker.call("orders.get", { id: orderId }, { meta: { user: alice } })) as PublicOrder).status === "SHIPPED");
		expect(fake.log.filter(l => l === `payments.charge ${orderId}`)).toHaveLength(1);
		expect(fake.log).toContain(`inventory.reserve ${orderId}`);
		expect(netCharged(fake, orderId)).toBe(data.total_cents);
		const log = (await shop.broker.call("orders.sagaLog", { id: sagaId })) as { status: string; steps: Array<{ attempts: number }>; lease_owner: string | null };
		expect(log).toMatchObject({ status: "COMPLETED", lease_owner: null });
		expect(log.steps[1].attempts).toBe(2);
	});

	it("does not undo an order that shipped while a cancel waited and its node died: the resumed saga completes it", async () => {
		const svc = shop.broker.getLocalService("orders") as unknown as OrdersInternals;
		const { orderId, sagaId } = newOrderIds(`${Date.now()}-late-cancel`);
		const data = sagaDataFor(orderId, orderInput());
		const saga = createSagaState(orderSaga(async () => null, data), sagaId, data);
		const key = (step: string) => `${sagaId}:${step}`;
		const charge = await shop.broker.call("payments.charge", { order_id: orderId, user_id: alice.id, amount_cents: data.total_cents, currency: "USD", token: "card-456", idempotency_key: key("payment") });
		const reserved = await shop.broker.call("inventory.reserve", { order_id: orderId, items: data.items.map(i => ({ product_id: i.product_id, quantity: i.quantity })), idempotency_key: key("inventory") });
		saga.steps[0] = { ...saga.steps[0], status: "DONE", attempts: 1, result: charge };
		saga.steps[1] = { ...saga.steps[1], status: "DONE", attempts: 1, result: reserved };
		// The dead node was shipping when it died; the parcel left (shipping told orders: SHIPPED) and the customer's cancel came too late.
		saga.steps[2] = { ...saga.steps[2], status: "RUNNING", attempts: 1 };
		const doc = newOrderDoc(saga, undefined, [], new Date().toISOString());
		const history = ["PAID", "STOCK_RESERVED", "SHIPPED"].map(status => ({ status, at: doc.created_at, reason: "before the crash" }));
		await svc.collection("orders").insert({ ...doc, status: "SHIPPED", cancel_requested: true, history: [...doc.history, ...history] });
		await svc.$sagaKv.set(`saga-lease:${sagaId}`, "dead-node:1234", 1);

		await new Promise(r => setTimeout(r, 1100));
		await svc.recoverSagas();
		await waitFor(async () => ((await shop.broker.call("orders.sagaLog", { id: sagaId })) as { status: string }).status === "COMPLETED");
		const order = (await shop.broker.call("orders.get", { id: orderId }, { meta: { user: alice } })) as PublicOrder;
		expect(order.status).toBe("SHIPPED");
		expect(netCharged(fake, orderId)).toBe(data.total_cents);
		expect(fake.log).not.toContain(`inventory.release ${orderId}`);
	});

	it("never takes over a saga that this node prepared and is about to run, so it runs once", async () => {
		const svc = shop.broker.getLocalService("orders") as unknown as OrdersInternals;
		const { orderId, sagaId } = newOrderIds(`${Date.now()}-prepared-test`);
		// orders.create between prepareSaga and runSaga (storing the order, publishing order.created) when the sweep runs.
		const saga = await svc.prepareSaga(sagaId, sagaDataFor(orderId, orderInput()));
		await svc.collection("orders").insert(newOrderDoc(saga as Parameters<typeof newOrderDoc>[0], undefined, [], new Date().toISOString()));
		expect(await svc.recoverSagas()).toBe(0);
		await svc.runSaga(null, saga).done;
		await new Promise(r => setTimeout(r, 100));
		expect(fake.log.filter(l => l === `payments.charge ${orderId}`)).toHaveLength(1);
		expect(fake.log.filter(l => l === `inventory.reserve ${orderId}`)).toHaveLength(1);
	});
});
