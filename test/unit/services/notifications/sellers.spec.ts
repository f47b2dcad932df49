import { EVENTS } from "../../../../services/common/events";
import { itemQuantities, sellerDraft, sellerEventOf, sellerNotificationId } from "../../../../services/notifications/sellers";

const updated = (status: string, failure_reason: string | null = null): Record<string, unknown> => ({ order_id: "ord_1", user_id: "u1", status, failure_reason });
const part = { shop_id: "shop-a", shop_name: "Alice's", owner_id: "u-alice", lines: [{ product_id: "p1", name: "Lamp", quantity: 2 }] };

describe("sellerEventOf", () => {
	it("tells sellers of a paid order and of an order undone after or before payment", () => {
		expect(sellerEventOf(EVENTS.ORDER_UPDATED, updated("PAID"))).toBe("paid");
		expect(sellerEventOf(EVENTS.ORDER_UPDATED, updated("CANCELLED"))).toBe("cancelled");
		for (const reason of ["OUT_OF_STOCK", "INVENTORY_UNAVAILABLE", "SHIPPING_ERROR"]) expect(sellerEventOf(EVENTS.ORDER_UPDATED, updated("FAILED", reason))).toBe("cancelled");
	});

	it("tells sellers nothing of a failed payment, the steps in between, or other events", () => {
		expect(sellerEventOf(EVENTS.ORDER_UPDATED, updated("FAILED", "PAYMENT_ERROR"))).toBeNull();
		expect(sellerEventOf(EVENTS.ORDER_UPDATED, updated("FAILED", "VOUCHER_UNAVAILABLE"))).toBeNull();
		for (const s of ["PENDING", "STOCK_RESERVED", "COMPENSATING", "SHIPPED", "DELIVERED"]) expect(sellerEventOf(EVENTS.ORDER_UPDATED, updated(s))).toBeNull();
		expect(sellerEventOf(EVENTS.ORDER_CANCELLED, updated("CANCELLED"))).toBeNull();
		expect(sellerEventOf(EVENTS.PAYMENT_REFUNDED, {})).toBeNull();
	});
});

describe("sellerDraft", () => {
	it("names the shop's lines and is one notification per order, shop and seller event", () => {
		const paid = sellerDraft("paid", "ord_1", part, updated("PAID"));
		expect(paid).toMatchObject({ user_id: "u-alice", audience: "seller", shop_id: "shop-a", seller_event: "paid" });
		expect(paid.message).toBe("Order ord_1 is paid: 2 × Lamp. Please prepare the shipment.");
		const cancelled = sellerDraft("cancelled", "ord_1", part, updated("FAILED", "SHIPPING_ERROR"));
		expect(cancelled.message).toBe("Order ord_1 was cancelled (its delivery could not be arranged): do not ship 2 × Lamp.");
		expect(sellerNotificationId(paid)).toBe("ntf_ord_1_shop-a_seller_paid");
		expect(sellerNotificationId(cancelled)).not.toBe(sellerNotificationId(paid));
	});

	it("adds up one product on two lines and skips malformed items", () => {
		const q = itemQuantities([{ product_id: "p1", quantity: 1 }, { product_id: "p1", quantity: 2 }, { product_id: 3, quantity: 1 }, null]);
		expect([...q]).toEqual([["p1", 3]]);
		expect(itemQuantities(undefined).size).toBe(0);
	});
});
