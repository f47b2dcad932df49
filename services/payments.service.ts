/**
 * The `payments` service: charges and refunds against the simulated external gateway, wrapped in an opossum
 * circuit breaker. Every charge is idempotent per idempotency key (a unique index claims the key before the
 * gateway is called, so concurrent duplicates charge once); a payment is refunded at most once.
 */
import { uuid } from "./common/ids";
import type { Context } from "moleculer";
import { DbMixin, DuplicateKeyError, type DbMethods, type Repository } from "../mixins/db.mixin";
import { EventsMixin, type EventsMethods, type StagedEvent } from "../mixins/events.mixin";
import { EVENTS, type PaymentFailedPayload, type PaymentProcessedPayload, type PaymentRefundedPayload } from "./common/events";
import { NotFoundError, ValidationFailedError } from "./common/errors";
import { requireUser, type ShopMeta } from "./common/meta";
import { defineService, type ServiceThis } from "./common/schema";
import { GatewayBreaker, BreakerOpenError, type BreakerOptions, type BreakerSnapshot } from "./payments/breaker";
import { SimulatedGateway, GatewayUnavailableError, type PaymentGateway, type SimulatedGatewayOptions } from "./payments/gateway";
import { PaymentDeclinedError, PaymentGatewayUnavailableError } from "./payments/errors";
import { MAX_CHARGE_CENTS } from "./payments/client";
import { configOf } from "../config/env";
import {
	decideExistingCharge,
	netChargedCents,
	newPayment,
	sameCharge,
	toChargeResult,
	toPaymentView,
	toRefundResult,
	type ChargeInput,
	type ChargeResult,
	type PaymentDoc,
	type PaymentView,
	type RefundResult,
} from "./payments/model";

interface ChargeParams extends ChargeInput {
	token: string;
}
interface RefundParams {
	payment_id: string;
	reason?: string;
	idempotency_key?: string;
}
interface IdParams {
	id: string;
}
interface OrderParams {
	order_id: string;
}

export interface PaymentsSettings {
	breaker: Partial<BreakerOptions>;
	gateway: SimulatedGatewayOptions;
	/** A PENDING or REFUNDING claim older than this belongs to a caller that died: it may be taken over. */
	staleClaimMs: number;
	/** How long a duplicate waits for the claim holder before answering a retryable 503. */
	waitForClaimMs: number;
}

interface PaymentsMethods extends DbMethods, EventsMethods {
	payments(): Repository<PaymentDoc>;
	claimCharge(input: ChargeInput): Promise<{ doc: PaymentDoc; claimed: boolean }>;
	captureOrDecline(ctx: Context<unknown, ShopMeta>, doc: PaymentDoc, token: string): Promise<PaymentDoc>;
	claimRefund(ctx: Context<RefundParams, ShopMeta>, paymentId: string): Promise<{ settled: RefundResult } | { doc: PaymentDoc; claimedAt: number }>;
	completeRefund(ctx: Context<RefundParams, ShopMeta>, doc: PaymentDoc, claimedAt: number): Promise<RefundResult | null>;
	settleAbandoned(ctx: Context<unknown, ShopMeta>, doc: PaymentDoc): Promise<void>;
	relay(paymentId: string, event: StagedEvent<object>): Promise<void>;
	gatewayError(err: unknown): Error;
	history(status: PaymentDoc["status"], reason: string | null): object;
}
interface PaymentsVars {
	gateway: PaymentGateway;
	breaker: GatewayBreaker;
	opts: PaymentsSettings;
}
type PaymentsThis = ServiceThis<PaymentsVars, PaymentsMethods>;
type Ctx<P> = Context<P, ShopMeta>;

const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));
const KEY = { type: "string", min: 1, max: 300 } as const;

/**
 * Moleculer's breaker on charge and refund judges this service, not the external gateway: a gateway failure
 * (PAYMENT_GATEWAY_UNAVAILABLE) is the opossum breaker's to count, so a customer's `card-error` checkouts never make
 * `payments.charge` "not available" to everyone (answers keep the documented type).
 */
