import { EVENTS } from "../../../../services/common/events";
import { NOTIFIED_EVENTS, draftFor } from "../../../../services/notifications/messages";

describe("notification messages", () => {
	it("tells the customer that their order has shipped, with carrier and tracking number", () => {
		expect(draftFor(EVENTS.ORDER_SHIPPED, { order_id: "ord_1", user_id: "u1", carrier: "UPS", tracking_number: "1Z" })).toEqual({
			user_id: "u1",
			audience: "customer",
			order_id: "ord_1",
			title: "Order shipped",
			message: "Your order ord_1 has shipped with UPS, tracking number 1Z.",
		});
	});

	it("states amounts in currency units", () => {
		expect(draftFor(EVENTS.PAYMENT_REFUNDED, { order_id: "ord_1", user_id: "u1", amount_cents: 99999, currency: "USD" })?.message).toBe(
			"We refunded 999.99 USD for order ord_1.",
		);
	});

	it("states the total of a new order", () => {
		expect(draftFor(EVENTS.ORDER_CREATED, { order_id: "ord_1", user_id: "u1", total_cents: 500, currency: "EUR" })?.message).toBe(
			"Your order ord_1 has been received (total 5.00 EUR).",
		);
	});

	it("names the failure reason of a failed order", () => {
		const d = draftFor(EVENTS.ORDER_UPDATED, { order_id: "ord_2", user_id: "u1", status: "FAILED", failure_reason: "PAYMENT_ERROR" });
		expect(d?.message).toBe("Your order ord_2 could not be completed (PAYMENT_ERROR).");
	});

	it("sends low stock and events without a customer to the admins", () => {
		expect(draftFor(EVENTS.INVENTORY_LOW, { product_id: "laptop-123", available: 2, threshold: 5 })).toMatchObject({
			user_id: null,
			audience: "admins",
			message: "Stock of laptop-123 is low: 2 left (threshold 5).",
		});
		expect(draftFor(EVENTS.INVENTORY_RESERVED, { order_id: "ord_3", user_id: null })).toMatchObject({ user_id: null, audience: "admins" });
	});

	it("has a message for every consumed event and none for others", () => {
		for (const name of NOTIFIED_EVENTS) expect(draftFor(name, { order_id: "o", user_id: "u", status: "PAID" })).not.toBeNull();
		expect(draftFor(EVENTS.PRODUCT_CREATED, {})).toBeNull();
	});
});
