/**
 * What a customer is told about an order: one notification per milestone a customer cares about (placed, payment
 * failed, shipped, delivered, cancelled, refunded), in their words. Pure text, no I/O.
 * The milestones come from the order's own history (order.created, one order.updated per history entry) and from the
 * money actually given back (payment.refunded), so `expectedMilestones` can compute them again from a stored order.
 * inventory.low is a notice to the admins, not a milestone.
 */
import { EVENTS, type EventName } from "../common/events";
import { fromCents } from "../common/money";

/** The events the notifications service consumes. */
export const NOTIFIED_EVENTS = [EVENTS.ORDER_CREATED, EVENTS.ORDER_UPDATED, EVENTS.PAYMENT_REFUNDED, EVENTS.INVENTORY_LOW] as const satisfies readonly EventName[];

export type NotifiedEvent = (typeof NOTIFIED_EVENTS)[number];

/** The moments of an order a customer is told about, each at most once per order, in this (canonical) order. */
export const MILESTONES = ["placed", "payment_failed", "shipped", "delivered", "cancelled", "refunded"] as const;
export type Milestone = (typeof MILESTONES)[number];

export interface NotificationDraft {
	/** The customer told, or null for a notice to the admins. */
	user_id: string | null;
	audience: "customer" | "admins";
	order_id: string | null;
	/** The order milestone told about; null for the admins' notices. */
	milestone: Milestone | null;
	title: string;
	message: string;
}

/** What a shipment adds to the "shipped" message when notifications could look it up. */
export interface ShipmentInfo {
	carrier?: string | null;
	tracking_number?: string | null;
}

/** The part of an order `expectedMilestones` reads (the public order shape has it). */
export interface OrderForMilestones {
	status: string;
	failure_reason?: string | null;
	history: ReadonlyArray<{ status: string; reason?: string | null }>;
}

type Payload = Record<string, unknown>;

/** A FAILED order tells the customer "payment failed" when the payment step failed, else that the shop cancelled it. */
function failedMilestone(failureReason: unknown): Milestone {
	return failureReason === "OUT_OF_STOCK" || failureReason === "SHIPPING_ERROR" ? "cancelled" : "payment_failed";
}

/** The milestone an order status (one history entry) stands for; null for the steps in between (PAID, COMPENSATING, ...). */
function statusMilestone(status: unknown, failureReason: unknown): Milestone | null {
	switch (status) {
		case "PENDING":
			return "placed";
		case "SHIPPED":
			return "shipped";
		case "DELIVERED":
			return "delivered";
		case "CANCELLED":
			return "cancelled";
		case "FAILED":
			return failedMilestone(failureReason);
		default:
			return null;
	}
}

/**
 * The milestones a customer of this order has been (or will be) told about, in MILESTONES order. `refunded` follows
 * the history (a paid order that ended FAILED or CANCELLED was refunded) unless `opts.refunded` says what the payment
 * records show (a charge whose answer was lost is refunded without PAID in the history).
 */
export function expectedMilestones(order: OrderForMilestones, opts: { refunded?: boolean } = {}): Milestone[] {
	const statuses = new Set(order.history.map(h => h.status));
	const found = new Set<Milestone>();
	for (const status of statuses) {
		const m = statusMilestone(status, order.failure_reason);
		if (m) found.add(m);
	}
	const refunded = opts.refunded ?? (statuses.has("PAID") && (statuses.has("FAILED") || statuses.has("CANCELLED")));
	if (refunded) found.add("refunded");
	return MILESTONES.filter(m => found.has(m));
}

/** The milestone one consumed event stands for; null for events that are no milestone (PAID, COMPENSATING, inventory.low). */
export function milestoneOf(name: string, p: Payload): Milestone | null {
	switch (name as NotifiedEvent) {
		case EVENTS.ORDER_CREATED:
			return "placed";
		case EVENTS.ORDER_UPDATED:
			// PENDING is told by order.created; an order.updated for it (if any) is no second "placed".
			return p.status === "PENDING" ? null : statusMilestone(p.status, p.failure_reason);
		case EVENTS.PAYMENT_REFUNDED:
			return "refunded";
		default:
			return null;
	}
}

function str(p: Payload, key: string): string | null {
	const v = p[key];
	return typeof v === "string" && v.length > 0 ? v : null;
}

/** "999.99 USD", or "" when the event carries no amount. */
function amount(p: Payload): string {
	const cents = p.amount_cents ?? p.total_cents;
	if (typeof cents !== "number" || !Number.isInteger(cents)) return "";
	return `${fromCents(cents).toFixed(2)} ${str(p, "currency") ?? "USD"}`;
}

/** Why the shop had to cancel an order, in the customer's words. */
const SHOP_CANCEL_REASON: Record<string, string> = {
	OUT_OF_STOCK: "an item ran out of stock",
	SHIPPING_ERROR: "we could not arrange its delivery",
};

/** Title and message of one milestone of an order. */
function milestoneText(m: Milestone, order: string, p: Payload, shipment: ShipmentInfo): { title: string; message: string } {
	const total = amount(p);
	switch (m) {
		case "placed":
			return {
				title: "Order placed",
				message: `Thank you for your order ${order}${total ? ` (total ${total})` : ""}. We will let you know when it ships.`,
			};
		case "payment_failed":
			return {
				title: "Payment failed",
				message: `We could not take the payment${total ? ` of ${total}` : ""} for your order ${order}, so it will not be sent. Please check your card or choose another payment method and order again.`,
			};
		case "shipped": {
			const via = shipment.carrier && shipment.tracking_number ? ` with ${shipment.carrier}, tracking number ${shipment.tracking_number}` : "";
			return { title: "Order shipped", message: `Your order ${order} is on its way${via}.` };
		}
		case "delivered":
			return { title: "Order delivered", message: `Your order ${order} has been delivered. We hope you enjoy it!` };
		case "cancelled": {
			const why = p.status === "FAILED" ? SHOP_CANCEL_REASON[String(p.failure_reason)] : undefined;
			return why
				? { title: "Order cancelled", message: `We are sorry: we had to cancel your order ${order} because ${why}. Your payment will be refunded in full.` }
				: { title: "Order cancelled", message: `Your order ${order} has been cancelled as you asked.` };
		}
		case "refunded":
			return {
				title: "Refund issued",
				message: `We have refunded ${total || "your payment"} for your order ${order}. It can take a few days to appear on your statement.`,
			};
	}
}

/** The notification for one event; null when the event is not one this service tells anyone about. */
export function draftFor(name: string, p: Payload, shipment: ShipmentInfo = {}): NotificationDraft | null {
	if (name === EVENTS.INVENTORY_LOW) {
		return {
			user_id: null,
			audience: "admins",
			order_id: null,
			milestone: null,
			title: "Low stock",
			message: `Stock of ${str(p, "product_id")} is low: ${String(p.available)} left (threshold ${String(p.threshold)}).`,
		};
	}
	const milestone = milestoneOf(name, p);
	const order = str(p, "order_id");
	const user = str(p, "user_id");
	// A milestone is told to the order's customer; an event without either has nobody to tell.
	if (!milestone || !order || !user) return null;
	return { user_id: user, audience: "customer", order_id: order, milestone, ...milestoneText(milestone, order, p, shipment) };
}

/** The id of a notification: one per order and milestone (so no source and no redelivery tells it twice), else per event. */
export function notificationId(draft: NotificationDraft, eventId: string): string {
	return draft.milestone && draft.order_id ? `ntf_${draft.order_id}_${draft.milestone}` : `ntf_${eventId}`;
}
