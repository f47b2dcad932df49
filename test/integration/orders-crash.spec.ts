/**
 * The crash test of issue 4: `orders` runs in a child process (the compiled code in dist/) over the real NATS,
 * with its leases in Redis and its orders in NeDB files; the child is SIGKILLed while sagas are mid-flight, a
 * second child starts on the same files, and every order must end in a terminal status with money and stock
 * balanced. Payments, inventory and shipping run in this test process, 200 ms a call: once as stand-ins (which
 * can also refuse a shipment), once as the real services.
 */
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import Redis from "ioredis";
import type { Context, Middleware, ServiceBroker } from "moleculer";
import { createShopBroker } from "../../config/boot/broker";
import { brokerMiddlewares } from "../../config/middlewares";
import { NATS_URL, REDIS_URL, testConfig } from "../helpers/shop";
import { fakeServices, netCharged, newFakeState } from "./orders-fakes";
import type { OrderResult, PublicOrder } from "../../services/orders/model";

jest.setTimeout(150_000);

const ROOT = path.resolve(__dirname, "..", "..");
const NON_TERMINAL = ["PENDING", "PAID", "STOCK_RESERVED", "COMPENSATING"];
const admin = { meta: { user: { id: "u_admin", email: "admin@example.com", name: "Admin", role: "admin" } } };

interface Child {
	proc: ChildProcess;
	nodeId: string;
	output: string[];
}

function startOrdersNode(nodeId: string, env: Record<string, string>): Child {
	const proc = spawn(process.execPath, [path.join(ROOT, "dist", "config", "boot", "start.js")], {
		cwd: ROOT,
		env: { PATH: process.env.PATH ?? "", NODE_ENV: "test", PORT: "0", SERVICES: "orders", NODE_ID: nodeId, LOG_LEVEL: "info", ...env },
		stdio: ["ignore", "pipe", "pipe"],
	});
	const output: string[] = [];
	proc.stdout?.on("data", (d: Buffer) => output.push(d.toString()));
	proc.stderr?.on("data", (d: Buffer) => output.push(d.toString()));
	return { proc, nodeId, output };
}

const exited = (c: Child): Promise<void> =>
	c.proc.exitCode !== null || c.proc.signalCode !== null ? Promise.resolve() : new Promise(r => c.proc.once("exit", () => r()));
const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));

/** 200 ms before every payments, inventory and shipping action, so that sagas are mid-flight when the node dies. */
const SlowDependencies = {
	name: "SlowDependencies",
	localAction(next: (ctx: Context) => Promise<unknown>, action: { name: string }) {
		if (!/^(payments|inventory|shipping)\./.test(action.name)) return next;
		return async (ctx: Context) => {
			await sleep(200);
			return next(ctx);
		};
	},
} as unknown as Middleware;

/** Waits until the registry lists `orders` on that node (at most 30 s). */
async function ordersUpOn(broker: ServiceBroker, nodeId: string): Promise<void> {
	const end = Date.now() + 30_000;
	const up = () => (broker.registry.getServiceList({ onlyAvailable: true }) as Array<{ name: string; nodeID: string }>).some(s => s.name === "orders" && s.nodeID === nodeId);
	while (!up() && Date.now() < end) await sleep(100);
}

interface Scenario {
	orders: PublicOrder[];
	inFlight: number;
	recoveredIn: number;
	secondOutput: string;
	/** What orders.rebuild answers on the second node: every order folded from its event stream. */
	rebuilt: { checked: number; differences: unknown[]; without_stream: number };
}

/**
 * Starts an orders child, places the orders (respond_async), SIGKILLs the child mid-flight, starts a second one
 * on the same DATA_DIR and waits until every order is terminal.
 */
