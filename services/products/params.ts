/**
 * fastest-validator schemas of the products actions, beside their TypeScript types.
 */
import { withoutNulls } from "../common/schema";
import { pagingParams } from "../common/paging";

export interface ListParams {
	category?: string;
	shop?: string;
	brand?: string;
	page: number;
	page_size: number;
}

export interface ProductInput {
	id?: string;
	/** The shop that sells it (admins; sellers create through /shops/:shop_id/products). */
	shop_id?: string;
	name: string;
	description?: string;
	brand: string;
	category: string;
	price: number;
	currency?: string;
	image_url?: string;
	tags?: string[];
}

export type ProductUpdateInput = Partial<Omit<ProductInput, "id">> & { id: string };

export const listParams = {
	category: { type: "string", min: 1, max: 64, trim: true, lowercase: true, optional: true },
	brand: { type: "string", min: 1, max: 64, trim: true, optional: true },
	shop: { type: "string", min: 1, max: 100, trim: true, optional: true },
	...pagingParams,
} as const;

const fields = {
	name: { type: "string", min: 1, max: 200, trim: true },
	description: { type: "string", max: 5000, trim: true, optional: true },
	brand: { type: "string", min: 1, max: 64, trim: true },
	category: { type: "string", min: 1, max: 64, trim: true },
	// A JSON body carries a real number: "7", true, "" or [3] are refused, not converted.
	price: { type: "number" },
	currency: { type: "string", pattern: /^[A-Za-z]{3}$/, optional: true },
	image_url: { type: "url", max: 500, optional: true },
	tags: { type: "array", items: { type: "string", min: 1, max: 40 }, max: 20, optional: true },
} as const;

/** A new product: null in any field is refused (422 naming it), unknown fields are dropped. */
export const createParams = withoutNulls({
	id: { type: "string", pattern: /^[a-z0-9][a-z0-9-]{0,62}[a-z0-9]$/, optional: true },
	shop_id: { type: "string", min: 1, max: 100, optional: true },
	...fields,
});

/** A new product in a given shop (its owner or an admin). */
export const createInShopParams = withoutNulls({
	id: { type: "string", pattern: /^[a-z0-9][a-z0-9-]{0,62}[a-z0-9]$/, optional: true },
	shop_id: { type: "string", min: 1, max: 100 },
	...fields,
});

/** A change to a product: every field optional, none of them null. */
export const updateParams = withoutNulls({
	id: { type: "string", min: 1, max: 100 },
	name: { ...fields.name, optional: true },
	description: fields.description,
	brand: { ...fields.brand, optional: true },
	category: { ...fields.category, optional: true },
	price: { ...fields.price, optional: true },
	currency: fields.currency,
	image_url: fields.image_url,
	tags: fields.tags,
});
