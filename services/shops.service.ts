/**
 * The `shops` service: shops run by sellers inside ShopFlow. Any signed-in user opens a shop (PENDING, owned by
 * them); admins approve and suspend it; the public sees ACTIVE shops, an owner its own whatever their status.
 * Status changes are staged with the write as shop events, on which products list or hide the shop's products.
 */
import { randomUUID } from "node:crypto";
import type { Context } from "moleculer";
import { configOf, type Config } from "../config/env";
import { DbMixin, DuplicateKeyError, type DbMethods } from "../mixins/db.mixin";
import { EventsMixin, STAGED_EVENTS_FIELD, type EventsMethods, type StagedEvent } from "../mixins/events.mixin";
import { EVENTS, type EventName, type ShopChangedPayload } from "./common/events";
import { ConflictError, ForbiddenError, NotFoundError, ValidationFailedError } from "./common/errors";
import { created, requireUser, type ShopMeta } from "./common/meta";
import { defineService, type ServiceThis } from "./common/schema";
import { pageWindow, toPage, type Page } from "./common/paging";
import { slugify } from "./products/client";
import type { ShopAccess } from "./shops/client";
import { DEMO_SELLERS } from "./shops/demo";
import {
	canManage,
	canSee,
	HOUSE_SHOP_ID,
	newShop,
	nextStatus,
	SHOP_SLUG_PATTERN,
	toApiShop,
	type ApiShop,
	type ShopDoc,
	type ShopStats,
} from "./shops/model";
import { createParams, idParams, listParams, type CreateParams, type IdParams, type ListParams } from "./shops/params";

interface ShopsMethods extends DbMethods, EventsMethods {
	loadShop(id: string): Promise<ShopDoc>;
	visibleShop(ctx: Context<unknown, ShopMeta>, id: string): Promise<ShopDoc>;
	statsOf(ctx: Context, ids: string[]): Promise<Record<string, ShopStats>>;
	changeStatus(ctx: Context<IdParams, ShopMeta>, action: "approve" | "suspend"): Promise<ApiShop>;
	insertShop(ctx: Context | null, doc: ShopDoc): Promise<boolean>;
	seedShops(ctx: Context | null, demo?: boolean): Promise<number>;
}
interface ShopsVars {
	config: Config;
}
type ShopsThis = ServiceThis<ShopsVars, ShopsMethods>;
type Ctx<P> = Context<P, ShopMeta>;

