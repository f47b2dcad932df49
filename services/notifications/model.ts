/**
 * A stored notification and its public shape.
 */
import type { EventMessage } from "../../mixins/events/policy";
import type { Milestone } from "./messages";
import type { SellerEvent } from "./sellers";

export interface NotificationDoc {
	id: string;
	/** The customer (or seller) told, or null for a notice to the admins. */
	user_id: string | null;
	audience: "customer" | "admins" | "seller";
	/** The first of `channels`. */
	channel: "email" | "sms" | "push";
	/** Every channel it went out on (absent on rows stored before preferences: `channel` alone). */
	channels?: Array<"email" | "sms" | "push">;
	event_name: string;
	event_id: string;
	order_id: string | null;
	/** The order milestone told about (messages.ts); null for the admins' notices. Absent on rows stored before. */
	milestone?: Milestone | null;
	/** A seller's notification: the shop whose lines it names, and what happened to the order (sellers.ts). */
	shop_id?: string;
	seller_event?: SellerEvent;
	title: string;
	message: string;
	status: "sent";
	/** When the event happened (lists are sorted by it). */
	occurred_at: string;
	created_at: string;
	/** `notification.sent`, staged in the same write and removed once published. */
	pending_events?: EventMessage[];
}

export interface PublicNotification {
	id: string;
	event: string;
	event_id: string;
	order_id: string | null;
	milestone: Milestone | null;
	/** Only on a seller's notifications: its shop and "paid" or "cancelled". */
	shop_id?: string;
	seller_event?: SellerEvent;
	channel: NotificationDoc["channel"];
	channels: NonNullable<NotificationDoc["channels"]>;
	title: string;
	message: string;
	status: "sent";
	occurred_at: string;
	created_at: string;
}

export function toPublicNotification(n: NotificationDoc): PublicNotification {
	return {
		id: n.id,
		event: n.event_name,
		event_id: n.event_id,
		order_id: n.order_id,
		milestone: n.milestone ?? null,
		...(n.shop_id ? { shop_id: n.shop_id, seller_event: n.seller_event } : {}),
		channel: n.channel,
		channels: n.channels ?? [n.channel],
		title: n.title,
		message: n.message,
		status: n.status,
		occurred_at: n.occurred_at,
		created_at: n.created_at,
	};
}
