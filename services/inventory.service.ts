/**
 * The `inventory` service: stock per product per warehouse (on_hand, reserved, available) and the
 * reservations of orders. A reservation is all lines or none, one conditional atomic update per warehouse
 * row, and idempotent per order_id: the reservations collection's unique key arbitrates duplicate calls.
 */
import { uuid } from "../config/ids";
import type { Context } from "moleculer";
import { getConfig, type Config } from "../config/env";
import { DbMixin, DuplicateKeyError, type DbMethods } from "../mixins/db.mixin";
import { EventsMixin, STAGED_EVENTS_FIELD, type EventsMethods, type StagedEvent } from "../mixins/events.mixin";
import { EVENTS } from "./common/events";
import { ConflictError, DependencyUnavailableError, InsufficientStockError, NotFoundError } from "./common/errors";
import type { ShopMeta } from "./common/meta";
import { defineService, type ServiceThis } from "./common/schema";
import { DEMO_STOCK } from "./products/demo-catalog";
import type { PricingRow } from "./products.service";
import {
	availabilityAnswer,
	fellBelow,
	totalAvailable,
	mergeItems,
	summarise,
	type AvailabilityResult,
	type Levels,
	type Reservation,
	type StockLine,
	type StockRow,
} from "./inventory/model";
import {
	itemsParam,
	productParam,
	warehouseParam,
	type ItemsParams,
	type OrderParams,
	type ProductParams,
	type ReserveParams,
	type RestockParams,
	type SetLevelParams,
} from "./inventory/params";
import { StockStore } from "./inventory/stock";

export interface ReservationAnswer {
	order_id: string;
	status: "RESERVED";
	lines: StockLine[];
}
type StatusAnswer<S extends string> = { order_id: string; status: S };

interface InventoryMethods extends DbMethods, EventsMethods {
	store(): StockStore;
	settled(orderId: string): Promise<Reservation | null>;
	claim(ctx: Context, params: ReserveParams): Promise<Reservation | null>;
	ensureProduct(ctx: Context, productId: string): Promise<void>;
	announceLow(ctx: Context | null, productId: string, before: number, after: number): Promise<void>;
	levelsOf(productId: string): Promise<Levels>;
}
interface InventoryVars {
	config: Config;
	stockStore: StockStore;
}
type InventoryThis = ServiceThis<InventoryVars, InventoryMethods>;
type Ctx<P> = Context<P, ShopMeta>;

/** How long a duplicate call waits for the first call on the same order to finish. */
const SETTLE_TIMEOUT_MS = 5_000;

