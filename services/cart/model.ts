/**
 * Carts as stored (product ids and quantities only) and as shown (current catalog prices, line totals, subtotal).
 * Pure code: prices come in as catalog rows, nothing here calls a service.
 */
import { createHash } from "node:crypto";
import { computeBill, toPublicBill, type BillSettings, type BillVoucher, type PublicBill } from "../common/bill";
import { DEFAULT_CURRENCY, fromCents, lineTotal } from "../common/money";
import { billTotalCents } from "../payments/client";

/** Most units of one product in a cart, and most distinct products. */
export const MAX_LINE_QUANTITY = 100;
export const MAX_LINES = 50;

export interface CartLine {
	product_id: string;
	quantity: number;
}

export interface StoredCart {
	items: CartLine[];
	updated_at: string | null;
	/** The voucher code the customer applied (upper case), if any. */
	voucher?: string | null;
}

/** A catalog row as products.getMany returns it. */
export interface CatalogRow {
	id: string;
	name: string;
	price_cents: number;
	currency: string;
	active: boolean;
	/** What a voucher's scope matches (absent in rows of an older catalog node). */
	category?: string;
	shop_id?: string | null;
}

export interface CartItemView {
	product_id: string;
	name: string;
	price: number;
	quantity: number;
	line_total: number;
}

/** A cart shows the whole bill (services/common/bill.ts) beside its lines. */
export interface CartView extends PublicBill {
	id: string;
	user_id: string;
	items: CartItemView[];
	currency: string;
	/** Lines whose product left the catalog or is priced in another currency; checkout refuses them. */
	unavailable: CartLine[];
	/** The country the tax was computed for (null: the default rate). */
	country: string | null;
	/** A voucher kept in the cart that no longer applies, and why (it gives no discount until it does again). */
	voucher_problem?: { code: string; type: string; message: string };
}

/** The voucher of a cart as the vouchers service quoted it: the voucher and the lines it covers, or why not. */
export type CartVoucherQuote = { voucher: BillVoucher; eligible: boolean[] } | { problem: { code: string; type: string; message: string } } | null;

export const EMPTY_CART: StoredCart = { items: [], updated_at: null };

/** The store key of a user's cart. */
export function cartKey(userId: string): string {
	return `cart:${userId}`;
}

/** The public id of a user's cart (one cart per user). */
export function cartId(userId: string): string {
	return `cart_${userId}`;
}

/** The version of a cart's content: any change (a line, a quantity, the voucher, the time of the change) gives another. */
export function cartVersion(cart: StoredCart): string {
	const lines = cart.items.map(l => `${l.product_id}*${l.quantity}`).join(",");
	return createHash("sha256").update(`${cart.updated_at ?? ""}|${lines}${cart.voucher ? `|${cart.voucher}` : ""}`).digest("hex").slice(0, 32);
}

/** The cart with a voucher applied (or removed with null). */
export function withVoucher(cart: StoredCart, code: string | null, now: Date): StoredCart {
	const { voucher: _old, ...rest } = cart;
	return code === null ? { ...rest, updated_at: now.toISOString() } : { ...rest, voucher: code, updated_at: now.toISOString() };
}

/** Parses a stored cart; anything unreadable is an empty cart. */
export function parseCart(raw: string | null): StoredCart {
	if (!raw) return { ...EMPTY_CART, items: [] };
	try {
		const v = JSON.parse(raw) as Partial<StoredCart>;
		const items = Array.isArray(v.items)
			? v.items.filter(l => typeof l?.product_id === "string" && Number.isInteger(l.quantity) && l.quantity > 0)
			: [];
		const cart: StoredCart = { items, updated_at: typeof v.updated_at === "string" ? v.updated_at : null };
		if (typeof v.voucher === "string") cart.voucher = v.voucher;
		return cart;
	} catch {
		return { ...EMPTY_CART, items: [] };
	}
}

