/**
 * The `products` service: the catalog (products and categories), the source of truth for names and prices.
 * Reads go through Moleculer's cacher; every change cleans the cache on every node and is published as a
 * product event for read models (search) and re-pricing.
 */
import type { Context } from "moleculer";
import { configOf, type Config } from "../config/env";
import { DbMixin, type DbMethods } from "../mixins/db.mixin";
import { EventsMixin, STAGED_EVENTS_FIELD, type EventsMethods, type StagedEvent } from "../mixins/events.mixin";
import { EVENTS, type DomainEvent, type ReviewCreatedPayload, type ShopChangedPayload } from "./common/events";
import { PRODUCTS_CHANGED_BROADCAST } from "./common/broadcasts";
import { ConflictError, NotFoundError, ValidationFailedError } from "./common/errors";
import type { ShopMeta } from "./common/meta";
import { defineService, type ServiceThis } from "./common/schema";
import { pageWindow, pagingParams, toPage, type Page } from "./common/paging";
import { fetchAvailability, isCallable } from "./inventory/client";
import { changedFields, demoProduct, priceChange } from "./products/changes";
import { ensureCategory, insertIfAbsent } from "./products/store";
import { ofShop } from "./products/shop-listing";
import { shopActions, shopMethods } from "./products/shop-methods";
import { HOUSE_SHOP_ID } from "./shops/client";
import { DEMO_CATEGORIES, DEMO_PRODUCTS } from "./products/demo-catalog";
import {
	checkPrice,
	isListed,
	LISTED,
	slugify,
	categorySlug,
	toApiProduct,
	toSnapshot,
	toStored,
	type ApiProduct,
	type Availability,
	type CategoryDoc,
	type ProductDoc,
	type ProductSnapshot,
} from "./products/model";
import {
	createInShopParams,
	createParams,
	listParams,
	updateParams,
	type ListParams,
	type ProductInput,
	type ProductUpdateInput,
} from "./products/params";

interface IdParams {
	id: string;
}
interface IdsParams {
	ids: string[];
}
interface PagingParams {
	page: number;
	page_size: number;
}
export interface PricingRow {
	id: string;
	name: string;
	price_cents: number;
	currency: string;
	/** Listed: for sale now (not deleted, and its shop active). */
	active: boolean;
	/** Deleted by its shop or an admin (a product merely unlisted with its shop is not). */
	deleted: boolean;
	/** What a voucher's scope matches. */
	category: string;
	/** The shop that sells it (ships it and is paid for it). */
	shop_id: string;
}
export interface CategoryRow {
	id: string;
	name: string;
	product_count: number;
}

interface ProductsMethods extends DbMethods, EventsMethods {
	loadActive(id: string): Promise<ProductDoc>;
	loadManaged(ctx: Context<unknown, ShopMeta>, id: string): Promise<ProductDoc>;
	createProduct(ctx: Context<ProductInput, ShopMeta>, shopId: string): Promise<ApiProduct>;
	applyShopStatus(ctx: Context, e: ShopChangedPayload): Promise<number>;
	availabilityFor(ctx: Context, ids: string[]): Promise<Map<string, Availability> | null>;
	cleanCache(): Promise<void>;
	afterChange(events: StagedEvent[], doc: ProductDoc): Promise<void>;
	seedDemoCatalog(ctx: Context | null): Promise<{ products: number; categories: number }>;
}
interface ProductsVars {
	config: Config;
}
type ProductsThis = ServiceThis<ProductsVars, ProductsMethods>;
type Ctx<P> = Context<P, ShopMeta>;

/** The internal broadcast that makes every products node drop its cached reads (and gateways their answers). */
export const CACHE_CLEAN_EVENT = PRODUCTS_CHANGED_BROADCAST;

