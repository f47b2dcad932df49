/**
 * Checkout in pure code: the request fingerprint behind Idempotency-Key, re-pricing cart lines from the catalog,
 * the HTTP status of an order's outcome, and the response body. No moleculer here.
 */
import { createHash } from "node:crypto";
import { computeBill, lineDiscountsOf, type Bill, type BillSettings, type BillVoucher } from "../common/bill";
import { DEFAULT_CURRENCY } from "../common/money";
import type { CatalogRow } from "../cart/client";
import type { OrderResult } from "../orders/client";

export interface CartLine {
	product_id: string;
	quantity: number;
}

export type { CatalogRow };

export interface OrderLine {
	product_id: string;
	name: string;
	price_cents: number;
	quantity: number;
}

/** What orders.create answers (only the fields checkout reads are typed). */
export interface StepErrorLike {
	code?: number;
	type?: string;
	message?: string;
	retryable?: boolean;
	kind?: string;
}
export interface SagaStepLike {
	name: string;
	status: string;
	duration?: number;
	error?: StepErrorLike;
}
export interface OrderLike {
	id: string;
	status: string;
	failure_reason?: string | null;
	items: Array<{ product_id: string; quantity: number }>;
}
/** How an order that did not go through ends: the reason and HTTP status its failing saga step declares (orders decides). */
export interface OrderOutcome {
	failure_reason: string | null;
	http_status: number;
}
export interface OrderCreateResult<O extends OrderLike = OrderLike> {
	order: O;
	saga: { id: string; status?: string; steps: SagaStepLike[] };
	/** Set by orders once the saga is undoing itself or was undone. */
	outcome?: OrderOutcome | null;
}

/** Checkout reads orders' answer (services/orders/client.ts) through the fields above: tsc fails here if they part. */
type ReadsOrdersAnswer = OrderResult extends OrderCreateResult ? true : never;
export const READS_ORDERS_ANSWER: ReadsOrdersAnswer = true;

export interface UpstreamCall {
	name: string;
	action: string;
	code: number;
	duration: number;
}

export interface CheckoutResponse<O extends OrderLike = OrderLike> {
	order: O;
	saga: { id: string; status: string | null; steps: Array<{ name: string; status: string; duration: number; error?: StepErrorLike }> };
	trace_id: string;
	duration: number;
	upstream_calls: UpstreamCall[];
}

/** JSON with sorted keys, so that the same body always gives the same text. */
export function canonicalJson(value: unknown): string {
	if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
	if (value && typeof value === "object") {
		const entries = Object.entries(value as Record<string, unknown>)
			.filter(([, v]) => v !== undefined)
			.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
		return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
	}
	return JSON.stringify(value ?? null);
}

/** sha256 hex of a string. */
export function sha256(text: string): string {
	return createHash("sha256").update(text).digest("hex");
}

/** The fingerprint of a checkout body: what an Idempotency-Key is bound to. */
export function bodyHash(body: { shipping_address?: unknown; payment_method?: unknown; cart_id?: unknown }): string {
	return sha256(canonicalJson({ shipping_address: body.shipping_address, payment_method: body.payment_method, cart_id: body.cart_id }));
}

/** Whether an Idempotency-Key is acceptable: 1 to 200 visible ASCII characters. */
export function isValidIdempotencyKey(key: string): boolean {
	return /^[\x21-\x7e]{1,200}$/.test(key);
}

/** Whether a Prefer header asks for an asynchronous answer (RFC 7240 respond-async). */
export function wantsAsync(prefer: string | undefined): boolean {
	return !!prefer && prefer.split(/[,;]/).some(p => p.trim().toLowerCase() === "respond-async");
}

/** A cart at today's prices, every line sellable. */
export interface PricedCart {
	ok: true;
	items: OrderLine[];
	currency: string;
	total_cents: number;
}

export type RepriceResult =
	| PricedCart
	| { ok: false; product_id: string; reason: "unknown" | "inactive" | "currency" };

/** Every cart line at the catalog's current price; the first line whose product cannot be sold stops it. */
export function repriceLines(lines: CartLine[], rows: CatalogRow[]): RepriceResult {
	const byId = new Map(rows.map(r => [r.id, r]));
	const items: OrderLine[] = [];
	let currency: string | null = null;
	for (const line of lines) {
		const row = byId.get(line.product_id);
		if (!row) return { ok: false, product_id: line.product_id, reason: "unknown" };
		if (!row.active) return { ok: false, product_id: line.product_id, reason: "inactive" };
		currency ??= row.currency;
		if (row.currency !== currency) return { ok: false, product_id: line.product_id, reason: "currency" };
		items.push({ product_id: row.id, name: row.name, price_cents: row.price_cents, quantity: line.quantity });
	}
	return { ok: true, items, currency: currency ?? DEFAULT_CURRENCY, total_cents: items.reduce((s, i) => s + i.price_cents * i.quantity, 0) };
}

