/**
 * How catalog input becomes stored products and their change events. Pure code.
 */
import type { ProductPriceChangedPayload } from "../common/events";
import { DEFAULT_CURRENCY, fromCents } from "../common/money";
import { DEMO_CURRENCY, type DemoProduct } from "./demo-catalog";
import { HOUSE_SHOP_ID } from "../shops/client";
import { DEMO_SHOP_OF_CATEGORY } from "./demo-catalog";
import { normaliseTags, type ProductDoc } from "./model";
import type { ProductInput, ProductUpdateInput } from "./params";

/** The shop a new product goes to: its id, whether the shop is ACTIVE, and the shop version that says so. */
export interface ShopPlacement {
	id: string;
	listed: boolean;
	version: number;
}

const HOUSE: ShopPlacement = { id: HOUSE_SHOP_ID, listed: true, version: 0 };

/** A new product from checked input (price already in cents, category already a slug). */
export function newProduct(id: string, input: ProductInput, priceCents: number, category: string, now: string, shop: ShopPlacement = HOUSE): ProductDoc {
	return {
		id,
		shop_id: shop.id,
		shop_listed: shop.listed,
		shop_version: shop.version,
		name: input.name,
		description: input.description ?? "",
		brand: input.brand,
		brand_key: input.brand.toLowerCase(),
		category,
		price_cents: priceCents,
		currency: (input.currency ?? DEFAULT_CURRENCY).toUpperCase(),
		image_url: input.image_url ?? null,
		tags: normaliseTags(input.tags),
		rating_average: 0,
		rating_count: 0,
		active: true,
		version: 1,
		created_at: now,
		updated_at: now,
	};
}

/** A product of the demo catalog as stored. */
export function demoProduct(d: DemoProduct, now: string): ProductDoc {
	return {
		...newProduct(d.id, { ...d, currency: DEMO_CURRENCY }, Math.round(d.price * 100), d.category, now, {
			id: DEMO_SHOP_OF_CATEGORY[d.category] ?? HOUSE_SHOP_ID,
			listed: true,
			version: 0,
		}),
		image_url: `https://images.shopflow.example/products/${d.id}.jpg`,
	};
}

/** The fields an update sets (price already in cents, category already a slug); empty when it names none. */
export function changedFields(input: Omit<ProductUpdateInput, "id" | "price" | "category">, priceCents?: number, category?: string): Partial<ProductDoc> {
	const set: Partial<ProductDoc> = {};
	if (priceCents !== undefined) set.price_cents = priceCents;
	if (category !== undefined) set.category = category;
	if (input.name !== undefined) set.name = input.name;
	if (input.description !== undefined) set.description = input.description;
	if (input.brand !== undefined) Object.assign(set, { brand: input.brand, brand_key: input.brand.toLowerCase() });
	if (input.currency !== undefined) set.currency = input.currency.toUpperCase();
	if (input.image_url !== undefined) set.image_url = input.image_url;
	if (input.tags !== undefined) set.tags = normaliseTags(input.tags);
	return set;
}

/** The product.price-changed payload between two stored versions, or null when the price did not change. */
export function priceChange(before: ProductDoc, after: ProductDoc): ProductPriceChangedPayload | null {
	if (before.price_cents === after.price_cents && before.currency === after.currency) return null;
	return {
		product_id: after.id,
		version: after.version,
		currency: after.currency,
		old_price_cents: before.price_cents,
		new_price_cents: after.price_cents,
		old_price: fromCents(before.price_cents),
		new_price: fromCents(after.price_cents),
	};
}
