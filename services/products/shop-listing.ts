/**
 * Products and their shops: which products a shop event lists or hides, and each shop's catalog figures.
 * The writes take a repository, so the service stays thin.
 */
import type { Repository } from "../../mixins/db.mixin";
import type { ShopChangedPayload } from "../common/events";
import type { ShopStats } from "../shops/client";
import { HOUSE_SHOP_ID } from "../shops/client";
import type { ProductDoc } from "./model";

/** The products of a shop whose listing is older than a shop event (rows without one count as version 0). */
export function staleForShop(e: Pick<ShopChangedPayload, "shop_id" | "version">): Record<string, unknown> {
	const query: Record<string, unknown> = { active: true, $or: [{ shop_version: { $exists: false } }, { shop_version: { $lt: e.version } }] };
	// Rows stored before shops existed have no shop_id and belong to the house shop.
	if (e.shop_id === HOUSE_SHOP_ID) query.$and = [{ $or: [{ shop_id: HOUSE_SHOP_ID }, { shop_id: { $exists: false } }] }];
	else query.shop_id = e.shop_id;
	return query;
}

/** The query of a shop's products (the house shop also holds the rows stored before shops existed). */
export function ofShop(shopId: string): Record<string, unknown> {
	return shopId === HOUSE_SHOP_ID ? { $or: [{ shop_id: HOUSE_SHOP_ID }, { shop_id: { $exists: false } }] } : { shop_id: shopId };
}

/** Product count and review-weighted rating of each shop's products that are not removed. */
export async function shopStats(repo: Repository<ProductDoc>, shopIds: string[]): Promise<Record<string, ShopStats>> {
	const out: Record<string, ShopStats> = {};
	for (const id of new Set(shopIds)) {
		// At most a few hundred rows per shop, read once per shop page: no aggregation pipeline needed on NeDB.
		const rows = await repo.find({ ...ofShop(id), active: true }, { limit: 10_000 });
		let weighted = 0;
		let count = 0;
		for (const r of rows) {
			weighted += r.rating_average * r.rating_count;
			count += r.rating_count;
		}
		out[id] = { product_count: rows.length, rating_average: count ? Math.round((weighted / count) * 100) / 100 : 0, rating_count: count };
	}
	return out;
}
