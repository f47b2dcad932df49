/**
 * The `checkout` service: `POST /checkout` turns the caller's cart into an order (DESIGN.md section 5). It checks
 * the cart, resolves address and payment through `users`, re-prices every line from `products`, and hands the
 * order to `orders.create`, whose saga charges, reserves and ships. An Idempotency-Key is claimed atomically (a
 * record per user and key, bound to a hash of the body) before anything runs, so a repeat answers the first
 * response and charges once.
 */
import { uuid } from "../config/ids";
import type { Context } from "moleculer";
import { collectUpstreamCalls, takeUpstreamCalls } from "../config/call-chain";
import { DbMixin, DuplicateKeyError, type DbMethods, type Repository } from "../mixins/db.mixin";
import { getConfig } from "../config/env";
import { IdempotencyKeyExpiry } from "./checkout/retention";
import { ConflictError, NotFoundError, ValidationFailedError } from "./common/errors";
import { requireUser, type ShopMeta } from "./common/meta";
import { defineService, type ServiceThis } from "./common/schema";
import { addressParams } from "./users/params";
import { callDependency } from "./checkout/dependency";
import type { CheckoutDetails } from "./users.service";
import type { CheckoutCart } from "./cart.service";
import {
	bodyHash,
	checkoutResponse,
	checkoutStatus,
	isValidIdempotencyKey,
	repriceLines,
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

/** The product ids and quantities an order bought, to take out of the cart. */
function orderedLines(items: Array<{ product_id: string; quantity: number }>): Array<{ product_id: string; quantity: number }> {
	return items.map(i => ({ product_id: i.product_id, quantity: i.quantity }));
}

/** The stored answer to one Idempotency-Key of one user. */
interface RequestDoc {
	id: string;
	user_id: string;
	body_hash: string;
	state: "IN_PROGRESS" | "DONE";
	claimed_at: number;
	status_code: number | null;
	response: CheckoutResponse | null;
	created_at: string;
}

/** The HTTP status and body of a checkout. */
interface Outcome {
	status: number;
	body: CheckoutResponse;
}

type Claim = { kind: "claimed"; doc: RequestDoc } | { kind: "replay"; doc: RequestDoc };

export interface CheckoutSettings {
	/** An IN_PROGRESS claim older than this belongs to a request that died: it may be taken over. */
	staleClaimMs: number;
	/** How long a duplicate request waits for the first one to finish. */
	waitForClaimMs: number;
}

interface CheckoutMethods extends DbMethods {
	requests(): Repository<RequestDoc>;
	claimKey(userId: string, key: string, hash: string): Promise<Claim>;
	placeOnce(ctx: Context<StartParams, ShopMeta>, started: number, key: string): Promise<Outcome>;
	placeOrder(ctx: Context<StartParams, ShopMeta>, started: number, idempotencyKey: string): Promise<Outcome>;
}
interface CheckoutVars {
	opts: CheckoutSettings;
	keyExpiry: IdempotencyKeyExpiry<RequestDoc>;
}
type CheckoutThis = ServiceThis<CheckoutVars, CheckoutMethods>;
type Ctx<P> = Context<P, ShopMeta>;

const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));

