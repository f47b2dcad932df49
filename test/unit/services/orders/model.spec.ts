import { newOrderDoc, newOrderIds, orderIdOf, sagaDataFor, toPublicOrder, toSagaLog, toSagaSummary } from "../../../../services/orders/model";
import { createSagaState } from "../../../../mixins/saga/engine";
import { orderSaga } from "../../../../services/orders/steps";

const NOW = "2026-01-01T00:00:00.000Z";

function order() {
	const { orderId, sagaId } = newOrderIds("0f8fad5b-d9cb-469f-a165-70867728950e");
	const data = sagaDataFor(orderId, {
		user_id: "u1",
		items: [
			{ product_id: "laptop-123", name: "Laptop", price_cents: 99_999, quantity: 1 },
			{ product_id: "mouse-1", name: "Mouse", price_cents: 1_005, quantity: 3 },
		],
		currency: "USD",
		shipping_address: { street: "1 Main St", city: "Springfield" },
		payment: { token: "card-456" },
	});
	const saga = createSagaState(orderSaga(async () => null, data), sagaId, data);
	return newOrderDoc(saga, undefined, [], NOW);
}

describe("order model", () => {
	it("derives the saga id from the order id and back", () => {
		const { orderId, sagaId } = newOrderIds("0f8fad5b-d9cb-469f-a165-70867728950e");
		expect(orderId).toBe("ord_0f8fad5bd9cb469fa165");
		expect(sagaId).toBe("saga_0f8fad5bd9cb469fa165");
		expect(orderIdOf(sagaId)).toBe(orderId);
		expect(orderIdOf(orderId)).toBe(orderId);
	});

	it("totals the lines in cents and shows money in decimal units", () => {
		const doc = order();
		expect(doc.total_cents).toBe(103_014);
		expect(doc.idempotency_key).toBe(doc.id);
		const pub = toPublicOrder(doc);
		expect(pub).toMatchObject({ status: "PENDING", total: 1030.14, failure_reason: null, payment_id: null, created_at: NOW });
		expect(pub.items[1]).toEqual({ product_id: "mouse-1", name: "Mouse", price: 10.05, quantity: 3, shop_id: "shopflow", amount: 30.15 });
		expect(pub.history).toEqual([{ status: "PENDING", at: NOW, reason: "order placed" }]);
		expect(JSON.stringify(pub)).not.toMatch(/saga|card-456|rev|pending_events/);
	});

	it("summarises the saga for checkout and masks the payment token in the admin log", () => {
		const doc = order();
		doc.saga.steps[0].error = { code: 402, type: "PAYMENT_DECLINED", message: "declined", retryable: false, kind: "business", reached: true };
		const summary = toSagaSummary(doc.saga);
		expect(summary.steps.map(s => s.name)).toEqual(["payment", "inventory", "shipping"]);
		expect(summary.steps[0].error).toEqual({ code: 402, type: "PAYMENT_DECLINED", message: "declined", retryable: false, kind: "business" });
		const log = toSagaLog(doc);
		expect(log).toMatchObject({ order_id: doc.id, order_status: "PENDING" });
		expect(JSON.stringify(log)).not.toContain("card-456");
	});
});
