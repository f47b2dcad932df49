import { Errors, ServiceBroker } from "moleculer";
import { createShopBroker } from "../../../../config/boot/broker";
import { findPrometheusReporter } from "../../../../config/boot/metrics-reporter";
import { RequestMetrics, RequestMetricsMiddleware, observe, requestMetricsOf } from "../../../../config/middlewares/request-metrics";
import { byFactory, moleculerMiddlewares } from "../../../../config/middlewares/moleculer-internals";
import { testConfig } from "../../../helpers/shop";

function line(text: string, prefix: string): string | undefined {
	return text.split("\n").find(l => l.startsWith(prefix));
}

describe("request metrics", () => {
	it("renders counters, errors and a cumulative histogram in Prometheus text", () => {
		const m = new RequestMetrics();
		const s = m.series("request", 'service="a",action="a.b",type="local",caller=""');
		s.total = 3;
		s.active = 3;
		observe(s, 0.5, undefined);
		observe(s, 30, undefined);
		observe(s, 20_000, new Errors.MoleculerRetryableError("boom", 503, "BUSY"));
		const text = m.render();
		expect(line(text, "moleculer_request_total{")).toBe('moleculer_request_total{service="a",action="a.b",type="local",caller=""} 3');
		expect(line(text, "moleculer_request_active{")).toMatch(/ 0$/);
		expect(text).toContain('moleculer_request_time_bucket{service="a",action="a.b",type="local",caller="",le="1"} 1');
		expect(text).toContain('moleculer_request_time_bucket{service="a",action="a.b",type="local",caller="",le="50"} 2');
		expect(text).toContain('moleculer_request_time_bucket{service="a",action="a.b",type="local",caller="",le="10000"} 2');
		expect(text).toContain('moleculer_request_time_bucket{service="a",action="a.b",type="local",caller="",le="+Inf"} 3');
		expect(text).toContain('moleculer_request_time_count{service="a",action="a.b",type="local",caller=""} 3');
		expect(text).toContain('errorName="MoleculerRetryableError",errorCode="503",errorType="BUSY"} 1');
		expect(text.match(/# TYPE moleculer_request_total /g)).toHaveLength(1);
	});

	it("counts calls, failures and event handler runs per caller on a real broker, replacing Moleculer's own", async () => {
		const broker = new ServiceBroker({
			logger: false,
			metrics: { enabled: true },
			cacher: "Memory",
			internalMiddlewares: false,
			middlewares: moleculerMiddlewares({ Metrics: byFactory(RequestMetricsMiddleware) }),
		});
		broker.createService({
			name: "math",
			actions: {
				add: (ctx: { params: { a: number; b: number } }) => ctx.params.a + ctx.params.b,
				fail: () => Promise.reject(new Errors.MoleculerClientError("no", 422, "NOPE")),
				// Where Moleculer counted: cache hits and calls the validator refuses count too.
				cached: { cache: true, params: { n: "number" }, handler: (ctx: { params: { n: number } }) => ctx.params.n },
			},
			events: { "thing.happened": () => undefined },
		});
		broker.createService({ name: "caller", actions: { run: (ctx: { call(n: string, p: object): Promise<unknown> }) => ctx.call("math.add", { a: 1, b: 2 }) } });
		await broker.start();
		try {
			await broker.call("math.add", { a: 1, b: 1 });
			await broker.call("caller.run");
			await expect(broker.call("math.fail")).rejects.toThrow("no");
			await broker.emit("thing.happened", {});
			await broker.call("math.cached", { n: 1 });
			await broker.call("math.cached", { n: 1 });
			await expect(broker.call("math.cached", { n: "x" })).rejects.toThrow();
			const text = requestMetricsOf(broker).render();
			expect(text).toContain('moleculer_request_total{service="math",action="math.add",type="local",caller=""} 1');
			expect(text).toContain('moleculer_request_total{service="math",action="math.add",type="local",caller="caller"} 1');
			expect(text).toContain('errorName="MoleculerClientError",errorCode="422",errorType="NOPE"} 1');
			expect(text).toContain('moleculer_event_received_total{service="math",group="math",event="thing.happened",caller=""} 1');
			expect(text).toContain('moleculer_request_total{service="math",action="math.cached",type="local",caller=""} 3');
			expect(text).toMatch(/moleculer_request_error_total\{service="math",action="math.cached",type="local",caller="",errorName="ValidationError",errorCode="422",errorType="VALIDATION_ERROR"\} 1/);
			// Moleculer's own series stay empty, so they are not rendered twice.
			const own = broker.metrics.getMetric("moleculer.request.total");
			expect(own?.snapshot()).toEqual([]);
		} finally {
			await broker.stop();
		}
	});

	it("is what the shop's /metrics renders", async () => {
		const broker = createShopBroker({ config: testConfig(), services: ["api"] });
		await broker.start();
		try {
			await broker.call("api.live");
			const text = findPrometheusReporter(broker.metrics)?.render() ?? "";
			expect(text).toMatch(/^moleculer_request_total\{service="api",action="api.live",type="local",caller=""\} 1$/m);
			expect(text.match(/# TYPE moleculer_request_total /g)).toHaveLength(1);
		} finally {
			await broker.stop();
		}
	});
});
