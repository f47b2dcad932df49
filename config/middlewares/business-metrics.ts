/**
 * Business metrics for Prometheus, observed from the domain events this node's services publish (the relay announces
 * each one once, services/common/published.ts; no service code involved): orders created, completed, failed by
 * reason, cancelled, refunds, saga compensations, vouchers redeemed and released with their discounts; the state of Moleculer's circuit breakers per target, from the
 * `$circuit-breaker.*` events this node broadcasts; and, as the one writer of these gauges, the dead letters and
 * unsent events of this node's services, read from their `eventStats` actions.
 */
import type { Middleware, ServiceBroker } from "moleculer";
import { METRICS } from "../../services/common/metrics";
import { onPublished } from "../../services/common/published";
import { hideHostDetails } from "./business-metrics/host-details";

/** How often each node reads the event statistics of its local services. */
const EVENT_STATS_INTERVAL_MS = 5000;

/** Gauge values of a breaker's state. */
export const BREAKER_STATES = { closed: 0, "half-opened": 1, opened: 2 } as const;

interface OrderEvent {
	order_id?: string;
	id?: string;
	status?: string;
	reason?: string | null;
	failure_reason?: string | null;
	order?: { id?: string; status?: string; failure_reason?: string | null };
}

/**
 * Remembers which order transitions it has counted, up to a bound: a cancellation is published both as
 * order.cancelled and as order.updated CANCELLED, and counts once.
 */
class SeenSet {
	private readonly set = new Set<string>();
	constructor(private readonly limit = 50_000) {}
	/** True the first time a key is seen. */
	first(key: string): boolean {
		if (this.set.has(key)) return false;
		this.set.add(key);
		if (this.set.size > this.limit) this.set.delete(this.set.values().next().value as string);
		return true;
	}
}

/** Counts business facts from one published event; exported for unit tests. */
export function observeEvent(broker: ServiceBroker, seen: SeenSet, name: string, payload: unknown): void {
	const p = (payload ?? {}) as OrderEvent;
	const orderId = p.order_id ?? p.order?.id ?? p.id ?? "";
	const status = (p.status ?? p.order?.status ?? "").toUpperCase();
	const transition = (s: string): boolean => !orderId || seen.first(`${orderId}:${s}`);
	const m = broker.metrics;

	switch (name) {
		case "order.created":
			if (transition("CREATED")) m.increment(METRICS.ORDERS_CREATED);
			return;
		case "order.shipped":
			if (transition("SHIPPED")) m.increment(METRICS.ORDERS_COMPLETED, { status: "SHIPPED" });
			return;
		case "order.delivered":
			if (transition("DELIVERED")) m.increment(METRICS.ORDERS_COMPLETED, { status: "DELIVERED" });
			return;
		case "order.cancelled":
			if (transition("CANCELLED")) m.increment(METRICS.ORDERS_CANCELLED);
			return;
		case "payment.refunded":
			m.increment(METRICS.REFUNDS);
			return;
		case "voucher.redeemed":
		case "voucher.released":
			observeVoucher(broker, seen, name, payload);
			return;
		case "order.updated":
			// Completions are counted from shipping's order.shipped/order.delivered (possibly on another node).
			if (status === "COMPENSATING" && transition("COMPENSATING")) m.increment(METRICS.COMPENSATIONS);
			else if (status === "FAILED" && transition("FAILED"))
				m.increment(METRICS.ORDERS_FAILED, { reason: p.failure_reason ?? p.order?.failure_reason ?? p.reason ?? "UNKNOWN" });
			else if (status === "CANCELLED" && transition("CANCELLED")) m.increment(METRICS.ORDERS_CANCELLED);
			return;
		default:
			return;
	}
}

/** Counts a voucher's use or its release, with its discount in cents, once per event id (a re-published event counts once). */
function observeVoucher(broker: ServiceBroker, seen: SeenSet, name: string, payload: unknown): void {
	const p = (payload ?? {}) as { event_id?: string; voucher_type?: string; discount_cents?: number };
	if (p.event_id && !seen.first(`event:${p.event_id}`)) return;
	const labels = { type: p.voucher_type ?? "unknown" };
	const cents = typeof p.discount_cents === "number" && p.discount_cents > 0 ? p.discount_cents : 0;
	const redeemed = name === "voucher.redeemed";
	broker.metrics.increment(redeemed ? METRICS.VOUCHERS_REDEEMED : METRICS.VOUCHERS_RELEASED, labels);
	broker.metrics.increment(redeemed ? METRICS.DISCOUNTS_GRANTED : METRICS.DISCOUNTS_RELEASED, labels, cents);
}

/** Sets the breaker gauge from a `$circuit-breaker.*` event. */
export function observeBreaker(broker: ServiceBroker, name: string, payload: unknown): void {
	const state = name.slice("$circuit-breaker.".length) as keyof typeof BREAKER_STATES;
	if (!(state in BREAKER_STATES)) return;
	const p = (payload ?? {}) as { nodeID?: string; service?: string; action?: string };
	const labels = { target_node: p.nodeID ?? "", service: p.service ?? "", action: p.action ?? "" };
	broker.metrics.set(METRICS.BREAKER_STATE, BREAKER_STATES[state], labels);
	broker.metrics.increment(METRICS.BREAKER_TRANSITIONS, { ...labels, state });
}

type EmitFn = (event: string, payload?: unknown, opts?: unknown) => Promise<unknown>;

