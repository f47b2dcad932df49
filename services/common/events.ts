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
	PAYMENT_PROCESSED: "payment.processed",
	PAYMENT_FAILED: "payment.failed",
	PAYMENT_REFUNDED: "payment.refunded",
	NOTIFICATION_SENT: "notification.sent",
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

/** order.shipped: the shipment of an order left the warehouse (stock committed). */
export interface OrderShippedPayload {
	order_id: string;
	user_id: string;
	shipment_id: string;
	carrier: string;
	tracking_number: string;
}

/** order.delivered: the shipment of an order reached the customer. */
export interface OrderDeliveredPayload {
	order_id: string;
	user_id: string;
	shipment_id: string;
}

/** A payload as published: the domain fields plus the envelope. */
export type DomainEvent<T extends object = Record<string, unknown>> = T & EventEnvelope;
