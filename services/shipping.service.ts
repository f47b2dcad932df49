/**
 * The `shipping` service: ships an order (commits its reserved stock), cancels a shipment as the saga's
 * compensation (releases the stock), and delivers it, by an admin call or after DELIVERY_DELAY_MS.
 * Each order has at most one shipment: its id is derived from the order id and order_id is a unique index.
 * A shipment holds one parcel per shop of the order's lines (services/shipping/model.ts): the parcels ship and are
 * cancelled together, with the shipment; each shop's owner delivers its own parcel (shipment.delivered), and the
 * shipment is DELIVERED, with order.delivered, once all its parcels are.
 */
import type { Context } from "moleculer";
import { configOf } from "../config/env";
import { DbMixin, DuplicateKeyError, type DbMethods, type Repository } from "../mixins/db.mixin";
import { EventsMixin, type EventsMethods, type StagedEvent } from "../mixins/events.mixin";
import { EVENTS, type OrderDeliveredPayload, type OrderShippedPayload, type ShipmentDeliveredPayload } from "./common/events";
import { ConflictError, DependencyUnavailableError, NotFoundError } from "./common/errors";
import { DEFAULT_CURRENCY } from "./common/money";
import { assertShopManager } from "./shops/client";
import { requireUser, type ShopMeta } from "./common/meta";
import { defineService, type ServiceThis } from "./common/schema";
import {
	deliveryOf,
	newShipment,
	parcelsAt,
	parcelsOf,
	unchangedSince,
	type Parcel,
	toShipmentResult,
	toShipmentView,
	type NewShipmentInput,
	type ShipmentDoc,
	type ShipmentResult,
	type ShipmentStatus,
	type ShipmentView,
} from "./shipping/model";
import { cancelParams, createParams, ID, type CancelParams, type CreateParams, type IdParams, type ShopShipmentParams } from "./shipping/params";

export interface ShippingSettings {
	/** Overrides config.shippingDeliveryDelayMs when set (tests). */
	deliveryDelayMs: number | null;
	/** A PREPARING claim older than this belongs to a caller that died. */
	staleClaimMs: number;
	waitForClaimMs: number;
}

interface ShippingMethods extends DbMethods, EventsMethods {
	shipments(): Repository<ShipmentDoc>;
	claimShipment(input: NewShipmentInput): Promise<{ settled: ShipmentDoc } | { doc: ShipmentDoc }>;
	markShipped(ctx: Context, doc: ShipmentDoc): Promise<ShipmentDoc>;
	deliverShipment(ctx: Context | null, doc: ShipmentDoc, reason: string, parcelIds?: string[] | null): Promise<ShipmentDoc>;
	byParcel(parcelId: string): Promise<ShipmentDoc | null>;
	relay(shipmentId: string, ...events: Array<StagedEvent<object>>): Promise<void>;
	scheduleDelivery(doc: ShipmentDoc): void;
	deliverDue(): Promise<void>;
	entry(status: ShipmentStatus, reason: string | null): object;
}
interface ShippingVars {
	opts: ShippingSettings;
	deliveryDelayMs: number;
	timers: Map<string, NodeJS.Timeout>;
	sweeper: NodeJS.Timeout | null;
}
type ShippingThis = ServiceThis<ShippingVars, ShippingMethods>;
type Ctx<P> = Context<P, ShopMeta>;

const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));

