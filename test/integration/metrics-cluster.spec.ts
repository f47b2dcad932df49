/**
 * Business metrics in a cluster: the orders node counts the orders it creates, and with METRICS_PORT every node serves
 * its own metrics, so Prometheus sees them although the gateway runs on another node. Two brokers over the real NATS:
 * a gateway node (api, users, catalog, cart, checkout) and an orders node (orders, payments, shipping).
 */
import type { ServiceBroker } from "moleculer";
import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import type { Config } from "../../config/env";
import { createShopBroker } from "../../config/boot/broker";
import { findPrometheusReporter } from "../../config/boot/metrics-reporter";
import type { ServiceName } from "../../services/common/names";
import { NATS_URL, http, loginAdmin, registerCustomer, testConfig } from "../helpers/shop";

const ns = `t-metrics-${process.pid}-${Date.now()}`;

/** The value of an unlabelled-or-labelled sample in a Prometheus text exposition, or null when it is absent. */
function sample(text: string, name: string): number | null {
	const m = text.match(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\d+(?:\\.\\d+)?)$`, "m"));
	return m ? Number(m[1]) : null;
}

describe("metrics of a cluster", () => {
	const brokers: ServiceBroker[] = [];
	let gatewayUrl = "";
	let gatewayConfig: Config;
	let ordersMetricsUrl = "";

	/** Starts one node of the cluster with the given services and variables. */
	async function node(id: string, services: ServiceName[], env: Record<string, string>): Promise<{ broker: ServiceBroker; config: Config }> {
		const config = testConfig({ NAMESPACE: ns, NATS_URL, ...env });
		const broker = createShopBroker({ config, services, broker: { nodeID: `${id}-${ns}` } });
		await broker.start();
		brokers.push(broker);
		return { broker, config };
	}

	beforeAll(async () => {
		const orders = await node("orders", ["orders", "payments", "shipping"], { METRICS_PORT: "0" });
		const gw = await node("gw", ["api", "users", "products", "inventory", "cart", "checkout"], {});
		gatewayConfig = gw.config;
		await gw.broker.waitForServices(["orders", "payments", "shipping"], 15_000);
		await orders.broker.waitForServices(["inventory", "users", "products"], 15_000);
		const api = gw.broker.getLocalService("api") as unknown as { server: Server };
		gatewayUrl = `http://127.0.0.1:${(api.server.address() as AddressInfo).port}`;
		const port = findPrometheusReporter(orders.broker.metrics)?.address()?.port;
		ordersMetricsUrl = `http://127.0.0.1:${port}/metrics`;
	}, 60_000);

	afterAll(async () => {
		for (const b of brokers.reverse()) await b.stop();
	});

	it("shows the orders placed through a gateway on the orders node's own metrics port", async () => {
		const admin = await loginAdmin(gatewayUrl, gatewayConfig);
		const productId = `metrics-item-${Date.now()}`;
		expect((await http(gatewayUrl, "POST", "/api/v1/products", { token: admin, body: { id: productId, name: "Mug", brand: "Acme", category: "home", price: 9.5 } })).status).toBe(201);
		expect((await http(gatewayUrl, "PUT", `/api/v1/inventory/${productId}`, { token: admin, body: { warehouse_id: "wh-1", on_hand: 50 } })).status).toBe(200);
		for (let i = 0; i < 3; i++) {
			const customer = await registerCustomer(gatewayUrl);
			expect((await http(gatewayUrl, "POST", "/api/v1/cart/add", { token: customer.token, body: { product_id: productId, quantity: 1 } })).status).toBeLessThan(300);
			const res = await http(gatewayUrl, "POST", "/api/v1/checkout", {
				token: customer.token,
				body: { shipping_address: { street: "1 Elm St", city: "Springfield", postal_code: "12345", country: "US" }, payment_method: "card-456" },
			});
			expect(res.status).toBe(201);
		}

		const res = await fetch(ordersMetricsUrl);
		expect(res.status).toBe(200);
		expect(res.headers.get("content-type")).toContain("text/plain");
		const text = await res.text();
		expect(sample(text, "shopflow_orders_created_total")).toBe(3);
		// The gateway's node counts none of them: its own /metrics is no place to look for orders in a cluster.
		expect(sample((await http<string>(gatewayUrl, "GET", "/metrics")).body, "shopflow_orders_created_total")).toBe(0);
	});

	it("answers GET /health on the metrics port with the node's state, and 404 for anything else", async () => {
		const health = await fetch(ordersMetricsUrl.replace(/\/metrics$/, "/health"));
		expect(health.status).toBe(200);
		expect(await health.json()).toEqual({ status: "ok", node_id: `orders-${ns}`, started: true, transporter: "ok" });
		expect((await fetch(ordersMetricsUrl.replace(/\/metrics$/, "/admin"))).status).toBe(404);
	});

	it("answers the Kubernetes probes on the metrics port: /health/ready as /health, /health/live while the process answers", async () => {
		const base = ordersMetricsUrl.replace(/\/metrics$/, "");
		const ready = await fetch(`${base}/health/ready`);
		expect(ready.status).toBe(200);
		expect(await ready.json()).toEqual({ status: "ok", node_id: `orders-${ns}`, started: true, transporter: "ok" });
		const live = await fetch(`${base}/health/live`);
		expect(live.status).toBe(200);
		expect(await live.json()).toEqual({ status: "ok" });
	});

	it("opens no metrics port on a node without METRICS_PORT", () => {
		const gw = brokers.find(b => b.nodeID.startsWith("gw-"));
		expect(gw && findPrometheusReporter(gw.metrics)?.address()).toBeNull();
	});
});
