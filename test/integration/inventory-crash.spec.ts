/**
 * Stock survives crashes (issue 12, point 4): `inventory` runs in a child process (the compiled code in dist/) on
 * NeDB files, under a stream of reserve, commit and release calls over the real NATS; the child is SIGKILLed
 * three times mid-stream and restarted on the same files; every call whose answer was lost is repeated, as the
 * saga and shipping do; then stock must balance exactly: on_hand = initial - shipped, reserved = what the orders
 * that ended RESERVED hold, available = on_hand - reserved.
 */
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { ServiceBroker } from "moleculer";
import { createShopBroker } from "../../config/boot/broker";
import { setConfig } from "../../config/env";
import { NATS_URL, testConfig } from "../helpers/shop";

jest.setTimeout(180_000);

const ROOT = path.resolve(__dirname, "..", "..");
const PRODUCTS = ["laptop-123", "dell-xps-13", "iphone-16"];
const admin = { meta: { user: { id: "u_admin", email: "admin@example.com", name: "Admin", role: "admin" } } };
const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));

interface Levels {
	on_hand: number;
	reserved: number;
	available: number;
}
interface Line {
	product_id: string;
	warehouse_id: string;
	quantity: number;
}
/** What the driver knows of one order: its items, and the last answered state. */
interface OrderTrack {
	id: string;
	items: Array<{ product_id: string; quantity: number }>;
	plan: Array<"commit" | "release">;
	state: "NEW" | "RESERVED" | "FAILED" | "COMMITTED" | "RELEASED";
	lines: Line[];
	shippedBeforeRelease: boolean;
}

function startInventory(nodeId: string, env: Record<string, string>): ChildProcess {
	return spawn(process.execPath, [path.join(ROOT, "dist", "config", "boot", "start.js")], {
		cwd: ROOT,
		env: { PATH: process.env.PATH ?? "", NODE_ENV: "test", PORT: "0", SERVICES: "inventory", NODE_ID: nodeId, LOG_LEVEL: "warn", SEED_DEMO_DATA: "true", ...env },
		stdio: "ignore",
	});
}
const exited = (c: ChildProcess): Promise<void> => (c.exitCode !== null || c.signalCode !== null ? Promise.resolve() : new Promise(r => c.once("exit", () => r())));

