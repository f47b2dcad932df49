/**
 * The `inventory` service: stock per product per warehouse (on_hand, reserved, available) and the
 * reservations of orders. A reservation is all lines or none, one conditional atomic update per warehouse
 * row, and idempotent per order_id: the reservations collection's unique key arbitrates duplicate calls.
 * Each row records what each order holds on it (services/inventory/stock.ts), so every line's change (hold,
 * give back, ship, put back) happens once whatever the moment of a crash; a reservation whose status still owes
 * stock work is marked `dirty` in the same write, and the work is finished by the caller, a repeat, or the sweep.
 */
import type { Context } from "moleculer";
import { configOf, type Config } from "../config/env";
import { DbMixin, type DbMethods, type Repository } from "../mixins/db.mixin";
import { EventsMixin, STAGED_EVENTS_FIELD, type EventsMethods, type StagedEvent } from "../mixins/events.mixin";
import { EVENTS } from "./common/events";
import { ConflictError, DependencyUnavailableError, InsufficientStockError, NotFoundError } from "./common/errors";
import type { ShopMeta } from "./common/meta";
import { defineService, type ServiceThis } from "./common/schema";
import { assertProductManager, DEMO_STOCK, type PricingRow } from "./products/client";
import {
	availabilityAnswer,
	fellBelow,
	totalAvailable,
	mergeItems,
	summarise,
	type AvailabilityResult,
	type Levels,
	type Reservation,
	type StockRow,
} from "./inventory/model";
import type { ReservationAnswer, StatusAnswer } from "./inventory/client";
import {
	itemsParam,
	orderIdParam,
	productParam,
	reservationsParams,
	restockParams,
	setLevelParams,
	type ItemsParams,
	type OrderParams,
	type ProductParams,
	type ReservationsParams,
	type ReserveParams,
	type RestockParams,
	type SetLevelParams,
} from "./inventory/params";
import { ReservationBook } from "./inventory/reservations";
import { holdKey, StockStore } from "./inventory/stock";
import { SettingsCacheMixin, type SettingsCacheVars } from "./settings/client";

interface InventoryMethods extends DbMethods, EventsMethods {
	store(): StockStore;
	book(): ReservationBook;
	sweepReservations(): Promise<void>;
	reservations(): Repository<Reservation>;
	ensureProduct(ctx: Context, productId: string): Promise<void>;
	announceLow(ctx: Context | null, productId: string, before: number, after: number): Promise<void>;
	levelsOf(productId: string): Promise<Levels>;
}
interface InventoryVars extends SettingsCacheVars {
	config: Config;
	stockStore: StockStore;
	reservationBook: ReservationBook;
	sweeping: boolean;
	sweepTimer: NodeJS.Timeout | null;
}
type InventoryThis = ServiceThis<InventoryVars, InventoryMethods>;
type Ctx<P> = Context<P, ShopMeta>;

/** The sweep finishes stock work left owed for this long (the caller normally finishes it at once). */
const SWEEP_GRACE_MS = 2_000;
const SWEEP_EVERY_MS = 5_000;