const GATEWAY_AWARE_BREAKER = {
	// As the broker-wide check (config/resilience.ts, isBreakerFailure): server-side failures only, less the gateway's.
	check: (err: Error) => {
		const e = err as { code?: unknown; type?: unknown };
		return typeof e.code === "number" && e.code >= 500 && e.type !== "PAYMENT_GATEWAY_UNAVAILABLE";
	},
};

const PaymentsService = defineService<PaymentsVars, PaymentsMethods>({
	name: "payments",
	mixins: [
		DbMixin({ payments: { indexes: [{ fields: ["idempotency_key"], unique: true }, { fields: ["order_id"] }] } }),
		EventsMixin({ stagedIn: ["payments"] }),
	],

	settings: {
		breaker: {},
		gateway: {},
		staleClaimMs: 15_000,
		waitForClaimMs: 5_000,
	} satisfies PaymentsSettings,

	actions: {
		/** Charges an order once per idempotency key: 402 when declined, retryable 503 when the gateway is down. */
		charge: {
			visibility: "public",
			circuitBreaker: GATEWAY_AWARE_BREAKER,
			params: {
				order_id: { type: "string", min: 1, max: 100 },
				user_id: { type: "string", min: 1, max: 100 },
				amount_cents: { type: "number", integer: true, positive: true, max: MAX_CHARGE_CENTS },
				currency: { type: "string", length: 3, uppercase: true },
				token: { type: "string", min: 1, max: 64 },
				idempotency_key: KEY,
			},
			async handler(this: PaymentsThis, ctx: Ctx<ChargeParams>): Promise<ChargeResult> {
				const { token, ...input } = ctx.params;
				const claim = await this.claimCharge(input);
				const doc = claim.claimed ? await this.captureOrDecline(ctx, claim.doc, token) : claim.doc;
				if (doc.status === "DECLINED") throw new PaymentDeclinedError(doc.order_id, doc.id, doc.failure_reason ?? "declined");
				return toChargeResult(doc);
			},
		},

		/** Gives a captured payment back in full; any number of calls refund it once. */
		refund: {
			audit: { entity: "payment", id: "payment_id", read: "payments.get", readParam: "id" },
			visibility: "public",
			circuitBreaker: GATEWAY_AWARE_BREAKER,
			params: {
				payment_id: { type: "string", min: 1, max: 100 },
				reason: { type: "string", max: 300, optional: true },
				idempotency_key: { ...KEY, optional: true },
			},
			async handler(this: PaymentsThis, ctx: Ctx<RefundParams>): Promise<RefundResult> {
				for (;;) {
					const claim = await this.claimRefund(ctx, ctx.params.payment_id);
					if ("settled" in claim) return claim.settled;
					const refunded = await this.completeRefund(ctx, claim.doc, claim.claimedAt);
					if (refunded) return refunded; // null: another caller took the claim over meanwhile; look again
				}
			},
		},

		/** One payment: its owner or an admin (404 for anyone else). */
		get: {
			auth: "required",
			params: { id: { type: "string", min: 1, max: 100 } },
			async handler(this: PaymentsThis, ctx: Ctx<IdParams>): Promise<PaymentView> {
				const doc = await this.payments().findById(ctx.params.id);
				const user = ctx.meta.user ? requireUser(ctx.meta) : null;
				if (!doc || (user && user.role !== "admin" && doc.user_id !== user.id)) throw new NotFoundError("payment", ctx.params.id);
				return toPaymentView(doc);
			},
		},

		/**
		 * The payments of one order (`GET /payments?order_id=`), with the net amount charged: the customer's own, or any
		 * for an admin. It finds a charge whose answer was lost too, which the order does not name.
		 */
		list: {
			auth: "required",
			params: { order_id: { type: "string", min: 1, max: 100 } },
			async handler(this: PaymentsThis, ctx: Ctx<OrderParams>): Promise<{ rows: PaymentView[]; net_charged_cents: number }> {
				const user = requireUser(ctx.meta);
				const all = await this.payments().find({ order_id: ctx.params.order_id }, { sort: ["created_at"] });
				const rows = user.role === "admin" ? all : all.filter(p => p.user_id === user.id);
				return { rows: rows.map(toPaymentView), net_charged_cents: netChargedCents(rows) };
			},
		},

		/** An order's payments and the net amount charged (captured minus refunded), for the saga invariants. */
		listByOrder: {
			visibility: "public",
			params: { order_id: { type: "string", min: 1, max: 100 } },
			async handler(this: PaymentsThis, ctx: Ctx<OrderParams>): Promise<{ rows: PaymentView[]; net_charged_cents: number }> {
				const rows = await this.payments().find({ order_id: ctx.params.order_id }, { sort: ["created_at"] });
				return { rows: rows.map(toPaymentView), net_charged_cents: netChargedCents(rows) };
			},
		},

		/** The gateway breaker's state and counters (REPL, metrics). */
		breakerState: {
			visibility: "public",
			handler(this: PaymentsThis): BreakerSnapshot {
				return this.breaker.snapshot();
			},
		},
	},

	methods: {
		/** The payments collection. */
		payments(this: PaymentsThis): Repository<PaymentDoc> {
			return this.collection<PaymentDoc>("payments");
		},

		/** Claims the idempotency key: a new PENDING payment, or the stored one (retaken when it failed or its holder died). */
		async claimCharge(this: PaymentsThis, input: ChargeInput): Promise<{ doc: PaymentDoc; claimed: boolean }> {
			const repo = this.payments();
			try {
				return { doc: await repo.insert(newPayment(uuid("pay_"), input, new Date())), claimed: true };
			} catch (err) {
				if (!(err instanceof DuplicateKeyError)) throw err;
			}
			const deadline = Date.now() + this.opts.waitForClaimMs;
			for (;;) {
				const doc = await repo.findOne({ idempotency_key: input.idempotency_key });
				if (!doc) throw new PaymentGatewayUnavailableError("payment record vanished; retry", { idempotency_key: input.idempotency_key });
				const field = sameCharge(doc, input);
				if (field)
					throw new ValidationFailedError("idempotency_key", `was already used for another charge (different ${field})`, "IDEMPOTENCY_KEY_REUSED");
				const decision = decideExistingCharge(doc, Date.now(), this.opts.staleClaimMs);
				if (decision === "settled" || decision === "declined") return { doc, claimed: false };
				if (decision === "retry") {
					const claimedAt = Date.now();
					const n = await repo.updateWhere(
						{ id: doc.id, status: doc.status, claimed_at: doc.claimed_at },
						{
							$set: { status: "PENDING", claimed_at: claimedAt, updated_at: new Date().toISOString() },
							$inc: { attempts: 1 },
							$push: { history: this.history("PENDING", "retry") },
						},
					);
					if (n === 1) return { doc: { ...doc, status: "PENDING", claimed_at: claimedAt }, claimed: true };
					continue;
				}
				if (Date.now() > deadline)
					throw new PaymentGatewayUnavailableError("a charge with this idempotency key is still in progress; retry", { payment_id: doc.id });
				await sleep(20);
			}
		},

		/** Calls the gateway for a claimed payment and stores CAPTURED, DECLINED or FAILED. */
		async captureOrDecline(this: PaymentsThis, ctx: Ctx<unknown>, doc: PaymentDoc, token: string): Promise<PaymentDoc> {
			const repo = this.payments();
			const claim = { id: doc.id, status: "PENDING", claimed_at: doc.claimed_at };
			let result;
			try {
				result = await this.breaker.run(() =>
					this.gateway.charge({ idempotency_key: doc.idempotency_key, token, amount_cents: doc.amount_cents, currency: doc.currency }),
				);
			} catch (err) {
				const error = this.gatewayError(err);
				await repo.updateWhere(claim, {
					$set: { status: "FAILED", failure_reason: error.message, updated_at: new Date().toISOString() },
					$push: { history: this.history("FAILED", error.message) },
				});
				throw error;
			}
			const at = new Date().toISOString();
			const update = result.approved
				? { status: "CAPTURED" as const, gateway_charge_id: result.charge_id, failure_reason: null }
				: { status: "DECLINED" as const, failure_reason: result.message };
			const base = { payment_id: doc.id, order_id: doc.order_id, user_id: doc.user_id, amount_cents: doc.amount_cents, currency: doc.currency };
			const event = result.approved
				? this.stageEvent<PaymentProcessedPayload>(ctx, EVENTS.PAYMENT_PROCESSED, base)
				: this.stageEvent<PaymentFailedPayload>(ctx, EVENTS.PAYMENT_FAILED, { ...base, reason: result.message });
			const n = await repo.updateWhere(claim, {
				$set: { ...update, updated_at: at },
				$push: { history: this.history(update.status, update.failure_reason), pending_events: event },
			});
			if (n === 0) return (await repo.findById(doc.id)) ?? doc; // a takeover settled it meanwhile
			await this.relay(doc.id, event);
			return { ...doc, ...update, updated_at: at };
		},

		/**
		 * Claims a payment for refunding (CAPTURED → REFUNDING), or answers what is settled: a refund already made, or
		 * nothing to give back for a payment that never captured. Waits for a charge or refund in flight.
		 */
		async claimRefund(this: PaymentsThis, ctx: Ctx<RefundParams>, paymentId: string): Promise<{ settled: RefundResult } | { doc: PaymentDoc; claimedAt: number }> {
			const repo = this.payments();
			const deadline = Date.now() + this.opts.waitForClaimMs;
			for (;;) {
				const doc = await repo.findById(paymentId);
				if (!doc) throw new NotFoundError("payment", paymentId);
				if (doc.status === "REFUNDED" || doc.status === "DECLINED" || doc.status === "FAILED") return { settled: toRefundResult(doc) };
				const stale = Date.now() - doc.claimed_at > this.opts.staleClaimMs;
				if (doc.status === "PENDING" && stale) {
					await this.settleAbandoned(ctx, doc);
					continue;
				}
				if (doc.status === "CAPTURED" || (doc.status === "REFUNDING" && stale)) {
					const claimedAt = Date.now();
					const n = await repo.updateWhere(
						{ id: doc.id, status: doc.status, claimed_at: doc.claimed_at },
						{ $set: { status: "REFUNDING", claimed_at: claimedAt, updated_at: new Date().toISOString() } },
					);
					if (n === 1) return { doc, claimedAt };
					continue;
				}
				if (Date.now() > deadline) throw new PaymentGatewayUnavailableError(`payment '${doc.id}' is busy (${doc.status}); retry`, { payment_id: doc.id });
				await sleep(20);
			}
		},

		/** Refunds a claimed payment at the gateway and stores REFUNDED with payment.refunded; null when the claim was lost. */
		async completeRefund(this: PaymentsThis, ctx: Ctx<RefundParams>, doc: PaymentDoc, claimedAt: number): Promise<RefundResult | null> {
			const repo = this.payments();
			const claim = { id: doc.id, status: "REFUNDING", claimed_at: claimedAt };
			const reason = ctx.params.reason ?? "refund";
			let gatewayRefund: { refund_id: string };
			try {
				// The gateway key is per payment, so two refunds with different keys still give the money back once.
				gatewayRefund = await this.breaker.run(() =>
					this.gateway.refund({ idempotency_key: `refund:${doc.id}`, charge_id: doc.gateway_charge_id ?? doc.id, amount_cents: doc.amount_cents }),
				);
			} catch (err) {
				await repo.updateWhere(claim, { $set: { status: "CAPTURED" } });
				throw this.gatewayError(err);
			}
			const at = new Date().toISOString();
			const refund = { refund_id: gatewayRefund.refund_id, idempotency_key: ctx.params.idempotency_key ?? `refund:${doc.id}`, amount_cents: doc.amount_cents, reason, at };
			const event = this.stageEvent<PaymentRefundedPayload>(ctx, EVENTS.PAYMENT_REFUNDED, {
				payment_id: doc.id,
				refund_id: refund.refund_id,
				order_id: doc.order_id,
				user_id: doc.user_id,
				amount_cents: doc.amount_cents,
				currency: doc.currency,
				reason,
			});
			const n = await repo.updateWhere(claim, {
				$set: { status: "REFUNDED", refund, updated_at: at },
				$push: { history: this.history("REFUNDED", reason), pending_events: event },
			});
			if (n === 0) return null;
			await this.relay(doc.id, event);
			return toRefundResult({ ...doc, status: "REFUNDED", refund });
		},

		/** Settles a charge whose caller died mid-call by asking the gateway what became of its idempotency key. */
		async settleAbandoned(this: PaymentsThis, ctx: Ctx<unknown>, doc: PaymentDoc): Promise<void> {
			let seen;
			try {
				seen = await this.breaker.run(() => this.gateway.findCharge(doc.idempotency_key));
			} catch (err) {
				throw this.gatewayError(err);
			}
			const update = !seen
				? { status: "FAILED" as const, failure_reason: "abandoned before the gateway answered" }
				: seen.approved
					? { status: "CAPTURED" as const, gateway_charge_id: seen.charge_id, failure_reason: null }
					: { status: "DECLINED" as const, failure_reason: seen.message };
			const base = { payment_id: doc.id, order_id: doc.order_id, user_id: doc.user_id, amount_cents: doc.amount_cents, currency: doc.currency };
			const event = update.status === "CAPTURED" ? this.stageEvent<PaymentProcessedPayload>(ctx, EVENTS.PAYMENT_PROCESSED, base) : null;
			const n = await this.payments().updateWhere(
				{ id: doc.id, status: "PENDING", claimed_at: doc.claimed_at },
				{ $set: { ...update, updated_at: new Date().toISOString() }, $push: { history: this.history(update.status, update.failure_reason), ...(event ? { pending_events: event } : {}) } },
			);
			if (n === 1 && event) await this.relay(doc.id, event);
		},

		/** Publishes an event stored with the payment's change; if this fails, the relay's sweep publishes it later. */
		async relay(this: PaymentsThis, paymentId: string, event: StagedEvent<object>): Promise<void> {
			await this.publishStaged("payments", paymentId, [event as unknown as StagedEvent]).catch(err =>
				this.logger.warn(`Event of payment ${paymentId} left for the relay: ${String(err)}`),
			);
		},

		/** A gateway failure as the retryable 503 callers see (open breaker, outage or timeout). */
		gatewayError(this: PaymentsThis, err: unknown): Error {
			if (err instanceof BreakerOpenError)
				return new PaymentGatewayUnavailableError("Payment gateway unavailable: circuit breaker is open", {
					breaker: "OPEN",
					retry_after_ms: err.retryAfterMs,
				});
			// Whatever else the external call threw is a technical failure too: never a bare Error across the boundary.
			const message = err instanceof GatewayUnavailableError ? err.message : `payment gateway failed: ${err instanceof Error ? err.message : String(err)}`;
			return new PaymentGatewayUnavailableError(message, { breaker: this.breaker.state });
		},

		/** One history entry. */
		history(this: PaymentsThis, status: PaymentDoc["status"], reason: string | null): object {
			return { status, at: new Date().toISOString(), reason };
		},
	},

	created(this: PaymentsThis) {
		this.opts = this.settings as unknown as PaymentsSettings;
		// In production without fault injection a customer's `card-error` must not take the gateway down for everyone.
		const config = configOf(this);
		this.gateway = new SimulatedGateway({ simulateOutages: !config.isProduction || config.behaviorEnabled, ...this.opts.gateway });
		this.breaker = new GatewayBreaker("payment-gateway", this.opts.breaker);
		this.breaker.onStateChange(state => this.logger[state === "OPEN" ? "warn" : "info"](`Payment gateway circuit breaker is now ${state}`));
	},

	stopped(this: PaymentsThis) {
		this.breaker.shutdown();
	},
});

export default PaymentsService;
