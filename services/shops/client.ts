/**
 * What other services may use of `shops`: the shop shapes, the house shop, the demo sellers (users seeds their
 * accounts, products spreads the demo catalog over their shops) and the check that the caller manages a shop.
 */
import type { Context } from "moleculer";
import { ForbiddenError } from "../common/errors";
import type { ShopMeta } from "../common/meta";
import { HOUSE_SHOP_ID, type ShopStatus } from "./model";

export { HOUSE_SHOP_ID, type ApiShop, type ShopStats, type ShopStatus } from "./model";
export { DEMO_SELLERS, DEMO_SELLER_PASSWORD, type DemoSeller } from "./demo";

/** shops.access's answer: a shop the caller may manage, with the status its products follow. */
export interface ShopAccess {
	id: string;
	status: ShopStatus;
	version: number;
}

/**
 * The shop when the caller (ctx.meta.user) is its owner or an admin: 404 for an unknown shop, 403 for anyone
 * else. The house shop is managed by admins alone. Without a shops node (a catalog run without it) nobody's
 * ownership can be shown: admins still manage the house shop (taken as ACTIVE at version 0), anyone else gets 403.
 */
export async function assertShopManager(ctx: Context<unknown, ShopMeta>, shopId: string): Promise<ShopAccess> {
	const callable = ctx.broker.registry.getActionEndpoints("shops.access")?.hasAvailable() === true;
	if (!callable) {
		if (shopId === HOUSE_SHOP_ID && ctx.meta.user?.role === "admin") return { id: HOUSE_SHOP_ID, status: "ACTIVE", version: 0 };
		if (ctx.meta.user?.role !== "admin") throw new ForbiddenError("Only a shop's owner or an admin may do this (shops are not reachable to show ownership)", "NOT_SHOP_OWNER");
	}
	return ctx.call<ShopAccess, { id: string }>("shops.access", { id: shopId });
}