async function crashScenario(broker: ServiceBroker, env: Record<string, string>, children: Child[], inputs: object[]): Promise<Scenario> {
	const ns = env.NAMESPACE;
	const first = startOrdersNode(`orders-1-${ns}`, env);
	children.push(first);
	await broker.waitForServices(["orders"], 30_000);
	const created = await Promise.all(inputs.map(p => broker.call("orders.create", p, { nodeID: first.nodeId }) as Promise<OrderResult>));
	expect(created.every(r => r.order.status === "PENDING")).toBe(true);

	// Let the sagas get going, check that some are mid-flight, then pull the plug.
	await sleep(450);
	const before = (await broker.call("orders.stats", {}, { nodeID: first.nodeId })) as { by_status: Record<string, number> };
	first.proc.kill("SIGKILL");
	await exited(first);
	const inFlight = NON_TERMINAL.reduce((a, s) => a + (before.by_status[s] ?? 0), 0);

	const second = startOrdersNode(`orders-2-${ns}`, env);
	children.push(second);
	const started = Date.now();
	await ordersUpOn(broker, second.nodeId);
	let orders: PublicOrder[] = [];
	for (;;) {
		try {
			orders = ((await broker.call("orders.find", { limit: 1000 }, { nodeID: second.nodeId, timeout: 5_000, retries: 0 })) as { rows: PublicOrder[] }).rows;
			if (orders.length === inputs.length && orders.every(o => !NON_TERMINAL.includes(o.status))) break;
		} catch {
			// the second node is still starting
		}
		if (Date.now() - started > 100_000) throw new Error(`orders did not settle: ${JSON.stringify(orders.map(o => o.status))}\n${second.output.join("")}`);
		await sleep(250);
	}
	const recoveredIn = Date.now() - started;
	const rebuilt = (await broker.call("orders.rebuild", {}, { nodeID: second.nodeId })) as Scenario["rebuilt"];
	return { orders, inFlight, recoveredIn, secondOutput: second.output.join(""), rebuilt };
}

