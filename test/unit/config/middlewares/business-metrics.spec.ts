import { ServiceBroker } from "moleculer";
import { BREAKER_STATES, BusinessMetricsMiddleware } from "../../../../config/middlewares/business-metrics";
import { METRICS } from "../../../../services/common/metrics";

function value(broker: ServiceBroker, name: string, labels: Record<string, string> = {}): number | undefined {
	const metric = broker.metrics.getMetric(name) as unknown as { snapshot(): Array<{ value: number; labels: Record<string, unknown> }> };
	return metric.snapshot().find(v => Object.entries(labels).every(([k, want]) => v.labels[k] === want))?.value;
}

describe("BusinessMetricsMiddleware", () => {
	let broker: ServiceBroker;
	beforeEach(async () => {
		broker = new ServiceBroker({ logger: false, metrics: { enabled: true }, middlewares: [BusinessMetricsMiddleware()] });
		await broker.start();
	});
	afterEach(() => broker.stop());

	it("counts order facts from emitted domain events, once per event id", async () => {
		await broker.emit("order.created", { event_id: "e1", order_id: "o1" });
		await broker.emit("order.created", { event_id: "e1", order_id: "o1" });
		await broker.emit("order.updated", { event_id: "e2", order_id: "o1", status: "COMPENSATING" });
		await broker.emit("order.updated", { event_id: "e3", order_id: "o1", status: "FAILED", failure_reason: "OUT_OF_STOCK" });
		await broker.emit("payment.refunded", { event_id: "e4", order_id: "o1" });
		await broker.emit("order.shipped", { event_id: "e5", order_id: "o2" });
		expect(value(broker, METRICS.ORDERS_CREATED)).toBe(1);
		expect(value(broker, METRICS.COMPENSATIONS)).toBe(1);
		expect(value(broker, METRICS.ORDERS_FAILED, { reason: "OUT_OF_STOCK" })).toBe(1);
		expect(value(broker, METRICS.REFUNDS)).toBe(1);
		expect(value(broker, METRICS.ORDERS_COMPLETED, { status: "SHIPPED" })).toBe(1);
	});

	it("tracks circuit breaker state per target from the breaker's broadcasts", async () => {
		const target = { nodeID: "n2", service: "payments", action: "payments.charge" };
		await broker.broadcast("$circuit-breaker.opened", target);
		expect(value(broker, METRICS.BREAKER_STATE, { action: "payments.charge" })).toBe(BREAKER_STATES.opened);
		await broker.broadcast("$circuit-breaker.half-opened", target);
		expect(value(broker, METRICS.BREAKER_STATE, { action: "payments.charge" })).toBe(BREAKER_STATES["half-opened"]);
		await broker.broadcast("$circuit-breaker.closed", target);
		expect(value(broker, METRICS.BREAKER_STATE, { action: "payments.charge", target_node: "n2" })).toBe(BREAKER_STATES.closed);
		expect(value(broker, METRICS.BREAKER_TRANSITIONS, { state: "opened" })).toBe(1);
	});
});