const ShippingService = defineService<ShippingVars, ShippingMethods>({
	name: "shipping",
	mixins: [
		DbMixin({ shipments: { indexes: [{ fields: ["order_id"], unique: true }, { fields: ["status"] }, { fields: ["parcel_ids"] }] } }),
		EventsMixin({ stagedIn: ["shipments"] }),
	],

	settings: { deliveryDelayMs: null, staleClaimMs: 15_000, waitForClaimMs: 5_000 } satisfies ShippingSettings,

	actions: {
		/** Ships an order once: commits its stock, picks a carrier and tracking number, emits order.shipped. */
		create: {
			visibility: "public",
			params: createParams,
			async handler(this: ShippingThis, ctx: Ctx<CreateParams>): Promise<ShipmentResult> {
				const claim = await this.claimShipment(ctx.params);
				if ("settled" in claim) return toShipmentResult(claim.settled);
				const doc = claim.doc;
				try {
					await ctx.call("inventory.commit", { order_id: doc.order_id });
				} catch (err) {
					// Give the claim back so that a retry can ship; a cancel that came meanwhile stays.
					await this.shipments().removeWhere({ id: doc.id, status: "PREPARING", claimed_at: doc.claimed_at });
					throw err;
				}
				return toShipmentResult(await this.markShipped(ctx, doc));
			},
		},

		/** Compensation: cancels the order's shipment, every shop's parcel with it (a tombstone when there is none yet), and releases its stock. */
		cancel: {
			visibility: "public",
			params: cancelParams,
			async handler(this: ShippingThis, ctx: Ctx<CancelParams>): Promise<{ order_id: string; shipment_id: string; status: "CANCELLED" }> {
				const repo = this.shipments();
				const reason = ctx.params.reason ?? "cancelled";
				let shipmentId: string | null = null;
				while (!shipmentId) {
					const existing = await repo.findOne({ order_id: ctx.params.order_id });
					if (!existing) {
						try {
							shipmentId = (await repo.insert(newShipment({ order_id: ctx.params.order_id, user_id: "" }, "CANCELLED", new Date(), reason))).id;
						} catch (err) {
							if (!(err instanceof DuplicateKeyError)) throw err;
						}
						continue;
					}
					if (existing.status === "DELIVERED" || parcelsOf(existing).some(p => p.status === "DELIVERED"))
						throw new ConflictError(`The shipment of order '${existing.order_id}' was already delivered`, "SHIPMENT_DELIVERED", { order_id: existing.order_id });
					if (existing.status === "CANCELLED") {
						shipmentId = existing.id;
						continue;
					}
					const n = await repo.updateWhere(unchangedSince(existing), {
						$set: { status: "CANCELLED", parcels: parcelsAt(existing, "CANCELLED"), rev: (existing.rev ?? 0) + 1, updated_at: new Date().toISOString() },
						$push: { history: this.entry("CANCELLED", reason) },
					});
					if (n === 1) {
						shipmentId = existing.id;
						clearTimeout(this.timers.get(existing.id));
						this.timers.delete(existing.id);
					}
				}
				await ctx.call("inventory.release", { order_id: ctx.params.order_id, reason: `shipment cancelled: ${reason}` });
				return { order_id: ctx.params.order_id, shipment_id: shipmentId, status: "CANCELLED" };
			},
		},

		/** Marks a shipment delivered, every parcel of it, or one shop's parcel by its id (admin or carrier); 409 when cancelled; idempotent. */
		deliver: {
			audit: { entity: "shipment", id: "id", read: "shipping.lookup" },
			roles: ["admin"],
			params: { id: ID },
			async handler(this: ShippingThis, ctx: Ctx<IdParams>): Promise<ShipmentView> {
				const doc = await this.shipments().findById(ctx.params.id);
				if (doc) return toShipmentView(await this.deliverShipment(ctx, doc, "delivered by admin"));
				const holder = await this.byParcel(ctx.params.id);
				if (!holder) throw new NotFoundError("shipment", ctx.params.id);
				return toShipmentView(await this.deliverShipment(ctx, holder, "delivered by admin", [ctx.params.id]));
			},
		},

		/** A shop's owner (or an admin) marks the shop's parcel delivered; 404 for a parcel of another shop; idempotent. */
		deliverForShop: {
			feature: "marketplace",
			auth: "required",
			owned: "shop",
			audit: { entity: "shipment", id: "shipment_id", read: "shipping.lookup", readParam: "id" },
			params: { id: ID, shipment_id: ID },
			async handler(this: ShippingThis, ctx: Ctx<ShopShipmentParams>): Promise<Parcel & { order_id: string; shipment_status: ShipmentStatus }> {
				await assertShopManager(ctx, ctx.params.id);
				const doc = (await this.byParcel(ctx.params.shipment_id)) ?? (await this.shipments().findById(ctx.params.shipment_id));
				const parcel = doc && parcelsOf(doc).find(p => p.id === ctx.params.shipment_id && p.shop_id === ctx.params.id);
				if (!doc || !parcel) throw new NotFoundError("shipment", ctx.params.shipment_id);
				const after = await this.deliverShipment(ctx, doc, `delivered by shop ${ctx.params.id}`, [parcel.id]);
				const now = parcelsOf(after).find(p => p.id === parcel.id) ?? parcel;
				return { ...now, order_id: after.order_id, shipment_status: after.status };
			},
		},

		/** One shipment: its owner or an admin (404 for anyone else). */
		get: {
			auth: "required",
			params: { id: ID },
			async handler(this: ShippingThis, ctx: Ctx<IdParams>): Promise<ShipmentView> {
				const doc = await this.shipments().findById(ctx.params.id);
				const user = ctx.meta.user ? requireUser(ctx.meta) : null;
				if (!doc || (user && user.role !== "admin" && doc.user_id !== user.id)) throw new NotFoundError("shipment", ctx.params.id);
				return toShipmentView(doc);
			},
		},

		/** The shipment holding this id, its own or one of its parcels' (the audit trail reads it before and after a delivery). */
		lookup: {
			visibility: "public",
			params: { id: ID },
			async handler(this: ShippingThis, ctx: Ctx<IdParams>): Promise<ShipmentView> {
				const doc = (await this.shipments().findById(ctx.params.id)) ?? (await this.byParcel(ctx.params.id));
				if (!doc) throw new NotFoundError("shipment", ctx.params.id);
				return toShipmentView(doc);
			},
		},

		/** The shipment of an order, for services that know only the order. */
		getByOrder: {
			visibility: "public",
			params: { order_id: ID },
			async handler(this: ShippingThis, ctx: Ctx<{ order_id: string }>): Promise<ShipmentView | null> {
				const doc = await this.shipments().findOne({ order_id: ctx.params.order_id });
				return doc ? toShipmentView(doc) : null;
			},
		},
	},

	methods: {
		/** The shipments collection. */
		shipments(this: ShippingThis): Repository<ShipmentDoc> {
			return this.collection<ShipmentDoc>("shipments");
		},

		/** Claims the order's shipment (a new PREPARING one, or one whose holder died), or answers the one already shipped. */
		async claimShipment(this: ShippingThis, input: NewShipmentInput): Promise<{ settled: ShipmentDoc } | { doc: ShipmentDoc }> {
			const repo = this.shipments();
			const deadline = Date.now() + this.opts.waitForClaimMs;
			for (;;) {
				try {
					return { doc: await repo.insert(newShipment(input, "PREPARING", new Date())) };
				} catch (err) {
					if (!(err instanceof DuplicateKeyError)) throw err;
				}
				const existing = await repo.findOne({ order_id: input.order_id });
				if (!existing) continue;
				if (existing.status === "SHIPPED" || existing.status === "DELIVERED") return { settled: existing };
				if (existing.status === "CANCELLED")
					throw new ConflictError(`The shipment of order '${existing.order_id}' was cancelled`, "SHIPMENT_CANCELLED", { order_id: existing.order_id });
				if (Date.now() - existing.claimed_at > this.opts.staleClaimMs) {
					const claimedAt = Date.now();
					const n = await repo.updateWhere({ id: existing.id, status: "PREPARING", claimed_at: existing.claimed_at }, { $set: { claimed_at: claimedAt } });
					if (n === 1) return { doc: { ...existing, claimed_at: claimedAt } };
					continue;
				}
				if (Date.now() > deadline) throw new DependencyUnavailableError("shipping", `The shipment of order '${existing.order_id}' is being prepared; retry`);
				await sleep(20);
			}
		},

		/** PREPARING → SHIPPED with order.shipped in the same write; 409 when a cancel came first. */
		async markShipped(this: ShippingThis, ctx: Context, doc: ShipmentDoc): Promise<ShipmentDoc> {
			const repo = this.shipments();
			const now = new Date();
			const deliverAt = this.deliveryDelayMs > 0 ? now.getTime() + this.deliveryDelayMs : null;
			const parcels = parcelsAt(doc, "SHIPPED");
			const event = this.stageEvent<OrderShippedPayload>(ctx, EVENTS.ORDER_SHIPPED, {
				order_id: doc.order_id,
				user_id: doc.user_id,
				shipment_id: doc.id,
				carrier: doc.carrier,
				tracking_number: doc.tracking_number,
				shipments: parcels.map(p => ({ id: p.id, shop_id: p.shop_id, status: p.status })),
			});
			const n = await repo.updateWhere(
				{ id: doc.id, status: "PREPARING" },
				{
					$set: { status: "SHIPPED", parcels, rev: (doc.rev ?? 0) + 1, shipped_at: now.toISOString(), deliver_at: deliverAt, updated_at: now.toISOString() },
					$push: { history: this.entry("SHIPPED", null), pending_events: event },
				},
			);
			if (n === 0) {
				const current = await repo.findById(doc.id);
				if (current && current.status !== "CANCELLED") return current;
				throw new ConflictError(`The shipment of order '${doc.order_id}' was cancelled`, "SHIPMENT_CANCELLED", { order_id: doc.order_id });
			}
			const shipped: ShipmentDoc = { ...doc, status: "SHIPPED", parcels, rev: (doc.rev ?? 0) + 1, deliver_at: deliverAt, shipped_at: now.toISOString() };
			await this.relay(doc.id, event);
			this.scheduleDelivery(shipped);
			return shipped;
		},

		/**
		 * Delivers the given parcels (all when none are given), once: a conditional write on the shipment's revision
		 * decides among racing callers. Each parcel delivered now emits shipment.delivered; the write that delivers the
		 * last one makes the shipment DELIVERED and emits order.delivered with it.
		 */
		async deliverShipment(this: ShippingThis, ctx: Context | null, doc: ShipmentDoc, reason: string, parcelIds: string[] | null = null): Promise<ShipmentDoc> {
			for (let current: ShipmentDoc | null = doc; ; current = await this.shipments().findById(doc.id)) {
				if (!current) throw new NotFoundError("shipment", doc.id);
				if (current.status === "DELIVERED") return current;
				if (current.status !== "SHIPPED")
					throw new ConflictError(`Shipment '${current.id}' is ${current.status} and cannot be delivered`, current.status === "CANCELLED" ? "SHIPMENT_CANCELLED" : "SHIPMENT_NOT_SHIPPED", {
						id: current.id,
						status: current.status,
					});
				const at = new Date().toISOString();
				const { parcels, delivered, all } = deliveryOf(current, parcelIds, at);
				if (delivered.length === 0 && !all) return current;
				const refs = parcels.map(p => ({ id: p.id, shop_id: p.shop_id, status: p.status }));
				const { order_id, user_id } = current;
				const currency = current.currency ?? DEFAULT_CURRENCY;
				const events: Array<StagedEvent<object>> = delivered.map(p =>
					this.stageEvent<ShipmentDeliveredPayload>(ctx, EVENTS.SHIPMENT_DELIVERED, {
						order_id,
						user_id,
						shipment_id: p.id,
						shop_id: p.shop_id,
						currency,
						lines: p.items.map(i => ({ product_id: i.product_id, quantity: i.quantity, amount_cents: i.amount_cents ?? 0 })),
						shipments: refs,
					}),
				);
				if (all) events.push(this.stageEvent<OrderDeliveredPayload>(ctx, EVENTS.ORDER_DELIVERED, { order_id: current.order_id, user_id: current.user_id, shipment_id: current.id }));
				const set: Record<string, unknown> = { parcels, parcel_ids: parcels.map(p => p.id), rev: (current.rev ?? 0) + 1, updated_at: at };
				if (all) Object.assign(set, { status: "DELIVERED", delivered_at: at });
				const push: Record<string, unknown> = { pending_events: { $each: events } };
				if (all) push.history = this.entry("DELIVERED", reason);
				const n = await this.shipments().updateWhere(unchangedSince(current), { $set: set, $push: push });
				if (n === 0) continue;
				if (all) {
					clearTimeout(this.timers.get(current.id));
					this.timers.delete(current.id);
				}
				await this.relay(current.id, ...events);
				return { ...current, ...set, parcels } as ShipmentDoc;
			}
		},

		/** The shipment holding a parcel (by the parcel's id). */
		async byParcel(this: ShippingThis, parcelId: string): Promise<ShipmentDoc | null> {
			return this.shipments().findOne({ parcel_ids: parcelId });
		},

		/** Publishes events stored with the shipment's change; if this fails, the relay's sweep publishes them later. */
		async relay(this: ShippingThis, shipmentId: string, ...events: Array<StagedEvent<object>>): Promise<void> {
			await this.publishStaged("shipments", shipmentId, events as unknown as StagedEvent[]).catch(err =>
				this.logger.warn(`Events of shipment ${shipmentId} left for the relay: ${String(err)}`),
			);
		},

		/** Arms a timer that delivers the shipment at its deliver_at (any node may win; delivery is conditional). */
		scheduleDelivery(this: ShippingThis, doc: ShipmentDoc): void {
			if (doc.deliver_at === null || this.timers.has(doc.id)) return;
			const timer = setTimeout(() => {
				this.timers.delete(doc.id);
				this.deliverShipment(null, doc, "delivered by carrier").catch(err => {
					if ((err as { code?: number }).code !== 409) this.logger.warn(`Automatic delivery of ${doc.id} failed: ${String(err)}`);
				});
			}, Math.max(0, doc.deliver_at - Date.now()));
			timer.unref();
			this.timers.set(doc.id, timer);
		},

		/** Delivers every shipment that is due and arms timers for the others (on start and periodically). */
		async deliverDue(this: ShippingThis): Promise<void> {
			const shipped = await this.shipments().find({ status: "SHIPPED", deliver_at: { $ne: null } });
			for (const doc of shipped) this.scheduleDelivery(doc);
		},

		/** One history entry. */
		entry(this: ShippingThis, status: ShipmentStatus, reason: string | null): object {
			return { status, at: new Date().toISOString(), reason };
		},
	},

	created(this: ShippingThis) {
		this.opts = this.settings as unknown as ShippingSettings;
		this.deliveryDelayMs = this.opts.deliveryDelayMs ?? configOf(this).shippingDeliveryDelayMs;
		this.timers = new Map();
		this.sweeper = null;
	},

	async started(this: ShippingThis) {
		if (this.deliveryDelayMs <= 0) return;
		await this.deliverDue();
		// Shipments armed on a node that died are picked up here.
		this.sweeper = setInterval(() => {
			this.deliverDue().catch(err => this.logger.warn(`Delivery sweep failed: ${String(err)}`));
		}, Math.min(Math.max(this.deliveryDelayMs, 1_000), 30_000));
		this.sweeper.unref();
	},

	stopped(this: ShippingThis) {
		if (this.sweeper) clearInterval(this.sweeper);
		for (const t of this.timers.values()) clearTimeout(t);
		this.timers.clear();
	},
});

export default ShippingService;
