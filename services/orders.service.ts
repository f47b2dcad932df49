/**
 * The `orders` service: stores orders and runs the checkout saga (payment → inventory → shipping, with
 * compensations in reverse) through the saga mixin. The saga log lives inside the order document, so the
 * order's status and its saga state are always written together; every transition is appended to the order's
 * history and announced as `order.updated`, and every change of the order is appended to its event stream in the
 * same write (services/orders/stream.ts, docs/history.md).
 */
import { uuid } from "./common/ids";
import type { Context } from "moleculer";
import { configOf } from "../config/env";
import { DbMixin, DuplicateKeyError, type DbMethods, type Repository } from "../mixins/db.mixin";
import { EventsMixin, type EventsMethods, type StagedEvent } from "../mixins/events.mixin";
import { SagaMixin, type SagaMethods } from "../mixins/saga.mixin";
import { EVENTS, type DomainEvent, type OrderCancelledPayload, type OrderCreatedPayload, type OrderUpdatedPayload } from "./common/events";
import { ConflictError, DependencyUnavailableError, NotFoundError, ValidationFailedError } from "./common/errors";
import { requireUser, type ShopMeta } from "./common/meta";
import { defineService, type ServiceThis } from "./common/schema";
import { pageWindow, toPage, type Page } from "./common/paging";
import { OrderNotCancellableError, OrderNotRefundableError } from "./orders/errors";
import { assertShopManager } from "./shops/client";
import { assertChargeable } from "./payments/client";
import { billProblem, newOrderDoc, newOrderIds, orderIdOf, sagaDataFor, toPublicOrder, toSagaSummary, type OrderDoc, type OrderResult, type OrderSagaData, type PublicOrder } from "./orders/model";
import { applySagaProgress, sagaOutcome } from "./orders/progress";
import { createParams, idParams, listParams, shopOrdersParams, type CreateParams, type IdParams, type ListParams, type ShopOrdersParams } from "./orders/params";
import { orderSaga } from "./orders/steps";
import { IllegalTransitionError, isCancellable, isTerminal, type OrderStatus } from "./orders/state-machine";
import type { SagaState } from "../mixins/saga/engine";
import { recentOrdersOf, sagaOver } from "./orders/recent";
import { mergeShipments, shipmentRefsOf, toShopOrderView, type ShopOrderView } from "./orders/shops";
import { applyShipmentReport } from "./orders/shipment-report";
import { actorOf, changeEvents, createdEvent, SAGA_ACTOR, SHIPPING_ACTOR } from "./orders/stream";
import { operatorActions } from "./orders/operator-actions";

interface OrdersMethods extends DbMethods, EventsMethods, SagaMethods<OrderSagaData> {
	orders(): Repository<OrderDoc>;
	storeNewOrder(ctx: Ctx<unknown>, saga: SagaState<OrderSagaData>, key?: string): Promise<{ doc: OrderDoc; existing?: OrderDoc }>;
	ownOrder(ctx: Ctx<unknown>, id: string): Promise<OrderDoc>;
	settledOrder(id: string, waitMs: number, settled?: (status: OrderStatus) => boolean): Promise<OrderDoc>;
	updateOrder(id: string, actor: string, change: (doc: OrderDoc) => OrderDoc): Promise<OrderDoc | null>;
	saveSagaState(state: SagaState<OrderSagaData>): Promise<void>;
	transitionEvents(before: OrderDoc, after: OrderDoc): StagedEvent[];
	orderResult(doc: OrderDoc): OrderResult;
	repeatedOrder(doc: OrderDoc, userId: string): OrderResult;
	onShipment(event: DomainEvent, target: OrderStatus | null): Promise<void>;
}
type OrdersThis = ServiceThis<object, OrdersMethods>;
type Ctx<P> = Context<P, ShopMeta>;

/** orders.create answers this long before its caller's deadline when the saga is still running. */
const ANSWER_MARGIN_MS = 500;

/** What is left of a call's time (its timeout less the time since its context started); infinite without a timeout. */
function timeLeft(ctx: Context): number {
	const timeout = ctx.options?.timeout ?? 0;
	if (!(timeout > 0) || !ctx.startHrTime) return Number.POSITIVE_INFINITY;
	const [s, ns] = process.hrtime(ctx.startHrTime);
	return timeout - (s * 1000 + ns / 1e6);
}

/** How long `cancel` waits for the saga to undo itself before answering with the order as it is. */
const CANCEL_WAIT_MS = 15_000;
/** Whether a cancel's outcome is known: the order can no longer be cancelled and is not being undone either. */
const cancelDecided = (status: OrderStatus): boolean => !isCancellable(status) && status !== "COMPENSATING";

