/**
 * Found by `npm run crashtest -- --cluster`: the `orders` node is SIGKILLed after it stored an order and while its
 * saga waits for the payment; it is started again with the same NODE_ID on the same files and the saga goes on
 * there, but the checkout's call to orders.create only times out (its node came back as another instance). The
 * customer must be answered with that order, not a 503 for an order that is then charged and shipped.
 * `orders` runs in a child process (dist/) over the real NATS; everything else in this test process.
 */
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseBehavior } from "../../services/common/behavior";
import { http, NATS_URL, REDIS_URL, registerCustomer, startShop, type Shop } from "../helpers/shop";
import type { PublicOrder } from "../../services/orders/model";

jest.setTimeout(120_000);

const ROOT = path.resolve(__dirname, "..", "..");
const ns = `t-co-crash-${process.pid}-${Date.now()}`;
const nodeId = `orders-${ns}`;
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "shopflow-checkout-crash-"));
const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));

function startOrdersNode(): ChildProcess {
	return spawn(process.execPath, [path.join(ROOT, "dist", "config", "boot", "start.js")], {
		cwd: ROOT,
		env: { PATH: process.env.PATH ?? "", NODE_ENV: "test", PORT: "0", SERVICES: "orders", NODE_ID: nodeId, LOG_LEVEL: "warn", NATS_URL, REDIS_URL, NAMESPACE: ns, DATA_DIR: dataDir },
		stdio: "ignore",
	});
}

const exited = (c: ChildProcess): Promise<void> => (c.exitCode !== null || c.signalCode !== null ? Promise.resolve() : new Promise(r => c.once("exit", () => r())));

describe("checkout when the orders node dies under orders.create", () => {
	let shop: Shop;
	const children: ChildProcess[] = [];

	beforeAll(async () => {
		shop = await startShop(["api", "users", "cart", "checkout", "products", "inventory", "payments", "shipping"], { NATS_URL, REDIS_URL, NAMESPACE: ns, SEED_DEMO_DATA: "true" }, `front-${ns}`);
		children.push(startOrdersNode());
		await shop.broker.waitForServices(["orders"], 30_000);
	}, 60_000);
	afterAll(async () => {
		for (const c of children) {
			if (c.exitCode === null && c.signalCode === null) c.kill("SIGTERM");
			await exited(c);
		}
		await shop?.stop();
		fs.rmSync(dataDir, { recursive: true, force: true });
	});

	it("answers the order that the killed node stored, once the node is back, instead of a 503", async () => {
		const customer = await registerCustomer(shop.url);
		expect((await http(shop.url, "POST", "/api/v1/cart/add", { token: customer.token, body: { product_id: "laptop-123", quantity: 1 } })).status).toBe(200);
		const user = { id: customer.id, email: customer.email, name: "Test Customer", role: "customer" };
		// The payment takes 4 s, so the saga is mid-flight, with the order stored, when the node is killed.
		const checkout = shop.broker
			.call<{ order: { id: string } }, object>(
				"checkout.start",
				{ shipping_address: { street: "1 Crash Lane", city: "Springfield", postal_code: "12345", country: "US" }, payment_method: "card-456" },
				{ timeout: 15_000, meta: { user, headers: {}, behavior: parseBehavior("payments:latency=4s") } },
			)
			.then(
				body => ({ body, err: null }),
				(err: Error) => ({ body: null, err }),
			);

		let stored: PublicOrder[] = [];
		for (let i = 0; i < 100 && stored.length === 0; i++) {
			await sleep(100);
			stored = (await shop.broker.call<{ rows: PublicOrder[] }, object>("orders.find", { limit: 10 }, { nodeID: nodeId })).rows;
		}
		expect(stored).toHaveLength(1);
		expect(stored[0].status).toBe("PENDING");
		children[0].kill("SIGKILL");
		await exited(children[0]);
		children.push(startOrdersNode());

		const answer = await checkout;
		expect(answer.err).toBeNull();
		expect(answer.body?.order.id).toBe(stored[0].id);

		// The saga goes on on the new node: the order ships, and it is the customer's only order.
		let mine: PublicOrder[] = [];
		for (let i = 0; i < 150; i++) {
			mine = (await http<{ rows: PublicOrder[] }>(shop.url, "GET", "/api/v1/orders", { token: customer.token })).body.rows ?? [];
			if (mine.length === 1 && mine[0].status === "SHIPPED") break;
			await sleep(200);
		}
		expect(mine.map(o => [o.id, o.status])).toEqual([[stored[0].id, "SHIPPED"]]);
	});

	it("tells the customer the outcome is unknown while the node stays down, and the same click sent again gets that one order", async () => {
		const customer = await registerCustomer(shop.url);
		expect((await http(shop.url, "POST", "/api/v1/cart/add", { token: customer.token, body: { product_id: "laptop-123", quantity: 1 } })).status).toBe(200);
		const body = { shipping_address: { street: "2 Crash Lane", city: "Springfield", postal_code: "12345", country: "US" }, payment_method: "card-456" };
		const first = http<{ type?: string; order?: { id: string } }>(shop.url, "POST", "/api/v1/checkout?behavior=payments:latency=4s", { token: customer.token, body });
		const live = children[children.length - 1];
		let stored: PublicOrder[] = [];
		for (let i = 0; i < 100 && stored.length === 0; i++) {
			await sleep(100);
			stored = (await shop.broker.call<{ rows: PublicOrder[] }, object>("orders.find", { user_id: customer.id, limit: 10 }, { nodeID: nodeId })).rows;
		}
		expect(stored).toHaveLength(1);
		live.kill("SIGKILL");
		await exited(live);

		// The orders node stays down: its pending call is rejected once it is declared gone, and nobody can say more.
		const answer = await first;
		expect(answer.status).toBe(503);
		expect(answer.body.type).toBe("CHECKOUT_OUTCOME_UNKNOWN");
		expect(answer.headers.get("retry-after")).toBe("1");

		children.push(startOrdersNode());
		await shop.broker.waitForServices(["orders"], 30_000);
		let again = await http<{ type?: string; order?: { id: string } }>(shop.url, "POST", "/api/v1/checkout", { token: customer.token, body });
		for (let i = 0; i < 30 && !again.body.order; i++) {
			await sleep(1000);
			again = await http<{ type?: string; order?: { id: string } }>(shop.url, "POST", "/api/v1/checkout", { token: customer.token, body });
		}
		expect(again.body.order?.id).toBe(stored[0].id);
		let mine: PublicOrder[] = [];
		for (let i = 0; i < 150; i++) {
			mine = (await http<{ rows: PublicOrder[] }>(shop.url, "GET", "/api/v1/orders", { token: customer.token })).body.rows ?? [];
			if (mine.length >= 1 && mine.every(o => o.status === "SHIPPED")) break;
			await sleep(200);
		}
		expect(mine.map(o => [o.id, o.status])).toEqual([[stored[0].id, "SHIPPED"]]);
	});
});
