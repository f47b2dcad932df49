/**
 * Vouchers as stored and as shown, and the rules of when one applies. Pure code.
 *
 * A voucher document holds its counters and a bounded working set; each order's use of it is a row of its own in
 * `redemptions` (id `<code>:<order_id>`), so the voucher's document does not grow with its uses and every read and
 * write of it stays cheap. The guarantees (services/vouchers/redemptions.ts does the steps):
 *
 * - **N uses are never exceeded.** A use is counted by ONE conditional update of the voucher: under `max_uses`, under
 *   the customer's limit, limits unchanged since they were read.
 * - **An order is counted at most once.** The count also sets `ops.<order_id>` = `counted` and requires it absent,
 *   and requires the voucher's `gen` to be the one read. `ops` entries leave the document only in a purge, which
 *   removes those whose row has reached REDEEMED or RELEASED and bumps `gen`. A redeem reads the voucher, THEN re-reads
 *   its row: if the order's entry was purged before that read, the row was final before it and the redeem stops; if
 *   it is purged after, `gen` moved and the count misses.
 * - **A release gives back exactly what was counted, once.** The row goes to RELEASING first (noting whether it was
 *   REDEEMED or only CLAIMED); then the entry becomes `released` in the update that gives the use back, or, when
 *   nothing was counted, in a write that only fences the order so that a redeem still on its way misses. The row
 *   goes to RELEASED last. A release that arrives before any redeem stores a RELEASED row: a late redeem uses nothing.
 * - **Events follow the rows.** voucher.redeemed is stored in the row's REDEEMED write and voucher.released in its
 *   RELEASED write (only for a use that had been reported redeemed), so each is published once the change is stored.
 *
 * A code deleted and created again is another voucher (`instance`): the rows of the deleted one are refused or
 * released without touching the new one's counters.
 *
 * A per-customer limit counts in `per_customer`, kept only while the voucher has such a limit (so that a voucher
 * used by a million customers does not hold a million counters); a limit set on a voucher that had none starts from
 * the customers' REDEEMED rows.
 */
import { createHash } from "node:crypto";
import type { BillVoucher, VoucherType } from "../common/bill";
import { fromCents } from "../common/money";
import { uuid } from "../common/ids";

export const VOUCHER_TYPES = ["percent", "fixed", "free_shipping"] as const;

/** Why a voucher does not apply to a cart (the 422's type). */
export type NotApplicableReason = "VOUCHER_EXPIRED" | "VOUCHER_NOT_STARTED" | "VOUCHER_MIN_SUBTOTAL" | "VOUCHER_USED_UP" | "VOUCHER_NOT_APPLICABLE";

/** An order's entry in its voucher's working set: counted (with the customer key when per_customer was counted too) or released. */
export type OpEntry = "counted" | `counted:${string}` | "released";

export type RedemptionStatus = "CLAIMED" | "REDEEMED" | "RELEASING" | "RELEASED";

/** One order's use of one voucher (collection `redemptions`, id `<code>:<order_id>`). */
export interface RedemptionDoc {
	id: string;
	code: string;
	order_id: string;
	/** Empty on a row a release stored before any redeem. */
	user_key: string;
	discount_cents: number;
	status: RedemptionStatus;
	/** On RELEASING and RELEASED rows: what the row was when its release began (NONE: there was no row). */
	was?: "CLAIMED" | "REDEEMED" | "NONE";
	/** On REDEEMED rows: whether the customer's count (per_customer) was raised with the use. */
	customer_counted?: boolean;
	/** The voucher's uses just after this one was counted. */
	uses?: number;
	/** The `instance` of the voucher the row was claimed on (none on a release's tombstone). */
	instance?: string;
	created_at: string;
	updated_at: string;
	/** voucher.* events written with the change they report, until the events layer has them. */
	pending_events?: unknown[];
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
	/** Orders whose redemption is being counted or released, by order id; purged once their rows are final. */
	ops: Record<string, OpEntry>;
	/** Bumped by every purge of `ops`: a count that read an older one misses and reads again. */
	gen: number;
	/** This voucher's own id: a code deleted and created again is another voucher, whose uses its rows never touch. */
	instance?: string;
	/** Live uses per customer key, kept while the voucher has a per-customer limit. */
	per_customer: Record<string, number>;
	created_at: string;
	updated_at: string;
	/** Documents written before redemptions had rows of their own: moved out at start (redemptions.ts). */
	redeemed?: Record<string, { user_key: string; discount_cents: number; at: string }>;
	released?: Record<string, string>;
}

/** The voucher as the admin API shows it (money in decimal units). */
export type PublicVoucher = Omit<VoucherDoc, "id" | "min_subtotal_cents" | "ops" | "gen" | "instance" | "per_customer" | "redeemed" | "released"> & {
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

/** The id of an order's row in `redemptions`. */
export function redemptionId(code: string, orderId: string): string {
	return `${code}:${orderId}`;
}

/** A fresh voucher's counters and working set. */
export function emptyCounters(): Pick<VoucherDoc, "uses" | "ops" | "gen" | "per_customer" | "instance"> {
	return { uses: 0, ops: {}, gen: 0, per_customer: {}, instance: uuid("vi_") };
}

/** Whether a redemption row belongs to this voucher, and not to a deleted one that had the same code. */
export function sameVoucher(row: Pick<RedemptionDoc, "instance">, doc: Pick<VoucherDoc, "instance">): boolean {
	return (row.instance ?? "") === (doc.instance ?? "");
}

/**
 * The condition of the one atomic count of an order's use: the voucher as read (same purge generation, same limits),
 * still active, under its limits, and the order not counted nor fenced.
 */
export function countCondition(doc: Pick<VoucherDoc, "id" | "gen" | "max_uses" | "max_uses_per_customer">, orderId: string, userKey: string): Record<string, unknown> {
	const and: Array<Record<string, unknown>> = [{ [`ops.${orderId}`]: { $exists: false } }];
	if (doc.max_uses !== null) and.push({ uses: { $lt: doc.max_uses } });
	if (doc.max_uses_per_customer !== null)
		and.push({ $or: [{ [`per_customer.${userKey}`]: { $exists: false } }, { [`per_customer.${userKey}`]: { $lt: doc.max_uses_per_customer } }] });
	// The limits read are part of the condition: an admin's change in between makes the update miss, and it is tried again.
	return { id: doc.id, gen: doc.gen, active: true, max_uses: doc.max_uses, max_uses_per_customer: doc.max_uses_per_customer, $and: and };
}

/** The customer key an `ops` entry counted in per_customer, if any. */
export function countedCustomer(entry: OpEntry | undefined): string | null {
	return entry !== undefined && entry.startsWith("counted:") ? entry.slice("counted:".length) : null;
}