const OrdersService = defineService<object, OrdersMethods>({
	name: "orders",
	mixins: [
		DbMixin({ orders: { indexes: [{ fields: ["idempotency_key"], unique: true }, { fields: ["user_id"] }, { fields: ["status"] }] } }),
		EventsMixin<OrdersThis>({
			// order.* events are staged in the order document with the change they report (published iff stored).
			stagedIn: ["orders"],
			handlers: {
				/** Shipping reports the parcel left: the order is SHIPPED (idempotent). */
				[EVENTS.ORDER_SHIPPED]: async function (this: OrdersThis, event) {
					await this.onShipment(event, "SHIPPED");
				},
				/** The carrier delivered: SHIPPED → DELIVERED (idempotent). */
				[EVENTS.ORDER_DELIVERED]: async function (this: OrdersThis, event) {
					await this.onShipment(event, "DELIVERED");
				},
				/** One shop's parcel was delivered: the order's shipments show it (DELIVERED waits for order.delivered). */
				[EVENTS.SHIPMENT_DELIVERED]: async function (this: OrdersThis, event) {
					await this.onShipment(event, null);
				},
			},
		}),
		SagaMixin<OrderSagaData>({
			definition: orderSaga,
			dependencies: ["payments", "inventory", "shipping"],
			// A safety net above Moleculer's own timeout and retries (4 tries of 10 s at most).
			attemptTimeoutMs: 60_000,
			store: {
				async save(state) {
					await (this as OrdersThis).saveSagaState(state);
				},
				async load(id) {
					return (await (this as OrdersThis).orders().findById(orderIdOf(id)))?.saga ?? null;
				},
				async listUnfinished(limit) {
					const rows = await (this as OrdersThis).orders().find({ "saga.status": { $in: ["RUNNING", "COMPENSATING"] } }, { limit });
					return rows.map(r => r.saga);
				},
			},
			async shouldAbort(state) {
				const doc = await (this as OrdersThis).orders().findById(orderIdOf(state.id));
				// A cancel that lost the race to shipping (the parcel left while it waited, then this node died) undoes nothing.
				return doc?.cancel_requested && isCancellable(doc.status) ? "CANCELLED" : null;
			},
		}),
	],

	actions: {
		/** Stores a PENDING order and runs its saga (in the background with respond_async); for checkout. */
		create: {
			visibility: "public",
			// The saga makes three calls, each with Moleculer's own timeout and retries; the caller passes what it has left.
			timeout: 60_000,
			// Never retried as a new attempt: the caller's idempotency key answers a repeat with the same order.
			retryPolicy: { enabled: false },
			params: createParams,
			async handler(this: OrdersThis, ctx: Ctx<CreateParams>): Promise<OrderResult> {
				const p = ctx.params;
				const earlier = p.idempotency_key ? await this.orders().findOne({ idempotency_key: p.idempotency_key }) : null;
				if (earlier) return this.repeatedOrder(earlier, p.user_id);
				// A call that waited past its caller's deadline (a queue, a slow node) starts nothing: the caller is gone.
				const left = timeLeft(ctx);
				if (left <= 0) throw new DependencyUnavailableError("orders", "orders is unavailable: the request's time ran out before the order was placed");
				const { orderId, sagaId } = newOrderIds(uuid());
				const problem = p.bill ? billProblem(p.items, p.bill) : null;
				if (problem) throw new ValidationFailedError(problem.field, problem.message);
				const data = sagaDataFor(orderId, p);
				// A total that payments would refuse is refused here (422), before the order is stored: never run as a decline.
				assertChargeable("items", data.total_cents, data.currency);
				const saga = await this.prepareSaga(sagaId, data);
				const { doc, existing } = await this.storeNewOrder(ctx, saga, p.idempotency_key);
				if (existing) return this.repeatedOrder(existing, p.user_id);
				const run = this.runSaga(ctx, saga);
				if (p.respond_async) return this.orderResult(doc);
				// A compensation that keeps failing, or a saga slower than the caller can wait, goes on in the background:
				// the caller gets the order as it stands (202) before its own timeout, never an error for an order that exists.
				let timer: NodeJS.Timeout | undefined;
				const answerBy = Number.isFinite(left) ? new Promise(r => (timer = setTimeout(r, Math.max(0, left - ANSWER_MARGIN_MS)))) : new Promise(() => undefined);
				await Promise.race([run.done, run.stalled, answerBy]);
				clearTimeout(timer);
				return this.orderResult((await this.orders().findById(doc.id)) ?? doc);
			},
		},

		/** The order placed under an idempotency key for this user, or null; checkout asks it when a request died midway. */
		byKey: {
			visibility: "public",
			params: { idempotency_key: { type: "string", min: 1, max: 200 }, user_id: { type: "string", min: 1, max: 100 } },
			async handler(this: OrdersThis, ctx: Ctx<{ idempotency_key: string; user_id: string }>): Promise<OrderResult | null> {
				const doc = await this.orders().findOne({ idempotency_key: ctx.params.idempotency_key });
				return doc ? this.repeatedOrder(doc, ctx.params.user_id) : null;
			},
		},

		/** One order: the caller's own, or any for an admin (404 for another user's order). */
		get: {
			auth: "required",
			params: idParams,
			async handler(this: OrdersThis, ctx: Ctx<IdParams>): Promise<PublicOrder> {
				return toPublicOrder(await this.ownOrder(ctx, ctx.params.id));
			},
		},

		/** The caller's orders (all orders for an admin), newest first, paginated. */
		list: {
			auth: "required",
			params: listParams,
			async handler(this: OrdersThis, ctx: Ctx<ListParams>): Promise<Page<PublicOrder>> {
				const user = requireUser(ctx.meta);
				const page = ctx.params.page ?? 1;
				const pageSize = ctx.params.page_size ?? 20;
				const query: Record<string, unknown> = user.role === "admin" ? {} : { user_id: user.id };
				if (ctx.params.status) query.status = ctx.params.status;
				const [rows, total] = await Promise.all([
					this.orders().find(query, { sort: ["-created_at"], limit: pageSize, offset: (page - 1) * pageSize }),
					this.orders().count(query),
				]);
				return { rows: rows.map(toPublicOrder), total, page, page_size: pageSize, total_pages: Math.ceil(total / pageSize) };
			},
		},

		/** Cancels one of the caller's orders before it ships: the saga refunds and releases, the order ends CANCELLED. */
		cancel: {
			auth: "required",
			params: idParams,
			async handler(this: OrdersThis, ctx: Ctx<IdParams>): Promise<PublicOrder> {
				const doc = await this.ownOrder(ctx, ctx.params.id);
				if (doc.status === "CANCELLED") return toPublicOrder(doc);
				if (!isCancellable(doc.status)) throw new OrderNotCancellableError(doc.id, doc.status);
				// The saga sees the request before its next step and undoes what it did.
				const marked = await this.updateOrder(doc.id, actorOf(ctx.meta.user, SAGA_ACTOR), d => (isCancellable(d.status) && !d.cancel_requested ? { ...d, cancel_requested: true } : d));
				const requested = !!marked?.cancel_requested && isCancellable(marked.status);
				// Waits until the cancel is decided (CANCELLED, or SHIPPED/FAILED when the saga got there first), at most
				// until just before the caller gives up; a SHIPPED order is not terminal, so waiting for that took 10 s.
				const waitMs = Math.min(CANCEL_WAIT_MS, timeLeft(ctx) - ANSWER_MARGIN_MS);
				const current = requested ? await this.settledOrder(doc.id, waitMs, cancelDecided) : ((await this.orders().findById(doc.id)) ?? doc);
				if (current.status === "SHIPPED" || current.status === "DELIVERED" || current.status === "FAILED")
					throw new OrderNotCancellableError(doc.id, current.status);
				if (current.status !== "CANCELLED") ctx.meta.$statusCode = 202;
				return toPublicOrder(current);
			},
		},

		/** The orders with lines of a shop, newest first, paged: for its owner (or an admin) those lines, the address, the statuses. */
		forShop: {
			feature: "marketplace",
			auth: "required",
			owned: "shop",
			params: shopOrdersParams,
			async handler(this: OrdersThis, ctx: Ctx<ShopOrdersParams>): Promise<Page<ShopOrderView>> {
				await assertShopManager(ctx, ctx.params.id);
				const { id, status, page, page_size } = ctx.params;
				const query: Record<string, unknown> = status ? { shop_ids: id, status } : { shop_ids: id };
				const [rows, total] = await Promise.all([this.orders().find(query, { sort: ["-created_at"], ...pageWindow(page, page_size) }), this.orders().count(query)]);
				return toPage(rows.map(r => toShopOrderView(r, id)), total, page, page_size);
			},
		},

		/** Gives a shipped or delivered order's payment back in full (admin); its shops' ledgers reverse its lines; idempotent. */
		refund: {
			roles: ["admin"],
			audit: { entity: "order", id: "id", read: "orders.get" },
			params: idParams,
			async handler(this: OrdersThis, ctx: Ctx<IdParams>): Promise<PublicOrder> {
				const doc = await this.ownOrder(ctx, ctx.params.id);
				if ((doc.status !== "SHIPPED" && doc.status !== "DELIVERED") || !doc.payment_id) throw new OrderNotRefundableError(doc.id, doc.status);
				await ctx.call("payments.refund", { payment_id: doc.payment_id, reason: "refunded by an admin", idempotency_key: `admin-refund:${doc.id}` });
				const at = new Date().toISOString();
				return toPublicOrder((await this.updateOrder(doc.id, actorOf(ctx.meta.user, SAGA_ACTOR), d => (d.refunded_at ? d : { ...d, refunded_at: at, updated_at: at }))) ?? doc);
			},
		},

		...operatorActions,
	},

	methods: {
		/** Inserts a new order with its order.created event staged, then publishes it; a duplicate key gives the stored order. */
		async storeNewOrder(this: OrdersThis, ctx: Ctx<unknown>, saga: SagaState<OrderSagaData>, key?: string): Promise<{ doc: OrderDoc; existing?: OrderDoc }> {
			const d = saga.data;
			const created = this.stageEvent(ctx, EVENTS.ORDER_CREATED, {
				order_id: d.order_id,
				user_id: d.user_id,
				status: "PENDING",
				total_cents: d.total_cents,
				currency: d.currency,
				items: d.items.map(i => ({ product_id: i.product_id, quantity: i.quantity })),
			} satisfies OrderCreatedPayload);
			let doc: OrderDoc;
			try {
				const placed = newOrderDoc(saga, key, [created], new Date().toISOString());
				doc = await this.orders().insert({ ...placed, stream: [createdEvent(placed, actorOf(ctx.meta.user, `user:${d.user_id}`))] });
			} catch (err) {
				await this.releaseSaga(saga.id);
				const existing = err instanceof DuplicateKeyError && key ? await this.orders().findOne({ idempotency_key: key }) : null;
				if (existing) return { doc: existing, existing };
				throw err;
			}
			recentOrdersOf(this).remember(doc);
			await this.publishStaged("orders", doc.id, [created]).catch(err => this.logger.warn(`order.created of ${doc.id} left for the relay`, err));
			return { doc };
		},

		/** The order once it is settled (terminal unless told otherwise), or as it stands after `waitMs`. */
		async settledOrder(this: OrdersThis, id: string, waitMs: number, settled: (status: OrderStatus) => boolean = isTerminal): Promise<OrderDoc> {
			const deadline = Date.now() + waitMs;
			let doc = await this.orders().findById(id);
			while (doc && !settled(doc.status) && Date.now() < deadline) {
				await new Promise(r => setTimeout(r, 50));
				doc = await this.orders().findById(id);
			}
			if (!doc) throw new NotFoundError("order", id);
			return doc;
		},

		/** The orders collection. */
		orders(this: OrdersThis): Repository<OrderDoc> {
			return this.collection<OrderDoc>("orders");
		},

		/** The order if the caller may see it (owner or admin), else a 404. */
		async ownOrder(this: OrdersThis, ctx: Ctx<unknown>, id: string): Promise<OrderDoc> {
			const user = requireUser(ctx.meta);
			const doc = await this.orders().findById(id);
			if (!doc || (user.role !== "admin" && doc.user_id !== user.id)) throw new NotFoundError("order", id);
			return doc;
		},

		/**
		 * Read, change, write conditionally on the revision; retried when another writer came first. The read is
		 * skipped when this node wrote the order last (services/orders/recent.ts); a remembered version that says
		 * "nothing to change" is checked against the store before it is believed.
		 */
		async updateOrder(this: OrdersThis, id: string, actor: string, change: (doc: OrderDoc) => OrderDoc): Promise<OrderDoc | null> {
			const recent = recentOrdersOf(this);
			let before: OrderDoc | null | undefined = recent.get(id);
			for (;;) {
				const remembered = before !== undefined;
				before ??= await this.orders().findById(id);
				if (!before) return null;
				const after = change(before);
				if (after === before) {
					if (!remembered) return before;
					recent.forget(id);
					before = undefined;
					continue;
				}
				// The change's events go to the order's stream and its order.* events to the outbox, in the same write.
				const appended = changeEvents(before, after, actor, new Date().toISOString(), { strict: configOf(this).nodeEnv !== "production" });
				const amended = appended.find(e => e.type === "amended");
				if (amended) this.logger.error(`order ${id}: a change no event explains was stored as an 'amended' event (a bug to fix): ${JSON.stringify(amended.data)}`);
				const events = this.transitionEvents(before, after);
				const { id: _id, rev: _rev, pending_events: _p, stream: _s, ...fields } = after;
				const update: Record<string, unknown> = { $set: { ...fields, rev: before.rev + 1 } };
				const push: Record<string, unknown> = {};
				if (events.length > 0) push.pending_events = { $each: events };
				if (appended.length > 0) push.stream = { $each: appended };
				if (Object.keys(push).length > 0) update.$push = push;
				const n = await this.orders().updateWhere({ id, rev: before.rev }, update);
				if (n === 1) {
					const stored = { ...after, rev: before.rev + 1, stream: [...(before.stream ?? []), ...appended] };
					// An order whose saga is over gets at most one or two more writes (shipped, delivered); those read
					// it, rather than keeping a copy of every recent order's saga log in memory.
					if (sagaOver(after)) recent.forget(id);
					else recent.remember(stored);
					if (events.length > 0)
						await this.publishStaged("orders", id, events).catch(err => this.logger.warn(`events of order ${id} left for the relay`, err));
					return stored;
				}
				recent.forget(id);
				before = undefined;
			}
		},

		/** The saga store: the saga state and the order status it implies, in one write. */
		async saveSagaState(this: OrdersThis, state: SagaState<OrderSagaData>): Promise<void> {
			const at = new Date().toISOString();
			await this.updateOrder(orderIdOf(state.id), SAGA_ACTOR, doc => {
				try {
					const next = applySagaProgress(doc, state, at);
					const shipped = state.steps.find(s => s.name === "shipping" && s.status === "DONE")?.result as { shipments?: unknown } | undefined;
					const shipments = shipped ? mergeShipments(doc.shipments, shipmentRefsOf(shipped.shipments)) : doc.shipments;
					return { ...next, ...(shipments ? { shipments } : {}), saga: state, updated_at: next.history.length !== doc.history.length ? at : doc.updated_at };
				} catch (err) {
					if (!(err instanceof IllegalTransitionError)) throw err;
					// Shipping's event moved the order ahead of a saga that then failed: keep the log, say so.
					this.logger.warn(`order ${doc.id}: saga state ${state.status} does not fit status ${doc.status} (${err.message})`);
					return { ...doc, saga: state };
				}
			});
		},

		/** order.updated for each new history entry, order.cancelled on cancellation, staged for the same write. */
		transitionEvents(this: OrdersThis, before: OrderDoc, after: OrderDoc): StagedEvent[] {
			const events: StagedEvent[] = [];
			for (const entry of after.history.slice(before.history.length)) {
				events.push(this.stageEvent(null, EVENTS.ORDER_UPDATED, {
					order_id: after.id,
					user_id: after.user_id,
					status: entry.status,
					failure_reason: entry.status === "FAILED" ? after.failure_reason : null,
					reason: entry.reason,
					total_cents: after.total_cents,
					currency: after.currency,
				} satisfies OrderUpdatedPayload));
				if (entry.status === "CANCELLED")
					events.push(this.stageEvent(null, EVENTS.ORDER_CANCELLED, { order_id: after.id, user_id: after.user_id, reason: entry.reason } satisfies OrderCancelledPayload));
			}
			return events;
		},

		/** The create answer: the order, its saga's steps, and how it ends when it did not go through. */
		orderResult(this: OrdersThis, doc: OrderDoc): OrderResult {
			return { order: toPublicOrder(doc), saga: toSagaSummary(doc.saga), outcome: sagaOutcome(doc.saga) };
		},

		/** The order a repeated idempotency key stands for; another user's key is a conflict, never their order. */
		repeatedOrder(this: OrdersThis, doc: OrderDoc, userId: string): OrderResult {
			if (doc.user_id !== userId)
				throw new ConflictError("idempotency_key: already used for another customer's order", "IDEMPOTENCY_KEY_REUSED", { field: "idempotency_key" });
			return this.orderResult(doc);
		},

		/**
		 * Moves an order along the happy path on a shipping event (with no target, only its shipments change); stale or
		 * repeated events change nothing.
		 */
		async onShipment(this: OrdersThis, event: DomainEvent, target: OrderStatus | null): Promise<void> {
			const orderId = typeof event.order_id === "string" ? event.order_id : null;
			if (!orderId) return;
			await this.updateOrder(orderId, SHIPPING_ACTOR, doc => applyShipmentReport(doc, event, target, new Date().toISOString()));
		},
	},
});

export default OrdersService;
