/**
 * deploy/prometheus and deploy/grafana against a real shop: Prometheus's own promtool checks the scrape configurations
 * and the alert rules, runs the rules' unit tests and lints a live /metrics; every metric an alert or a dashboard panel
 * asks for must be one that /metrics exposes, with a series its label matchers select. The shop (every service in one
 * broker, memory stores) places an order, has one declined and opens a breaker with injected faults, so that the
 * series the queries need exist. promtool comes from Debian's `prometheus` package, which .ci/run installs: without it
 * these tests fail, they do not skip.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import type { ServiceBroker } from "moleculer";
import { createShopBroker } from "../../config/boot/broker";
import { createBrokerOptions } from "../../moleculer.config";
import { SERVICE_NAMES } from "../../services/common/names";
import { eventually } from "../helpers/eventually";
import { readYaml, renderKustomization } from "../helpers/kustomize";
import { selectorsOf, selects, seriesOf, type Series } from "../helpers/promql";
import { http, loginAdmin, registerCustomer, testConfig } from "../helpers/shop";

const root = path.resolve(__dirname, "..", "..");
const promDir = path.join(root, "deploy", "prometheus");
const grafanaDir = path.join(root, "deploy", "grafana");

/** Runs promtool; a missing promtool fails the test with what to install. */
function promtool(args: string[], input?: string): { status: number; output: string } {
	const res = spawnSync("promtool", args, { cwd: promDir, input, encoding: "utf8", timeout: 20_000 });
	if (res.error) throw new Error(`promtool could not run (${res.error.message}): install Debian's prometheus package (apt-get install prometheus), as .ci/run does`);
	return { status: res.status ?? -1, output: `${res.stdout}${res.stderr}` };
}

interface RuleFile {
	groups: Array<{ rules: Array<{ alert?: string; expr: string }> }>;
}
interface RuleTests {
	rule_files: string[];
	tests: Array<{ alert_rule_test?: Array<{ alertname: string; exp_alerts: unknown[] }> }>;
}
interface Panel {
	type: string;
	title: string;
	datasource?: { uid: string };
	targets?: Array<{ expr: string }>;
}

const rules = readYaml<RuleFile>(path.join(promDir, "rules", "shopflow.rules.yml")).groups.flatMap(g => g.rules);
const dashboard = JSON.parse(fs.readFileSync(path.join(grafanaDir, "dashboards", "shopflow.json"), "utf8")) as { uid: string; panels: Panel[] };
const queryPanels = dashboard.panels.filter(p => p.type !== "row");

/** The series of /metrics (with each histogram's _bucket, _sum and _count as they appear) and the metric names. */
let series: Series[] = [];
let metricsText = "";

