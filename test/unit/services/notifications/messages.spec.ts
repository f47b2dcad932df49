import { EVENTS } from "../../../../services/common/events";
import { MILESTONES, NOTIFIED_EVENTS, draftFor, expectedMilestones, milestoneOf, notificationId } from "../../../../services/notifications/messages";

const at = "2026-01-01T00:00:00.000Z";
const history = (...statuses: string[]): Array<{ status: string; at: string; reason: null }> => statuses.map(status => ({ status, at, reason: null }));
const updated = (status: string, failure_reason: string | null = null): Record<string, unknown> => ({
	order_id: "ord_1",
	user_id: "u1",
	status,
	failure_reason,
	reason: null,
	total_cents: 3998,
	currency: "USD",
});

describe("expectedMilestones", () => {
	it("gives a delivered order placed, shipped and delivered", () => {
		const order = { status: "DELIVERED", failure_reason: null, history: history("PENDING", "PAID", "STOCK_RESERVED", "SHIPPED", "DELIVERED") };
		expect(expectedMilestones(order)).toEqual(["placed", "shipped", "delivered"]);
	});

	it("gives a declined payment placed and payment failed, with no refund", () => {
		const order = { status: "FAILED", failure_reason: "PAYMENT_ERROR", history: history("PENDING", "FAILED") };
		expect(expectedMilestones(order)).toEqual(["placed", "payment_failed"]);
	});

	it("gives an order that ran out of stock after payment placed, cancelled and refunded", () => {
		const order = { status: "FAILED", failure_reason: "OUT_OF_STOCK", history: history("PENDING", "PAID", "COMPENSATING", "FAILED") };
		expect(expectedMilestones(order)).toEqual(["placed", "cancelled", "refunded"]);
	});

	it("gives a customer's cancellation before payment no refund, and one after payment a refund", () => {
		expect(expectedMilestones({ status: "CANCELLED", history: history("PENDING", "CANCELLED") })).toEqual(["placed", "cancelled"]);
		expect(expectedMilestones({ status: "CANCELLED", history: history("PENDING", "PAID", "STOCK_RESERVED", "COMPENSATING", "CANCELLED") })).toEqual([
			"placed",
			"cancelled",
			"refunded",
		]);
	});

	it("lets the payment records decide the refund of a charge whose answer was lost", () => {
		const order = { status: "FAILED", failure_reason: "PAYMENT_ERROR", history: history("PENDING", "COMPENSATING", "FAILED") };
		expect(expectedMilestones(order, { refunded: true })).toEqual(["placed", "payment_failed", "refunded"]);
		expect(expectedMilestones(order)).toEqual(["placed", "payment_failed"]);
	});

	it("gives an order in progress only what has happened", () => {
		expect(expectedMilestones({ status: "STOCK_RESERVED", history: history("PENDING", "PAID", "STOCK_RESERVED") })).toEqual(["placed"]);
	});
});

describe("milestoneOf", () => {
	it("agrees with expectedMilestones on every history entry an order.updated event reports", () => {
		const order = { status: "FAILED", failure_reason: "OUT_OF_STOCK", history: history("PENDING", "PAID", "COMPENSATING", "FAILED") };
		const fromEvents = [
			milestoneOf(EVENTS.ORDER_CREATED, { status: "PENDING" }),
			...order.history.map(h => milestoneOf(EVENTS.ORDER_UPDATED, { status: h.status, failure_reason: order.failure_reason })),
			milestoneOf(EVENTS.PAYMENT_REFUNDED, {}),
		].filter(Boolean);
		expect(fromEvents.sort()).toEqual(expectedMilestones(order).sort());
	});

	it("tells nothing about the steps in between, nor a second placed", () => {
		for (const status of ["PENDING", "PAID", "STOCK_RESERVED", "COMPENSATING"]) expect(milestoneOf(EVENTS.ORDER_UPDATED, { status })).toBeNull();
	});
});