/** The quantity of a product in the cart (0 when absent). */
export function quantityOf(cart: StoredCart, productId: string): number {
	return cart.items.find(l => l.product_id === productId)?.quantity ?? 0;
}

/** The cart with the product's line set to `quantity` (removed at 0); new lines go last. */
export function setQuantity(cart: StoredCart, productId: string, quantity: number, now: Date): StoredCart {
	const exists = cart.items.some(l => l.product_id === productId);
	let items: CartLine[];
	if (quantity <= 0) items = cart.items.filter(l => l.product_id !== productId);
	else if (exists) items = cart.items.map(l => (l.product_id === productId ? { ...l, quantity } : l));
	else items = [...cart.items, { product_id: productId, quantity }];
	return { ...cart, items, updated_at: now.toISOString() };
}

/** The cart after an order took `bought` out of it: lines added meanwhile (or extra units) stay. */
export function subtractLines(cart: StoredCart, bought: CartLine[], now: Date): StoredCart {
	let next = cart;
	for (const line of bought) next = setQuantity(next, line.product_id, quantityOf(next, line.product_id) - line.quantity, now);
	return next;
}

/** A cart's lines that can be sold at the catalog rows given, the others, and the subtotal in cents. */
export interface PricedCart {
	currency: string;
	lines: Array<{ row: CatalogRow; quantity: number; total_cents: number }>;
	/** Lines whose product left the catalog or is priced in another currency. */
	unavailable: CartLine[];
	/** Infinity when the sum leaves the safe integers (never a rounded number of cents). */
	subtotal_cents: number;
}

/** Prices the cart from the catalog rows: the first sellable line's currency is the cart's; other lines are unavailable. */
export function pricedLines(cart: StoredCart, rows: CatalogRow[]): PricedCart {
	const byId = new Map(rows.map(r => [r.id, r]));
	const currency = cart.items.map(l => byId.get(l.product_id)).find(r => r?.active)?.currency ?? DEFAULT_CURRENCY;
	const lines: PricedCart["lines"] = [];
	const unavailable: CartLine[] = [];
	for (const line of cart.items) {
		const row = byId.get(line.product_id);
		if (!row || !row.active || row.currency !== currency) unavailable.push(line);
		else lines.push({ row, quantity: line.quantity, total_cents: lineTotal(row.price_cents, line.quantity) });
	}
	const subtotal_cents = billTotalCents(lines.map(l => ({ price_cents: l.row.price_cents, quantity: l.quantity })));
	return { currency, lines, unavailable, subtotal_cents };
}

/** The lines a voucher quote is asked about: the sellable lines with what scopes them. */
export function quoteLines(priced: PricedCart): Array<{ product_id: string; category: string | null; shop_id: string | null; price_cents: number; quantity: number }> {
	return priced.lines.map(l => ({ product_id: l.row.id, category: l.row.category ?? null, shop_id: l.row.shop_id ?? null, price_cents: l.row.price_cents, quantity: l.quantity }));
}

/** The cart as clients see it, priced from the catalog rows given, with its bill under the settings and quote given. */
export function priceCart(userId: string, priced: PricedCart, quote: CartVoucherQuote, settings: BillSettings, country: string | null): CartView {
	const items = priced.lines.map(({ row, quantity, total_cents }) => ({
		product_id: row.id,
		name: row.name,
		price: fromCents(row.price_cents),
		quantity,
		line_total: fromCents(total_cents),
	}));
	const applied = quote && "voucher" in quote ? quote : null;
	const bill = computeBill({
		lines: priced.lines.map((l, i) => ({ price_cents: l.row.price_cents, quantity: l.quantity, eligible: applied ? applied.eligible[i] !== false : true })),
		voucher: applied?.voucher ?? null,
		settings,
		country,
	});
	const view: CartView = { id: cartId(userId), user_id: userId, items, ...toPublicBill(bill), currency: priced.currency, unavailable: priced.unavailable, country };
	if (quote && "problem" in quote) view.voucher_problem = quote.problem;
	return view;
}
