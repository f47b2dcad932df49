/**
 * The simulated external payment gateway: the payment token decides the outcome.
 * "card-declined" is declined (a business answer), "card-error" behaves like a gateway that is down (it throws),
 * every other token is charged after a few milliseconds. Like a real gateway it honours idempotency keys, so a
 * repeated charge or refund with the same key answers the first result. This is the only mock in production code.
 * Pure code: no moleculer.
 */
import { createHash } from "node:crypto";

export const DECLINED_TOKEN = "card-declined";
export const ERROR_TOKEN = "card-error";

export interface ChargeRequest {
	idempotency_key: string;
	token: string;
	amount_cents: number;
	currency: string;
}

export interface RefundRequest {
	idempotency_key: string;
	charge_id: string;
	amount_cents: number;
}

export type ChargeResult =
	| { approved: true; charge_id: string }
	| { approved: false; decline_code: string; message: string };

export interface RefundResult {
	refund_id: string;
}

/** The gateway did not answer properly: a technical, transient failure. */
export class GatewayUnavailableError extends Error {
	constructor(message = "payment gateway is unavailable") {
		super(message);
		this.name = "GatewayUnavailableError";
	}
}

export interface PaymentGateway {
	charge(req: ChargeRequest): Promise<ChargeResult>;
	/** The outcome of an earlier charge with this idempotency key, or null when the gateway never saw it. */
	findCharge(idempotencyKey: string): Promise<ChargeResult | null>;
	refund(req: RefundRequest): Promise<RefundResult>;
}

export interface SimulatedGatewayOptions {
	/** Simulated network latency range in ms. */
	minLatencyMs?: number;
	maxLatencyMs?: number;
	/**
	 * Whether `card-error` makes the gateway fail like one that is down (true by default). Off in production without
	 * fault injection: there one customer's test token would open the shared gateway breaker for everybody, so the
	 * token is declined like any card the gateway does not accept.
	 */
	simulateOutages?: boolean;
}

const KEY_MEMORY = 100_000;

function ref(prefix: string, key: string): string {
	return `${prefix}_${createHash("sha256").update(key).digest("hex").slice(0, 20)}`;
}

/** The simulated gateway; it remembers recent idempotency keys like a real one. */
export class SimulatedGateway implements PaymentGateway {
	private readonly charges = new Map<string, ChargeResult>();
	private readonly refunds = new Map<string, RefundResult>();
	private readonly minLatency: number;
	private readonly maxLatency: number;
	private readonly simulateOutages: boolean;

	constructor(opts: SimulatedGatewayOptions = {}) {
		this.simulateOutages = opts.simulateOutages ?? true;
		this.minLatency = opts.minLatencyMs ?? 2;
		this.maxLatency = Math.max(this.minLatency, opts.maxLatencyMs ?? 6);
	}

	private async latency(): Promise<void> {
		const ms = this.minLatency + Math.random() * (this.maxLatency - this.minLatency);
		if (ms > 0) await new Promise(resolve => setTimeout(resolve, ms));
	}

	private remember<T>(map: Map<string, T>, key: string, value: T): T {
		map.set(key, value);
		if (map.size > KEY_MEMORY) map.delete(map.keys().next().value as string);
		return value;
	}

	/** Charges the token, declines it, or fails like a gateway that is down. */
	async charge(req: ChargeRequest): Promise<ChargeResult> {
		await this.latency();
		if (req.token === ERROR_TOKEN && this.simulateOutages) throw new GatewayUnavailableError("payment gateway did not answer (simulated outage for card-error)");
		const seen = this.charges.get(req.idempotency_key);
		if (seen) return seen;
		if (req.token === ERROR_TOKEN)
			return this.remember(this.charges, req.idempotency_key, {
				approved: false,
				decline_code: "test_token_refused",
				message: "The test token card-error simulates an outage only where fault injection is on (CHAOS_ENABLED)",
			});
		if (req.token === DECLINED_TOKEN)
			return this.remember(this.charges, req.idempotency_key, { approved: false, decline_code: "card_declined", message: "The card was declined" });
		return this.remember(this.charges, req.idempotency_key, { approved: true, charge_id: ref("ch", req.idempotency_key) });
	}

	/** Looks an earlier charge up by its idempotency key (how a caller that lost the answer learns it). */
	async findCharge(idempotencyKey: string): Promise<ChargeResult | null> {
		await this.latency();
		return this.charges.get(idempotencyKey) ?? null;
	}

	/** Gives a captured charge back. */
	async refund(req: RefundRequest): Promise<RefundResult> {
		await this.latency();
		const seen = this.refunds.get(req.idempotency_key);
		if (seen) return seen;
		return this.remember(this.refunds, req.idempotency_key, { refund_id: ref("re", req.idempotency_key) });
	}
}
