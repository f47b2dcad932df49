/**
 * What a seller is told about an order holding its lines: that it was paid (prepare the shipment) and that it was
 * cancelled (do not ship), once per order, shop and event, naming that shop's lines alone. Pure code, no I/O.
 * An order's lines per shop are recorded from its order.created (SellerSplit); the later order.updated events carry
 * no lines.
 */
import { EVENTS } from "../common/events";

/** The seller events: paid when the payment went through, cancelled when a paid (or pending) order was undone. */
export const SELLER_EVENTS = ["paid", "cancelled"] as const;
export type SellerEvent = (typeof SELLER_EVENTS)[number];

/** Failure reasons of steps after the payment: the seller had been told "paid", so it is told "cancelled". */
const FAILED_AFTER_PAYMENT = new Set(["OUT_OF_STOCK", "INVENTORY_UNAVAILABLE", "SHIPPING_ERROR"]);

export interface SellerLine {
	product_id: string;
	name: string;
	quantity: number;
}

/** One shop's part of an order. */
export interface SellerPart {
	shop_id: string;
	shop_name: string;
	owner_id: string;
	lines: SellerLine[];
}

/** An order's lines per shop with an owner to tell (the house shop has none), stored by notifications. */
export interface SellerSplitDoc {
	/** The order id. */
	id: string;
	parts: SellerPart[];
	created_at: string;
}

export interface SellerDraft {
	user_id: string;
	audience: "seller";
	order_id: string;
	shop_id: string;
	seller_event: SellerEvent;
	title: string;
	message: string;
}

type Payload = Record<string, unknown>;

/**
 * The seller event an order event stands for: order.updated to PAID is "paid"; to CANCELLED (the customer), or to
 * FAILED after the payment step (stock or shipping), is "cancelled". A failed payment was never "paid": no message.
 */
export function sellerEventOf(name: string, p: Payload): SellerEvent | null {
	if (name !== EVENTS.ORDER_UPDATED) return null;
	if (p.status === "PAID") return "paid";
	if (p.status === "CANCELLED") return "cancelled";
	if (p.status === "FAILED" && FAILED_AFTER_PAYMENT.has(String(p.failure_reason))) return "cancelled";
	return null;
}

/** The order's items grouped by product (an order may hold one product on two lines). */
export function itemQuantities(items: unknown): Map<string, number> {
	const out = new Map<string, number>();
	if (!Array.isArray(items)) return out;
	for (const i of items as Array<{ product_id?: unknown; quantity?: unknown }>) {
		if (typeof i?.product_id !== "string" || typeof i.quantity !== "number") continue;
		out.set(i.product_id, (out.get(i.product_id) ?? 0) + i.quantity);
	}
	return out;
}

/** "2 × Lamp, 1 × Desk". */
function linesText(lines: SellerLine[]): string {
	return lines.map(l => `${l.quantity} × ${l.name}`).join(", ");
}

/** Why the order was cancelled, in the seller's words. */
const CANCEL_REASON: Record<string, string> = {
	OUT_OF_STOCK: "an item ran out of stock",
	INVENTORY_UNAVAILABLE: "stock could not be reserved",
	SHIPPING_ERROR: "its delivery could not be arranged",
};

/** The notification to one shop's owner for one seller event of an order. */
export function sellerDraft(event: SellerEvent, orderId: string, part: SellerPart, p: Payload): SellerDraft {
	const lines = linesText(part.lines);
	const base = { user_id: part.owner_id, audience: "seller" as const, order_id: orderId, shop_id: part.shop_id, seller_event: event };
	if (event === "paid")
		return { ...base, title: `New paid order for ${part.shop_name}`, message: `Order ${orderId} is paid: ${lines}. Please prepare the shipment.` };
	const why = p.status === "FAILED" ? CANCEL_REASON[String(p.failure_reason)] : "the customer cancelled it";
	return {
		...base,
		title: `Order cancelled for ${part.shop_name}`,
		message: `Order ${orderId} was cancelled (${why ?? "it could not be completed"}): do not ship ${lines}.`,
	};
}

/** One notification per order, shop and seller event, so that no redelivery or second node tells it twice. */
export function sellerNotificationId(draft: SellerDraft): string {
	return `ntf_${draft.order_id}_${draft.shop_id}_seller_${draft.seller_event}`;
}