const CheckoutService = defineService<CheckoutVars, CheckoutMethods>({
	name: "checkout",
	mixins: [DbMixin({ requests: { indexes: [{ fields: ["user_id"] }, { fields: ["created_at"] }] } })],

	settings: { staleClaimMs: 120_000, waitForClaimMs: 50_000 } satisfies CheckoutSettings,

	actions: {
		/** Places an order from the caller's cart: 201 shipped, 202 accepted, 402/409/503 failed, with the saga and call chain. */
		start: {
			auth: "required",
			// A checkout runs a whole saga, retries and compensations included.
			timeout: 60_000,
			params: {
				shipping_address: [
					{ type: "string", min: 1, max: 300, trim: true },
					{ type: "object", props: addressParams, strict: "remove" },
				],
				payment_method: { type: "string", min: 1, max: 64, trim: true },
				cart_id: { type: "string", min: 1, max: 150, optional: true },
			},
			async handler(this: CheckoutThis, ctx: Ctx<StartParams>): Promise<CheckoutResponse> {
				const started = Date.now();
				const key = ctx.meta.headers?.["idempotency-key"];
				let outcome: Outcome;
				try {
					outcome =
						// Without an Idempotency-Key every request is a new order: the request id can come from the client's
						// X-Request-ID header, so it must never decide which order a checkout returns.
						key === undefined ? await this.placeOrder(ctx, started, uuid("checkout:")) : await this.placeOnce(ctx, started, key);
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
		/** The idempotency records. */
		requests(this: CheckoutThis): Repository<RequestDoc> {
			return this.collection<RequestDoc>("requests");
		},

		/**
		 * Claims a user's Idempotency-Key for this body, or finds the first request's answer; 422 for another body.
		 * A duplicate that arrives while the first still runs waits for its answer.
		 */
		async claimKey(this: CheckoutThis, userId: string, key: string, hash: string): Promise<Claim> {
			const repo = this.requests();
			const id = `${userId}:${sha256(key)}`;
			const deadline = Date.now() + this.opts.waitForClaimMs;
			for (;;) {
				const doc: RequestDoc = { id, user_id: userId, body_hash: hash, state: "IN_PROGRESS", claimed_at: Date.now(), status_code: null, response: null, created_at: new Date().toISOString() };
				try {
					return { kind: "claimed", doc: await repo.insert(doc) };
				} catch (err) {
					if (!(err instanceof DuplicateKeyError)) throw err;
				}
				const existing = await repo.findById(id);
				if (!existing) continue; // the first request gave the key back
				if (existing.body_hash !== hash)
					throw new ValidationFailedError("Idempotency-Key", "was already used with a different request body", "IDEMPOTENCY_KEY_REUSED");
				if (existing.state === "DONE") return { kind: "replay", doc: existing };
				if (Date.now() - existing.claimed_at > this.opts.staleClaimMs) {
					const claimedAt = Date.now();
					const n = await repo.updateWhere({ id, state: "IN_PROGRESS", claimed_at: existing.claimed_at }, { $set: { claimed_at: claimedAt } });
					if (n === 1) return { kind: "claimed", doc: { ...existing, claimed_at: claimedAt } };
					continue;
				}
				if (Date.now() > deadline)
					throw new ConflictError("A checkout with this Idempotency-Key is still in progress; retry later", "IDEMPOTENCY_KEY_IN_PROGRESS", { field: "Idempotency-Key" });
				await sleep(50);
			}
		},

		/** Runs the checkout once per user and Idempotency-Key: a repeat gets the stored first answer. */
		async placeOnce(this: CheckoutThis, ctx: Ctx<StartParams>, started: number, key: string): Promise<Outcome> {
			if (!isValidIdempotencyKey(key)) throw new ValidationFailedError("Idempotency-Key", "must be 1 to 200 visible ASCII characters");
			const userId = requireUser(ctx.meta).id;
			const claim = await this.claimKey(userId, key, bodyHash(ctx.params));
			if (claim.kind === "replay") return { status: claim.doc.status_code ?? 200, body: claim.doc.response as CheckoutResponse };
			let outcome: Outcome;
			try {
				outcome = await this.placeOrder(ctx, started, `checkout:${userId}:${sha256(key).slice(0, 40)}`);
			} catch (err) {
				// Nothing was placed (bad input) or the outcome is unknown: the key may be used again.
				await this.requests().removeWhere({ id: claim.doc.id, state: "IN_PROGRESS", claimed_at: claim.doc.claimed_at });
				throw err;
			}
			await this.requests().updateWhere({ id: claim.doc.id }, { $set: { state: "DONE", status_code: outcome.status, response: outcome.body } });
			return outcome;
		},

		/** Validates the cart, resolves and re-prices it, runs orders.create, clears the cart, and builds the answer. */
		async placeOrder(this: CheckoutThis, ctx: Ctx<StartParams>, started: number, idempotencyKey: string): Promise<Outcome> {
			const userId = requireUser(ctx.meta).id;
			collectUpstreamCalls(ctx);
			const cart = await callDependency("cart", ctx.call<CheckoutCart, { user_id: string }>("cart.getForCheckout", { user_id: userId }));
			if (ctx.params.cart_id !== undefined && ctx.params.cart_id !== cart.id) throw new NotFoundError("cart", ctx.params.cart_id);
			if (cart.items.length === 0) throw new ValidationFailedError("cart", "is empty: add products before checking out", "CART_EMPTY");

			const details = await callDependency(
				"users",
				ctx.call<CheckoutDetails, Record<string, unknown>>("users.resolveCheckout", {
					user_id: userId,
					shipping_address: ctx.params.shipping_address,
					payment_method: ctx.params.payment_method,
				}),
			);

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

			const result = await callDependency("orders", ctx.call<OrderCreateResult, Record<string, unknown>>("orders.create", {
				user_id: userId,
				items: priced.items,
				currency: priced.currency,
				shipping_address: details.shipping_address,
				payment: { token: details.payment.token, method_id: details.payment.method_id },
				idempotency_key: idempotencyKey,
				respond_async: wantsAsync(ctx.meta.headers?.prefer),
			}));
			const status = checkoutStatus(result);
			// A placed order takes its lines out of the cart; a failed one leaves the cart for another try.
			if (status === 201 || status === 202)
				await ctx.call("cart.clearFor", { user_id: userId, items: orderedLines(result.order.items) }).catch(err =>
					// The order stands either way; a cart that kept its lines is a nuisance, not a reason to answer an error.
					this.logger.warn(`Order ${result.order.id} placed but the cart of ${userId} was not cleared: ${String(err)}`),
				);

			const traceId = ctx.requestID ?? ctx.id;
			const calls = takeUpstreamCalls(ctx).map(c => ({ name: c.name, action: c.action, code: c.code, duration: c.duration }));
			return { status, body: checkoutResponse(result, traceId, Date.now() - started, calls) };
		},
	},

	created(this: CheckoutThis) {
		this.opts = this.settings as unknown as CheckoutSettings;
		this.keyExpiry = new IdempotencyKeyExpiry(this.requests(), { ttlMs: getConfig().retention.idempotencyKeyTtlMs }, this.logger);
	},

	started(this: CheckoutThis) {
		this.keyExpiry.start();
	},

	async stopped(this: CheckoutThis) {
		await this.keyExpiry.stop();
	},
});

export default CheckoutService;
