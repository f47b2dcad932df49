/**
 * Shipments: the document, the carrier and tracking number derived from the order (so a retried create gives the
 * same ones), and what clients see. Pure code.
 */
import { createHash } from "node:crypto";

/** PREPARING is the short-lived claim of a create in progress. */
export type ShipmentStatus = "PREPARING" | "SHIPPED" | "DELIVERED" | "CANCELLED";

export interface ShipmentHistoryEntry {
	status: ShipmentStatus;
	at: string;
	reason: string | null;
}

export interface ShipmentItem {
	product_id: string;
	quantity: number;
	name?: string;
}

export interface ShipmentDoc {
	id: string;
	order_id: string;
	user_id: string;
	address: unknown;
	items: ShipmentItem[];
	carrier: string;
	tracking_number: string;
	status: ShipmentStatus;
	claimed_at: number;
	/** When the simulated carrier delivers it (ms since the epoch), or null without automatic delivery. */
	deliver_at: number | null;
	history: ShipmentHistoryEntry[];
	shipped_at: string | null;
	delivered_at: string | null;
	created_at: string;
	updated_at: string;
}

export interface ShipmentResult {
	shipment_id: string;
	order_id: string;
	tracking_number: string;
	carrier: string;
	status: ShipmentStatus;
}

export interface ShipmentView extends Omit<ShipmentDoc, "claimed_at" | "deliver_at"> {
	deliver_at: string | null;
}

export const CARRIERS = ["UPS", "FedEx", "DHL", "USPS"] as const;

function digest(orderId: string): Buffer {
	return createHash("sha256").update(`shipment:${orderId}`).digest();
}

function digits(buf: Buffer, n: number, offset = 0): string {
	let out = "";
	for (let i = 0; out.length < n; i++) out += String(buf[(offset + i) % buf.length] % 10);
	return out;
}

/** The carrier for an order: always the same one for the same order. */
export function chooseCarrier(orderId: string): (typeof CARRIERS)[number] {
	return CARRIERS[digest(orderId)[0] % CARRIERS.length];
}

/** A tracking number in the chosen carrier's usual format, derived from the order id. */
export function trackingNumber(orderId: string, carrier: string): string {
	const h = digest(orderId);
	switch (carrier) {
		case "UPS":
			return `1Z${h.toString("hex").slice(2, 18).toUpperCase()}`;
		case "FedEx":
			return digits(h, 12, 2);
		case "DHL":
			return digits(h, 10, 4);
		default:
			return `9400${digits(h, 18, 6)}`;
	}
}

/** Shipment id for an order: deterministic, so a retried create cannot make a second one. */
export function shipmentId(orderId: string): string {
	return `shp_${digest(orderId).toString("hex").slice(0, 20)}`;
}

export interface NewShipmentInput {
	order_id: string;
	user_id: string;
	address?: unknown;
	items?: ShipmentItem[];
}

/** A shipment in the given starting status (PREPARING for a create, CANCELLED for a tombstone). */
export function newShipment(input: NewShipmentInput, status: "PREPARING" | "CANCELLED", now: Date, reason: string | null = null): ShipmentDoc {
	const carrier = chooseCarrier(input.order_id);
	const at = now.toISOString();
	return {
		id: shipmentId(input.order_id),
		order_id: input.order_id,
		user_id: input.user_id,
		address: input.address ?? null,
		items: (input.items ?? []).map(i => ({ product_id: i.product_id, quantity: i.quantity, ...(i.name ? { name: i.name } : {}) })),
		carrier,
		tracking_number: trackingNumber(input.order_id, carrier),
		status,
		claimed_at: now.getTime(),
		deliver_at: null,
		history: [{ status, at, reason }],
		shipped_at: null,
		delivered_at: null,
		created_at: at,
		updated_at: at,
	};
}

export function toShipmentResult(doc: ShipmentDoc): ShipmentResult {
	return { shipment_id: doc.id, order_id: doc.order_id, tracking_number: doc.tracking_number, carrier: doc.carrier, status: doc.status };
}

export function toShipmentView(doc: ShipmentDoc): ShipmentView {
	// pending_events: events staged with a change, until the relay has published them.
	const { claimed_at: _claimed, deliver_at, pending_events: _events, ...rest } = doc as ShipmentDoc & { pending_events?: unknown };
	return { ...rest, deliver_at: deliver_at === null ? null : new Date(deliver_at).toISOString() };
}