const InventoryService = defineService<InventoryVars, InventoryMethods>({
	name: "inventory",
	mixins: [
		DbMixin({
			stock: { indexes: [{ fields: ["product_id"] }] },
			reservations: { indexes: [{ fields: ["order_id"], unique: true }] },
		}),
		EventsMixin({ stagedIn: ["reservations"] }),
	],

	actions: {
		/** Whether each item's quantity is available now (for carts and product pages); holds nothing. */
		availability: {
			visibility: "public",
			params: { items: itemsParam },
			async handler(this: InventoryThis, ctx: Ctx<ItemsParams>): Promise<AvailabilityResult> {
				const items = mergeItems(ctx.params.items);
				return availabilityAnswer(items, await this.store().availableOf(items.map(i => i.product_id)));
			},
		},

		/** Holds every line of an order or none; a second call for the same order answers the same reservation. */
		reserve: {
			visibility: "public",
			params: { order_id: { type: "string", min: 1, max: 100 }, user_id: { type: "string", max: 100, optional: true }, items: itemsParam },
			async handler(this: InventoryThis, ctx: Ctx<ReserveParams>): Promise<ReservationAnswer> {
				const { order_id } = ctx.params;
				const claimed = await this.claim(ctx, ctx.params);
				if (!claimed) {
					const existing = await this.settled(order_id);
					if (existing?.status === "RESERVED" || existing?.status === "COMMITTED")
						return { order_id, status: "RESERVED", lines: existing.lines };
					if (existing?.status === "RELEASED")
						throw new ConflictError(`order '${order_id}' was released; it cannot reserve again`, "RESERVATION_RELEASED", { order_id });
					if (existing?.status === "FAILED" && existing.failure)
						throw new InsufficientStockError(existing.failure.product_id, existing.failure.requested, existing.failure.available);
					throw new DependencyUnavailableError("inventory", `the reservation of order '${order_id}' is still in progress`);
				}
				const reservations = this.collection<Reservation>("reservations");
				const mine = { id: order_id, status: "PENDING", owner: claimed.owner };
				const outcome = await this.store().reserveAll(claimed.items, async line =>
					(await reservations.updateWhere(mine, { $push: { taken: line }, $set: { updated_at: new Date().toISOString() } })) === 1,
				);
				const now = new Date().toISOString();
				if (!outcome.ok && outcome.aborted)
					throw new ConflictError(`order '${order_id}' was released; it cannot reserve again`, "RESERVATION_RELEASED", { order_id });
				if (!outcome.ok) {
					const shortOf = outcome.taken.filter(l => l.product_id === outcome.product_id).reduce((n, l) => n + l.quantity, 0);
					const available = totalAvailable(await this.store().rowsOf(outcome.product_id)) + shortOf;
					const failure = { product_id: outcome.product_id, requested: outcome.requested, available };
					const failed = this.stageEvent(ctx, EVENTS.INVENTORY_RESERVATION_FAILED, {
						order_id,
						user_id: claimed.user_id,
						...failure,
						reason: "INSUFFICIENT_STOCK",
					}) as unknown as StagedEvent;
					const ended = await reservations.updateWhere(mine, {
						$set: { status: "FAILED", reason: "INSUFFICIENT_STOCK", failure, taken: [], updated_at: now },
						$push: { [STAGED_EVENTS_FIELD]: failed },
					});
					// Whoever ends a PENDING reservation gives back what it had taken (a release may have come first).
					if (ended === 1) {
						await this.store().untakeAll(outcome.taken);
						await this.publishStaged("reservations", order_id, [failed]);
					}
					throw new InsufficientStockError(failure.product_id, failure.requested, failure.available);
				}
				const reserved = this.stageEvent(ctx, EVENTS.INVENTORY_RESERVED, { order_id, user_id: claimed.user_id, lines: outcome.lines }) as unknown as StagedEvent;
				const stored = await reservations.updateWhere(mine, {
					$set: { status: "RESERVED", lines: outcome.lines, taken: [], updated_at: now },
					$push: { [STAGED_EVENTS_FIELD]: reserved },
				});
				// Released while this call was still taking stock: the release gave back the recorded lines.
				if (stored === 0)
					throw new ConflictError(`order '${order_id}' was released; it cannot reserve again`, "RESERVATION_RELEASED", { order_id });
				await this.publishStaged("reservations", order_id, [reserved]);
				const after = await this.store().availableOf(claimed.items.map(i => i.product_id));
				for (const it of claimed.items) {
					const a = after.get(it.product_id) ?? 0;
					await this.announceLow(ctx, it.product_id, a + it.quantity, a);
				}
				return { order_id, status: "RESERVED", lines: outcome.lines };
			},
		},

		/** Undoes whatever an order holds (on_hand too when it was shipped); "NONE" for an unknown order. */
		release: {
			visibility: "public",
			params: { order_id: { type: "string", min: 1, max: 100 }, reason: { type: "string", max: 200, optional: true } },
			async handler(this: InventoryThis, ctx: Ctx<OrderParams>): Promise<StatusAnswer<"RELEASED" | "NONE">> {
				const { order_id } = ctx.params;
				const reservations = this.collection<Reservation>("reservations");
				const reason = ctx.params.reason ?? null;
				for (;;) {
					const r = await this.settled(order_id);
					if (!r) return { order_id, status: "NONE" };
					if (r.status === "RELEASED") return { order_id, status: "RELEASED" };
					const holds = r.status === "RESERVED" || r.status === "COMMITTED";
					const wasCommitted = r.status === "COMMITTED";
					const released = this.stageEvent(ctx, EVENTS.INVENTORY_RELEASED, { order_id, user_id: r.user_id, lines: r.lines, reason, was_committed: wasCommitted });
					const update = {
						$set: { status: "RELEASED", reason, updated_at: new Date().toISOString() },
						...(holds ? { $push: { [STAGED_EVENTS_FIELD]: released } } : {}),
					};
					const pending = r.status === "PENDING";
					// The status moves first (conditionally): exactly one caller wins and gives the units back.
					const match = pending ? { id: order_id, status: r.status, owner: r.owner } : { id: order_id, status: r.status };
					if ((await reservations.updateWhere(match, update)) === 0) continue;
					if (pending) {
						// Still being taken (or abandoned by a crash): give back what it recorded. From now on its taker
						// cannot record more lines, and gives back any line it could not record itself.
						const after = await reservations.findById(order_id);
						await this.store().untakeAll(after?.taken ?? []);
						await reservations.updateWhere({ id: order_id }, { $set: { taken: [] } });
					}
					if (!holds) return { order_id, status: "RELEASED" };
					for (const line of r.lines) await (wasCommitted ? this.store().restore(line) : this.store().untake(line));
					await this.publishStaged("reservations", order_id, [released as unknown as StagedEvent]);
					return { order_id, status: "RELEASED" };
				}
			},
		},

		/** On shipment: the reserved units leave stock (on_hand and reserved fall). Idempotent. */
		commit: {
			visibility: "public",
			params: { order_id: { type: "string", min: 1, max: 100 } },
			async handler(this: InventoryThis, ctx: Ctx<OrderParams>): Promise<StatusAnswer<"COMMITTED">> {
				const { order_id } = ctx.params;
				for (;;) {
					const r = await this.settled(order_id);
					if (!r) throw new NotFoundError("reservation", order_id);
					if (r.status === "COMMITTED") return { order_id, status: "COMMITTED" };
					if (r.status !== "RESERVED")
						throw new ConflictError(`order '${order_id}' holds no reserved stock (status ${r.status})`, "RESERVATION_NOT_ACTIVE", { order_id, status: r.status });
					const n = await this.collection<Reservation>("reservations").updateWhere(
						{ id: order_id, status: "RESERVED" },
						{ $set: { status: "COMMITTED", updated_at: new Date().toISOString() } },
					);
					if (n === 0) continue; // changed meanwhile: look again
					for (const line of r.lines) await this.store().ship(line);
					return { order_id, status: "COMMITTED" };
				}
			},
		},

		/** A product's stock over all warehouses (admin through REST; other services may call it). */
		levels: {
			roles: ["admin"],
			params: { product_id: productParam },
			async handler(this: InventoryThis, ctx: Ctx<ProductParams>): Promise<Levels> {
				const levels = await this.levelsOf(ctx.params.product_id);
				if (levels.warehouses.length === 0) await this.ensureProduct(ctx, ctx.params.product_id);
				return levels;
			},
		},

		/** Adds delivered units to a warehouse (admin). */
		restock: {
			roles: ["admin"],
			params: {
				product_id: productParam,
				warehouse_id: warehouseParam,
				quantity: { type: "number", integer: true, positive: true, max: 1_000_000 },
			},
			async handler(this: InventoryThis, ctx: Ctx<RestockParams>): Promise<Levels> {
				const { product_id, warehouse_id, quantity } = ctx.params;
				await this.ensureProduct(ctx, product_id);
				await this.store().restock(product_id, warehouse_id, quantity);
				return this.levelsOf(product_id);
			},
		},

		/** Sets a warehouse's on_hand after a count (admin); refused below what is reserved there (409). */
		setLevel: {
			roles: ["admin"],
			params: {
				product_id: productParam,
				warehouse_id: warehouseParam,
				on_hand: { type: "number", integer: true, min: 0, max: 1_000_000 },
			},
			async handler(this: InventoryThis, ctx: Ctx<SetLevelParams>): Promise<Levels> {
				const { product_id, warehouse_id, on_hand } = ctx.params;
				await this.ensureProduct(ctx, product_id);
				const before = (await this.levelsOf(product_id)).available;
				const res = await this.store().setOnHand(product_id, warehouse_id, on_hand);
				if (!res.ok)
					throw new ConflictError(`on_hand: ${res.reserved} units are reserved in ${warehouse_id}; on_hand cannot go below that`, "BELOW_RESERVED", {
						field: "on_hand",
						reserved: res.reserved,
					});
				const levels = await this.levelsOf(product_id);
				await this.announceLow(ctx, product_id, before, levels.available);
				return levels;
			},
		},

		/** Stocks the demo catalog where rows are missing (fixed row ids: never twice). */
		seedDemo: {
			visibility: "public",
			async handler(this: InventoryThis): Promise<{ inserted: number }> {
				return { inserted: await this.store().seed(DEMO_STOCK) };
			},
		},
	},

	methods: {
		/** The stock rows' update logic. */
		store(this: InventoryThis): StockStore {
			return this.stockStore;
		},

		/** Stores the order's reservation as PENDING; null when another call owns it (or owned it). */
		async claim(this: InventoryThis, _ctx: Context, params: ReserveParams): Promise<Reservation | null> {
			const reservations = this.collection<Reservation>("reservations");
			const now = new Date().toISOString();
			const items = mergeItems(params.items);
			try {
				return await reservations.insert({
					id: params.order_id,
					order_id: params.order_id,
					user_id: params.user_id ?? null,
					status: "PENDING",
					items,
					lines: [],
					owner: uuid(),
					taken: [],
					reason: null,
					created_at: now,
					updated_at: now,
				});
			} catch (err) {
				if (!(err instanceof DuplicateKeyError)) throw err;
			}
			// A failed attempt held nothing: the next call may try again (after a restock, say).
			const retried = await reservations.updateWhere(
				{ id: params.order_id, status: "FAILED" },
				{ $set: { status: "PENDING", items, owner: uuid(), taken: [], reason: null, updated_at: now } },
			);
			return retried === 1 ? reservations.findById(params.order_id) : null;
		},

		/** The order's reservation once no call is working on it (waits a little for a PENDING one). */
		async settled(this: InventoryThis, orderId: string): Promise<Reservation | null> {
			const reservations = this.collection<Reservation>("reservations");
			const deadline = Date.now() + SETTLE_TIMEOUT_MS;
			for (;;) {
				const r = await reservations.findById(orderId);
				if (!r || r.status !== "PENDING" || Date.now() > deadline) return r;
				await new Promise(resolve => setTimeout(resolve, 20));
			}
		},

		/** 404 unless the catalog knows the product (when the catalog cannot be asked: 503). */
		async ensureProduct(this: InventoryThis, ctx: Context, productId: string): Promise<void> {
			let rows: PricingRow[];
			try {
				rows = (await ctx.call<{ rows: PricingRow[] }, { ids: string[] }>("products.getMany", { ids: [productId] })).rows;
			} catch (err) {
				if ((await this.store().rowsOf(productId)).length > 0) return;
				throw new DependencyUnavailableError("products", `cannot check product '${productId}': ${(err as Error).message}`);
			}
			if (!rows.some(r => r.id === productId && r.active)) throw new NotFoundError("product", productId);
		},

		/** Publishes inventory.low when a product's available units fell below the threshold. */
		async announceLow(this: InventoryThis, ctx: Context | null, productId: string, before: number, after: number): Promise<void> {
			const threshold = this.config.lowStockThreshold;
			if (fellBelow(before, after, threshold)) await this.publish(ctx, EVENTS.INVENTORY_LOW, { product_id: productId, available: after, threshold });
		},

		/** A product's levels as stored now. */
		async levelsOf(this: InventoryThis, productId: string): Promise<Levels> {
			return summarise(productId, await this.store().rowsOf(productId));
		},
	},

	created(this: InventoryThis) {
		this.config = getConfig();
		this.stockStore = new StockStore(this.collection<StockRow>("stock"));
	},

	async started(this: InventoryThis) {
		if (!this.config.seedDemoData) return;
		if ((await this.collection<StockRow>("stock").count()) > 0) return;
		const inserted = await this.store().seed(DEMO_STOCK);
		this.logger.info(`Demo stock loaded: ${inserted} rows`);
	},
});

export default InventoryService;