const ShopsService = defineService<ShopsVars, ShopsMethods>({
	name: "shops",
	mixins: [
		DbMixin({ shops: { indexes: [{ fields: ["slug"], unique: true }, { fields: ["owner_id"] }, { fields: ["status"] }] } }),
		EventsMixin<ShopsThis>({ stagedIn: ["shops"] }),
	],

	actions: {
		/** Opens a shop owned by the caller, PENDING until an admin approves it; 409 when its name is taken. */
		create: {
			audit: { entity: "shop", read: "shops.get" },
			feature: "marketplace",
			auth: "required",
			params: createParams,
			async handler(this: ShopsThis, ctx: Ctx<CreateParams>): Promise<ApiShop> {
				const user = requireUser(ctx.meta);
				const slug = slugify(ctx.params.name);
				if (!SHOP_SLUG_PATTERN.test(slug)) throw new ValidationFailedError("name", "must contain at least two letters or digits");
				const doc = newShop(`shop-${randomUUID().slice(0, 8)}`, ctx.params.name, slug, user.id, ctx.params.description ?? "", "PENDING", new Date().toISOString());
				if (!(await this.insertShop(ctx, doc)))
					throw new ConflictError(`name: a shop named '${slug}' already exists`, "SHOP_EXISTS", { field: "name", slug });
				created(ctx, `/api/v1/shops/${doc.id}`);
				return toApiShop(doc);
			},
		},

		/** Makes a shop ACTIVE (admin): its products enter the catalog and search. */
		approve: {
			audit: { entity: "shop", id: "id", read: "shops.get" },
			feature: "marketplace",
			roles: ["admin"],
			params: idParams,
			async handler(this: ShopsThis, ctx: Ctx<IdParams>): Promise<ApiShop> {
				return this.changeStatus(ctx, "approve");
			},
		},

		/** Suspends a shop (admin): its products leave the catalog and search and cannot be checked out. */
		suspend: {
			audit: { entity: "shop", id: "id", read: "shops.get" },
			feature: "marketplace",
			roles: ["admin"],
			params: idParams,
			async handler(this: ShopsThis, ctx: Ctx<IdParams>): Promise<ApiShop> {
				return this.changeStatus(ctx, "suspend");
			},
		},

		/** ACTIVE shops for everyone, plus the caller's own whatever their status; admins see all (status= filters). */
		list: {
			feature: "marketplace",
			params: listParams,
			async handler(this: ShopsThis, ctx: Ctx<ListParams>): Promise<Page<ApiShop>> {
				const { status, page, page_size } = ctx.params;
				const user = ctx.meta.user;
				let query: Record<string, unknown>;
				if (user?.role === "admin") query = status ? { status } : {};
				else if (user) query = status ? { status, $or: [{ status: "ACTIVE" }, { owner_id: user.id }] } : { $or: [{ status: "ACTIVE" }, { owner_id: user.id }] };
				else query = { status: "ACTIVE" };
				if (!user && status && status !== "ACTIVE") return toPage([], 0, page, page_size);
				const repo = this.collection<ShopDoc>("shops");
				const [rows, total] = await Promise.all([repo.find(query, { sort: ["name", "_id"], ...pageWindow(page, page_size) }), repo.count(query)]);
				const stats = await this.statsOf(ctx, rows.map(r => r.id));
				return toPage(rows.map(r => toApiShop(r, stats[r.id])), total, page, page_size);
			},
		},

		/** One shop with its product count and rating; 404 for a shop that is not ACTIVE unless the caller owns it. */
		get: {
			feature: "marketplace",
			params: idParams,
			async handler(this: ShopsThis, ctx: Ctx<IdParams>): Promise<ApiShop> {
				const shop = await this.visibleShop(ctx, ctx.params.id);
				return toApiShop(shop, (await this.statsOf(ctx, [shop.id]))[shop.id]);
			},
		},

		/** The shop when the caller (ctx.meta.user) manages it: 404 unknown, 403 not its owner (see shops/client.ts). */
		access: {
			visibility: "public",
			params: idParams,
			async handler(this: ShopsThis, ctx: Ctx<IdParams>): Promise<ShopAccess> {
				const shop = await this.loadShop(ctx.params.id);
				if (!canManage(shop, ctx.meta.user)) {
					// Someone who may not even see the shop learns nothing of it.
					if (!canSee(shop, ctx.meta.user)) throw new NotFoundError("shop", ctx.params.id);
					throw new ForbiddenError(`Only the owner of shop '${shop.id}' or an admin may do this`, "NOT_SHOP_OWNER");
				}
				return { id: shop.id, status: shop.status, version: shop.version };
			},
		},

		/** Stores the house shop and the demo shops where missing (idempotent); for tests and the REPL. */
		seedDemo: {
			visibility: "public",
			async handler(this: ShopsThis, ctx: Ctx<object>): Promise<{ shops: number }> {
				return { shops: await this.seedShops(ctx) };
			},
		},
	},

	methods: {
		/** The stored shop, or a 404. */
		async loadShop(this: ShopsThis, id: string): Promise<ShopDoc> {
			const shop = await this.collection<ShopDoc>("shops").findById(id);
			if (!shop) throw new NotFoundError("shop", id);
			return shop;
		},

		/** The shop if the caller may see it (ACTIVE, or its owner, or an admin), else a 404. */
		async visibleShop(this: ShopsThis, ctx: Ctx<unknown>, id: string): Promise<ShopDoc> {
			const shop = await this.loadShop(id);
			if (!canSee(shop, ctx.meta.user)) throw new NotFoundError("shop", id);
			return shop;
		},

		/** Product counts and ratings per shop from the catalog; zeros when products does not answer. */
		async statsOf(this: ShopsThis, ctx: Context, ids: string[]): Promise<Record<string, ShopStats>> {
			if (ids.length === 0) return {};
			try {
				return await ctx.call<Record<string, ShopStats>, { shop_ids: string[] }>("products.shopStats", { shop_ids: ids }, { retries: 0, timeout: 2_000 });
			} catch (err) {
				this.logger.debug(`shop figures unknown: ${(err as Error).message}`);
				return {};
			}
		},

		/** Approves or suspends: one versioned write that stages the shop event, then publishes it. */
		async changeStatus(this: ShopsThis, ctx: Ctx<IdParams>, action: "approve" | "suspend"): Promise<ApiShop> {
			const repo = this.collection<ShopDoc>("shops");
			for (let attempt = 0; attempt < 5; attempt++) {
				const shop = await this.loadShop(ctx.params.id);
				const status = nextStatus(shop.status, action);
				if (status === null) return toApiShop(shop, (await this.statsOf(ctx, [shop.id]))[shop.id]);
				const doc: ShopDoc = { ...shop, status, version: shop.version + 1, updated_at: new Date().toISOString() };
				const name: EventName = status === "ACTIVE" ? EVENTS.SHOP_APPROVED : EVENTS.SHOP_SUSPENDED;
				const event = this.stageEvent<ShopChangedPayload>(ctx, name, { shop_id: shop.id, owner_id: shop.owner_id, status, version: doc.version });
				const n = await repo.updateWhere(
					{ id: shop.id, version: shop.version },
					{ $set: { status, version: doc.version, updated_at: doc.updated_at }, $push: { [STAGED_EVENTS_FIELD]: event } },
				);
				if (n === 0) continue;
				await this.publishStaged("shops", shop.id, [event as unknown as StagedEvent]);
				return toApiShop(doc, (await this.statsOf(ctx, [shop.id]))[shop.id]);
			}
			throw new ConflictError(`shop '${ctx.params.id}' is being changed by someone else; try again`, "CONCURRENT_UPDATE", { id: ctx.params.id });
		},

		/** Inserts a shop with its shop.created event staged; false when its id or slug is taken. */
		async insertShop(this: ShopsThis, ctx: Context | null, doc: ShopDoc): Promise<boolean> {
			const event = this.stageEvent<ShopChangedPayload>(ctx, EVENTS.SHOP_CREATED, { shop_id: doc.id, owner_id: doc.owner_id, status: doc.status, version: doc.version });
			try {
				await this.collection<ShopDoc>("shops").insert({ ...doc, [STAGED_EVENTS_FIELD]: [event] });
			} catch (err) {
				if (err instanceof DuplicateKeyError) return false;
				throw err;
			}
			await this.publishStaged("shops", doc.id, [event as unknown as StagedEvent]);
			return true;
		},

		/** The house shop (admins' products) and, with `demo`, the demo sellers' shops, ACTIVE, where missing. */
		async seedShops(this: ShopsThis, ctx: Context | null, demo = true): Promise<number> {
			const now = new Date().toISOString();
			const docs = [newShop(HOUSE_SHOP_ID, "ShopFlow", HOUSE_SHOP_ID, null, "Products sold by ShopFlow itself.", "ACTIVE", now)];
			if (demo) docs.push(...DEMO_SELLERS.map(s => newShop(s.shop.id, s.shop.name, s.shop.id, s.user_id, s.shop.description, "ACTIVE", now)));
			let n = 0;
			for (const doc of docs) if (!(await this.collection<ShopDoc>("shops").findById(doc.id)) && (await this.insertShop(ctx, doc))) n++;
			return n;
		},
	},

	created(this: ShopsThis) {
		this.config = configOf(this);
	},

	async started(this: ShopsThis) {
		const n = await this.seedShops(null, this.config.seedDemoData);
		if (n > 0) this.logger.info(`Shops created at start: ${n} (the house shop${this.config.seedDemoData ? " and the demo shops" : ""})`);
	},
});

export default ShopsService;