describe("inventory crash safety", () => {
	const ns = `t-invcrash-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
	const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "shopflow-inventory-crash-"));
	const env = { NATS_URL, NAMESPACE: ns, DATA_DIR: dataDir };
	let broker: ServiceBroker;
	let child: ChildProcess | null = null;
	let generation = 0;

	const levels = async (productId: string) => broker.call<Levels, object>("inventory.levels", { product_id: productId }, { ...admin, timeout: 5_000, retries: 0 });
	async function up(): Promise<void> {
		generation++;
		child = startInventory(`inv-${generation}-${ns}`, env);
		const end = Date.now() + 30_000;
		for (;;) {
			try {
				await levels(PRODUCTS[0]);
				return;
			} catch {
				if (Date.now() > end) throw new Error("inventory child did not come up");
				await sleep(100);
			}
		}
	}
	async function kill(): Promise<void> {
		const c = child as ChildProcess;
		c.kill("SIGKILL");
		await exited(c);
	}

	beforeAll(async () => {
		setConfig(testConfig(env));
		broker = createShopBroker({ config: testConfig({ NATS_URL, NAMESPACE: ns, LOG_LEVEL: "fatal" }), services: [], broker: { nodeID: `driver-${ns}` } });
		await broker.start();
		await up();
	});
	afterAll(async () => {
		if (child && child.exitCode === null && child.signalCode === null) {
			child.kill("SIGTERM");
			await exited(child);
		}
		await broker.stop();
		fs.rmSync(dataDir, { recursive: true, force: true });
	});

	/** One call as the saga or shipping would make it: repeated until it is answered (an error with a code is an answer). */
	async function call<T>(action: string, params: object, untilAnswered: boolean): Promise<{ ok: true; value: T } | { ok: false; code: number | null }> {
		for (;;) {
			try {
				return { ok: true, value: await broker.call<T, object>(action, params, { timeout: 3_000, retries: 0 }) };
			} catch (err) {
				const e = err as { code?: number; type?: string };
				const answered = typeof e.code === "number" && e.code >= 400 && e.code < 500;
				if (answered || !untilAnswered) return { ok: false, code: answered ? (e.code as number) : null };
				await sleep(100);
			}
		}
	}

	/** Drives one order through reserve, then commit and/or release; `untilAnswered` repeats calls whose answers were lost. */
	async function drive(o: OrderTrack, untilAnswered: boolean): Promise<void> {
		if (o.state === "NEW") {
			const r = await call<{ lines: Line[] }>("inventory.reserve", { order_id: o.id, items: o.items }, untilAnswered);
			if (r.ok) [o.state, o.lines] = ["RESERVED", r.value.lines];
			else if (r.code === 409) o.state = "FAILED";
			else return;
		}
		for (const step of o.plan) {
			if (o.state !== "RESERVED" && !(step === "release" && o.state === "COMMITTED")) continue;
			const r = await call(`inventory.${step}`, { order_id: o.id }, untilAnswered);
			if (!r.ok) return;
			if (step === "release") o.shippedBeforeRelease = o.state === "COMMITTED";
			o.state = step === "commit" ? "COMMITTED" : "RELEASED";
		}
	}

	it("keeps stock exactly balanced through SIGKILLs mid-reservation, mid-commit and mid-release", async () => {
		const initial = new Map<string, number>();
		for (const p of PRODUCTS) initial.set(p, (await levels(p)).on_hand);

		const orders: OrderTrack[] = [];
		let n = 0;
		const newOrder = (): OrderTrack => {
			const i = n++;
			const plans: Array<OrderTrack["plan"]> = [["commit"], ["release"], ["commit", "release"], []];
			const o: OrderTrack = {
				id: `ord-${i}-${ns}`,
				items: PRODUCTS.filter((_, k) => (i + k) % 2 === 0).map(p => ({ product_id: p, quantity: 1 + (i % 2) })),
				plan: plans[i % plans.length],
				state: "NEW",
				lines: [],
				shippedBeforeRelease: false,
			};
			orders.push(o);
			return o;
		};

		for (let kill_ = 0; kill_ < 3; kill_++) {
			let stop = false;
			const workers = Array.from({ length: 24 }, async () => {
				while (!stop) await drive(newOrder(), false);
			});
			await sleep(700 + Math.floor(Math.random() * 500));
			await kill();
			stop = true;
			await Promise.all(workers);
			await up();
		}
		// What the callers would do after the crashes: repeat every call that got no answer.
		await Promise.all(orders.map(o => drive(o, true)));
		expect(orders.filter(o => o.state === "NEW")).toEqual([]);

		// Stock work a crash left owed is finished by a repeated call or by the sweep (a few seconds after the restart).
		const expected = (p: string) => {
			const lines = (o: OrderTrack) => o.lines.filter(l => l.product_id === p).reduce((s, l) => s + l.quantity, 0);
			const shipped = orders.filter(o => o.state === "COMMITTED").reduce((s, o) => s + lines(o), 0);
			const reserved = orders.filter(o => o.state === "RESERVED").reduce((s, o) => s + lines(o), 0);
			return { on_hand: (initial.get(p) as number) - shipped, reserved, available: (initial.get(p) as number) - shipped - reserved };
		};
		const end = Date.now() + 60_000;
		let actual: Array<[string, Levels]> = [];
		for (;;) {
			actual = await Promise.all(PRODUCTS.map(async p => [p, await levels(p)] as [string, Levels]));
			const ok = actual.every(([p, l]) => l.on_hand === expected(p).on_hand && l.reserved === expected(p).reserved && l.available === expected(p).available);
			if (ok || Date.now() > end) break;
			await sleep(500);
		}
		expect(orders.length).toBeGreaterThan(100);
		for (const [p, l] of actual) expect({ product: p, on_hand: l.on_hand, reserved: l.reserved, available: l.available }).toEqual({ product: p, ...expected(p) });
	});
});
