/**
 * The console's snapshot in a cluster: the gateway node reads the orders node's metrics, orders and payment breaker
 * over the real NATS, so orders placed through it show although no order service runs beside the gateway.
 */
import type { ServiceBroker } from "moleculer";
import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import type { Config } from "../../config/env";
import { createShopBroker } from "../../config/boot/broker";
import type { ServiceName } from "../../services/common/names";
import { NATS_URL, http, loginAdmin, registerCustomer, testConfig } from "../helpers/shop";

const ns = `t-ops-cluster-${process.pid}-${Date.now()}`;

interface Snapshot {
	nodes: Array<{ id: string; services: string[] }>;
	unreachable: string[];
	orders_created: number;
	breakers: Array<{ node: string; kind: string; state: string }>;
	sagas: { by_status: Record<string, number> };
	checkouts: Array<{ order_id: string }>;
}

describe("the console's snapshot of a cluster", () => {
	const brokers: ServiceBroker[] = [];
	let url = "";
	let config: Config;

	async function node(id: string, services: ServiceName[]): Promise<{ broker: ServiceBroker; config: Config }> {
		const c = testConfig({ NAMESPACE: ns, NATS_URL, RATE_LIMIT_PER_MINUTE: "100000" });
		const broker = createShopBroker({ config: c, services, broker: { nodeID: `${id}-${ns}` } });
		await broker.start();
		brokers.push(broker);
		return { broker, config: c };
	}

	beforeAll(async () => {
		const orders = await node("orders", ["orders", "payments", "shipping"]);
		const gw = await node("gw", ["api", "users", "products", "inventory", "cart", "checkout"]);
		config = gw.config;
		await gw.broker.waitForServices(["orders", "payments", "shipping"], 15_000);
		await orders.broker.waitForServices(["inventory", "users", "products"], 15_000);
		url = `http://127.0.0.1:${((gw.broker.getLocalService("api") as unknown as { server: Server }).server.address() as AddressInfo).port}`;
	}, 60_000);
	afterAll(async () => {
		for (const b of brokers.reverse()) await b.stop();
	});

	it("counts the orders of the orders node and shows each node's breakers", async () => {
		const admin = await loginAdmin(url, config);
		const productId = `ops-item-${Date.now()}`;
		expect((await http(url, "POST", "/api/v1/products", { token: admin, body: { id: productId, name: "Mug", brand: "Acme", category: "home", price: 9.5 } })).status).toBe(201);
		expect((await http(url, "PUT", `/api/v1/inventory/${productId}`, { token: admin, body: { warehouse_id: "wh-1", on_hand: 50 } })).status).toBe(200);
		const before = (await http<Snapshot>(url, "GET", "/api/v1/admin/ops/snapshot", { token: admin })).body;
		expect(before.nodes.map(n => n.id).sort()).toEqual([`gw-${ns}`, `orders-${ns}`]);
		expect(before.unreachable).toEqual([]);
		expect(before.breakers).toContainEqual(expect.objectContaining({ node: `orders-${ns}`, kind: "payment-gateway", state: "closed" }));

		const customer = await registerCustomer(url);
		expect((await http(url, "POST", "/api/v1/cart/add", { token: customer.token, body: { product_id: productId, quantity: 1 } })).status).toBe(200);
		const placed = await http<{ order: { id: string } }>(url, "POST", "/api/v1/checkout", { token: customer.token, body: { shipping_address: "1 Elm St", payment_method: "card-456" } });
		expect(placed.status).toBe(201);

		const after = (await http<Snapshot>(url, "GET", "/api/v1/admin/ops/snapshot", { token: admin })).body;
		expect(after.orders_created).toBe(before.orders_created + 1);
		expect(after.sagas.by_status.SHIPPED + (after.sagas.by_status.DELIVERED ?? 0)).toBeGreaterThanOrEqual(1);
		expect(after.checkouts[0].order_id).toBe(placed.body.order.id);
	}, 30_000);
});