/** The lines a voucher quote is asked about: each priced line with the category (and shop) that scopes it. */
export function quoteLinesOf(priced: PricedCart, rows: CatalogRow[]): Array<{ product_id: string; category: string | null; shop_id: string | null; price_cents: number; quantity: number }> {
	const byId = new Map(rows.map(r => [r.id, r]));
	return priced.items.map(i => ({
		product_id: i.product_id,
		category: byId.get(i.product_id)?.category ?? null,
		shop_id: byId.get(i.product_id)?.shop_id ?? null,
		price_cents: i.price_cents,
		quantity: i.quantity,
	}));
}

/** The order's bill: the priced lines, the voucher quoted for them (with the lines it covers), the settings, the destination. */
export function orderBill(priced: PricedCart, quote: { voucher: BillVoucher; eligible: boolean[] } | null, settings: BillSettings, country: string | null): Bill {
	return computeBill({
		lines: priced.items.map((i, k) => ({ price_cents: i.price_cents, quantity: i.quantity, eligible: quote ? quote.eligible[k] !== false : true })),
		voucher: quote?.voucher ?? null,
		settings,
		country,
	});
}

/** Each priced line's share of the voucher's discount, in cents, as the bill splits it (they sum to its discount_cents). */
export function orderLineDiscounts(priced: PricedCart, quote: { voucher: BillVoucher; eligible: boolean[] } | null): number[] {
	if (!quote) return priced.items.map(() => 0);
	return lineDiscountsOf({
		lines: priced.items.map((i, k) => ({ price_cents: i.price_cents, quantity: i.quantity, eligible: quote.eligible[k] !== false })),
		voucher: quote.voucher,
	});
}

/**
 * The lines orders.create gets: each priced line with its shop (which ships it and is paid for it) and its share
 * of the discount (what the shop's ledger counts, docs/marketplace.md).
 */
export function orderLines(priced: PricedCart, rows: CatalogRow[], discounts: number[]): Array<OrderLine & { shop_id: string | null; discount_cents: number }> {
	const byId = new Map(rows.map(r => [r.id, r]));
	return priced.items.map((i, k) => ({ ...i, shop_id: byId.get(i.product_id)?.shop_id ?? null, discount_cents: discounts[k] ?? 0 }));
}

/**
 * The HTTP status of a checkout: 201 shipped; 202 still running (asked for, or not finished yet). An order that
 * failed, was cancelled, or is undoing a failed step answers what orders says its outcome means (402 a declined
 * card, 409 stock, shipping or a cancel, 503 a dependency down after retries); checkout never reads step names.
 */
export function checkoutStatus(result: OrderCreateResult): number {
	const { order, outcome } = result;
	if (order.status === "SHIPPED" || order.status === "DELIVERED") return 201;
	if (order.status !== "FAILED" && order.status !== "CANCELLED" && order.status !== "COMPENSATING") return 202;
	// An order that did not go through always comes with its outcome; without one, the generic "not placed".
	return outcome?.http_status ?? 409;
}

/** The checkout response body. */
export function checkoutResponse<O extends OrderLike>(result: OrderCreateResult<O>, traceId: string, durationMs: number, calls: UpstreamCall[]): CheckoutResponse<O> {
	return {
		order: result.order,
		saga: {
			id: result.saga.id,
			status: result.saga.status ?? null,
			steps: result.saga.steps.map(s => ({
				name: s.name,
				status: s.status,
				duration: s.duration ?? 0,
				...(s.error ? { error: { code: s.error.code, type: s.error.type, message: s.error.message, retryable: s.error.retryable } } : {}),
			})),
		},
		trace_id: traceId,
		duration: durationMs,
		upstream_calls: calls,
	};
}

/** An order as far as the cart cares: its id and the lines it bought. */
export interface OrderedLines {
	id: string;
	items: Array<{ product_id: string; quantity: number }>;
}

/** The product ids and quantities an order bought, to take out of the cart. */
export function orderedLines(items: OrderedLines["items"]): OrderedLines["items"] {
	return items.map(i => ({ product_id: i.product_id, quantity: i.quantity }));
}
