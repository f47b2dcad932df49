/**
 * An order seen by the shops of its lines: which shop each line belongs to, what each line is worth to its shop
 * (its total after its share of the discount; docs/marketplace.md), the order's shipments (one per shop), and the
 * view a shop's owner gets of an order (its own lines, the address, the statuses; never payment details). Pure code.
 */
import { computeBill, NO_FEES, splitProportionally, type Bill } from "../common/bill";
import { fromCents } from "../common/money";
import { HOUSE_SHOP_ID } from "../shops/client";
import type { HistoryEntry, OrderStatus } from "./state-machine";

/** A shipment as the order shows it. */
export interface ShipmentRef {
	id: string;
	shop_id: string;
	status: string;
}

/** The fields of an order this module reads (OrderDoc has them all). */
export interface OrderLines {
	items: Array<{ product_id: string; name: string; price_cents: number; quantity: number; shop_id?: string | null; discount_cents?: number }>;
	bill?: Bill;
}

/** The shop of a line: the house shop for lines older than shops. */
export function shopOfLine(item: { shop_id?: string | null }): string {
	return item.shop_id ?? HOUSE_SHOP_ID;
}

/** The distinct shops of some lines, in the order they first appear. */
export function shopIdsOf(items: Array<{ shop_id?: string | null }>): string[] {
	return [...new Set(items.map(shopOfLine))];
}

/** The order's bill (orders older than bills: their lines' sum, no fees). */
export function billOf(doc: OrderLines): Bill {
	return doc.bill ?? computeBill({ lines: doc.items, settings: NO_FEES });
}

/**
 * Each line's amount in cents: its total less its share of the discount. The shares checkout stored with the lines
 * when they sum to the bill's discount; otherwise (older orders) the discount split in proportion to the lines'
 * totals. The amounts always sum to subtotal - discount.
 */
export function lineAmounts(doc: OrderLines): number[] {
	const totals = doc.items.map(i => i.price_cents * i.quantity);
	const discount = billOf(doc).discount_cents;
	const stored = doc.items.map(i => i.discount_cents);
	const shares =
		stored.every(d => typeof d === "number") && stored.reduce<number>((s, d) => s + (d ?? 0), 0) === discount
			? (stored as number[])
			: splitProportionally(Math.min(discount, totals.reduce((a, b) => a + b, 0)), totals);
	return totals.map((t, k) => t - shares[k]);
}

/** The order's lines as the API shows them, each with its shop and amount. */
export function publicLines(doc: OrderLines): Array<{ product_id: string; name: string; price: number; quantity: number; shop_id: string; amount: number }> {
	const amounts = lineAmounts(doc);
	return doc.items.map((i, k) => ({
		product_id: i.product_id,
		name: i.name,
		price: fromCents(i.price_cents),
		quantity: i.quantity,
		shop_id: shopOfLine(i),
		amount: fromCents(amounts[k]),
	}));
}

/** The lines shipping gets: each with its shop and amount in cents (the shop's parcel, the ledger's entry). */
export function shippingLines(doc: OrderLines): Array<{ product_id: string; name: string; quantity: number; shop_id: string; amount_cents: number }> {
	const amounts = lineAmounts(doc);
	return doc.items.map((i, k) => ({ product_id: i.product_id, name: i.name, quantity: i.quantity, shop_id: shopOfLine(i), amount_cents: amounts[k] }));
}

const RANK: Record<string, number> = { PREPARING: 0, SHIPPED: 1, CANCELLED: 2, DELIVERED: 2 };

/** The shipments known so far with the reported ones merged in; a status never goes back (stale reports change nothing). */
export function mergeShipments(current: ShipmentRef[] | undefined, reported: ShipmentRef[]): ShipmentRef[] {
	const out = [...(current ?? [])];
	for (const r of reported) {
		const k = out.findIndex(s => s.id === r.id);
		if (k < 0) out.push({ id: r.id, shop_id: r.shop_id, status: r.status });
		else if ((RANK[r.status] ?? 0) > (RANK[out[k].status] ?? 0)) out[k] = { ...out[k], status: r.status };
	}
	return out;
}

/** Shipment references from an event payload or a step result (anything else gives none). */
export function shipmentRefsOf(value: unknown): ShipmentRef[] {
	if (!Array.isArray(value)) return [];
	return value.filter(
		(s): s is ShipmentRef => !!s && typeof s === "object" && typeof (s as ShipmentRef).id === "string" && typeof (s as ShipmentRef).shop_id === "string" && typeof (s as ShipmentRef).status === "string",
	);
}

/** An order as a shop's owner sees it. */
export interface ShopOrderView {
	id: string;
	status: OrderStatus;
	shop_id: string;
	items: Array<{ product_id: string; name: string; price: number; quantity: number; amount: number }>;
	/** The shop's share of the order: the sum of its lines' amounts. */
	amount: number;
	currency: string;
	shipping_address: unknown;
	shipment: ShipmentRef | null;
	/** The order's statuses and when (the reasons, which may speak of the payment, are left out). */
	history: Array<{ status: string; at: string }>;
	created_at: string;
	updated_at: string;
}

/** The order as the owner of `shopId` sees it: its lines only, the address, the statuses; no buyer or payment details. */
export function toShopOrderView(
	doc: OrderLines & { id: string; status: OrderStatus; currency: string; shipping_address: unknown; shipments?: ShipmentRef[]; history: HistoryEntry[]; created_at: string; updated_at: string },
	shopId: string,
): ShopOrderView {
	const lines = publicLines(doc).filter(l => l.shop_id === shopId);
	return {
		id: doc.id,
		status: doc.status,
		shop_id: shopId,
		items: lines.map(({ shop_id: _shop, ...l }) => l),
		amount: fromCents(lines.reduce((s, l) => s + Math.round(l.amount * 100), 0)),
		currency: doc.currency,
		shipping_address: doc.shipping_address,
		shipment: doc.shipments?.find(s => s.shop_id === shopId) ?? null,
		history: doc.history.map(h => ({ status: h.status, at: h.at })),
		created_at: doc.created_at,
		updated_at: doc.updated_at,
	};
}
