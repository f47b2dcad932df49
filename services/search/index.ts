/**
 * The search read model: every active product of the catalog in memory, kept current by product events.
 * Events may arrive twice or out of order: a change applies only when its version is not older than what the
 * model holds, a removal leaves a tombstone, and a rating applies only with a higher rating count. Pure code.
 */
import type { ProductSnapshot } from "../common/events";
import { HOUSE_SHOP_ID } from "../shops/client";
import { normalisePhrase, tokenize } from "./text";

export type SortOrder = "relevance" | "price_asc" | "price_desc" | "rating";
export const SORT_ORDERS: SortOrder[] = ["relevance", "price_asc", "price_desc", "rating"];

export interface SearchQuery {
	q?: string;
	brand?: string;
	category?: string;
	shop?: string;
	price_min_cents?: number;
	price_max_cents?: number;
	sort: SortOrder;
	page: number;
	page_size: number;
}

export interface Hit {
	product: ProductSnapshot;
	score: number;
}

export interface Facets {
	brand: Record<string, number>;
	category: Record<string, number>;
}

export interface SearchResult {
	rows: Hit[];
	total: number;
	page: number;
	page_size: number;
	total_pages: number;
	facets: Facets;
}

interface Entry {
	product: ProductSnapshot;
	fields: { name: Set<string>; brand: Set<string>; category: Set<string>; description: Set<string> };
	phrase: string;
}

/** Weights of a query token found in each field; a prefix match counts half. */
const WEIGHTS = { name: 5, brand: 4, category: 3, description: 1 } as const;
const PHRASE_BONUS = 3;

/**
 * Why a product row cannot be indexed (the first field that is not what a product needs), or null when it can.
 * A row stored before the catalog refused nulls, say, must be skipped rather than stop a whole rebuild.
 */
export function problemOf(product: unknown): string | null {
	if (!product || typeof product !== "object") return "the row is not an object";
	const p = product as Record<string, unknown>;
	const kind = (v: unknown): string => (v === null ? "null" : Array.isArray(v) ? "a list" : typeof v);
	for (const field of ["id", "name", "description", "brand", "category", "currency"])
		if (typeof p[field] !== "string") return `${field} is ${kind(p[field])}, not a string`;
	for (const field of ["price_cents", "version", "rating_count"])
		if (!Number.isInteger(p[field])) return `${field} is ${kind(p[field])}, not an integer`;
	if (typeof p.rating_average !== "number") return `rating_average is ${kind(p.rating_average)}, not a number`;
	if (!Array.isArray(p.tags) || p.tags.some(t => typeof t !== "string")) return "tags is not a list of strings";
	return null;
}

function entryOf(product: ProductSnapshot): Entry {
	return {
		product,
		fields: {
			name: new Set(tokenize(product.name)),
			brand: new Set(tokenize(product.brand)),
			category: new Set(tokenize(product.category)),
			description: new Set(tokenize(product.description)),
		},
		phrase: normalisePhrase(product.name),
	};
}

/** How well one query token matches an entry (0: not at all). */
function tokenScore(entry: Entry, token: string): number {
	let best = 0;
	for (const field of Object.keys(WEIGHTS) as Array<keyof typeof WEIGHTS>) {
		const tokens = entry.fields[field];
		if (tokens.has(token)) best = Math.max(best, WEIGHTS[field]);
		else if (token.length >= 3) for (const t of tokens) if (t.startsWith(token)) best = Math.max(best, WEIGHTS[field] / 2);
	}
	return best;
}

/** The relevance of an entry for the query tokens; null when some token matches nothing (all must match). */
function relevance(entry: Entry, tokens: string[], phrase: string): number | null {
	let score = 0;
	for (const t of tokens) {
		const s = tokenScore(entry, t);
		if (s === 0) return null;
		score += s;
	}
	if (tokens.length > 1 && entry.phrase.includes(phrase)) score += PHRASE_BONUS;
	return score;
}

function compare(sort: SortOrder): (a: Hit, b: Hit) => number {
	const byName = (a: Hit, b: Hit): number => a.product.name.localeCompare(b.product.name);
	const byRating = (a: Hit, b: Hit): number =>
		b.product.rating_average - a.product.rating_average || b.product.rating_count - a.product.rating_count;
	switch (sort) {
		case "price_asc":
			return (a, b) => a.product.price_cents - b.product.price_cents || byName(a, b);
		case "price_desc":
			return (a, b) => b.product.price_cents - a.product.price_cents || byName(a, b);
		case "rating":
			return (a, b) => byRating(a, b) || byName(a, b);
		default:
			return (a, b) => b.score - a.score || byRating(a, b) || byName(a, b);
	}
}