const ProductsService = defineService<ProductsVars, ProductsMethods>({
	name: "products",
	mixins: [
		DbMixin({
			products: { indexes: [{ fields: ["category"] }, { fields: ["brand_key"] }] },
			categories: {},
		}),
		EventsMixin<ProductsThis>({
			stagedIn: ["products"],
			handlers: {
				/** Keeps the product's rating in step with reviews; an older count never overwrites a newer one. */
				async [EVENTS.REVIEW_CREATED](this: ProductsThis, event: DomainEvent): Promise<void> {
					const e = event as unknown as DomainEvent<ReviewCreatedPayload>;
					const n = await this.collection<ProductDoc>("products").updateWhere(
						{ id: e.product_id, rating_count: { $lt: e.rating_count } },
						{ $set: { rating_average: e.average_rating, rating_count: e.rating_count } },
					);
					if (n > 0) await this.cleanCache();
				},
				/** The shop is ACTIVE again: its products return to the catalog and search. */
				async [EVENTS.SHOP_APPROVED](this: ProductsThis, event: DomainEvent, ctx: Context): Promise<void> {
					await this.applyShopStatus(ctx, event as unknown as ShopChangedPayload);
				},
				/** The shop is suspended: its products leave the catalog and search, and checkout refuses them. */
				async [EVENTS.SHOP_SUSPENDED](this: ProductsThis, event: DomainEvent, ctx: Context): Promise<void> {
					await this.applyShopStatus(ctx, event as unknown as ShopChangedPayload);
				},
			},
		}),
	],

	actions: {
		/** A page of the catalog, filtered by category, brand and shop, with availability. */
		list: {
			params: listParams,
			async handler(this: ProductsThis, ctx: Ctx<ListParams>): Promise<Page<ApiProduct>> {
				const page = await ctx.call<Page<ProductSnapshot>, ListParams>("products.page", ctx.params);
				const stock = await this.availabilityFor(ctx, page.rows.map(r => r.id));
				return { ...page, rows: page.rows.map(r => toApiProduct(r, stock?.get(r.id) ?? null)) };
			},
		},

		/** One product with its availability; 404 for an unknown or removed id. */
		get: {
			params: { id: { type: "string", min: 1, max: 100 } },
			async handler(this: ProductsThis, ctx: Ctx<IdParams>): Promise<ApiProduct> {
				const product = await ctx.call<ProductSnapshot, IdParams>("products.lookup", { id: ctx.params.id });
				const stock = await this.availabilityFor(ctx, [product.id]);
				return toApiProduct(product, stock?.get(product.id) ?? null);
			},
		},

		/** The stored product (cached); availability is added by `get` so that it is never stale. */
		lookup: {
			visibility: "public",
			params: { id: { type: "string", min: 1, max: 100 } },
			cache: { keys: ["id"] },
			async handler(this: ProductsThis, ctx: Ctx<IdParams>): Promise<ProductSnapshot> {
				const doc = await this.loadActive(ctx.params.id);
				if (!isListed(doc)) throw new NotFoundError("product", ctx.params.id);
				return toSnapshot(doc);
			},
		},

		/** A page of stored products (cached), one bounded query: page_size is at most 100. */
		page: {
			visibility: "public",
			params: listParams,
			cache: { keys: ["category", "brand", "shop", "page", "page_size"] },
			async handler(this: ProductsThis, ctx: Ctx<ListParams>): Promise<Page<ProductSnapshot>> {
				const { category, brand, shop, page, page_size } = ctx.params;
				const query: Record<string, unknown> = { ...LISTED };
				if (category) query.category = slugify(category);
				if (brand) query.brand_key = brand.toLowerCase();
				if (shop) Object.assign(query, ofShop(shop));
				const repo = this.collection<ProductDoc>("products");
				const [rows, total] = await Promise.all([
					// `_id` (the stored id) breaks ties, so that pages never overlap or skip.
					repo.find(query, { sort: ["name", "_id"], ...pageWindow(page, page_size) }),
					repo.count(query),
				]);
				return toPage(rows.map(toSnapshot), total, page, page_size);
			},
		},

		/** Current names and prices for re-pricing carts and orders; unknown ids are absent, removed ones and a suspended shop's inactive. */
		getMany: {
			visibility: "public",
			params: { ids: { type: "array", items: { type: "string", min: 1, max: 100 }, max: 200 } },
			async handler(this: ProductsThis, ctx: Ctx<IdsParams>): Promise<{ rows: PricingRow[] }> {
				const ids = [...new Set(ctx.params.ids)];
				if (ids.length === 0) return { rows: [] };
				const docs = await this.collection<ProductDoc>("products").find({ id: { $in: ids } });
				return { rows: docs.map(d => ({ id: d.id, name: d.name, price_cents: d.price_cents, currency: d.currency, active: isListed(d), deleted: !d.active, category: d.category, shop_id: d.shop_id ?? HOUSE_SHOP_ID })) };
			},
		},

		/** Every listed product, page by page (up to 500 a page), for read models that rebuild themselves. */
		all: {
			visibility: "public",
			params: { ...pagingParams, page_size: { ...pagingParams.page_size, max: 500, default: 200 } },
			async handler(this: ProductsThis, ctx: Ctx<PagingParams>): Promise<Page<ProductSnapshot>> {
				const { page, page_size } = ctx.params;
				const repo = this.collection<ProductDoc>("products");
				const [rows, total] = await Promise.all([
					repo.find(LISTED, { sort: ["_id"], ...pageWindow(page, page_size) }),
					repo.count(LISTED),
				]);
				return toPage(rows.map(toSnapshot), total, page, page_size);
			},
		},

		/** The categories with how many listed products each has. */
		categories: {
			cache: { keys: [] },
			async handler(this: ProductsThis): Promise<{ rows: CategoryRow[] }> {
				const cats = await this.collection<CategoryDoc>("categories").find({}, { sort: ["name"], limit: 1000 });
				const products = this.collection<ProductDoc>("products");
				const rows = await Promise.all(
					cats.map(async c => ({ id: c.id, name: c.name, product_count: await products.count({ category: c.id, ...LISTED }) })),
				);
				return { rows: rows.filter(r => r.product_count > 0) };
			},
		},

		/** Adds a product (admin) to `shop_id`, by default the house shop; product.created is staged in the same write. */
		create: {
			audit: { entity: "product", read: "products.lookup" },
			roles: ["admin"],
			params: createParams,
			async handler(this: ProductsThis, ctx: Ctx<ProductInput>): Promise<ApiProduct> {
				return this.createProduct(ctx, ctx.params.shop_id ?? HOUSE_SHOP_ID);
			},
		},

		/** Adds a product to a shop, by its owner or an admin (403 for anyone else). */
		createInShop: {
			audit: { entity: "product", read: "products.lookup" },
			feature: "marketplace",
			auth: "required",
			owned: "shop",
			params: createInShopParams,
			async handler(this: ProductsThis, ctx: Ctx<ProductInput & { shop_id: string }>): Promise<ApiProduct> {
				return this.createProduct(ctx, ctx.params.shop_id);
			},
		},

		...shopActions,

		/** Changes a product (its shop's owner or an admin); a new price is also announced as product.price-changed. */
		update: {
			audit: { entity: "product", id: "id", read: "products.lookup" },
			auth: "required",
			owned: "shop",
			params: updateParams,
			async handler(this: ProductsThis, ctx: Ctx<ProductUpdateInput>): Promise<ApiProduct> {
				const { id, price, category, ...input } = ctx.params;
				let priceCents: number | undefined;
				if (price !== undefined) {
					const checked = checkPrice(price);
					if (!checked.ok) throw new ValidationFailedError("price", checked.message);
					priceCents = checked.value;
				}
				const set = changedFields(input, priceCents, category === undefined ? undefined : categorySlug(category));
				if (Object.keys(set).length === 0)
					throw new ValidationFailedError("body", "names nothing to change (name, description, brand, category, price, currency, image_url, tags)");
				await this.loadManaged(ctx, id);

				// Optimistic update on the version: the old price announced is the one actually replaced, and the
				// events are staged in the same write as the change they report.
				const repo = this.collection<ProductDoc>("products");
				for (let attempt = 0; attempt < 5; attempt++) {
					const current = await this.loadActive(id);
					const doc: ProductDoc = { ...toStored(current), ...set, updated_at: new Date().toISOString(), version: current.version + 1 };
					const events: StagedEvent[] = [this.stageEvent(ctx, EVENTS.PRODUCT_UPDATED, { product_id: id, version: doc.version, product: toSnapshot(doc) })];
					const change = priceChange(current, doc);
					if (change) events.push(this.stageEvent(ctx, EVENTS.PRODUCT_PRICE_CHANGED, change) as unknown as StagedEvent);
					const n = await repo.updateWhere(
						{ id, version: current.version, active: true },
						{ $set: { ...set, updated_at: doc.updated_at, version: doc.version }, $push: { [STAGED_EVENTS_FIELD]: { $each: events } } },
					);
					if (n === 0) continue;
					await this.afterChange(events, doc);
					return toApiProduct(toSnapshot(doc));
				}
				throw new ConflictError(`product '${id}' is being changed by someone else; try again`, "CONCURRENT_UPDATE", { id });
			},
		},

		/** Removes a product from the catalog (its shop's owner or an admin); it stays stored, inactive, for re-pricing to refuse. */
		remove: {
			audit: { entity: "product", id: "id", read: "products.lookup" },
			auth: "required",
			owned: "shop",
			params: { id: { type: "string", min: 1, max: 100 } },
			async handler(this: ProductsThis, ctx: Ctx<IdParams>): Promise<{ id: string; deleted: true }> {
				const current = await this.loadManaged(ctx, ctx.params.id);
				const version = current.version + 1;
				const event = this.stageEvent(ctx, EVENTS.PRODUCT_DELETED, { product_id: current.id, version });
				const n = await this.collection<ProductDoc>("products").updateWhere(
					{ id: current.id, version: current.version, active: true },
					{ $set: { active: false, version, updated_at: new Date().toISOString() }, $push: { [STAGED_EVENTS_FIELD]: event } },
				);
				if (n === 0) throw new ConflictError(`product '${current.id}' changed meanwhile; try again`, "CONCURRENT_UPDATE", { id: current.id });
				await this.afterChange([event], current);
				return { id: current.id, deleted: true };
			},
		},

		/** Loads the demo catalog (and asks inventory to stock it) where it is missing; idempotent. */
		seedDemo: {
			visibility: "public",
			async handler(this: ProductsThis, ctx: Ctx<object>): Promise<{ products: number; categories: number; stock: number | null }> {
				const res = await this.seedDemoCatalog(ctx);
				let stock: number | null = null;
				if (isCallable(ctx, "inventory.seedDemo"))
					try {
						stock = (await ctx.call<{ inserted: number }, object>("inventory.seedDemo", {}, { retries: 0 })).inserted;
					} catch (err) {
						this.logger.info(`demo stock not seeded from products (inventory seeds itself when it starts): ${(err as Error).message}`);
					}
				return { ...res, stock };
			},
		},
	},

	events: {
		/** Drops this node's cached catalog reads after a change made on any node (Redis: already done there). */
		[CACHE_CLEAN_EVENT]: {
			async handler(this: ProductsThis): Promise<void> {
				if (!this.config.redisUrl) await this.broker.cacher?.clean("products.**");
			},
		},
	},

	methods: {
		...shopMethods,

		/** The stored, active product, or a 404. */
		async loadActive(this: ProductsThis, id: string): Promise<ProductDoc> {
			const doc = await this.collection<ProductDoc>("products").findById(id);
			if (!doc || !doc.active) throw new NotFoundError("product", id);
			return doc;
		},

		/** Available units per product from inventory; null when inventory does not answer (pages still render). */
		async availabilityFor(this: ProductsThis, ctx: Context, ids: string[]): Promise<Map<string, Availability> | null> {
			return fetchAvailability(ctx, ids, err => this.logger.debug(`availability unknown: ${err.message}`));
		},

		/**
		 * Cleans cached reads here (in Redis: for every node) and tells every node: products nodes with a memory
		 * cache clean theirs, gateways drop their cached catalog answers. Local handlers (embedded mode) have run
		 * when this resolves, so that the caller's answer and the next read agree.
		 */
		async cleanCache(this: ProductsThis): Promise<void> {
			await this.broker.cacher?.clean("products.**");
			await this.broker.broadcast(CACHE_CLEAN_EVENT, { node_id: this.broker.nodeID });
		},

		/** After a stored change: its category exists, cached reads are dropped, its staged events go out. */
		async afterChange(this: ProductsThis, events: StagedEvent[], doc: ProductDoc): Promise<void> {
			await ensureCategory(this.collection<CategoryDoc>("categories"), doc.category);
			await this.cleanCache();
			await this.publishStaged("products", doc.id, events);
		},

		/** Inserts the demo categories and products that are missing (fixed ids: a second run adds nothing). */
		async seedDemoCatalog(this: ProductsThis, ctx: Context | null): Promise<{ products: number; categories: number }> {
			const categories = this.collection<CategoryDoc>("categories");
			const products = this.collection<ProductDoc>("products");
			let nCategories = 0;
			for (const c of DEMO_CATEGORIES) if (await insertIfAbsent(categories, c)) nCategories++;
			let nProducts = 0;
			const now = new Date().toISOString();
			for (const d of DEMO_PRODUCTS) {
				const doc = demoProduct(d, now);
				const event = this.stageEvent(ctx, EVENTS.PRODUCT_CREATED, { product_id: doc.id, version: doc.version, product: toSnapshot(doc) });
				if (!(await insertIfAbsent(products, { ...doc, [STAGED_EVENTS_FIELD]: [event] }))) continue;
				nProducts++;
				await this.publishStaged("products", doc.id, [event]);
			}
			if (nProducts + nCategories > 0) await this.cleanCache();
			return { products: nProducts, categories: nCategories };
		},
	},

	created(this: ProductsThis) {
		this.config = configOf(this);
	},

	async started(this: ProductsThis) {
		if (!this.config.seedDemoData) return;
		if ((await this.collection<ProductDoc>("products").count()) > 0) return;
		const res = await this.seedDemoCatalog(null);
		this.logger.info(`Demo catalog loaded: ${res.products} products in ${res.categories} categories`);
	},
});

export default ProductsService;
