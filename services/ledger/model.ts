/**
 * The sellers' ledger: one SALE entry per delivered line (its amount after its share of the discount, the
 * marketplace's commission, and what the shop earns: amount - commission), one REFUND entry reversing each SALE of
 * a refunded order. Entry ids are derived from the line (and the kind), so an entry is written once however often
 * its event comes. Integer cents; docs/marketplace.md explains the split. Pure code.
 */
import { basisPoints, shareHalfUp } from "../common/bill";
import { fromCents } from "../common/money";

export type EntryKind = "SALE" | "REFUND";

export interface LedgerEntryDoc {
	/** `sale:<parcel id>:<line>` or `refund:<parcel id>:<line>`: unique, so each is written once. */
	id: string;
	shop_id: string;
	order_id: string;
	shipment_id: string;
	product_id: string;
	quantity: number;
	kind: EntryKind;
	/** What the customer paid for the line (negative in a REFUND). */
	amount_cents: number;
	/** The marketplace's part of it. */
	commission_cents: number;
	/** The shop's part: amount_cents - commission_cents. */
	net_cents: number;
	commission_percent: number;
	currency: string;
	created_at: string;
}

/** An order whose payment was given back: every SALE of it, past or future, gets its REFUND. */
export interface RefundMarkDoc {
	/** The order id. */
	id: string;
	at: string;
}

/** The SALE entry of a delivered line under the commission in percent. */
export function saleEntry(
	line: { shop_id: string; order_id: string; shipment_id: string; index: number; product_id: string; quantity: number; amount_cents: number; currency: string },
	commissionPercent: number,
	now: string,
): LedgerEntryDoc {
	const commission = shareHalfUp(line.amount_cents, basisPoints(commissionPercent));
	return {
		id: `sale:${line.shipment_id}:${line.index}`,
		shop_id: line.shop_id,
		order_id: line.order_id,
		shipment_id: line.shipment_id,
		product_id: line.product_id,
		quantity: line.quantity,
		kind: "SALE",
		amount_cents: line.amount_cents,
		commission_cents: commission,
		net_cents: line.amount_cents - commission,
		commission_percent: commissionPercent,
		currency: line.currency,
		created_at: now,
	};
}

/** The REFUND entry that reverses a SALE exactly. */
export function refundEntry(sale: LedgerEntryDoc, now: string): LedgerEntryDoc {
	return {
		...sale,
		id: sale.id.replace(/^sale:/, "refund:"),
		kind: "REFUND",
		amount_cents: -sale.amount_cents,
		commission_cents: -sale.commission_cents,
		net_cents: -sale.net_cents,
		created_at: now,
	};
}

/** An entry as the API shows it (decimal units). */
export interface ApiLedgerEntry {
	id: string;
	kind: EntryKind;
	order_id: string;
	shipment_id: string;
	product_id: string;
	quantity: number;
	amount: number;
	commission: number;
	net: number;
	commission_percent: number;
	created_at: string;
}

export function toApiEntry(e: LedgerEntryDoc): ApiLedgerEntry {
	return {
		id: e.id,
		kind: e.kind,
		order_id: e.order_id,
		shipment_id: e.shipment_id,
		product_id: e.product_id,
		quantity: e.quantity,
		amount: fromCents(e.amount_cents),
		commission: fromCents(e.commission_cents),
		net: fromCents(e.net_cents),
		commission_percent: e.commission_percent,
		created_at: e.created_at,
	};
}

/** The sums over a shop's entries: its balance is the sum of their net amounts. */
export function totalsOf(entries: LedgerEntryDoc[]): { balance_cents: number; sales_cents: number; commission_cents: number } {
	let balance = 0;
	let sales = 0;
	let commission = 0;
	for (const e of entries) {
		balance += e.net_cents;
		sales += e.amount_cents;
		commission += e.commission_cents;
	}
	return { balance_cents: balance, sales_cents: sales, commission_cents: commission };
}