/** The business-metrics middleware. */
export function BusinessMetricsMiddleware(): Middleware {
	let broker: ServiceBroker;
	const seen = new SeenSet();

	let statsTimer: NodeJS.Timeout | null = null;

	/** Reads dead-letter and outbox counts of this node's services (EventsMixin's `eventStats`). */
	async function pollEventStats(): Promise<void> {
		const services = (broker.services ?? []).filter(s => s.actions && typeof (s.actions as Record<string, unknown>).eventStats === "function");
		for (const svc of services) {
			try {
				const stats = (await broker.call(`${svc.name}.eventStats`, {}, { nodeID: broker.nodeID, timeout: 2000, retries: 0 })) as {
					dead_letters?: number;
					pending_outbox?: number;
				};
				if (typeof stats.dead_letters === "number") broker.metrics.set(METRICS.DEAD_LETTERS, stats.dead_letters, { service: svc.name });
				if (typeof stats.pending_outbox === "number") broker.metrics.set(METRICS.PENDING_OUTBOX, stats.pending_outbox, { service: svc.name });
			} catch {
				// A service that is stopping or busy is read again at the next tick.
			}
		}
	}

	const safely = (fn: () => void): void => {
		try {
			fn();
		} catch (err) {
			// Metrics never break a request.
			broker.logger.debug("business metric update failed", err);
		}
	};

	return {
		name: "BusinessMetrics",

		created(b: ServiceBroker) {
			broker = b;
			// No user name, home directory, host name or addresses in any node's metrics (host-details.ts).
			hideHostDetails(broker.metrics);
			const reg = (name: string, type: "counter" | "gauge", description: string, labelNames: string[] = []): void => {
				if (type === "counter") broker.metrics.register({ name, type: "counter", description, labelNames });
				else broker.metrics.register({ name, type: "gauge", description, labelNames });
			};
			reg(METRICS.ORDERS_CREATED, "counter", "Orders created (order.created)");
			reg(METRICS.ORDERS_COMPLETED, "counter", "Orders that reached SHIPPED or DELIVERED, by status", ["status"]);
			reg(METRICS.ORDERS_FAILED, "counter", "Orders that ended FAILED, by failure reason", ["reason"]);
			reg(METRICS.ORDERS_CANCELLED, "counter", "Orders cancelled by their customer");
			reg(METRICS.REFUNDS, "counter", "Refunds issued (payment.refunded)");
			reg(METRICS.COMPENSATIONS, "counter", "Sagas that started compensating (order.updated COMPENSATING)");
			reg(METRICS.BREAKER_STATE, "gauge", "Circuit breaker state per target: 0 closed, 1 half-open, 2 open", ["target_node", "service", "action"]);
			reg(METRICS.BREAKER_TRANSITIONS, "counter", "Circuit breaker state changes", ["target_node", "service", "action", "state"]);
			reg(METRICS.DEAD_LETTERS, "gauge", "Events in a service's dead-letter store (same value on every replica: use max by service)", ["service"]);
			reg(METRICS.PENDING_OUTBOX, "gauge", "Events not yet handed to the bus: outbox rows plus documents holding staged events", ["service"]);
			reg(METRICS.VOUCHERS_REDEEMED, "counter", "Vouchers redeemed by orders (voucher.redeemed), by voucher type", ["type"]);
			reg(METRICS.VOUCHERS_RELEASED, "counter", "Voucher uses given back by failed or cancelled orders (voucher.released), by voucher type", ["type"]);
			reg(METRICS.DISCOUNTS_GRANTED, "counter", "Discounts granted by redeemed vouchers, in cents (free shipping: the fee waived), by voucher type", ["type"]);
			reg(METRICS.DISCOUNTS_RELEASED, "counter", "Discounts of released voucher uses, in cents, by voucher type", ["type"]);
			reg(METRICS.EVENTS_REJECTED, "counter", "Events a consumer refused (schema or signature) and dead-lettered unapplied", ["service", "event", "reason"]);
			reg(METRICS.GATEWAY_CACHE, "counter", "Anonymous catalog reads at the gateway, by whether its response cache answered (hit) or not (miss)", ["result"]);
			// Series that exist from the start read 0 instead of being absent until the first occurrence.
			for (const name of [METRICS.ORDERS_CREATED, METRICS.ORDERS_CANCELLED, METRICS.REFUNDS, METRICS.COMPENSATIONS]) broker.metrics.increment(name, undefined, 0);
			for (const status of ["SHIPPED", "DELIVERED"]) broker.metrics.increment(METRICS.ORDERS_COMPLETED, { status }, 0);
			for (const reason of ["VOUCHER_UNAVAILABLE", "PAYMENT_ERROR", "OUT_OF_STOCK", "INVENTORY_UNAVAILABLE", "SHIPPING_ERROR"]) broker.metrics.increment(METRICS.ORDERS_FAILED, { reason }, 0);
			for (const result of ["hit", "miss"]) broker.metrics.increment(METRICS.GATEWAY_CACHE, { result }, 0);
			for (const type of ["percent", "fixed", "free_shipping"])
				for (const name of [METRICS.VOUCHERS_REDEEMED, METRICS.VOUCHERS_RELEASED, METRICS.DISCOUNTS_GRANTED, METRICS.DISCOUNTS_RELEASED]) broker.metrics.increment(name, { type }, 0);
			onPublished(broker, e => safely(() => observeEvent(broker, seen, e.name, e.payload)));
		},

		started() {
			statsTimer = setInterval(() => void pollEventStats(), EVENT_STATS_INTERVAL_MS);
			statsTimer.unref();
			void pollEventStats();
		},

		stopped() {
			if (statsTimer) clearInterval(statsTimer);
			statsTimer = null;
		},

		broadcast(next: EmitFn): EmitFn {
			return function observedBroadcast(event, payload, opts) {
				if (typeof event === "string" && event.startsWith("$circuit-breaker.")) safely(() => observeBreaker(broker, event, payload));
				return next(event, payload, opts);
			};
		},
	} as unknown as Middleware;
}

export { SeenSet };
