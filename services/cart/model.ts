/**
 * Carts as stored (product ids and quantities only) and as shown (current catalog prices, line totals, subtotal).
 * Pure code: prices come in as catalog rows, nothing here calls a service.
 */
import { createHash } from "node:crypto";
import { DEFAULT_CURRENCY, fromCents, lineTotal, sumCents } from "../common/money";
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
}

/** A catalog row as products.getMany returns it. */
export interface CatalogRow {
	id: string;
	name: string;
	price_cents: number;
	currency: string;
	active: boolean;
}

export interface CartItemView {
	product_id: string;
	name: string;
	price: number;
	quantity: number;
	line_total: number;
}

export interface CartView {
	id: string;
	user_id: string;
	items: CartItemView[];
	subtotal: number;
	currency: string;
	/** Lines whose product left the catalog or is priced in another currency; checkout refuses them. */
	unavailable: CartLine[];
}

export const EMPTY_CART: StoredCart = { items: [], updated_at: null };

/** The store key of a user's cart. */
export function cartKey(userId: string): string {
	return `cart:${userId}`;
}

/** The public id of a user's cart (one cart per user). */
export function cartId(userId: string): string {
	return `cart_${userId}`;
}

/** The version of a cart's content: any change (a line, a quantity, the time of the change) gives another. */
export function cartVersion(cart: StoredCart): string {
	const lines = cart.items.map(l => `${l.product_id}*${l.quantity}`).join(",");
	return createHash("sha256").update(`${cart.updated_at ?? ""}|${lines}`).digest("hex").slice(0, 32);
}

/** Parses a stored cart; anything unreadable is an empty cart. */
export function parseCart(raw: string | null): StoredCart {
	if (!raw) return { ...EMPTY_CART, items: [] };
	try {
		const v = JSON.parse(raw) as Partial<StoredCart>;
		const items = Array.isArray(v.items)
			? v.items.filter(l => typeof l?.product_id === "string" && Number.isInteger(l.quantity) && l.quantity > 0)
			: [];
		return { items, updated_at: typeof v.updated_at === "string" ? v.updated_at : null };
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
	return { items, updated_at: now.toISOString() };
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

/** The cart as clients see it, priced from the catalog rows given. */
export function priceCart(userId: string, cart: StoredCart, rows: CatalogRow[]): CartView {
	const priced = pricedLines(cart, rows);
	const items = priced.lines.map(({ row, quantity, total_cents }) => ({
		product_id: row.id,
		name: row.name,
		price: fromCents(row.price_cents),
		quantity,
		line_total: fromCents(total_cents),
	}));
	return { id: cartId(userId), user_id: userId, items, subtotal: fromCents(sumCents(priced.lines.map(l => l.total_cents))), currency: priced.currency, unavailable: priced.unavailable };
}
