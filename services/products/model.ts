/**
 * The product document, what of it leaves the service, and the checks on catalog input. Pure code.
 * Prices are integer cents inside; the API speaks decimal units with a currency.
 */
import type { ProductSnapshot } from "../common/events";
import { fromCents, hasAtMostTwoDecimals, toCents } from "../common/money";
import { HOUSE_SHOP_ID } from "../shops/client";
import { ValidationFailedError } from "../common/errors";

export type { ProductSnapshot };

export interface ProductDoc extends ProductSnapshot {
	/** Lower-cased brand, for case-insensitive filters. */
	brand_key: string;
	/** Events staged with the write that they report (EventsMixin publishes and removes them). */
	pending_events?: unknown[];
}

export interface Availability {
	available: number;
	in_stock: boolean;
}

export interface ApiProduct {
	id: string;
	name: string;
	description: string;
	brand: string;
	category: string;
	price: number;
	currency: string;
	image_url: string | null;
	tags: string[];
	rating_average: number;
	rating_count: number;
	/** The shop that sells it. */
	shop_id: string;
	/** Null when inventory could not be asked. */
	availability: Availability | null;
	created_at: string;
	updated_at: string;
}

export interface CategoryDoc {
	id: string;
	name: string;
}

/** The largest price a product may have (one million units). */
export const MAX_PRICE_CENTS = 100_000_000;

/** The product as clients see it. */
export function toApiProduct(p: ProductSnapshot, availability: Availability | null = null): ApiProduct {
	return {
		id: p.id,
		name: p.name,
		description: p.description,
		brand: p.brand,
		category: p.category,
		price: fromCents(p.price_cents),
		currency: p.currency,
		image_url: p.image_url,
		tags: p.tags,
		rating_average: p.rating_average,
		rating_count: p.rating_count,
		shop_id: p.shop_id ?? HOUSE_SHOP_ID,
		availability,
		created_at: p.created_at,
		updated_at: p.updated_at,
	};
}

/** Whether a stored product is in the catalog: not removed, and its shop ACTIVE. */
export function isListed(p: Pick<ProductSnapshot, "active" | "shop_listed">): boolean {
	return p.active && p.shop_listed !== false;
}

/** The query that selects listed products (rows older than shops have no `shop_listed` and are listed). */
export const LISTED = { active: true, shop_listed: { $ne: false } } as const;

/** The event form of a stored product: no internal keys, no staged events. */
export function toSnapshot(p: ProductDoc): ProductSnapshot {
	const { brand_key: _brandKey, pending_events: _pending, ...rest } = p;
	return rest;
}

/** The stored product without its staged events (to build the next version of it). */
export function toStored(p: ProductDoc): ProductDoc {
	const { pending_events: _pending, ...rest } = p;
	return rest;
}

/** Availability as shown on product pages, from a count of available units. */
export function availabilityOf(available: number): Availability {
	return { available, in_stock: available > 0 };
}

export type Checked<T> = { ok: true; value: T } | { ok: false; message: string };

/** A decimal price to cents: positive, at most two decimals, not absurdly large. */
export function checkPrice(price: number): Checked<number> {
	if (!Number.isFinite(price) || price <= 0) return { ok: false, message: "must be a positive amount" };
	// The size first: a huge amount has no cents to count (its decimals cannot be checked in floating point).
	if (price > fromCents(MAX_PRICE_CENTS)) return { ok: false, message: `must not exceed ${fromCents(MAX_PRICE_CENTS)}` };
	if (!hasAtMostTwoDecimals(price)) return { ok: false, message: "must have at most two decimals" };
	return { ok: true, value: toCents(price) };
}

/** Lower-case, dash-separated slug of a name ("Smart Home" -> "smart-home"). */
export function slugify(text: string): string {
	return text
		.normalize("NFKD")
		.replace(/[\u0300-\u036f]/g, "")
		.toLowerCase()
		.replace(/[^a-z0-9]+/g, "-")
		.replace(/^-+|-+$/g, "")
		.slice(0, 60);
}

/** Product ids and category slugs: lower-case letters, digits and dashes. */
export const SLUG_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}[a-z0-9]$/;

/** A category's slug as stored; 422 naming `category` when it has fewer than two letters or digits. */
export function categorySlug(raw: string): string {
	const slug = slugify(raw);
	if (!SLUG_PATTERN.test(slug)) throw new ValidationFailedError("category", "must contain at least two letters or digits");
	return slug;
}

/** The display name of a category slug that has no stored name ("smart-home" -> "Smart Home"). */
export function categoryTitle(slug: string): string {
	return slug
		.split("-")
		.filter(Boolean)
		.map(w => w[0].toUpperCase() + w.slice(1))
		.join(" ");
}

/** Tags trimmed, lower-cased, de-duplicated. */
export function normaliseTags(tags: string[] | undefined): string[] {
	return [...new Set((tags ?? []).map(t => t.trim().toLowerCase()).filter(Boolean))];
}
