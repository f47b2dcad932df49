/**
 * A voucher step that a dead node left RUNNING (its redeem reached vouchers and counted, the answer never came
 * back) is run again by the node that takes the saga over: the repeated redeem of the same order finds its record
 * and counts nothing, so a 1-use voucher does not refuse its own order and shows 1 use. And the compensation of a
 * voucher step whose outcome is unknown gives the use back once, however often it is retried.
 * Real orders and vouchers on one broker; stand-ins for payments, inventory and shipping.
 */
import { startShop, type Shop } from "../helpers/shop";
import { alice, fakeServices, netCharged, newFakeState, waitFor } from "./orders-fakes";
import { newOrderDoc, newOrderIds, sagaDataFor, type PublicOrder } from "../../services/orders/model";
import { computeBill, NO_FEES } from "../../services/common/bill";
import { createSagaState } from "../../mixins/saga/engine";
import { orderSaga } from "../../services/orders/steps";

const ADMIN = { meta: { user: { id: "u_admin", email: "admin@example.com", name: "Admin", role: "admin" } } };

type OrdersInternals = {
	collection(name: string): { insert(doc: object): Promise<unknown> };
	$sagaKv: { set(key: string, value: string, ttl?: number): Promise<void> };
	recoverSagas(): Promise<number>;
};

describe("a voucher step resumed after its node died", () => {
	let shop: Shop;
	const fake = newFakeState({ "mouse-1": 100 });

	beforeAll(async () => {
		shop = await startShop(["orders", "vouchers"], { NAMESPACE: `t-vcrash-${Date.now()}-${Math.random()}` });
		for (const schema of fakeServices(fake)) shop.broker.createService(schema);
		await shop.broker.waitForServices(["payments", "inventory", "shipping", "vouchers"]);
	});
	afterAll(() => shop.stop());

	/** An order whose saga a dead node left with the voucher step RUNNING, its lease about to expire. */
	async function leftRunning(code: string, token = "card-456") {
		const svc = shop.broker.getLocalService("orders") as unknown as OrdersInternals;
		const { orderId, sagaId } = newOrderIds(`${Date.now()}${Math.random().toString(16).slice(2)}`);
		const lines = [{ product_id: "mouse-1", name: "Mouse", price_cents: 2_000, quantity: 2 }];
		const bill = computeBill({ lines, voucher: { code, type: "fixed", value: 500 }, settings: NO_FEES });
		const data = sagaDataFor(orderId, {
			user_id: alice.id,
			items: lines,
			currency: "USD",
			shipping_address: { street: "1 Main St", city: "Springfield", country: "US" },
			payment: { token, method_id: null },
			bill,
		});
		const saga = createSagaState(orderSaga(async () => null, data), sagaId, data);
		expect(saga.steps.map(s => s.name)).toEqual(["voucher", "payment", "inventory", "shipping"]);
		saga.steps[0] = { ...saga.steps[0], status: "RUNNING", attempts: 1 };
		await svc.collection("orders").insert(newOrderDoc(saga, undefined, [], new Date().toISOString()));
		await svc.$sagaKv.set(`saga-lease:${sagaId}`, "dead-node:1", 200);
		return { svc, orderId, total: bill.total_cents };
	}
	const usesOf = async (code: string) => (await shop.broker.call<{ uses: number }, object>("vouchers.get", { code }, ADMIN)).uses;
	const orderOf = (id: string) => shop.broker.call<PublicOrder, object>("orders.get", { id }, { meta: { user: alice } });

	it("counts the redeem that reached vouchers before the crash once, and the order goes through with its discount", async () => {
		await shop.broker.call("vouchers.create", { code: "CRASH1", type: "fixed", value: 5, max_uses: 1 }, ADMIN);
		const { svc, orderId, total } = await leftRunning("CRASH1");
		// The dead node's redeem reached vouchers and was counted; its answer was lost with the node.
		await shop.broker.call("vouchers.redeem", { code: "CRASH1", order_id: orderId, user_id: alice.id, discount_cents: 500 });
		expect(await usesOf("CRASH1")).toBe(1);

		await new Promise(r => setTimeout(r, 250));
		await svc.recoverSagas();
		await waitFor(async () => (await orderOf(orderId)).status === "SHIPPED");
		expect(await orderOf(orderId)).toMatchObject({ subtotal: 40, discount: 5, total: 35, voucher: { code: "CRASH1", discount: 5 } });
		expect(await usesOf("CRASH1")).toBe(1);
		expect(netCharged(fake, orderId)).toBe(total);
	});

	it("gives the use back once when the resumed order fails, whatever the number of releases", async () => {
		await shop.broker.call("vouchers.create", { code: "CRASH2", type: "fixed", value: 5, max_uses: 1 }, ADMIN);
		const { svc, orderId } = await leftRunning("CRASH2", "card-declined");
		await shop.broker.call("vouchers.redeem", { code: "crash2", order_id: orderId, user_id: alice.id, discount_cents: 500 });

		await new Promise(r => setTimeout(r, 250));
		await svc.recoverSagas();
		await waitFor(async () => (await orderOf(orderId)).status === "FAILED");
		expect((await orderOf(orderId)).failure_reason).toBe("PAYMENT_ERROR");
		expect(await usesOf("CRASH2")).toBe(0);
		// A compensation retried (its answer lost) changes nothing more.
		await shop.broker.call("vouchers.release", { code: "CRASH2", order_id: orderId });
		expect(await usesOf("CRASH2")).toBe(0);
		expect(netCharged(fake, orderId)).toBe(0);
	});
});