describe("draftFor", () => {
	it("tells the customer that their order is on its way, with carrier and tracking number when known", () => {
		expect(draftFor(EVENTS.ORDER_UPDATED, updated("SHIPPED"), { carrier: "UPS", tracking_number: "1Z" })).toEqual({
			user_id: "u1",
			audience: "customer",
			order_id: "ord_1",
			milestone: "shipped",
			title: "Order shipped",
			message: "Your order ord_1 is on its way with UPS, tracking number 1Z.",
		});
		expect(draftFor(EVENTS.ORDER_UPDATED, updated("SHIPPED"))?.message).toBe("Your order ord_1 is on its way.");
	});

	it("states the total of a placed order in currency units", () => {
		expect(draftFor(EVENTS.ORDER_CREATED, { order_id: "ord_1", user_id: "u1", total_cents: 500, currency: "EUR" })?.message).toBe(
			"Thank you for your order ord_1 (total 5.00 EUR). We will let you know when it ships.",
		);
	});

	it("states the refunded amount", () => {
		expect(draftFor(EVENTS.PAYMENT_REFUNDED, { order_id: "ord_1", user_id: "u1", amount_cents: 99999, currency: "USD" })?.message).toBe(
			"We have refunded 999.99 USD for your order ord_1. It can take a few days to appear on your statement.",
		);
	});

	it("says in the customer's words why the shop cancelled an order, and never shows internal states", () => {
		expect(draftFor(EVENTS.ORDER_UPDATED, updated("FAILED", "SHIPPING_ERROR"))?.message).toBe(
			"We are sorry: we had to cancel your order ord_1 because we could not arrange its delivery. Your payment will be refunded in full.",
		);
		expect(draftFor(EVENTS.ORDER_UPDATED, updated("CANCELLED"))?.message).toBe("Your order ord_1 has been cancelled as you asked.");
		expect(draftFor(EVENTS.ORDER_UPDATED, updated("FAILED", "PAYMENT_ERROR"))).toMatchObject({ milestone: "payment_failed", title: "Payment failed" });
		expect(draftFor(EVENTS.ORDER_UPDATED, updated("COMPENSATING"))).toBeNull();
	});

	it("sends low stock to the admins and tells nobody about an order event without a customer", () => {
		expect(draftFor(EVENTS.INVENTORY_LOW, { product_id: "laptop-123", available: 2, threshold: 5 })).toMatchObject({
			user_id: null,
			audience: "admins",
			milestone: null,
			message: "Stock of laptop-123 is low: 2 left (threshold 5).",
		});
		expect(draftFor(EVENTS.ORDER_UPDATED, { ...updated("SHIPPED"), user_id: null })).toBeNull();
	});

	it("has a message for every milestone and none for events it does not consume", () => {
		const titles = new Set<string>();
		for (const name of NOTIFIED_EVENTS) expect(name).toMatch(/^(order|payment|inventory)\./);
		for (const [status, reason] of [["SHIPPED"], ["DELIVERED"], ["CANCELLED"], ["FAILED", "PAYMENT_ERROR"]] as const)
			titles.add(draftFor(EVENTS.ORDER_UPDATED, updated(status, reason ?? null))?.title ?? "");
		titles.add(draftFor(EVENTS.ORDER_CREATED, updated("PENDING"))?.title ?? "");
		titles.add(draftFor(EVENTS.PAYMENT_REFUNDED, updated("REFUNDED"))?.title ?? "");
		expect(titles.size).toBe(MILESTONES.length);
		expect(draftFor(EVENTS.PRODUCT_CREATED, {})).toBeNull();
		expect(draftFor(EVENTS.ORDER_SHIPPED, { order_id: "o", user_id: "u" })).toBeNull();
	});
});

describe("notificationId", () => {
	it("is one per order and milestone, whichever event told it, and per event for the admins' notices", () => {
		const a = draftFor(EVENTS.ORDER_UPDATED, updated("DELIVERED"));
		const b = draftFor(EVENTS.ORDER_UPDATED, updated("DELIVERED"));
		expect(a && b && notificationId(a, "ev1")).toBe(a && b && notificationId(b, "ev2"));
		expect(notificationId(a!, "ev1")).toBe("ntf_ord_1_delivered");
		const low = draftFor(EVENTS.INVENTORY_LOW, { product_id: "p", available: 1, threshold: 5 });
		expect(notificationId(low!, "ev3")).toBe("ntf_ev3");
	});
});
