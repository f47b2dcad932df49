/**
 * Valid payloads of domain events for tests that publish events of their own (every publish is checked against the
 * event's schema, services/common/event-schemas.ts): `payloadOf(EVENTS.ORDER_CREATED, { order_id: "o1" })`.
 */
import { EVENTS, type EventName } from "../../services/common/events";

const order = { order_id: "ord_test", user_id: "usr_test" };
const payment = { ...order, payment_id: "pay_test", amount_cents: 1000, currency: "USD" };
const product = {
	id: "prd_test",
	name: "Test product",
	description: "",
	brand: "Acme",
	category: "tests",
	price_cents: 1000,
	currency: "USD",
	image_url: null,
	tags: [],
	rating_average: 0,
	rating_count: 0,
	active: true,
	version: 1,
	created_at: "2026-01-01T00:00:00.000Z",
	updated_at: "2026-01-01T00:00:00.000Z",
};

const SAMPLES: Record<EventName, Record<string, unknown>> = {
	[EVENTS.USER_REGISTERED]: { user_id: "usr_test", email: "test@example.com", name: "Test" },
	[EVENTS.PRODUCT_CREATED]: { product_id: product.id, version: 1, product },
	[EVENTS.PRODUCT_UPDATED]: { product_id: product.id, version: 1, product },
	[EVENTS.PRODUCT_PRICE_CHANGED]: { product_id: product.id, version: 2, currency: "USD", old_price_cents: 1000, new_price_cents: 900, old_price: 10, new_price: 9 },
	[EVENTS.PRODUCT_DELETED]: { product_id: product.id, version: 2 },
	[EVENTS.INVENTORY_RESERVED]: { ...order, lines: [{ product_id: product.id, warehouse_id: "wh_1", quantity: 1 }] },
	[EVENTS.INVENTORY_RESERVATION_FAILED]: { ...order, product_id: product.id, requested: 2, available: 1, reason: "INSUFFICIENT_STOCK" },
	[EVENTS.INVENTORY_RELEASED]: { ...order, lines: [{ product_id: product.id, warehouse_id: "wh_1", quantity: 1 }], reason: null, was_committed: false },
	[EVENTS.INVENTORY_LOW]: { product_id: product.id, available: 1, threshold: 5 },
	[EVENTS.REVIEW_CREATED]: { review_id: "rev_test", product_id: product.id, user_id: "usr_test", rating: 5, average_rating: 5, rating_count: 1 },
	[EVENTS.ORDER_CREATED]: { ...order, status: "PENDING", total_cents: 1000, currency: "USD", items: [{ product_id: product.id, quantity: 1 }] },
	[EVENTS.ORDER_UPDATED]: { ...order, status: "PAID", failure_reason: null, reason: null, total_cents: 1000, currency: "USD" },
	[EVENTS.ORDER_CANCELLED]: { ...order, reason: null },
	[EVENTS.ORDER_SHIPPED]: { ...order, shipment_id: "shp_test", carrier: "TestPost", tracking_number: "TP1" },
	[EVENTS.ORDER_DELIVERED]: { ...order, shipment_id: "shp_test" },
	[EVENTS.SHIPMENT_DELIVERED]: {
		...order,
		shipment_id: "shp_test",
		shop_id: "shopflow",
		currency: "USD",
		lines: [{ product_id: product.id, quantity: 1, amount_cents: 1000 }],
		shipments: [{ id: "shp_test", shop_id: "shopflow", status: "DELIVERED" }],
	},
	[EVENTS.VOUCHER_REDEEMED]: { code: "WELCOME10", order_id: "ord_test", voucher_type: "percent", discount_cents: 100, uses: 1 },
	[EVENTS.VOUCHER_RELEASED]: { code: "WELCOME10", order_id: "ord_test", voucher_type: "percent", discount_cents: 100, uses: 0 },
	[EVENTS.PAYMENT_PROCESSED]: payment,
	[EVENTS.PAYMENT_FAILED]: { ...payment, reason: "declined" },
	[EVENTS.PAYMENT_REFUNDED]: { ...payment, refund_id: "ref_test", reason: "refund" },
	[EVENTS.NOTIFICATION_SENT]: { notification_id: "ntf_test", user_id: "usr_test", channel: "email", source_event: "order.created", source_event_id: "e", order_id: null },
	[EVENTS.SHOP_CREATED]: { shop_id: "shp_house", owner_id: null, status: "PENDING", version: 1 },
	[EVENTS.SHOP_APPROVED]: { shop_id: "shp_house", owner_id: null, status: "ACTIVE", version: 2 },
	[EVENTS.SHOP_SUSPENDED]: { shop_id: "shp_house", owner_id: null, status: "SUSPENDED", version: 3 },
};

/** A payload of `name` that passes its schema, with `fields` put over the sample values. */
export function payloadOf<T extends Record<string, unknown>>(name: EventName, fields: T): Record<string, unknown> & T {
	return { ...SAMPLES[name], ...fields };
}
