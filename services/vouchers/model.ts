/**
 * Vouchers as stored and as shown, and the rules of when one applies. Pure code.
 *
 * A voucher document keeps its live redemptions beside its counters, so that redeeming is ONE conditional update
 * of one document (the condition: active, under max_uses, under the customer's limit, not redeemed nor released
 * for this order; the update: uses + 1, the customer's count + 1, the order's entry): N uses are never exceeded,
 * and a repeated redeem of the same order finds its entry instead of counting twice. A release removes the entry
 * (uses − 1) and leaves a tombstone for the order, so a redeem that arrives after its compensation uses nothing.
 */
import { createHash } from "node:crypto";
import type { BillVoucher, VoucherType } from "../common/bill";
import { fromCents } from "../common/money";

export const VOUCHER_TYPES = ["percent", "fixed", "free_shipping"] as const;

/** Why a voucher does not apply to a cart (the 422's type). */
export type NotApplicableReason = "VOUCHER_EXPIRED" | "VOUCHER_NOT_STARTED" | "VOUCHER_MIN_SUBTOTAL" | "VOUCHER_USED_UP" | "VOUCHER_NOT_APPLICABLE";

export interface Redemption {
	user_key: string;
	discount_cents: number;
	at: string;
}

export interface VoucherDoc {
	/** The code in upper case: codes are case-insensitive. */
	id: string;
	type: VoucherType;
	/** A percent (12.5) for percent vouchers; cents for fixed ones; 0 for free shipping. */
	value: number;
	currency: string | null;
	min_subtotal_cents: number | null;
	starts_at: string | null;
	ends_at: string | null;
	max_uses: number | null;
	max_uses_per_customer: number | null;
	product_ids: string[];
	categories: string[];
	shop_id: string | null;
	active: boolean;
	uses: number;
	/** Live redemptions by order id. */
	redeemed: Record<string, Redemption>;
	/** Orders whose redemption was released (or refused for good): a late redeem of theirs uses nothing. */
	released: Record<string, string>;
	/** Live redemptions per customer key. */
	per_customer: Record<string, number>;
	created_at: string;
	updated_at: string;
	/** voucher.* events written with the redemption or release they report, until the events layer has them. */
	pending_events?: unknown[];
}

/** The voucher as the admin API shows it (money in decimal units). */
export type PublicVoucher = Omit<VoucherDoc, "id" | "min_subtotal_cents" | "redeemed" | "released" | "per_customer" | "pending_events"> & {
	code: string;
	min_subtotal: number | null;
};

/** A cart line as a quote sees it: its price and what scopes it. */
export interface QuoteLine {
	product_id: string;
	category?: string | null;
	shop_id?: string | null;
	price_cents: number;
	quantity: number;
}

/** The stored form of a code (codes are case-insensitive). */
export function normalizeCode(code: string): string {
	return code.trim().toUpperCase();
}

/** A customer's key in a voucher's counters: a hash, so any user id is a safe field name. */
export function customerKey(userId: string): string {
	return `u${createHash("sha256").update(userId).digest("hex").slice(0, 24)}`;
}

/** The voucher in the API's shape. */
export function toPublicVoucher(doc: VoucherDoc): PublicVoucher {
	return {
		code: doc.id,
		type: doc.type,
		value: doc.type === "fixed" ? fromCents(doc.value) : doc.value,
		currency: doc.currency,
		min_subtotal: doc.min_subtotal_cents === null ? null : fromCents(doc.min_subtotal_cents),
		starts_at: doc.starts_at,
		ends_at: doc.ends_at,
		max_uses: doc.max_uses,
		max_uses_per_customer: doc.max_uses_per_customer,
		product_ids: doc.product_ids,
		categories: doc.categories,
		shop_id: doc.shop_id,
		active: doc.active,
		uses: doc.uses,
		created_at: doc.created_at,
		updated_at: doc.updated_at,
	};
}

/** The voucher as the bill needs it. */
export function toBillVoucher(doc: VoucherDoc): BillVoucher {
	return { code: doc.id, type: doc.type, value: doc.value };
}

