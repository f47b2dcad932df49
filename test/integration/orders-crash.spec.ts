/**
 * The crash test of issue 4: `orders` runs in a child process (the compiled code in dist/) over the real NATS,
 * with its leases in Redis and its orders in NeDB files; the child is SIGKILLed while sagas are mid-flight, a
 * second child starts on the same files, and every order must end in a terminal status with money and stock
 * balanced. Payments, inventory and shipping are slow stand-ins (200 ms a call) in this test process.
 */
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { NATS_URL, REDIS_URL, startShop, type Shop } from "../helpers/shop";
import { fakeServices, netCharged, newFakeState, type FakeState } from "./orders-fakes";
import type { OrderResult, PublicOrder } from "../../services/orders/model";

jest.setTimeout(120_000);

const ROOT = path.resolve(__dirname, "..", "..");
const NON_TERMINAL = ["PENDING", "PAID", "STOCK_RESERVED", "COMPENSATING"];

interface Child {
	proc: ChildProcess;
	nodeId: string;
	output: string[];
}

function startOrdersNode(nodeId: string, env: Record<string, string>): Child {
	const proc = spawn(process.execPath, [path.join(ROOT, "dist", "config", "start.js")], {
		cwd: ROOT,
		env: { PATH: process.env.PATH ?? "", NODE_ENV: "test", PORT: "0", SERVICES: "orders", NODE_ID: nodeId, LOG_LEVEL: "info", ...env },
		stdio: ["ignore", "pipe", "pipe"],
	});
	const output: string[] = [];
	proc.stdout?.on("data", (d: Buffer) => output.push(d.toString()));
	proc.stderr?.on("data", (d: Buffer) => output.push(d.toString()));
	return { proc, nodeId, output };
}

const exited = (c: Child): Promise<void> => (c.proc.exitCode !== null || c.proc.signalCode !== null ? Promise.resolve() : new Promise(r => c.proc.once("exit", () => r())));

describe("orders crash recovery", () => {
	const ns = `t-crash-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
	const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "shopflow-orders-crash-"));
	const env = { NATS_URL, REDIS_URL, NAMESPACE: ns, DATA_DIR: dataDir };
	let shop: Shop;
	let fake: FakeState;
	const children: Child[] = [];

	beforeAll(async () => {
		shop = await startShop([], env, `fakes-${ns}`);
		fake = newFakeState({ "laptop-123": 10, "mouse-1": 1000 });
		for (const schema of fakeServices(fake)) shop.broker.createService(schema);
		await shop.broker.waitForServices(["payments", "inventory", "shipping"]);
	});

	afterAll(async () => {
		for (const c of children) {
			if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill("SIGTERM");
			await exited(c);
		}
		await shop?.stop();
		fs.rmSync(dataDir, { recursive: true, force: true });
	});

	it("finishes or compensates every saga after the orders node is killed mid-flight, with money and stock balanced", async () => {
		const first = startOrdersNode(`orders-1-${ns}`, env);
		children.push(first);
		await shop.broker.waitForServices(["orders"], 30_000);
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
		const created = await Promise.all(
			inputs.map(p => shop.broker.call("orders.create", p, { nodeID: first.nodeId }) as Promise<OrderResult>),
		);
		expect(created.every(r => r.order.status === "PENDING")).toBe(true);

		// Let the sagas get going, check that some are mid-flight, then pull the plug.
		await new Promise(r => setTimeout(r, 450));
		const before = (await shop.broker.call("orders.stats", {}, { nodeID: first.nodeId })) as { by_status: Record<string, number> };
		first.proc.kill("SIGKILL");
		await exited(first);
		const inFlight = NON_TERMINAL.reduce((a, s) => a + (before.by_status[s] ?? 0), 0);
		expect(inFlight).toBeGreaterThan(0);
		const callsAtKill = fake.log.length;

		const second = startOrdersNode(`orders-2-${ns}`, env);
		children.push(second);
		const started = Date.now();
		const secondUp = () =>
			(shop.broker.registry.getServiceList({ onlyAvailable: true }) as Array<{ name: string; nodeID: string }>).some(
				s => s.name === "orders" && s.nodeID === second.nodeId,
			);
		while (!secondUp() && Date.now() - started < 30_000) await new Promise(r => setTimeout(r, 100));
		let orders: PublicOrder[] = [];
		for (;;) {
			try {
				orders = ((await shop.broker.call("orders.find", { limit: 100 }, { nodeID: second.nodeId, timeout: 5_000, retries: 0 })) as { rows: PublicOrder[] }).rows;
				if (orders.length === 24 && orders.every(o => !NON_TERMINAL.includes(o.status))) break;
			} catch {
				// the second node is still starting
			}
			if (Date.now() - started > 90_000) throw new Error(`orders did not settle: ${JSON.stringify(orders.map(o => o.status))}\n${second.output.join("")}`);
			await new Promise(r => setTimeout(r, 250));
		}
		const recoveredIn = Date.now() - started;

		// The second node did real work after the crash.
		expect(fake.log.length).toBeGreaterThan(callsAtKill);
		expect(second.output.join("")).toMatch(/Taking over saga/);

		const shipped = orders.filter(o => o.status === "SHIPPED");
		const failed = orders.filter(o => o.status === "FAILED");
		expect(shipped.length + failed.length).toBe(24);
		expect(failed.filter(o => o.failure_reason === "PAYMENT_ERROR").map(o => o.items[0].price)).toEqual(expect.arrayContaining([100.16, 100.17, 100.18, 100.19]));
		expect(failed.filter(o => o.failure_reason === "SHIPPING_ERROR")).toHaveLength(4);
		expect(shipped.filter(o => o.items[0].product_id === "laptop-123")).toHaveLength(10);
		expect(failed.filter(o => o.failure_reason === "OUT_OF_STOCK")).toHaveLength(6);

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
		// Stock: every laptop is either shipped or back on the shelf.
		expect(fake.available.get("laptop-123")).toBe(0);
		expect(fake.onHand.get("laptop-123")).toBe(0);
		expect(fake.available.get("mouse-1")).toBe(1000 - shipped.filter(o => o.items[0].product_id === "mouse-1").length);

		process.stdout.write(`orders crash test: ${inFlight} sagas in flight at SIGKILL, all settled ${recoveredIn} ms after the second node started\n`);
	});
});
