/**
 * ShopFlow's own Prometheus metrics: their names (registered by the business-metrics middleware, counted by it and
 * by the gateway's response cache), and how the gateway's `GET /metrics` finds the node's metrics text (the
 * reporter of config/boot/metrics-reporter.ts marks itself with METRICS_TEXT).
 */
import type { MetricRegistry } from "moleculer";

export const METRICS = {
	ORDERS_CREATED: "shopflow.orders.created.total",
	ORDERS_COMPLETED: "shopflow.orders.completed.total",
	ORDERS_FAILED: "shopflow.orders.failed.total",
	ORDERS_CANCELLED: "shopflow.orders.cancelled.total",
	REFUNDS: "shopflow.refunds.total",
	COMPENSATIONS: "shopflow.saga.compensations.total",
	BREAKER_STATE: "shopflow.circuit_breaker.state",
	BREAKER_TRANSITIONS: "shopflow.circuit_breaker.transitions.total",
	DEAD_LETTERS: "shopflow.events.dead_letters",
	PENDING_OUTBOX: "shopflow.events.pending_outbox",
	/** Deliveries refused by their envelope check, by service, event and reason (SCHEMA_INVALID, SIGNATURE_INVALID). */
	EVENTS_REJECTED: "shopflow.events.rejected.total",
	GATEWAY_CACHE: "shopflow.gateway.cache.requests.total",
	VOUCHERS_REDEEMED: "shopflow.vouchers.redeemed.total",
	VOUCHERS_RELEASED: "shopflow.vouchers.released.total",
	DISCOUNTS_GRANTED: "shopflow.vouchers.discount_granted_cents.total",
	DISCOUNTS_RELEASED: "shopflow.vouchers.discount_released_cents.total",
} as const;

/** The mark of the reporter that renders this node's metrics text. */
export const METRICS_TEXT = Symbol.for("shopflow.metrics-text");

/** A metrics reporter that renders the node's Prometheus text. */
export interface MetricsText {
	readonly [METRICS_TEXT]: true;
	render(): string;
}

/** The reporter that renders this node's metrics text, among a broker's metric reporters. */
export function findMetricsText(registry: MetricRegistry): MetricsText | undefined {
	const reporters: unknown[] = registry.reporter ?? [];
	return reporters.find((r): r is MetricsText => typeof r === "object" && r !== null && (r as Partial<MetricsText>)[METRICS_TEXT] === true);
}