describe("Prometheus and Grafana on a live /metrics", () => {
	let broker: ServiceBroker;
	let shop: { url: string; config: ReturnType<typeof testConfig> };

	beforeAll(async () => {
		// LOG_LEVEL fatal: the injected faults below would log an error each.
		const config = testConfig({ NAMESPACE: `t-obs-${Date.now()}-${Math.random()}`, LOG_LEVEL: "fatal" });
		// Moleculer collects process metrics (RSS, heap) except under NODE_ENV=test; the dashboard shows them, so on.
		const metrics = { ...(createBrokerOptions(config).metrics as object), collectProcessMetrics: true };
		broker = createShopBroker({ config, services: [...SERVICE_NAMES], broker: { metrics } });
		await broker.start();
		const server = (broker.getLocalService("api") as unknown as { server: Server }).server;
		shop = { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, config };
		const api = (method: string, p: string, opts: Parameters<typeof http>[3] = {}) => http(shop.url, method, `/api/v1${p}`, opts);
		const admin = await loginAdmin(shop.url, shop.config);
		const productId = `obs-item-${Date.now()}`;
		expect((await api("POST", "/products", { token: admin, body: { id: productId, name: "Lamp", brand: "Acme", category: "home", price: 12 } })).status).toBe(201);
		expect((await api("PUT", `/inventory/${productId}`, { token: admin, body: { warehouse_id: "wh-1", on_hand: 10 } })).status).toBe(200);
		const address = { street: "1 Elm St", city: "Springfield", postal_code: "12345", country: "US" };
		for (const [card, status] of [["card-456", 201], ["card-declined", 402]] as const) {
			const customer = await registerCustomer(shop.url);
			expect((await api("POST", "/cart/add", { token: customer.token, body: { product_id: productId, quantity: 1 } })).status).toBeLessThan(300);
			expect((await api("POST", "/checkout", { token: customer.token, body: { shipping_address: address, payment_method: card } })).status).toBe(status);
		}
		// Injected 503s, retried by the broker, open the circuit breaker on products.get.
		await Promise.all(Array.from({ length: 12 }, () => api("GET", `/products/${productId}?behavior=products:error=503:1`)));
		await eventually(async () => {
			metricsText = (await http<string>(shop.url, "GET", "/metrics")).body;
			expect(metricsText).toMatch(/^shopflow_circuit_breaker_state\{.*\} 2$/m);
			expect(metricsText).toMatch(/^shopflow_events_pending_outbox\{/m);
			expect(metricsText).toMatch(/^process_memory_rss \d+/m);
		}, 10_000, 200);
		series = seriesOf(metricsText);
	}, 60_000);

	afterAll(() => broker?.stop());

	it("has promtool accept both scrape configurations and their rule files", () => {
		for (const file of ["prometheus.yml", "prometheus-kubernetes.yml"]) {
			const res = promtool(["check", "config", file]);
			expect({ file, status: res.status, output: res.output }).toEqual({ file, status: 0, output: expect.stringContaining("SUCCESS") });
		}
	});

	it("has promtool accept the alert rules and pass their unit tests", () => {
		const check = promtool(["check", "rules", "rules/shopflow.rules.yml"]);
		expect({ status: check.status, output: check.output }).toEqual({ status: 0, output: expect.stringContaining(`SUCCESS: ${rules.length} rules found`) });
		const test = promtool(["test", "rules", "tests/shopflow.test.yml"]);
		expect({ status: test.status, output: test.output }).toEqual({ status: 0, output: expect.stringContaining("SUCCESS") });
	});

	it("tests every alert rule both firing and silent", () => {
		const tests = readYaml<RuleTests>(path.join(promDir, "tests", "shopflow.test.yml"));
		expect(tests.rule_files).toEqual(["../rules/shopflow.rules.yml"]);
		const cases = tests.tests.flatMap(t => t.alert_rule_test ?? []);
		const alerts = rules.map(r => r.alert).filter((a): a is string => !!a);
		expect(alerts).toEqual(
			expect.arrayContaining(["ShopflowOrdersFailing", "ShopflowSagasCompensating", "ShopflowDeadLetters", "ShopflowCircuitBreakerOpen", "ShopflowCheckoutSlow", "ShopflowOutboxBacklogGrowing", "ShopflowNodeDown"]),
		);
		for (const alert of alerts) {
			const mine = cases.filter(c => c.alertname === alert);
			expect({ alert, fires: mine.some(c => c.exp_alerts.length > 0), silent: mine.some(c => c.exp_alerts.length === 0) }).toEqual({ alert, fires: true, silent: true });
		}
	});

	it("has promtool read the live /metrics, with no complaint about ShopFlow's own series", () => {
		// Exit 3 is promtool's "lint problems found": Moleculer's built-in gauges end in _total and its cacher histogram
		// carries quantiles; those names are Moleculer's. A parse error would be exit 1.
		const res = promtool(["check", "metrics"], metricsText);
		expect([0, 3]).toContain(res.status);
		// The request series keep Moleculer's names and labels (errorName, errorCode, errorType) so that existing
		// dashboards work: that camelCase is Moleculer's too. Anything else about them, or any shopflow_ metric, is ours.
		const moleculerLabels = /label names should be written in 'snake_case' not 'camelCase'/;
		const problems = res.output
			.split("\n")
			.filter(l => /^shopflow_/.test(l) || (/^(moleculer_request_(total|active|error_total|time)|moleculer_event_received_)/.test(l) && !moleculerLabels.test(l)));
		expect(problems).toEqual([]);
		expect(series.length).toBeGreaterThan(100);
	});

	it("asks in every alert rule only for metrics /metrics exposes, with series its matchers select", () => {
		for (const rule of rules) {
			// `up` is written by Prometheus for every scrape, not exposed by the node.
			const missing = selectorsOf(rule.expr).filter(s => s.metric !== "up" && !selects(s, series));
			expect({ alert: rule.alert, missing }).toEqual({ alert: rule.alert, missing: [] });
		}
	});

	it("asks in every dashboard panel only for metrics /metrics exposes, with series its matchers select", () => {
		expect(queryPanels.length).toBeGreaterThanOrEqual(12);
		for (const panel of queryPanels) {
			const selectors = (panel.targets ?? []).flatMap(t => selectorsOf(t.expr));
			expect({ panel: panel.title, queries: selectors.length > 0 }).toEqual({ panel: panel.title, queries: true });
			const missing = selectors.filter(s => !selects(s, series));
			expect({ panel: panel.title, missing }).toEqual({ panel: panel.title, missing: [] });
		}
	});

	it("finds a selector that selects nothing", () => {
		expect(selects(selectorsOf('rate(shopflow_orders_createdd_total[5m])')[0], series)).toBe(false);
		expect(selects(selectorsOf('moleculer_request_total{caller="nobody"}')[0], series)).toBe(false);
		expect(selectorsOf('histogram_quantile(0.95, sum by (le, action) (rate(moleculer_request_time_bucket{type="local"}[5m]))) > 200').map(s => s.metric)).toEqual([
			"moleculer_request_time_bucket",
		]);
	});
});

describe("the observability files", () => {
	it("gives the dashboard the panels the operators asked for", () => {
		const exprs = queryPanels.flatMap(p => p.targets ?? []).map(t => t.expr).join("\n");
		for (const metric of [
			"shopflow_orders_created_total",
			"shopflow_orders_failed_total",
			"moleculer_request_time_bucket",
			"shopflow_circuit_breaker_state",
			"shopflow_events_pending_outbox",
			"shopflow_events_dead_letters",
			"process_memory_rss",
		])
			expect(exprs).toContain(metric);
		for (const q of ["0.5", "0.95", "0.99"]) expect(exprs).toContain(`histogram_quantile(${q}, sum by (le, action)`);
	});

	it("provisions Grafana with the Prometheus of the compose file and the dashboard folder it mounts", () => {
		const ds = readYaml<{ datasources: Array<{ type: string; url: string }> }>(path.join(grafanaDir, "provisioning", "datasources", "prometheus.yml"));
		expect(ds.datasources).toEqual([expect.objectContaining({ type: "prometheus", url: "http://prometheus:9090" })]);
		const providers = readYaml<{ providers: Array<{ options: { path: string } }> }>(path.join(grafanaDir, "provisioning", "dashboards", "shopflow.yml")).providers;
		const compose = readYaml<{ services: Record<string, { volumes?: string[] }> }>(path.join(root, "docker-compose.yml"));
		expect(compose.services.grafana.volumes).toContain(`./deploy/grafana/dashboards:${providers[0].options.path}:ro`);
		for (const p of queryPanels) expect({ panel: p.title, ds: p.datasource?.uid }).toEqual({ panel: p.title, ds: "${datasource}" });
	});

	it("scrapes every ShopFlow container of the compose file and every role of the Kubernetes base", () => {
		type Scrape = { scrape_configs: Array<{ job_name: string; dns_sd_configs?: Array<{ names: string[]; port: number }> }> };
		const compose = readYaml<{ services: Record<string, { image?: string; environment?: Record<string, string> }> }>(path.join(root, "docker-compose.yml"));
		const shopNodes = Object.entries(compose.services).filter(([, s]) => s.image === "shopflow:latest").map(([name]) => name);
		const local = readYaml<Scrape>(path.join(promDir, "prometheus.yml")).scrape_configs.find(c => c.job_name === "shopflow");
		expect([...(local?.dns_sd_configs?.[0].names ?? [])].sort()).toEqual([...shopNodes].sort());
		expect(local?.dns_sd_configs?.[0].port).toBe(9100);

		const base = renderKustomization(path.join(root, "deploy", "k8s", "base"));
		const roles = base.filter(o => o.kind === "Deployment").map(d => `${d.metadata.name}-metrics`);
		const k8s = readYaml<Scrape>(path.join(promDir, "prometheus-kubernetes.yml")).scrape_configs.find(c => c.job_name === "shopflow");
		expect([...(k8s?.dns_sd_configs?.[0].names ?? [])].sort()).toEqual([...roles].sort());
		for (const name of roles) {
			const svc = base.find(o => o.kind === "Service" && o.metadata.name === name);
			expect({ name, spec: svc?.spec }).toEqual({ name, spec: expect.objectContaining({ clusterIP: "None", ports: [expect.objectContaining({ port: 9100 })] }) });
		}
	});
});
