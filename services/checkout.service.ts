/**
 * The `checkout` service: `POST /checkout` turns the caller's cart into an order. It checks
 * the cart, resolves address and payment through `users`, re-prices every line from `products`, and hands the
 * order to `orders.create`, whose saga charges, reserves and ships. One click is one order: an Idempotency-Key and
 * the cart's version are each claimed before anything runs (services/checkout/claims.ts), the order key is fixed
 * by that claim, neither this action nor orders.create is retried as a new attempt, and orders.create gets what is
 * left of the request's time, so it answers (or places nothing) before the caller gives up.
 */
import { uuid } from "./common/ids";
import type { Context } from "moleculer";
import { collectUpstreamCalls, takeUpstreamCalls } from "./common/call-chain";
import { DbMixin, type DbMethods, type Repository } from "../mixins/db.mixin";
import { configOf } from "../config/env";
import { IdempotencyKeyExpiry } from "./checkout/retention";
import { UnknownOutcomes } from "./checkout/unknown-outcomes";
import { CheckoutOutcomeUnknownError, ConflictError, DependencyUnavailableError, NotFoundError, ValidationFailedError } from "./common/errors";
import { CART_CLAIM, CheckoutClaims, processOwner, type Claim, type RequestDoc } from "./checkout/claims";
import { requireUser, type ShopMeta } from "./common/meta";
import { defineService, objectWithoutNulls, type ServiceThis } from "./common/schema";
import { callDependency } from "./common/dependency";
import { assertChargeable } from "./payments/client";
import { addressParams, type CheckoutDetails } from "./users/client";
import type { CheckoutCart } from "./cart/client";
import { SettingsCacheMixin, type SettingsCacheVars } from "./settings/client";
import { billFor } from "./checkout/pricing";
import { orderByKey } from "./checkout/lookups";
import {
	bodyHash,
	checkoutResponse,
	checkoutStatus,
	isValidIdempotencyKey,
	orderedLines,
	type OrderedLines,
	orderLines,
	repriceLines,
	type PricedCart,
	sha256,
	wantsAsync,
	type CatalogRow,
	type CheckoutResponse,
	type OrderCreateResult,
} from "./checkout/model";

interface StartParams {
	shipping_address: string | Record<string, unknown>;
	payment_method: string;
	cart_id?: string;
}


/** The HTTP status and body of a checkout. */
interface Outcome {
	status: number;
	body: CheckoutResponse;
}

export interface CheckoutSettings {
	/** An IN_PROGRESS claim older than this belongs to a request that died: it may be taken over. */
	staleClaimMs: number;
	/** How long a duplicate request with the same Idempotency-Key waits for the first one to finish. */
	waitForClaimMs: number;
	/** orders.create gets the request's remaining time less this, so it answers before the caller gives up. */
	orderMarginMs: number;
	/** Below this much remaining time no order is started: the caller would be gone before it is placed. */
	minOrderTimeMs: number;
	/** A checkout of an emptied cart this soon after an order was placed from it is a repeated click: it gets that order. */
	repeatWindowMs: number;
	/** How often claims left with an unknown outcome are settled by asking orders (checkout/unknown-outcomes.ts). */
	settleLeftBehindMs: number;
}

interface CheckoutMethods extends DbMethods {
	requests(): Repository<RequestDoc>;
	claimOrWait(id: string, userId: string, hash: string, orderKey: string): Promise<Claim>;
	placeOnce(ctx: Context<StartParams, ShopMeta>, started: number, key: string): Promise<Outcome>;
	placeOrder(ctx: Context<StartParams, ShopMeta>, started: number, orderKey: string | null): Promise<Outcome>;
	placedOrder(ctx: Context<StartParams, ShopMeta>, started: number, orderKey: string): Promise<Outcome | null>;
	takenOverOrder(ctx: Context<StartParams, ShopMeta>, started: number, orderKey: string): Promise<Outcome | null>;
	remainingMs(ctx: Context<StartParams, ShopMeta>, started: number): number;
	createOrder(ctx: Context<StartParams, ShopMeta>, started: number, cart: CheckoutCart, orderKey: string, priced: PricedCart, rows: CatalogRow[]): Promise<Outcome>;
	clearOrdered(ctx: Context<unknown, ShopMeta> | null, userId: string, order: OrderedLines): Promise<void>;
}
interface CheckoutVars extends SettingsCacheVars {
	opts: CheckoutSettings;
	claims: CheckoutClaims;
	/** Claim ids this process is running now (a claim of this process that is not here was left by a crash). */
	running: Set<string>;
	keyExpiry: IdempotencyKeyExpiry<RequestDoc>;
	unknownOutcomes: UnknownOutcomes;
}
type CheckoutThis = ServiceThis<CheckoutVars, CheckoutMethods>;
type Ctx<P> = Context<P, ShopMeta>;

