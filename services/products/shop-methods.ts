/**
 * The products service's actions and methods about shops: who may manage a product (its shop's owner or an admin), products
 * created in a shop, and the listing or hiding of a shop's products when its status changes.
 */
import { randomUUID } from "node:crypto";
import type { Context } from "moleculer";
import { DuplicateKeyError, type Repository } from "../../mixins/db.mixin";
import { STAGED_EVENTS_FIELD, type StagedEvent } from "../../mixins/events.mixin";
import { EVENTS, type EventName, type ShopChangedPayload } from "../common/events";
import { ConflictError, ValidationFailedError } from "../common/errors";
import { created, type ShopMeta } from "../common/meta";
import { assertShopManager, HOUSE_SHOP_ID, type ShopStats } from "../shops/client";
import { newProduct } from "./changes";
import { categorySlug, checkPrice, slugify, toApiProduct, toSnapshot, toStored, type ApiProduct, type ProductDoc } from "./model";
import type { ProductInput } from "./params";
import { shopStats, staleForShop } from "./shop-listing";

/** What these methods use of the products service. */
interface ShopMethodsThis {
	collection<T extends { id: string }>(name: string): Repository<T>;
	stageEvent<T extends object>(ctx: Context | null, event: EventName, payload: T): StagedEvent<T>;
	publishStaged(collection: string, docId: string, events: StagedEvent[]): Promise<void>;
	loadActive(id: string): Promise<ProductDoc>;
	cleanCache(): Promise<void>;
	afterChange(events: StagedEvent[], doc: ProductDoc): Promise<void>;
	loadManaged(ctx: Context<unknown, ShopMeta>, id: string): Promise<ProductDoc>;
}

export const shopActions = {
	/** 404 for an unknown product, 403 unless the caller manages its shop; inventory asks before a seller's stock change. */
	assertManager: {
		visibility: "public" as const,
		params: { id: { type: "string", min: 1, max: 100 } },
		async handler(this: ShopMethodsThis, ctx: Context<{ id: string }, ShopMeta>): Promise<{ id: string; shop_id: string }> {
			const doc = await this.loadManaged(ctx, ctx.params.id);
			return { id: doc.id, shop_id: doc.shop_id ?? HOUSE_SHOP_ID };
		},
	},

	/** Product count and rating of shops (for shops.get and shops.list). */
	shopStats: {
		visibility: "public" as const,
		params: { shop_ids: { type: "array", items: { type: "string", min: 1, max: 100 }, max: 100 } },
		async handler(this: ShopMethodsThis, ctx: Context<{ shop_ids: string[] }, ShopMeta>): Promise<Record<string, ShopStats>> {
			return shopStats(this.collection<ProductDoc>("products"), ctx.params.shop_ids);
		},
	},
};

export const shopMethods = {
		/**
		 * The active product if the caller may manage it: its shop's owner or an admin, or a call between services
		 * (no user: the gateway always sets one on these routes). 404 unknown, 403 someone else's.
		 */
		async loadManaged(this: ShopMethodsThis, ctx: Context<unknown, ShopMeta>, id: string): Promise<ProductDoc> {
			const doc = await this.loadActive(id);
			const user = ctx.meta.user;
			if (user && user.role !== "admin") await assertShopManager(ctx, doc.shop_id ?? HOUSE_SHOP_ID);
			return doc;
		},

		/** Stores a new product in a shop the caller manages; listed at once only when the shop is ACTIVE. */
		async createProduct(this: ShopMethodsThis, ctx: Context<ProductInput, ShopMeta>, shopId: string): Promise<ApiProduct> {
			const input = ctx.params;
			const price = checkPrice(input.price);
			if (!price.ok) throw new ValidationFailedError("price", price.message);
			const category = categorySlug(input.category);
			// A call between services (no user) may add to the house shop; every other case is the shop's to allow.
			const shop = !ctx.meta.user && shopId === HOUSE_SHOP_ID ? { id: HOUSE_SHOP_ID, status: "ACTIVE", version: 0 } : await assertShopManager(ctx, shopId);
			const id = input.id ?? `${slugify(input.name) || "product"}-${randomUUID().slice(0, 6)}`;
			const placement = { id: shop.id, listed: shop.status === "ACTIVE", version: shop.version };
			const doc = newProduct(id, input, price.value, category, new Date().toISOString(), placement);
			const event = this.stageEvent(ctx, EVENTS.PRODUCT_CREATED, { product_id: id, version: doc.version, product: toSnapshot(doc) });
			try {
				await this.collection<ProductDoc>("products").insert({ ...doc, [STAGED_EVENTS_FIELD]: [event] });
			} catch (err) {
				if (err instanceof DuplicateKeyError) throw new ConflictError(`id: a product '${id}' already exists`, "PRODUCT_EXISTS", { field: "id", id });
				throw err;
			}
			await this.afterChange([event], doc);
			created(ctx, `/api/v1/products/${id}`);
			return toApiProduct(toSnapshot(doc));
		},

		/**
		 * Lists or hides a shop's products after a shop event: each product whose listing is older than the event gets
		 * a new version with a product.updated staged in the same write (search follows it). Returns how many changed.
		 */
		async applyShopStatus(this: ShopMethodsThis, ctx: Context, e: ShopChangedPayload): Promise<number> {
			const repo = this.collection<ProductDoc>("products");
			const listed = e.status === "ACTIVE";
			const now = new Date().toISOString();
			const changed: Array<{ doc: ProductDoc; event: StagedEvent }> = [];
			for (const current of await repo.find(staleForShop(e), { limit: 100_000 })) {
				const doc: ProductDoc = { ...toStored(current), shop_listed: listed, shop_version: e.version, version: current.version + 1, updated_at: now };
				const event = this.stageEvent(ctx, EVENTS.PRODUCT_UPDATED, { product_id: doc.id, version: doc.version, product: toSnapshot(doc) });
				const n = await repo.updateWhere(
					{ id: current.id, version: current.version },
					{ $set: { shop_listed: listed, shop_version: e.version, version: doc.version, updated_at: now }, $push: { [STAGED_EVENTS_FIELD]: event } },
				);
				// A product changed meanwhile: the retry of this event (thrown below) lists or hides it.
				if (n > 0) changed.push({ doc, event: event as unknown as StagedEvent });
			}
			if (changed.length > 0) await this.cleanCache();
			await Promise.all(changed.map(c => this.publishStaged("products", c.doc.id, [c.event])));
			if ((await repo.count(staleForShop(e))) > 0) throw new ConflictError(`products of shop '${e.shop_id}' changed meanwhile`, "CONCURRENT_UPDATE");
			return changed.length;
		},

};
