/**
 * What config/middlewares/moleculer-internals.ts assumes of Moleculer: these fail when an upgrade changes Moleculer's
 * internal middleware list, its order, the hooks of its Metrics middleware, where its circuit breaker keeps its
 * state, how it updates the process metrics, or what its base metrics reporter's init does.
 */
import { Errors, ServiceBroker, type Middleware } from "moleculer";
import { createShopBroker } from "../../../../config/boot/broker";
import { GatewayPrometheusReporter } from "../../../../config/boot/metrics-reporter";
import {
	METRICS_HOOKS_REPLACED,
	MOLECULER_INTERNAL_MIDDLEWARES,
	byFactory,
	circuitBreakerStates,
	freezeMetric,
	moleculerMiddlewareFactory,
	moleculerMiddlewares,
} from "../../../../config/middlewares/moleculer-internals";
import { testConfig } from "../../../helpers/shop";

const namesOf = (broker: ServiceBroker): Array<string | undefined> => broker.middlewares.list.map(m => m.name);

describe("Moleculer internals", () => {
	it("adds its internal middlewares in the order listed here", () => {
		// With a cacher and the validator, every one of them is present (Cacher and Validator are null otherwise).
		const broker = new ServiceBroker({ logger: false, metrics: { enabled: true }, cacher: "Memory", validator: true });
		expect(namesOf(broker)).toEqual([...MOLECULER_INTERNAL_MIDDLEWARES]);
	});

	it("gives the same chain when the list is given by name with internalMiddlewares off", () => {
		const broker = new ServiceBroker({ logger: false, metrics: { enabled: true }, cacher: "Memory", internalMiddlewares: false, middlewares: moleculerMiddlewares() });
		expect(namesOf(broker)).toEqual([...MOLECULER_INTERNAL_MIDDLEWARES]);
	});

	it("has a Metrics middleware whose action and event hooks are the ones replaced, next to its other counters", () => {
		const broker = new ServiceBroker({ logger: false, metrics: { enabled: true }, internalMiddlewares: false });
		const metrics = moleculerMiddlewareFactory("Metrics").call(broker, broker) as Record<string, unknown>;
		for (const hook of METRICS_HOOKS_REPLACED) expect(typeof metrics[hook]).toBe("function");
		for (const hook of ["created", "emit", "broadcast", "transitPublish", "transporterSend"]) expect(typeof metrics[hook]).toBe("function");
		expect(metrics.name).toBe("Metrics");
	});

	it("calls a middleware factory with the broker when it adds it", () => {
		let given: ServiceBroker | null = null;
		const broker = new ServiceBroker({
			logger: false,
			middlewares: [byFactory(b => ((given = b), { name: "Probe" } as Middleware))],
		});
		expect(given).toBe(broker);
		expect(namesOf(broker)[0]).toBe("Probe");
	});

	it("runs the shop with ShopFlow's middlewares, then Moleculer's with the request metrics in the place of Metrics", () => {
		const broker = createShopBroker({ config: testConfig(), services: [] });
		const names = namesOf(broker);
		const own = names.slice(0, names.indexOf("ActionHook"));
		expect(own).toEqual(["ServiceConfig", "NodeRestart", "Behavior", "RetryGuard", "Audit", "CallChain", "OpenTelemetry", "BusinessMetrics", "Deadline"]);
		const expected = MOLECULER_INTERNAL_MIDDLEWARES.map(n => (n === "Metrics" ? "RequestMetrics" : n));
		expect(names.slice(own.length)).toEqual(expected);
	});

	it("keeps the circuit breaker's state per endpoint where circuitBreakerStates reads it", async () => {
		const broker = new ServiceBroker({ logger: false, nodeID: "cb", circuitBreaker: { enabled: true, threshold: 0.5, minRequestCount: 100 } });
		broker.createService({
			name: "probe",
			actions: {
				ok: () => 1,
				fail: () => {
					throw new Errors.MoleculerServerError("boom", 500);
				},
			},
		});
		await broker.start();
		try {
			await broker.call("probe.ok");
			await expect(broker.call("probe.fail")).rejects.toThrow("boom");
			expect(circuitBreakerStates(broker)).toEqual(
				expect.arrayContaining([
					{ endpoint: "cb:probe.ok", state: "close", failures: 0, count: 1 },
					{ endpoint: "cb:probe.fail", state: "close", failures: 1, count: 1 },
				]),
			);
		} finally {
			await broker.stop();
		}
	});

	it("updates the process metrics through their set, so that a frozen metric stays empty", async () => {
		const broker = new ServiceBroker({ logger: false, metrics: { enabled: true, collectProcessMetrics: true, collectInterval: 0.02 } });
		const valuesOf = (name: string): unknown[] => [...(broker.metrics.list({ includes: [name] })[0]?.values ?? [])];
		try {
			expect(valuesOf("os.hostname")).not.toEqual([]);
			freezeMetric(broker.metrics, "os.hostname");
			broker.metrics.getMetric("os.release")?.clear();
			expect(valuesOf("os.hostname")).toEqual([]);
			await new Promise(resolve => setTimeout(resolve, 100));
			// Moleculer's periodic update ran (the merely cleared metric is filled again) and left the frozen one empty.
			expect(valuesOf("os.release")).not.toEqual([]);
			expect(valuesOf("os.hostname")).toEqual([]);
		} finally {
			await broker.stop();
		}
	});

	it("registers a reporter through the base reporter's init, without the Prometheus reporter's own server", async () => {
		const reporter = new GatewayPrometheusReporter();
		const broker = new ServiceBroker({ logger: false, metrics: { enabled: true, reporter: [reporter as unknown as "Prometheus"] } });
		try {
			const seen = reporter as unknown as { registry: unknown; broker: unknown; server?: unknown };
			expect(seen.registry).toBe(broker.metrics);
			expect(seen.broker).toBe(broker);
			expect(seen.server).toBeUndefined();
			expect(reporter.render()).toContain("moleculer_");
		} finally {
			await broker.stop();
		}
	});
});