const InventoryService = defineService<InventoryVars, InventoryMethods>({
	name: "inventory",
	mixins: [
		DbMixin({
			stock: { indexes: [{ fields: ["product_id"] }] },
			reservations: { indexes: [{ fields: ["order_id"], unique: true }] },
		}),
		EventsMixin({ stagedIn: ["reservations"] }),
		// The low-stock threshold is a shop setting (LOW_STOCK_THRESHOLD is only its first start's value).
		SettingsCacheMixin(),
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

		/**
		 * Holds every line of an order or none; a repeated call answers the same reservation, and a call that finds
		 * the reservation abandoned mid-way (its caller died) takes it over and completes it.
		 */
		reserve: {
			visibility: "public",
			params: { order_id: orderIdParam, user_id: { type: "string", max: 100, optional: true }, items: itemsParam },
			async handler(this: InventoryThis, ctx: Ctx<ReserveParams>): Promise<ReservationAnswer> {
				const { order_id } = ctx.params;
				const claim = await this.book().claim(ctx.params);
				if (claim.kind === "done") {
					const r = claim.reservation;
					if (r.status === "RESERVED" || r.status === "COMMITTED") return { order_id, status: "RESERVED", lines: r.lines };
					throw new ConflictError(`order '${order_id}' was released; it cannot reserve again`, "RESERVATION_RELEASED", { order_id });
				}
				const mine = claim.reservation;
				const reservations = this.reservations();
				const key = holdKey(order_id);
				const outcome = await this.store().holdAll(mine.items, key);
				const now = new Date().toISOString();
				const match = { id: order_id, status: "PENDING", owner: mine.owner };
				if (!outcome.ok) {
					const available = totalAvailable(await this.store().rowsOf(outcome.product_id)) + outcome.held;
					const failure = { product_id: outcome.product_id, requested: outcome.requested, available };
					const failed = this.stageEvent(ctx, EVENTS.INVENTORY_RESERVATION_FAILED, { order_id, user_id: mine.user_id, ...failure, reason: "INSUFFICIENT_STOCK" }) as unknown as StagedEvent;
					const ended = await reservations.updateWhere(match, {
						$set: { status: "FAILED", reason: "INSUFFICIENT_STOCK", failure, dirty: true, updated_at: now },
						$push: { [STAGED_EVENTS_FIELD]: failed },
					});
					if (ended === 1) {
						await this.book().finishStockWork(order_id);
						await this.publishStaged("reservations", order_id, [failed]);
					} else if ((await reservations.findById(order_id))?.status === "RELEASED") await this.store().dropAll(mine.items.map(i => i.product_id), key);
					throw new InsufficientStockError(failure.product_id, failure.requested, failure.available);
				}
				const reserved = this.stageEvent(ctx, EVENTS.INVENTORY_RESERVED, { order_id, user_id: mine.user_id, lines: outcome.lines }) as unknown as StagedEvent;
				const stored = await reservations.updateWhere(match, { $set: { status: "RESERVED", lines: outcome.lines, updated_at: now }, $push: { [STAGED_EVENTS_FIELD]: reserved } });
				if (stored === 0) {
					// Released, or taken over by a later call, while this one held stock: that call owns the outcome.
					const now2 = await reservations.findById(order_id);
					if (now2?.status === "RESERVED" || now2?.status === "COMMITTED") return { order_id, status: "RESERVED", lines: now2.lines };
					// A release that came first gave back what was held then; what this call held after it goes back now.
					if (now2?.status === "RELEASED") await this.store().dropAll(mine.items.map(i => i.product_id), key);
					throw new ConflictError(`order '${order_id}' was released; it cannot reserve again`, "RESERVATION_RELEASED", { order_id });
				}
				await this.publishStaged("reservations", order_id, [reserved]);
				const after = await this.store().availableOf(mine.items.map(i => i.product_id));
				for (const it of mine.items) {
					const a = after.get(it.product_id) ?? 0;
					await this.announceLow(ctx, it.product_id, a + it.quantity, a);
				}
				return { order_id, status: "RESERVED", lines: outcome.lines };
			},
		},

		/** Undoes whatever an order holds (on_hand too when it was shipped); "NONE" for an unknown order. Idempotent. */
		release: {
			visibility: "public",
			params: { order_id: orderIdParam, reason: { type: "string", max: 200, optional: true } },
			async handler(this: InventoryThis, ctx: Ctx<OrderParams>): Promise<StatusAnswer<"RELEASED" | "NONE">> {
				const { order_id } = ctx.params;
				const reservations = this.reservations();
				const reason = ctx.params.reason ?? null;
				for (;;) {
					const r = await reservations.findById(order_id);
					if (!r) return { order_id, status: "NONE" };
					if (r.status !== "RELEASED") {
						const holds = r.status === "RESERVED" || r.status === "COMMITTED";
						const released = this.stageEvent(ctx, EVENTS.INVENTORY_RELEASED, { order_id, user_id: r.user_id, lines: r.lines, reason, was_committed: r.status === "COMMITTED" });
						// The status moves first, conditionally, with the stock work marked as owed: exactly one caller wins it.
						const match = r.status === "PENDING" ? { id: order_id, status: r.status, owner: r.owner } : { id: order_id, status: r.status };
						const update = {
							$set: { status: "RELEASED", released_from: r.status, reason, dirty: true, updated_at: new Date().toISOString() },
							...(holds ? { $push: { [STAGED_EVENTS_FIELD]: released } } : {}),
						};
						if ((await reservations.updateWhere(match, update)) === 0) continue;
						await this.book().finishStockWork(order_id);
						if (holds) await this.publishStaged("reservations", order_id, [released as unknown as StagedEvent]);
						return { order_id, status: "RELEASED" };
					}
					await this.book().finishStockWork(order_id);
					return { order_id, status: "RELEASED" };
				}
			},
		},

		/** On shipment: the reserved units leave stock (on_hand and reserved fall). Idempotent. */
		commit: {
			visibility: "public",
			params: { order_id: orderIdParam },
			async handler(this: InventoryThis, ctx: Ctx<OrderParams>): Promise<StatusAnswer<"COMMITTED">> {
				const { order_id } = ctx.params;
				for (;;) {
					const r = await this.book().settled(order_id);
					if (!r) throw new NotFoundError("reservation", order_id);
					if (r.status === "COMMITTED") {
						if (r.dirty) await this.book().finishStockWork(order_id);
						return { order_id, status: "COMMITTED" };
					}
					if (r.status !== "RESERVED")
						throw new ConflictError(`order '${order_id}' holds no reserved stock (status ${r.status})`, "RESERVATION_NOT_ACTIVE", { order_id, status: r.status });
					const n = await this.reservations().updateWhere({ id: order_id, status: "RESERVED" }, { $set: { status: "COMMITTED", dirty: true, updated_at: new Date().toISOString() } });
					if (n === 0) continue; // changed meanwhile: look again
					await this.book().finishStockWork(order_id, { ...r, status: "COMMITTED", dirty: true });
					return { order_id, status: "COMMITTED" };
				}
			},
		},

		/** Reservations as stored, for the invariant checks: what each order holds or held (admin). */
		reservations: {
			roles: ["admin"],
			params: reservationsParams,
			async handler(this: InventoryThis, ctx: Ctx<ReservationsParams>): Promise<{ rows: Array<Pick<Reservation, "order_id" | "status" | "lines" | "dirty">> }> {
				const rows = await this.reservations().find(ctx.params.status ? { status: ctx.params.status } : {}, { limit: ctx.params.limit ?? 1000 });
				return { rows: rows.map(r => ({ order_id: r.order_id, status: r.status, lines: r.lines, dirty: r.dirty ?? false })) };
			},
		},

		/** A product's stock over all warehouses (its shop's owner or an admin through REST; other services may call it). */
		levels: {
			auth: "required",
			params: { product_id: productParam },
			async handler(this: InventoryThis, ctx: Ctx<ProductParams>): Promise<Levels> {
				await assertProductManager(ctx, ctx.params.product_id);
				const levels = await this.levelsOf(ctx.params.product_id);
				if (levels.warehouses.length === 0) await this.ensureProduct(ctx, ctx.params.product_id);
				return levels;
			},
		},

		/** Adds delivered units to a warehouse (its shop's owner or an admin). */
		restock: {
			audit: { entity: "stock", id: "product_id", read: "inventory.levels" },
			auth: "required",
			owned: "shop",
			params: restockParams,
			async handler(this: InventoryThis, ctx: Ctx<RestockParams>): Promise<Levels> {
				await assertProductManager(ctx, ctx.params.product_id);
				const { product_id, warehouse_id, quantity } = ctx.params;
				await this.ensureProduct(ctx, product_id);
				await this.store().restock(product_id, warehouse_id, quantity);
				return this.levelsOf(product_id);
			},
		},

		/** Sets a warehouse's on_hand after a count (its shop's owner or an admin); refused below what is reserved there (409). */
		setLevel: {
			audit: { entity: "stock", id: "product_id", read: "inventory.levels" },
			auth: "required",
			owned: "shop",
			params: setLevelParams,
			async handler(this: InventoryThis, ctx: Ctx<SetLevelParams>): Promise<Levels> {
				await assertProductManager(ctx, ctx.params.product_id);
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

		/** The reservations of orders and the stock work they owe (inventory/reservations.ts). */
		book(this: InventoryThis): ReservationBook {
			return this.reservationBook;
		},

		/** Finishes the stock work of reservations left dirty by a crash, and gives back holds of abandoned ones. */
		async sweepReservations(this: InventoryThis): Promise<void> {
			if (this.sweeping || !this.collectionsOpen()) return;
			this.sweeping = true;
			try {
				await this.book().finishDirty(new Date(Date.now() - SWEEP_GRACE_MS).toISOString());
			} catch (err) {
				this.logger.warn(`inventory sweep failed; retrying on the next one: ${String(err)}`);
			} finally {
				this.sweeping = false;
			}
		},

		/** The reservations collection. */
		reservations(this: InventoryThis) {
			return this.collection<Reservation>("reservations");
		},

		/**
		 * 404 unless the catalog holds the product (when the catalog cannot be asked: 503). A product of a shop not yet
		 * approved, or suspended, is stocked all the same: its owner prepares it, an admin may zero it; it is not sold.
		 */
		async ensureProduct(this: InventoryThis, ctx: Context, productId: string): Promise<void> {
			let rows: PricingRow[];
			try {
				rows = (await ctx.call<{ rows: PricingRow[] }, { ids: string[] }>("products.getMany", { ids: [productId] })).rows;
			} catch (err) {
				if ((await this.store().rowsOf(productId)).length > 0) return;
				throw new DependencyUnavailableError("products", `cannot check product '${productId}': ${(err as Error).message}`);
			}
			if (!rows.some(r => r.id === productId && !r.deleted)) throw new NotFoundError("product", productId);
		},

		/** Publishes inventory.low when a product's available units fell below the threshold. */
		async announceLow(this: InventoryThis, ctx: Context | null, productId: string, before: number, after: number): Promise<void> {
			const threshold = this.settingsCache.settings.low_stock_threshold;
			if (fellBelow(before, after, threshold)) await this.publish(ctx, EVENTS.INVENTORY_LOW, { product_id: productId, available: after, threshold });
		},

		/** A product's levels as stored now. */
		async levelsOf(this: InventoryThis, productId: string): Promise<Levels> {
			return summarise(productId, await this.store().rowsOf(productId));
		},
	},

	created(this: InventoryThis) {
		this.config = configOf(this);
		this.stockStore = new StockStore(this.collection<StockRow>("stock"));
		this.reservationBook = new ReservationBook(this.reservations(), this.stockStore);
		this.sweeping = false;
		this.sweepTimer = null;
	},

	async started(this: InventoryThis) {
		// Stock work a crash left owed is finished at start (after the grace) and on every sweep.
		this.sweepTimer = setInterval(() => void this.sweepReservations(), SWEEP_EVERY_MS);
		this.sweepTimer.unref();
		if (!this.config.seedDemoData) return;
		if ((await this.collection<StockRow>("stock").count()) > 0) return;
		const inserted = await this.store().seed(DEMO_STOCK);
		this.logger.info(`Demo stock loaded: ${inserted} rows`);
	},

	stopped(this: InventoryThis) {
		if (this.sweepTimer) clearInterval(this.sweepTimer);
	},
});

export default InventoryService;
