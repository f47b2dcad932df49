/**
 * The notifications service's methods for sellers: record an order's lines per shop from its order.created (with
 * each shop's owner, asked of `products` and `shops` while the shop is ACTIVE, as checkout requires), then tell each
 * owner once when the order is paid and once when it is cancelled, naming that shop's lines alone.
 */
import type { Context } from "moleculer";
import { Errors } from "moleculer";
import { DuplicateKeyError, type DbMethods } from "../../mixins/db.mixin";
import type { DomainEvent } from "../common/events";
import type { ApiShop } from "../shops/client";
import { HOUSE_SHOP_ID } from "../shops/client";
import type { ProductSnapshot } from "../products/client";
import { itemQuantities, sellerDraft, sellerNotificationId, type SellerDraft, type SellerEvent, type SellerPart, type SellerSplitDoc } from "./sellers";

/** The collection of the orders' lines per shop. */
export const SELLER_SPLITS = "seller_splits";

/** A paid or cancelled order whose order.created was not handled yet: retried (with back-off) until it was. */
export class SellerLinesUnknownError extends Errors.MoleculerRetryableError {
	constructor(orderId: string) {
		super(`the lines of order ${orderId} are not recorded yet (its order.created comes first)`, 503, "SELLER_LINES_UNKNOWN", { order_id: orderId });
	}
}

export interface SellerNotifying {
	recordSellers(ctx: Context, event: DomainEvent): Promise<void>;
	notifySellers(ctx: Context, sellerEvent: SellerEvent, eventName: string, event: DomainEvent): Promise<void>;
	sellerParts(ctx: Context, items: Map<string, number>): Promise<SellerPart[]>;
}

type This = DbMethods &
	SellerNotifying & {
		logger: { warn(...args: unknown[]): void };
		deliver(ctx: Context, id: string, draft: SellerDraft, eventName: string, event: DomainEvent): Promise<void>;
	};

/** A 404 from a lookup: the product was removed, or the shop is no longer visible; its lines are told to nobody. */
const isNotFound = (err: unknown): boolean => err instanceof Errors.MoleculerError && err.code === 404;

/** Whether some node offers the action (a deployment without the catalog has no sellers to tell). */
const callable = (ctx: Context, action: string): boolean => ctx.broker.registry.getActionEndpoints(action)?.hasAvailable() === true;

export const SellerMethods = {
	/** Stores the order's lines per shop with an owner (none: an empty record, so that its later events wait for nothing). */
	async recordSellers(this: This, ctx: Context, event: DomainEvent): Promise<void> {
		const orderId = typeof event.order_id === "string" ? event.order_id : null;
		if (!orderId) return;
		const coll = this.collection<SellerSplitDoc>(SELLER_SPLITS);
		if (await coll.findById(orderId)) return;
		const items = itemQuantities(event.items);
		// No catalog in this deployment (a notifications-only test): no product belongs to a seller.
		const parts = items.size > 0 && callable(ctx, "products.lookup") ? await this.sellerParts(ctx, items) : [];
		try {
			await coll.insert({ id: orderId, parts, created_at: new Date().toISOString() });
		} catch (err) {
			if (!(err instanceof DuplicateKeyError)) throw err;
		}
	},

	/** One notification per shop of the order with an owner, for this seller event. */
	async notifySellers(this: This, ctx: Context, sellerEvent: SellerEvent, eventName: string, event: DomainEvent): Promise<void> {
		const orderId = typeof event.order_id === "string" ? event.order_id : null;
		if (!orderId) return;
		const split = await this.collection<SellerSplitDoc>(SELLER_SPLITS).findById(orderId);
		if (!split) {
			// Without a catalog in this deployment, order.created recorded (or would record) nobody.
			if (!callable(ctx, "products.lookup")) return;
			throw new SellerLinesUnknownError(orderId);
		}
		for (const part of split.parts) {
			const draft = sellerDraft(sellerEvent, orderId, part, event);
			await this.deliver(ctx, sellerNotificationId(draft), draft, eventName, event);
		}
	},

	/** The order's products grouped by shop, each with its owner; the house shop (admins') and vanished ones left out. */
	async sellerParts(this: This, ctx: Context, items: Map<string, number>): Promise<SellerPart[]> {
		const byShop = new Map<string, SellerPart["lines"]>();
		for (const [productId, quantity] of items) {
			let product: ProductSnapshot;
			try {
				product = await ctx.call<ProductSnapshot, { id: string }>("products.lookup", { id: productId });
			} catch (err) {
				if (!isNotFound(err)) throw err;
				this.logger.warn(`order line ${productId}: product not found, its seller is not told`);
				continue;
			}
			const shopId = product.shop_id ?? HOUSE_SHOP_ID;
			if (shopId === HOUSE_SHOP_ID) continue;
			byShop.set(shopId, [...(byShop.get(shopId) ?? []), { product_id: productId, name: product.name, quantity }]);
		}
		const parts: SellerPart[] = [];
		for (const [shopId, lines] of byShop) {
			let shop: ApiShop;
			try {
				shop = await ctx.call<ApiShop, { id: string }>("shops.get", { id: shopId });
			} catch (err) {
				if (!isNotFound(err)) throw err;
				this.logger.warn(`shop ${shopId} is not visible (suspended since?), its seller is not told`);
				continue;
			}
			if (shop.owner_id) parts.push({ shop_id: shopId, shop_name: shop.name, owner_id: shop.owner_id, lines });
		}
		return parts;
	},
};