export class SearchIndex {
	private readonly entries = new Map<string, Entry>();
	/** Highest version seen per product, removals included. */
	private readonly versions = new Map<string, number>();
	/** Ratings from review events, kept apart so that a product snapshot with an older rating cannot undo them. */
	private readonly ratings = new Map<string, { average: number; count: number }>();

	get size(): number {
		return this.entries.size;
	}

	get(id: string): ProductSnapshot | undefined {
		return this.entries.get(id)?.product;
	}

	/** Stores a product as of its version; an inactive one, or one of a shop that is not ACTIVE, is removed. Returns whether anything changed. */
	upsert(product: ProductSnapshot): boolean {
		const known = this.versions.get(product.id) ?? 0;
		if (product.version < known) return false;
		this.versions.set(product.id, product.version);
		if (!product.active || product.shop_listed === false) return this.entries.delete(product.id);
		this.entries.set(product.id, entryOf(this.withRating(product)));
		return true;
	}

	/** A newer price for a product the model holds. */
	setPrice(id: string, priceCents: number, version: number): boolean {
		const entry = this.entries.get(id);
		if (!entry || version <= (this.versions.get(id) ?? 0)) return false;
		this.versions.set(id, version);
		entry.product = { ...entry.product, price_cents: priceCents, version };
		return true;
	}

	/** Removes a product as of a version; older events for it are ignored from then on. */
	remove(id: string, version: number): boolean {
		if (version < (this.versions.get(id) ?? 0)) return false;
		this.versions.set(id, version);
		return this.entries.delete(id);
	}

	/** A product's new rating, applied when it counts more reviews than the one held. */
	setRating(id: string, average: number, count: number): boolean {
		const held = this.ratings.get(id);
		if (held && held.count >= count) return false;
		this.ratings.set(id, { average, count });
		const entry = this.entries.get(id);
		if (entry) entry.product = this.withRating(entry.product);
		return true;
	}

	/** The ids of the products held. */
	ids(): string[] {
		return [...this.entries.keys()];
	}

	/**
	 * After a full reload: drops the products the catalog no longer listed, except those that events touched
	 * while the reload ran (they may be newer than the listing). Returns how many were dropped.
	 */
	retainListed(listed: Set<string>, touched: Set<string>): number {
		let dropped = 0;
		for (const id of this.ids())
			if (!listed.has(id) && !touched.has(id)) {
				this.entries.delete(id);
				dropped++;
			}
		return dropped;
	}

	clear(): void {
		this.entries.clear();
		this.versions.clear();
		this.ratings.clear();
	}

	/** The matching products, sorted and paged, with brand and category counts over all matches. */
	search(query: SearchQuery): SearchResult {
		const tokens = query.q ? tokenize(query.q) : [];
		const phrase = tokens.join(" ");
		const brand = query.brand?.trim().toLowerCase();
		const category = query.category?.trim().toLowerCase();
		const shop = query.shop?.trim();
		const hits: Hit[] = [];
		// Counted in objects without a prototype: a brand named `constructor`, `toString` or `__proto__` is a key like any other.
		const facets: Facets = { brand: Object.create(null) as Record<string, number>, category: Object.create(null) as Record<string, number> };
		for (const entry of this.entries.values()) {
			const p = entry.product;
			if (brand && p.brand.toLowerCase() !== brand) continue;
			if (category && p.category !== category) continue;
			if (shop && (p.shop_id ?? HOUSE_SHOP_ID) !== shop) continue;
			if (query.price_min_cents !== undefined && p.price_cents < query.price_min_cents) continue;
			if (query.price_max_cents !== undefined && p.price_cents > query.price_max_cents) continue;
			const score = tokens.length ? relevance(entry, tokens, phrase) : 0;
			if (score === null) continue;
			hits.push({ product: p, score });
			facets.brand[p.brand] = (facets.brand[p.brand] ?? 0) + 1;
			facets.category[p.category] = (facets.category[p.category] ?? 0) + 1;
		}
		hits.sort(compare(query.sort));
		const start = (query.page - 1) * query.page_size;
		return {
			rows: hits.slice(start, start + query.page_size),
			total: hits.length,
			page: query.page,
			page_size: query.page_size,
			total_pages: Math.ceil(hits.length / query.page_size),
			facets,
		};
	}

	private withRating(product: ProductSnapshot): ProductSnapshot {
		const r = this.ratings.get(product.id);
		if (!r || r.count <= product.rating_count) return product;
		return { ...product, rating_average: r.average, rating_count: r.count };
	}
}
