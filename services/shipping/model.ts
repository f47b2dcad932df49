/**
 * Shipments: the document, the carrier and tracking number derived from the order (so a retried create gives the
 * same ones), and what clients see. Pure code.
 */
import { createHash } from "node:crypto";
import { HOUSE_SHOP_ID } from "../shops/client";

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
	/** The shop that sells the line (absent in shipments older than shops: the house shop). */
	shop_id?: string;
	/** The line's amount in cents after its share of the discount (what the shop's ledger counts). */
	amount_cents?: number;
}

/**
 * One shop's part of an order's shipment: the lines that shop sends, with their own status. The shipment (the
 * document) moves all its parcels together when it ships and when it is cancelled; each shop delivers its own
 * parcel, and the shipment is DELIVERED when all of them are. A parcel's id is the shipment's own id when the
 * order has one shop, so single-shop orders keep one id for both.
 */
export interface Parcel {
	id: string;
	shop_id: string;
	items: ShipmentItem[];
	status: ShipmentStatus;
	delivered_at: string | null;
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
	/** One per shop (absent in shipments older than shops: one parcel of the house shop, see parcelsOf). */
	parcels?: Parcel[];
	/** The parcels' ids, indexed, to find a shipment by one of its parcels. */
	parcel_ids?: string[];
	currency?: string;
	/** Raised by every write to the parcels: a delivery is conditional on it. */
	rev?: number;
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
	/** One per shop: what the order shows as its shipments. */
	shipments: ParcelRef[];
}

/** A parcel as the order shows it. */
export interface ParcelRef {
	id: string;
	shop_id: string;
	status: ShipmentStatus;
}

export interface ShipmentView extends Omit<ShipmentDoc, "claimed_at" | "deliver_at" | "parcels" | "parcel_ids" | "rev"> {
	deliver_at: string | null;
	parcels: Parcel[];
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

/** The id of a shop's parcel in a shipment of several shops. */
export function parcelId(orderId: string, shopId: string): string {
	return `shp_${createHash("sha256").update(`parcel:${orderId}:${shopId}`).digest("hex").slice(0, 20)}`;
}

/** The lines grouped into one parcel per shop, in the order the shops first appear. */
export function parcelsFor(orderId: string, items: ShipmentItem[], status: ShipmentStatus): Parcel[] {
	const byShop = new Map<string, ShipmentItem[]>();
	for (const i of items) {
		const shop = i.shop_id ?? HOUSE_SHOP_ID;
		byShop.set(shop, [...(byShop.get(shop) ?? []), i]);
	}
	const single = byShop.size === 1;
	return [...byShop].map(([shop, lines]) => ({ id: single ? shipmentId(orderId) : parcelId(orderId, shop), shop_id: shop, items: lines, status, delivered_at: null }));
}

/** A shipment's parcels: those stored, or one of the house shop for a shipment older than shops. */
export function parcelsOf(doc: ShipmentDoc): Parcel[] {
	if (doc.parcels) return doc.parcels;
	if (doc.items.length === 0) return [];
	return [{ id: doc.id, shop_id: HOUSE_SHOP_ID, items: doc.items, status: doc.status, delivered_at: doc.delivered_at }];
}

/** The parcels as the order shows them. */
export function parcelRefs(doc: ShipmentDoc): ParcelRef[] {
	return parcelsOf(doc).map(p => ({ id: p.id, shop_id: p.shop_id, status: p.status }));
}

export interface NewShipmentInput {
	order_id: string;
	user_id: string;
	address?: unknown;
	items?: ShipmentItem[];
	currency?: string;
}

/** A shipment in the given starting status (PREPARING for a create, CANCELLED for a tombstone). */
export function newShipment(input: NewShipmentInput, status: "PREPARING" | "CANCELLED", now: Date, reason: string | null = null): ShipmentDoc {
	const carrier = chooseCarrier(input.order_id);
	const at = now.toISOString();
	const items = (input.items ?? []).map(i => ({
		product_id: i.product_id,
		quantity: i.quantity,
		...(i.name ? { name: i.name } : {}),
		...(i.shop_id ? { shop_id: i.shop_id } : {}),
		...(typeof i.amount_cents === "number" ? { amount_cents: i.amount_cents } : {}),
	}));
	const parcels = parcelsFor(input.order_id, items, status);
	return {
		id: shipmentId(input.order_id),
		order_id: input.order_id,
		user_id: input.user_id,
		address: input.address ?? null,
		items,
		parcels,
		parcel_ids: parcels.map(p => p.id),
		...(input.currency ? { currency: input.currency } : {}),
		rev: 0,
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
	return { shipment_id: doc.id, order_id: doc.order_id, tracking_number: doc.tracking_number, carrier: doc.carrier, status: doc.status, shipments: parcelRefs(doc) };
}

export function toShipmentView(doc: ShipmentDoc): ShipmentView {
	// pending_events: events staged with a change, until the relay has published them.
	const { claimed_at: _claimed, deliver_at, pending_events: _events, parcel_ids: _ids, rev: _rev, ...rest } = doc as ShipmentDoc & { pending_events?: unknown };
	return { ...rest, parcels: parcelsOf(doc), deliver_at: deliver_at === null ? null : new Date(deliver_at).toISOString() };
}

/**
 * What delivering some parcels (all when `ids` is null) changes: the parcels after it, those it delivers now (the
 * others were already delivered or are not asked for), and whether the whole shipment is then delivered.
 */
export function deliveryOf(doc: ShipmentDoc, ids: string[] | null, at: string): { parcels: Parcel[]; delivered: Parcel[]; all: boolean } {
	const before = parcelsOf(doc);
	const delivered: Parcel[] = [];
	const parcels = before.map(p => {
		if (p.status !== "SHIPPED" || (ids && !ids.includes(p.id))) return p;
		const done: Parcel = { ...p, status: "DELIVERED", delivered_at: at };
		delivered.push(done);
		return done;
	});
	// A shipment without lines (no parcels) is delivered as a whole.
	return { parcels, delivered, all: parcels.every(p => p.status === "DELIVERED") };
}

/** The parcels moved to a status the shipment takes as a whole (SHIPPED, CANCELLED). */
export function parcelsAt(doc: ShipmentDoc, status: ShipmentStatus): Parcel[] {
	return parcelsOf(doc).map(p => ({ ...p, status }));
}

/** The write condition that nobody changed the shipment's parcels since `doc` was read (older documents: its status). */
export function unchangedSince(doc: ShipmentDoc): Record<string, unknown> {
	return typeof doc.rev === "number" ? { id: doc.id, status: doc.status, rev: doc.rev } : { id: doc.id, status: doc.status };
}
