/**
 * What a customer is told about each order, payment, inventory and shipping event: pure text, no I/O.
 * Inventory events without a user (inventory.low, or a reservation made without one) go to the admins.
 */
import { EVENTS, type EventName } from "../common/events";
import { fromCents } from "../common/money";

/** The events the notifications service consumes. */
export const NOTIFIED_EVENTS = [
	EVENTS.ORDER_CREATED,
	EVENTS.ORDER_UPDATED,
	EVENTS.ORDER_CANCELLED,
	EVENTS.ORDER_SHIPPED,
	EVENTS.ORDER_DELIVERED,
	EVENTS.PAYMENT_PROCESSED,
	EVENTS.PAYMENT_FAILED,
	EVENTS.PAYMENT_REFUNDED,
	EVENTS.INVENTORY_RESERVED,
	EVENTS.INVENTORY_RESERVATION_FAILED,
	EVENTS.INVENTORY_RELEASED,
	EVENTS.INVENTORY_LOW,
] as const satisfies readonly EventName[];

export type NotifiedEvent = (typeof NOTIFIED_EVENTS)[number];

export interface NotificationDraft {
	/** The customer told, or null for a notice to the admins. */
	user_id: string | null;
	audience: "customer" | "admins";
	order_id: string | null;
	title: string;
	message: string;
}

type Payload = Record<string, unknown>;

function str(p: Payload, key: string): string | null {
	const v = p[key];
	return typeof v === "string" && v.length > 0 ? v : null;
}

/** "999.99 USD", or "" when the event carries no amount. */
function amount(p: Payload): string {
	const cents = p.amount_cents ?? p.total_cents;
	if (typeof cents !== "number") return "";
	return `${fromCents(cents).toFixed(2)} ${str(p, "currency") ?? "USD"}`;
}

function ofAmount(p: Payload): string {
	const a = amount(p);
	return a ? ` of ${a}` : "";
}

const STATUS_TEXT: Record<string, string> = {
	PENDING: "has been received",
	PAID: "is paid",
	STOCK_RESERVED: "has its items reserved",
	SHIPPED: "has shipped",
	DELIVERED: "has been delivered",
	COMPENSATING: "could not be completed; we are undoing the charges",
	FAILED: "could not be completed",
	CANCELLED: "has been cancelled",
};

/** The notification for one event; null when the event is not one this service tells anyone about. */
export function draftFor(name: string, p: Payload): NotificationDraft | null {
	const order = str(p, "order_id");
	const user = str(p, "user_id");
	const forUser = (title: string, message: string): NotificationDraft =>
		user
			? { user_id: user, audience: "customer", order_id: order, title, message }
			: { user_id: null, audience: "admins", order_id: order, title, message: `${message} (no customer on the event)` };
	switch (name as NotifiedEvent) {
		case EVENTS.ORDER_CREATED:
			return forUser("Order received", `Your order ${order} has been received${amount(p) ? ` (total ${amount(p)})` : ""}.`);
		case EVENTS.ORDER_UPDATED: {
			const status = str(p, "status") ?? "UPDATED";
			const reason = str(p, "failure_reason") ?? str(p, "reason");
			const text = STATUS_TEXT[status] ?? `is now ${status}`;
			return forUser(`Order ${status.toLowerCase().replace(/_/g, " ")}`, `Your order ${order} ${text}${status === "FAILED" && reason ? ` (${reason})` : ""}.`);
		}
		case EVENTS.ORDER_CANCELLED:
			return forUser("Order cancelled", `Your order ${order} has been cancelled.`);
		case EVENTS.ORDER_SHIPPED: {
			const carrier = str(p, "carrier");
			const tracking = str(p, "tracking_number");
			const via = carrier && tracking ? ` with ${carrier}, tracking number ${tracking}` : "";
			return forUser("Order shipped", `Your order ${order} has shipped${via}.`);
		}
		case EVENTS.ORDER_DELIVERED:
			return forUser("Order delivered", `Your order ${order} has been delivered.`);
		case EVENTS.PAYMENT_PROCESSED:
			return forUser("Payment received", `We received your payment${ofAmount(p)} for order ${order}.`);
		case EVENTS.PAYMENT_FAILED:
			return forUser("Payment failed", `Your payment${ofAmount(p)} for order ${order} did not go through${str(p, "reason") ? `: ${str(p, "reason")}` : ""}.`);
		case EVENTS.PAYMENT_REFUNDED:
			return forUser("Payment refunded", `We refunded ${amount(p) || "your payment"} for order ${order}.`);
		case EVENTS.INVENTORY_RESERVED:
			return forUser("Items reserved", `The items of your order ${order} are reserved for you.`);
		case EVENTS.INVENTORY_RESERVATION_FAILED:
			return forUser("Items unavailable", `Some items of your order ${order} are out of stock.`);
		case EVENTS.INVENTORY_RELEASED:
			return forUser("Reservation released", `The items reserved for your order ${order} have been released.`);
		case EVENTS.INVENTORY_LOW:
			return {
				user_id: null,
				audience: "admins",
				order_id: null,
				title: "Low stock",
				message: `Stock of ${str(p, "product_id")} is low: ${String(p.available)} left (threshold ${String(p.threshold)}).`,
			};
		default:
			return null;
	}
}
