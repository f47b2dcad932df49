/**
 * Domain events: facts in the past tense, declared once with their payload types. Every payload carries
 * `event_id` (consumers de-duplicate on it), `occurred_at` and the ids a consumer needs.
 */
export const EVENTS = {
	USER_REGISTERED: "user.registered",
	PRODUCT_CREATED: "product.created",
	PRODUCT_UPDATED: "product.updated",
	PRODUCT_PRICE_CHANGED: "product.price-changed",
	PRODUCT_DELETED: "product.deleted",
	INVENTORY_RESERVED: "inventory.reserved",
	INVENTORY_RESERVATION_FAILED: "inventory.reservation-failed",
	INVENTORY_RELEASED: "inventory.released",
	INVENTORY_LOW: "inventory.low",
	REVIEW_CREATED: "review.created",
	ORDER_CREATED: "order.created",
	ORDER_UPDATED: "order.updated",
	ORDER_CANCELLED: "order.cancelled",
	ORDER_SHIPPED: "order.shipped",
	ORDER_DELIVERED: "order.delivered",
	SHIPMENT_DELIVERED: "shipment.delivered",
	PAYMENT_PROCESSED: "payment.processed",
	PAYMENT_FAILED: "payment.failed",
	PAYMENT_REFUNDED: "payment.refunded",
	NOTIFICATION_SENT: "notification.sent",
	SHOP_CREATED: "shop.created",
	SHOP_APPROVED: "shop.approved",
	SHOP_SUSPENDED: "shop.suspended",
	VOUCHER_REDEEMED: "voucher.redeemed",
	VOUCHER_RELEASED: "voucher.released",
} as const;

export type EventName = (typeof EVENTS)[keyof typeof EVENTS];

/** Fields every domain event carries. */
export interface EventEnvelope {
	event_id: string;
	occurred_at: string;
}

export interface UserRegisteredPayload {
	user_id: string;
	email: string;
	name: string;
}

/** payment.processed: a charge was captured by the gateway. */
export interface PaymentProcessedPayload {
	payment_id: string;
	order_id: string;
	user_id: string;
	amount_cents: number;
	currency: string;
}

/** payment.failed: the gateway declined a charge (a business failure; technical failures are retried, not announced). */
export interface PaymentFailedPayload {
	payment_id: string;
	order_id: string;
	user_id: string;
	amount_cents: number;
	currency: string;
	reason: string;
}

/** payment.refunded: a captured charge was given back in full. */
export interface PaymentRefundedPayload {
	payment_id: string;
	refund_id: string;
	order_id: string;
	user_id: string;
	amount_cents: number;
	currency: string;
	reason: string;
}

/** order.created: an order was stored as PENDING; its saga starts. */
export interface OrderCreatedPayload {
	order_id: string;
	user_id: string;
	status: "PENDING";
	total_cents: number;
	currency: string;
	items: Array<{ product_id: string; quantity: number }>;
}

/** order.updated: an order moved to `status` (one event per history entry). */
export interface OrderUpdatedPayload {
	order_id: string;
	user_id: string;
	status: string;
	/** VOUCHER_UNAVAILABLE, PAYMENT_ERROR, OUT_OF_STOCK, INVENTORY_UNAVAILABLE or SHIPPING_ERROR when status is FAILED, else null. */
	failure_reason: string | null;
	reason: string | null;
	total_cents: number;
	currency: string;
}

/** order.cancelled: the customer cancelled before shipment; payment refunded and stock released. */
export interface OrderCancelledPayload {
	order_id: string;
	user_id: string;
	reason: string | null;
}

/** order.shipped: the shipment of an order left the warehouse (stock committed). */
export interface OrderShippedPayload {
	order_id: string;
	user_id: string;
	shipment_id: string;
	carrier: string;
	tracking_number: string;
	/** One per shop of the order's lines. */
	shipments?: Array<{ id: string; shop_id: string; status: string }>;
}

/**
 * shipment.delivered: one shop's parcel of an order reached the customer (the shop's ledger counts its lines);
 * order.delivered follows once every parcel of the order has.
 */
