/**
 * What config/middlewares/moleculer-internals.ts assumes of Moleculer: these fail when an upgrade changes Moleculer's
 * internal middleware list, its order, or the hooks of its Metrics middleware.
 */
import { ServiceBroker, type Middleware } from "moleculer";
import { createShopBroker } from "../../../../config/boot/broker";
import {
	METRICS_HOOKS_REPLACED,
	MOLECULER_INTERNAL_MIDDLEWARES,
	byFactory,
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
		expect(own).toEqual(["ServiceConfig", "NodeRestart", "Behavior", "RetryGuard", "CallChain", "OpenTelemetry", "BusinessMetrics", "Deadline"]);
		const expected = MOLECULER_INTERNAL_MIDDLEWARES.map(n => (n === "Metrics" ? "RequestMetrics" : n));
		expect(names.slice(own.length)).toEqual(expected);
	});
});