const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));
/** The longest a checkout waits for an orders node to come back and say whether it placed the order. */
const CheckoutService = defineService<CheckoutVars, CheckoutMethods>({
	name: "checkout",
	mixins: [DbMixin({ requests: { indexes: [{ fields: ["user_id"] }, { fields: ["created_at"] }] } }), SettingsCacheMixin()],

	settings: { staleClaimMs: 120_000, waitForClaimMs: 50_000, orderMarginMs: 2_000, minOrderTimeMs: 3_000, repeatWindowMs: 10_000, settleLeftBehindMs: 30_000 } satisfies CheckoutSettings,

	actions: {
		/** Places an order from the caller's cart: 201 shipped, 202 accepted, 402/409/503 failed, with the saga and call chain. */
		start: {
			// Checkout switched off is the shop's maintenance switch: the gateway answers 503 FEATURE_DISABLED.
			feature: "checkout",
			auth: "required",
			// A checkout runs a whole saga, retries and compensations included; orders.create gets what is left of it.
			timeout: 60_000,
			// Never retried as a new attempt: a repeat of the same cart or key is answered by the claims, not re-run.
			retryPolicy: { enabled: false },
			params: {
				shipping_address: [
					{ type: "string", min: 1, max: 300, trim: true },
					objectWithoutNulls(addressParams, "shipping_address"),
				],
				payment_method: { type: "string", min: 1, max: 64, trim: true },
				cart_id: { type: "string", min: 1, max: 150, optional: true },
			},
			async handler(this: CheckoutThis, ctx: Ctx<StartParams>): Promise<CheckoutResponse> {
				const started = Date.now();
				const key = ctx.meta.headers?.["idempotency-key"];
				let outcome: Outcome;
				try {
					outcome = key === undefined ? await this.placeOrder(ctx, started, null) : await this.placeOnce(ctx, started, key);
				} finally {
					// A checkout that failed with an error still collected records: they must not ride back in its meta.
					takeUpstreamCalls(ctx);
				}
				const { status, body } = outcome;
				ctx.meta.$statusCode = status;
				if (status === 201 || status === 202) ctx.meta.$location = `/api/v1/orders/${body.order.id}`;
				return body;
			},
		},
	},

	methods: {
		/** The idempotency and cart claims. */
		requests(this: CheckoutThis): Repository<RequestDoc> {
			return this.collection<RequestDoc>("requests");
		},

		/** Claims an Idempotency-Key record, waiting while a live first request still runs it. */
		async claimOrWait(this: CheckoutThis, id: string, userId: string, hash: string, orderKey: string): Promise<Claim> {
			const deadline = Date.now() + this.opts.waitForClaimMs;
			for (;;) {
				const claim = await this.claims.claim(id, userId, hash, orderKey);
				if (claim.kind !== "busy" || Date.now() > deadline) return claim;
				await sleep(50);
			}
		},

		/** Runs the checkout once per user and Idempotency-Key: a repeat gets the first answer, or the order the first placed. */
		async placeOnce(this: CheckoutThis, ctx: Ctx<StartParams>, started: number, key: string): Promise<Outcome> {
			if (!isValidIdempotencyKey(key)) throw new ValidationFailedError("Idempotency-Key", "must be 1 to 200 visible ASCII characters");
			const userId = requireUser(ctx.meta).id;
			const orderKey = `checkout:${userId}:${sha256(key).slice(0, 40)}`;
			const claim = await this.claimOrWait(`${userId}:${sha256(key)}`, userId, bodyHash(ctx.params), orderKey);
			if (claim.kind === "conflict") throw new ValidationFailedError("Idempotency-Key", "was already used with a different request body", "IDEMPOTENCY_KEY_REUSED");
			if (claim.kind === "busy")
				throw new ConflictError("A checkout with this Idempotency-Key is still in progress; retry later", "IDEMPOTENCY_KEY_IN_PROGRESS", { field: "Idempotency-Key" });
			if (claim.kind === "replay") return { status: claim.doc.status_code ?? 200, body: claim.doc.response as CheckoutResponse };
			const doc = claim.doc;
			this.running.add(doc.id);
			let outcome: Outcome;
			try {
				// A request that died may have placed the order already (its cart then emptied): that order is the answer.
				outcome = (claim.takenOver ? await this.takenOverOrder(ctx, started, doc.order_key ?? orderKey) : null) ?? (await this.placeOrder(ctx, started, doc.order_key ?? orderKey));
			} catch (err) {
				// Nothing was placed (bad input): the key may be used again. The outcome is unknown: the key's retry takes the
				// record over and asks orders for the key's order first, whatever the cart holds by then.
				if (err instanceof CheckoutOutcomeUnknownError) await this.claims.abandon(doc).catch(() => undefined);
				else await this.claims.giveBack(doc).catch(() => undefined);
				throw err;
			} finally {
				this.running.delete(doc.id);
			}
			await this.claims.finish(doc, outcome.status, outcome.body);
			return outcome;
		},

		/** The answer for an order already placed under `orderKey` (null when there is none). */
		async placedOrder(this: CheckoutThis, ctx: Ctx<StartParams>, started: number, orderKey: string): Promise<Outcome | null> {
			const userId = requireUser(ctx.meta).id;
			const found = await callDependency("orders", ctx.call<OrderCreateResult | null, Record<string, unknown>>("orders.byKey", { idempotency_key: orderKey, user_id: userId }));
			if (!found) return null;
			const traceId = ctx.requestID ?? ctx.id;
			return { status: checkoutStatus(found), body: checkoutResponse(found, traceId, Date.now() - started, []) };
		},

		/**
		 * The answer for the order a claim taken over may have placed under `orderKey` (null when there is none). When
		 * orders cannot be asked the outcome stays unknown: the claim must keep its key (a claim given back would be
		 * claimed afresh under a new key by the next retry, and a second order placed beside the first).
		 */
		async takenOverOrder(this: CheckoutThis, ctx: Ctx<StartParams>, started: number, orderKey: string): Promise<Outcome | null> {
			try {
				return await this.placedOrder(ctx, started, orderKey);
			} catch (err) {
				this.logger.warn(`Checkout ${orderKey}: orders could not say whether it placed the order (${String(err)}); the outcome stays unknown`);
				throw new CheckoutOutcomeUnknownError();
			}
		},

		/** What is left of the request's time (its timeout less what has passed). */
		remainingMs(this: CheckoutThis, ctx: Ctx<StartParams>, started: number): number {
			const timeout = ctx.options?.timeout ?? 0;
			return timeout > 0 ? timeout - (Date.now() - started) : Number.POSITIVE_INFINITY;
		},

		/**
		 * Validates the cart, takes its version (a second checkout of the same content is the same order, or 409 while
		 * the first runs), resolves and re-prices it, runs orders.create within the request's time, clears the cart.
		 */
		async placeOrder(this: CheckoutThis, ctx: Ctx<StartParams>, started: number, keyedOrder: string | null): Promise<Outcome> {
			const userId = requireUser(ctx.meta).id;
			collectUpstreamCalls(ctx);
			const cart = await callDependency("cart", ctx.call<CheckoutCart, { user_id: string }>("cart.getForCheckout", { user_id: userId }));
			if (ctx.params.cart_id !== undefined && ctx.params.cart_id !== cart.id) throw new NotFoundError("cart", ctx.params.cart_id);
			if (cart.items.length === 0) {
				const lastKey = keyedOrder ?? (await this.claims.recentlyPlaced(userId, this.opts.repeatWindowMs));
				const placed = lastKey ? await this.placedOrder(ctx, started, lastKey) : null;
				if (placed) return placed;
				throw new ValidationFailedError("cart", "is empty: add products before checking out", "CART_EMPTY");
			}

			// The lines at today's prices: a product that cannot be sold (409) or a total beyond what one payment can
			// charge (422) is refused before the cart is claimed or anything runs.
			const { rows } = await callDependency("products", ctx.call<{ rows: CatalogRow[] }, { ids: string[] }>("products.getMany", { ids: cart.items.map(l => l.product_id) }));
			const priced = repriceLines(cart.items, rows);
			if (!priced.ok) {
				const why = priced.reason === "currency" ? "is priced in another currency than the rest of the cart" : "is no longer available";
				throw new ConflictError(`Product '${priced.product_id}' in the cart ${why}; remove it and retry`, "PRODUCT_UNAVAILABLE", {
					field: "cart.items",
					product_id: priced.product_id,
					reason: priced.reason,
				});
			}
			assertChargeable("cart", priced.total_cents, priced.currency);

			// One cart version becomes at most one order, whatever the number of clicks or keys.
			const cartClaim = await this.claims.claim(`${userId}:cart:${cart.version}`, userId, CART_CLAIM, keyedOrder ?? `checkout:${userId}:cart:${uuid()}`);
			const repeat = cartClaim.kind === "replay" && cartClaim.doc.order_key ? await this.placedOrder(ctx, started, cartClaim.doc.order_key) : null;
			if (repeat) return repeat;
			if (cartClaim.kind !== "claimed")
				throw new ConflictError("This cart is already being checked out; wait for that order", "CHECKOUT_IN_PROGRESS", { field: "cart", cart_id: cart.id });
			const claimDoc = cartClaim.doc;
			const orderKey = claimDoc.order_key as string;
			this.running.add(claimDoc.id);
			let outcome: Outcome;
			try {
				const found = cartClaim.takenOver ? await this.takenOverOrder(ctx, started, orderKey) : null;
				outcome = found ?? (await this.createOrder(ctx, started, cart, orderKey, priced, rows));
			} catch (err) {
				// Nothing was placed: the cart is free again. When the outcome is unknown the claim stays, so that a retry
				// takes it over (its owner is gone) with the same order key, and finds or places that one order.
				if (err instanceof CheckoutOutcomeUnknownError) await this.claims.abandon(claimDoc).catch(() => undefined);
				else await this.claims.giveBack(claimDoc).catch(() => undefined);
				throw err;
			} finally {
				this.running.delete(claimDoc.id);
			}
			// A failed order leaves the cart as it was, free for another try (a new order); a placed one answers repeats.
			if (outcome.status !== 201 && outcome.status !== 202) {
				await this.claims.giveBack(claimDoc);
				return outcome;
			}
			await this.claims.finish(claimDoc, outcome.status, null);
			// Only then does the order take its lines out of the cart: a repeated click in between finds the cart as it was
			// and its claim done (the same order), never an empty cart that would answer an older order. A claim still in
			// progress had never got this far, so an order found by a takeover has its lines in the cart too.
			await this.clearOrdered(ctx, cart.user_id, outcome.body.order);
			return outcome;
		},

		/** Takes an order's lines out of its customer's cart; the order stands either way (a failure is only logged). */
		async clearOrdered(this: CheckoutThis, ctx: Ctx<unknown> | null, userId: string, order: OrderedLines): Promise<void> {
			await (ctx ?? this.broker).call("cart.clearFor", { user_id: userId, items: orderedLines(order.items) }).catch((err: unknown) =>
				this.logger.warn(`Order ${order.id} placed but the cart of ${userId} was not cleared: ${String(err)}`),
			);
		},

		/** Resolves address and payment, prices the bill, runs orders.create in the time left, and clears the cart. */
		async createOrder(this: CheckoutThis, ctx: Ctx<StartParams>, started: number, cart: CheckoutCart, orderKey: string, priced: PricedCart, rows: CatalogRow[]): Promise<Outcome> {
			const userId = cart.user_id;
			const details = await callDependency(
				"users",
				ctx.call<CheckoutDetails, Record<string, unknown>>("users.resolveCheckout", {
					user_id: userId,
					shipping_address: ctx.params.shipping_address,
					payment_method: ctx.params.payment_method,
				}),
			);

			const { bill, discounts } = await billFor(ctx, this.settingsCache, cart, priced, rows, details.shipping_address.country ?? null);
			assertChargeable("cart", bill.total_cents, priced.currency);

			// No order starts for a caller that will be gone before it is placed; orders.create answers before the caller gives up.
			const left = this.remainingMs(ctx, started);
			if (left < this.opts.minOrderTimeMs) throw new DependencyUnavailableError("orders", `orders is unavailable: only ${Math.max(0, Math.round(left))} ms left of the request`);
			const callOpts = Number.isFinite(left) ? { timeout: left - this.opts.orderMarginMs } : {};
			let result: OrderCreateResult;
			let lostOnTheWay = false;
			try {
				result = await callDependency(
					"orders",
					ctx.call<OrderCreateResult, Record<string, unknown>>(
						"orders.create",
						{
							user_id: userId,
							items: orderLines(priced, rows, discounts),
							currency: priced.currency,
							shipping_address: details.shipping_address,
							payment: { token: details.payment.token, method_id: details.payment.method_id },
							idempotency_key: orderKey,
							respond_async: wantsAsync(ctx.meta.headers?.prefer),
							bill,
						},
						callOpts,
					).catch((err: unknown) => {
						// Timed out, or its node left mid-call: orders.create may have stored the order.
						const name = (err as { name?: string } | null)?.name;
						lostOnTheWay = name === "RequestTimeoutError" || name === "RequestRejectedError";
						throw err;
					}),
				);
			} catch (err) {
				// The orders node may have died (or timed out) after it stored the order: its saga goes on elsewhere, so that
				// order is the answer, not a 503 to a customer who will be charged.
				const placed = err instanceof DependencyUnavailableError ? await orderByKey(ctx, { userId, orderKey, waitForOrders: lostOnTheWay, remainingMs: this.remainingMs(ctx, started), marginMs: this.opts.orderMarginMs }) : null;
				// Unknown whether it exists: the customer is told so, and the claim keeps its order key for their retry.
				if (!placed && lostOnTheWay) throw new CheckoutOutcomeUnknownError();
				if (!placed) throw err;
				result = placed;
			}
			const status = checkoutStatus(result);

			const traceId = ctx.requestID ?? ctx.id;
			const calls = takeUpstreamCalls(ctx).map(c => ({ name: c.name, action: c.action, code: c.code, duration: c.duration }));
			return { status, body: checkoutResponse(result, traceId, Date.now() - started, calls) };
		},
	},

	created(this: CheckoutThis) {
		this.opts = this.settings as unknown as CheckoutSettings;
		this.running = new Set();
		this.claims = new CheckoutClaims(
			this.requests(),
			processOwner(this.broker.nodeID, uuid("run:"), this.running, nodeId => this.broker.registry.getNodeList({ onlyAvailable: true, withServices: false }).some(n => n.id === nodeId)),
			this.opts.staleClaimMs,
		);
		this.unknownOutcomes = new UnknownOutcomes(
			this.claims,
			this.running,
			{
				lookup: (userId, orderKey) =>
					this.broker.call<OrderCreateResult | null, Record<string, unknown>>("orders.byKey", { idempotency_key: orderKey, user_id: userId }, { timeout: 5_000, retries: 0 }),
				clearCart: (userId, order) => this.clearOrdered(null, userId, order),
			},
			// No orders.create under a claim's key can start after the request's deadline (60 s): five minutes is safe.
			{ intervalMs: this.opts.settleLeftBehindMs, noOrderAfterMs: 300_000 },
			this.logger,
		);
		const { retention } = configOf(this);
		this.keyExpiry = new IdempotencyKeyExpiry(
			this.requests(),
			// A cart version's claim only answers repeated clicks and takeovers: an hour is plenty.
			{ ttlMs: retention.idempotencyKeyTtlMs, shortLived: { query: { body_hash: CART_CLAIM }, ttlMs: Math.min(3_600_000, retention.idempotencyKeyTtlMs) } },
			this.logger,
		);
	},

	started(this: CheckoutThis) {
		this.keyExpiry.start();
		this.unknownOutcomes.start();
	},

	async stopped(this: CheckoutThis) {
		await Promise.all([this.keyExpiry.stop(), this.unknownOutcomes.stop()]);
	},
});

export default CheckoutService;