export interface ShipmentDeliveredPayload {
	order_id: string;
	user_id: string;
	/** The parcel's id (the shipment's own id in a single-shop order). */
	shipment_id: string;
	shop_id: string;
	currency: string;
	/** The parcel's lines, each with its amount in cents after its share of the discount. */
	lines: Array<{ product_id: string; quantity: number; amount_cents: number }>;
	/** Every parcel of the order with its status after this delivery. */
	shipments: Array<{ id: string; shop_id: string; status: string }>;
}

/** order.delivered: the shipment of an order reached the customer. */
export interface OrderDeliveredPayload {
	order_id: string;
	user_id: string;
	shipment_id: string;
}

/** A product as product events carry it: prices in integer cents, `version` raised by every change. */
export interface ProductSnapshot {
	id: string;
	name: string;
	description: string;
	brand: string;
	category: string;
	price_cents: number;
	currency: string;
	image_url: string | null;
	tags: string[];
	rating_average: number;
	rating_count: number;
	active: boolean;
	version: number;
	created_at: string;
	updated_at: string;
	/** The shop that sells it (rows stored before shops existed belong to the house shop). */
	shop_id?: string;
	/** False while its shop is not ACTIVE (pending or suspended): the product is then out of the catalog and search. */
	shop_listed?: boolean;
	/** The shop version whose status `shop_listed` reflects (shop events apply only when newer). */
	shop_version?: number;
}

/** shop.created, shop.approved and shop.suspended: a shop's status as of its `version`. */
export interface ShopChangedPayload {
	shop_id: string;
	owner_id: string | null;
	status: "PENDING" | "ACTIVE" | "SUSPENDED";
	version: number;
}

/** product.created and product.updated: the product as stored after the change. */
export interface ProductChangedPayload {
	product_id: string;
	version: number;
	product: ProductSnapshot;
}

/** product.price-changed: the old and the new price of one product. */
export interface ProductPriceChangedPayload {
	product_id: string;
	version: number;
	currency: string;
	old_price_cents: number;
	new_price_cents: number;
	old_price: number;
	new_price: number;
}

/** product.deleted: the product left the catalog (kept, inactive, for re-pricing to refuse). */
export interface ProductDeletedPayload {
	product_id: string;
	version: number;
}

/** One reserved or released part of an order's stock, in one warehouse. */
export interface StockLine {
	product_id: string;
	warehouse_id: string;
	quantity: number;
}

/** inventory.reserved: every line of an order is held. */
export interface InventoryReservedPayload {
	order_id: string;
	user_id: string | null;
	lines: StockLine[];
}

/** inventory.reservation-failed: an order asked for more than is available; nothing is held. */
export interface InventoryReservationFailedPayload {
	order_id: string;
	user_id: string | null;
	product_id: string;
	requested: number;
	available: number;
	reason: "INSUFFICIENT_STOCK";
}

/** inventory.released: what an order held went back to stock (on_hand too when it was committed). */
export interface InventoryReleasedPayload {
	order_id: string;
	user_id: string | null;
	lines: StockLine[];
	reason: string | null;
	was_committed: boolean;
}

/** inventory.low: a product's available units fell below the threshold. */
export interface InventoryLowPayload {
	product_id: string;
	available: number;
	threshold: number;
}

/** review.created: a review was stored; carries the product's new average and count. */
export interface ReviewCreatedPayload {
	review_id: string;
	product_id: string;
	user_id: string;
	rating: number;
	average_rating: number;
	rating_count: number;
}

/** A payload as published: the domain fields plus the envelope. */
export type DomainEvent<T extends object = Record<string, unknown>> = T & EventEnvelope;

/** notification.sent: a notification about an event was stored for its recipient on their channel. */
export interface NotificationSentPayload {
	notification_id: string;
	/** null for notices to the admins (inventory.low). */
	user_id: string | null;
	channel: "email" | "sms" | "push";
	/** Every channel it went out on (`channel` is the first). */
	channels?: Array<"email" | "sms" | "push">;
	source_event: string;
	source_event_id: string;
	order_id: string | null;
}

/** voucher.redeemed and voucher.released: an order used a voucher (checkout's saga step) or gave its use back. */
export interface VoucherUsePayload {
	code: string;
	order_id: string;
	/** percent, fixed or free_shipping. */
	voucher_type: string;
	/** The discount of the order's redemption (for free shipping: the fee waived), in cents. */
	discount_cents: number;
	/** The voucher's uses after the change. */
	uses: number;
}