/** Whether the voucher's scope covers a line: no scope covers every line; otherwise any named product, category or shop. */
export function inScope(doc: Pick<VoucherDoc, "product_ids" | "categories" | "shop_id">, line: QuoteLine): boolean {
	const scoped = doc.product_ids.length > 0 || doc.categories.length > 0 || doc.shop_id !== null;
	if (!scoped) return true;
	const category = line.category?.toLowerCase();
	return (
		doc.product_ids.includes(line.product_id) ||
		(category !== undefined && doc.categories.some(c => c.toLowerCase() === category)) ||
		(doc.shop_id !== null && line.shop_id === doc.shop_id)
	);
}

/** A voucher's verdict on a cart: the lines it covers, or why it does not apply. */
export type Applicability = { ok: true; eligible: boolean[] } | { ok: false; reason: NotApplicableReason; message: string };

/** Whether the voucher can be used now by this customer (active, in its window, under its limits), whatever the cart. */
export function usability(doc: VoucherDoc, userKey: string, now: Date): { ok: true } | { ok: false; reason: NotApplicableReason; message: string } {
	const at = now.toISOString();
	const no = (reason: NotApplicableReason, message: string) => ({ ok: false as const, reason, message });
	if (!doc.active) return no("VOUCHER_NOT_APPLICABLE", `voucher '${doc.id}' is not active`);
	if (doc.starts_at !== null && at < doc.starts_at) return no("VOUCHER_NOT_STARTED", `voucher '${doc.id}' is valid from ${doc.starts_at}`);
	if (doc.ends_at !== null && at >= doc.ends_at) return no("VOUCHER_EXPIRED", `voucher '${doc.id}' expired at ${doc.ends_at}`);
	if (doc.max_uses !== null && doc.uses >= doc.max_uses) return no("VOUCHER_USED_UP", `voucher '${doc.id}' has been used ${doc.uses} of ${doc.max_uses} times`);
	if (doc.max_uses_per_customer !== null && (doc.per_customer[userKey] ?? 0) >= doc.max_uses_per_customer)
		return no("VOUCHER_USED_UP", `voucher '${doc.id}' can be used ${doc.max_uses_per_customer} time(s) per customer`);
	return { ok: true };
}

/** Whether the voucher applies now to these lines for this customer, checked in the order a customer can act on. */
export function applicability(doc: VoucherDoc, lines: QuoteLine[], currency: string, userKey: string, now: Date): Applicability {
	const usable = usability(doc, userKey, now);
	if (!usable.ok) return usable;
	const no = (reason: NotApplicableReason, message: string): Applicability => ({ ok: false, reason, message });
	if (doc.currency !== null && doc.currency !== currency) return no("VOUCHER_NOT_APPLICABLE", `voucher '${doc.id}' is for carts in ${doc.currency}`);
	const eligible = lines.map(l => inScope(doc, l));
	if (lines.length === 0 || !eligible.some(Boolean)) return no("VOUCHER_NOT_APPLICABLE", `voucher '${doc.id}' does not cover any product in the cart`);
	const subtotal = lines.reduce((s, l) => s + l.price_cents * l.quantity, 0);
	if (doc.min_subtotal_cents !== null && subtotal < doc.min_subtotal_cents)
		return no("VOUCHER_MIN_SUBTOTAL", `voucher '${doc.id}' needs a subtotal of at least ${fromCents(doc.min_subtotal_cents)}`);
	return { ok: true, eligible };
}

/** The condition of the one atomic redeem: the voucher may still be used, by this customer, for this order. */
export function redeemCondition(doc: Pick<VoucherDoc, "id" | "max_uses" | "max_uses_per_customer">, orderId: string, userKey: string): Record<string, unknown> {
	const and: Array<Record<string, unknown>> = [{ [`redeemed.${orderId}`]: { $exists: false } }, { [`released.${orderId}`]: { $exists: false } }];
	if (doc.max_uses !== null) and.push({ uses: { $lt: doc.max_uses } });
	if (doc.max_uses_per_customer !== null)
		and.push({ $or: [{ [`per_customer.${userKey}`]: { $exists: false } }, { [`per_customer.${userKey}`]: { $lt: doc.max_uses_per_customer } }] });
	// The limits read are part of the condition: an admin's change in between makes the update miss, and it is tried again.
	return { id: doc.id, active: true, max_uses: doc.max_uses, max_uses_per_customer: doc.max_uses_per_customer, $and: and };
}