function setup(label: string) {
	const ns = `t-crash-${label}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
	const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "shopflow-orders-crash-"));
	// The test process keeps its own services in memory; only the orders children use the files.
	const brokerEnv = { NATS_URL, REDIS_URL, NAMESPACE: ns };
	return { ns, dataDir, brokerEnv, childEnv: { ...brokerEnv, DATA_DIR: dataDir } };
}

async function teardown(children: Child[], broker: ServiceBroker | undefined, dataDir: string): Promise<void> {
	for (const c of children) {
		if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill("SIGTERM");
		await exited(c);
	}
	await broker?.stop();
	fs.rmSync(dataDir, { recursive: true, force: true });
}

describe("orders crash recovery with stand-in payments, inventory and shipping", () => {
	const { ns, dataDir, brokerEnv, childEnv } = setup("fakes");
	const fake = newFakeState({ "laptop-123": 10, "mouse-1": 1000 });
	const children: Child[] = [];
	let broker: ServiceBroker;

	beforeAll(async () => {
		const config = testConfig(brokerEnv);
		broker = createShopBroker({ config, services: [], broker: { nodeID: `deps-${ns}` } });
		for (const schema of fakeServices(fake)) broker.createService(schema);
		await broker.start();
	});
	afterAll(() => teardown(children, broker, dataDir));

	it("finishes or compensates every saga after the orders node is killed mid-flight, with money and stock balanced", async () => {
		fake.delayMs = 200;
		fake.refuseStreets.add("Nowhere 0");
		// 16 card-456 orders for 10 laptops (6 run out of stock), 4 declined cards, 4 undeliverable addresses.
		const inputs = Array.from({ length: 24 }, (_, i) => ({
			user_id: `u_${i % 5}`,
			items: [{ product_id: i < 16 ? "laptop-123" : "mouse-1", name: "Thing", price_cents: 10_000 + i, quantity: 1 }],
			currency: "USD",
			shipping_address: { street: i >= 20 ? "Nowhere 0" : `${i} Main St`, city: "Springfield" },
			payment: { token: i >= 16 && i < 20 ? "card-declined" : "card-456" },
			idempotency_key: `crash-${ns}-${i}`,
			respond_async: true,
		}));
		const callsBefore = fake.log.length;
		const { orders, inFlight, recoveredIn, secondOutput, rebuilt } = await crashScenario(broker, childEnv, children, inputs);
		expect(inFlight).toBeGreaterThan(0);
		// Each order's stream was written with each change, through the kill: it rebuilds the order exactly.
		expect(rebuilt).toMatchObject({ checked: 24, differences: [], without_stream: 0 });
		expect(fake.log.length).toBeGreaterThan(callsBefore);
		expect(secondOutput).toMatch(/Taking over saga/);

		const shipped = orders.filter(o => o.status === "SHIPPED");
		const failed = orders.filter(o => o.status === "FAILED");
		expect(shipped.length + failed.length).toBe(24);
		expect(failed.filter(o => o.failure_reason === "PAYMENT_ERROR")).toHaveLength(4);
		expect(failed.filter(o => o.failure_reason === "SHIPPING_ERROR")).toHaveLength(4);
		expect(failed.filter(o => o.failure_reason === "OUT_OF_STOCK")).toHaveLength(6);
		expect(shipped).toHaveLength(10);
		for (const o of shipped) {
			expect(netCharged(fake, o.id)).toBe(Math.round(o.total * 100));
			expect(fake.reservations.get(o.id)?.status).toBe("COMMITTED");
		}
		for (const o of failed) {
			expect(netCharged(fake, o.id)).toBe(0);
			expect(["RELEASED", undefined]).toContain(fake.reservations.get(o.id)?.status);
			expect(["CANCELLED", undefined]).toContain(fake.shipments.get(o.id)?.status);
		}
		// One charge per order at most, whatever was re-run.
		const perOrder = new Map<string, number>();
		for (const p of fake.payments.values()) perOrder.set(p.order_id, (perOrder.get(p.order_id) ?? 0) + 1);
		expect(Math.max(...perOrder.values())).toBe(1);
		// Stock: every laptop is shipped or back on the shelf, nothing stays reserved.
		expect(fake.available.get("laptop-123")).toBe(0);
		expect(fake.onHand.get("laptop-123")).toBe(0);
		expect(fake.available.get("mouse-1")).toBe(1000);
		process.stdout.write(`orders crash test (stand-ins): ${inFlight} of 24 sagas in flight at SIGKILL, all settled ${recoveredIn} ms after the second node started\n`);
	});

	it("hands sagas over at once when a node is stopped with SIGTERM: it gives its leases up", async () => {
		const running = children.at(-1) as Child;
		const inputs = Array.from({ length: 8 }, (_, i) => ({
			user_id: "u_term",
			items: [{ product_id: "mouse-1", name: "Mouse", price_cents: 2_000, quantity: 1 }],
			currency: "USD",
			shipping_address: { street: `${i} Oak Ave`, city: "Springfield" },
			payment: { token: "card-456" },
			idempotency_key: `term-${ns}-${i}`,
			respond_async: true,
		}));
		const created = await Promise.all(inputs.map(p => broker.call("orders.create", p, { nodeID: running.nodeId }) as Promise<OrderResult>));
		await sleep(300);
		running.proc.kill("SIGTERM");
		await exited(running);
		// A node that stops cleanly gives its leases up: nothing to wait for.
		const redis = new Redis(REDIS_URL);
		const leases = await redis.keys(`${ns}:saga-lease:*`);
		redis.disconnect();
		expect(leases).toEqual([]);
		const third = startOrdersNode(`orders-3-${ns}`, childEnv);
		children.push(third);
		const started = Date.now();
		await ordersUpOn(broker, third.nodeId);
		const ids = new Set(created.map(r => r.order.id));
		let mine: PublicOrder[] = [];
		while (Date.now() - started < 60_000) {
			try {
				const rows = ((await broker.call("orders.find", { user_id: "u_term", limit: 100 }, { nodeID: third.nodeId, timeout: 5_000, retries: 0 })) as { rows: PublicOrder[] }).rows;
				mine = rows.filter(o => ids.has(o.id));
				if (mine.length === 8 && mine.every(o => !NON_TERMINAL.includes(o.status))) break;
			} catch {
				// the third node is still starting
			}
			await sleep(100);
		}
		const handedOverIn = Date.now() - started;
		expect(mine.map(o => o.status)).toEqual(Array(8).fill("SHIPPED"));
		for (const o of mine) expect(netCharged(fake, o.id)).toBe(2_000);
		// Well under the 10 s lease that a killed node leaves behind.
		expect(handedOverIn).toBeLessThan(10_000);
		process.stdout.write(`orders SIGTERM hand-over (stand-ins): 8 sagas finished ${handedOverIn} ms after the next node started\n`);
	});
});

describe("orders crash recovery with the real payments, inventory and shipping", () => {
	const { ns, dataDir, brokerEnv, childEnv } = setup("real");
	const children: Child[] = [];
	let broker: ServiceBroker;
	const product = `crash-laptop-${Date.now()}`;

	beforeAll(async () => {
		const config = testConfig(brokerEnv);
		broker = createShopBroker({
			config,
			services: ["products", "inventory", "payments", "shipping"],
			broker: { nodeID: `deps-${ns}`, middlewares: brokerMiddlewares(config, [SlowDependencies]) },
		});
		await broker.start();
		await broker.call("products.create", { id: product, name: "Crash Laptop", brand: "Acme", category: "laptops", price: 100 }, admin);
		await broker.call("inventory.setLevel", { product_id: product, warehouse_id: "wh-1", on_hand: 10 }, admin);
	});
	afterAll(() => teardown(children, broker, dataDir));

	it("finishes or compensates every saga after the orders node is killed mid-flight, with money and stock balanced", async () => {
		// 16 card-456 orders for 10 laptops (6 run out of stock), 4 declined cards, 4 gateway outages.
		const inputs = Array.from({ length: 24 }, (_, i) => ({
			user_id: `u_${i % 5}`,
			items: [{ product_id: product, name: "Crash Laptop", price_cents: 10_000, quantity: 1 }],
			currency: "USD",
			shipping_address: { street: `${i} Main St`, city: "Springfield" },
			payment: { token: i < 16 ? "card-456" : i < 20 ? "card-declined" : "card-error" },
			idempotency_key: `crash-${ns}-${i}`,
			respond_async: true,
		}));
		const { orders, inFlight, recoveredIn, secondOutput, rebuilt } = await crashScenario(broker, childEnv, children, inputs);
		expect(inFlight).toBeGreaterThan(0);
		// Each order's stream was written with each change, through the kill: it rebuilds the order exactly.
		expect(rebuilt).toMatchObject({ checked: 24, differences: [], without_stream: 0 });
		expect(secondOutput).toMatch(/Taking over saga/);

		const shipped = orders.filter(o => o.status === "SHIPPED");
		const failed = orders.filter(o => o.status === "FAILED");
		expect(shipped).toHaveLength(10);
		expect(failed).toHaveLength(14);
		expect(failed.filter(o => o.failure_reason === "PAYMENT_ERROR")).toHaveLength(8);
		expect(failed.filter(o => o.failure_reason === "OUT_OF_STOCK")).toHaveLength(6);
		for (const o of orders) {
			const { net_charged_cents } = (await broker.call("payments.listByOrder", { order_id: o.id })) as { net_charged_cents: number };
			expect(net_charged_cents).toBe(o.status === "SHIPPED" ? Math.round(o.total * 100) : 0);
		}
		const levels = (await broker.call("inventory.levels", { product_id: product }, admin)) as { on_hand: number; reserved: number; available: number };
		expect(levels).toMatchObject({ on_hand: 0, reserved: 0, available: 0 });
		process.stdout.write(`orders crash test (real services): ${inFlight} of 24 sagas in flight at SIGKILL, all settled ${recoveredIn} ms after the second node started\n`);
	});
});
