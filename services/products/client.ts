/**
 * What other services may use of `products`: the rows of `products.getMany`, the product as the API shows it
 * (search renders its results with the same shape), and the demo catalog's stock that inventory seeds.
 */
import type { Context } from "moleculer";
import type { ShopMeta } from "../common/meta";

export type { PricingRow } from "../products.service";
export { DEMO_STOCK } from "./demo-catalog";
export { slugify, toApiProduct, type ApiProduct, type ProductSnapshot } from "./model";

/**
 * For an action that changes or shows a product's back office (its stock): nothing for admins and calls between
 * services (no user); for anyone else 404 for an unknown product, 403 unless they own its shop.
 */
export async function assertProductManager(ctx: Context<unknown, ShopMeta>, productId: string): Promise<void> {
	const user = ctx.meta.user;
	if (!user || user.role === "admin") return;
	await ctx.call<{ id: string; shop_id: string }, { id: string }>("products.assertManager", { id: productId });
}
