/**
 * `npm run crashtest`: the embedded shop on NeDB files under a stream of checkouts (keyed and unkeyed,
 * `Prefer: respond-async`, cancels, declined cards, a scarce product), SIGKILLed at random moments and started
 * again on the same files. Keyed checkouts whose answers were lost are retried with the same key and body, as a
 * client would; unkeyed ones are reported as timed out on the client. When the kills are done the sagas settle,
 * and the invariants are checked: money, stock, one order per click and per key, every order named by an answer
 * or a lost request, notifications against history, failure reasons, and, from the files of the stopped shop,
 * nothing left in the outbox, staged in a document, stuck in a claim, or dead-lettered without a reason.
 * Exits 1 on any violation. See docs/crashtest.md.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseToolArgs } from "./args";
import { checkClicks, checkEventFiles, checkNotifications, type Click } from "./crash-checks";
import { ensureStock, loginAdmin, registerCustomers, request, type Customer } from "./http-client";
import { checkInvariants, ordersOf, stockSnapshot, waitUntilSettled, type OrderView } from "./invariants";
import { freePort, startEmbeddedShop, stopChild, type StartedProcess } from "./processes";

const opts = parseToolArgs("crashtest", "SIGKILLs the embedded shop under checkouts and checks that nothing was lost or done twice", {
	kills: { kind: "number", default: 30, min: 1, help: "how many times the shop is SIGKILLed" },
	orders: { kind: "number", default: 5000, min: 1, help: "keep the checkouts going until this many were answered" },
	users: { kind: "number", default: 24, min: 1, help: "concurrent customers" },
	"min-uptime": { kind: "number", default: 1500, min: 100, help: "least ms between a restart and the next kill" },
	"max-uptime": { kind: "number", default: 6000, min: 100, help: "most ms between a restart and the next kill" },
	"settle-timeout": { kind: "number", default: 180, min: 1, help: "seconds to wait for the sagas to settle at the end" },
	"drain-timeout": { kind: "number", default: 300, min: 1, help: "seconds to wait for the events left by the kills to be delivered" },
	port: { kind: "number", default: 18480, min: 1, help: "gateway port (the next free one from here)" },
	"keep-data": { kind: "flag", help: "keep the shop's NeDB files (their folder is printed)" },
});

const PRODUCTS = ["laptop-123", "dell-xps-13", "iphone-16", "pixel-9"];
const SCARCE = "macbook-air-13";
const SCARCE_UNITS = 40;
const ADDRESS = { street: "1 Crash Lane", city: "Springfield", postal_code: "12345", country: "US" };
const log = (s: string) => process.stderr.write(`[crashtest] ${s}\n`);
const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));
const between = (a: number, b: number) => a + Math.floor(Math.random() * (b - a + 1));

interface Shared {
	base: string;
	up: boolean;
	stop: boolean;
	answered: number;
	clicks: Click[];
	/** Keyed clicks whose answer was lost: retried after the kills, as a client with a key would. */
	retry: Array<{ click: Click; body: object; headers: Record<string, string> }>;
	tokens: Map<string, string>;
	reasons: string[];
}

/** Whether an error means the request never reached the shop (nothing can have happened). */
const notSent = (err: unknown) => /ECONNREFUSED/.test(String((err as { code?: string }).code ?? err));

/** One customer: fill the cart, check out in one of the mixed ways, sometimes cancel; until told to stop. */
async function customer(s: Shared, c: Customer, n: number): Promise<void> {
	for (let i = 0; !s.stop; i++) {
		if (!s.up) {
			await sleep(100);
			continue;
		}
		try {
			const product = Math.random() < 0.15 ? SCARCE : PRODUCTS[(n + i) % PRODUCTS.length];
			const add = await request(s.base, "POST", "/api/v1/cart/add", { token: c.token, body: { product_id: product, quantity: 1 } });
			if (add.status !== 200) {
				await request(s.base, "DELETE", "/api/v1/cart", { token: c.token });
				continue;
			}
			const keyed = Math.random() < 0.5;
			const token = Math.random() < 0.1 ? "card-declined" : "card-456";
			const headers: Record<string, string> = {};
			if (keyed) headers["Idempotency-Key"] = `crash-${c.id}-${i}`;
			if (Math.random() < 0.2) headers.Prefer = "respond-async";
			const body = { shipping_address: ADDRESS, payment_method: token };
			const click: Click = { customer: c.id, key: keyed ? headers["Idempotency-Key"] : null, token, answeredIds: new Set(), lost: false };
			s.clicks.push(click);
			let res;
			try {
				res = await request<{ order?: { id: string } }>(s.base, "POST", "/api/v1/checkout", { token: c.token, body, headers, timeoutMs: 70_000 });
			} catch (err) {
				if (notSent(err)) s.clicks.pop();
				else if (keyed) s.retry.push({ click, body, headers });
				else click.lost = true;
				continue;
			}
			const id = res.body?.order?.id;
			if (id) {
				click.answeredIds.add(id);
				s.tokens.set(id, token);
				s.answered++;
				if (res.status === 202 && Math.random() < 0.3) await request(s.base, "POST", `/api/v1/orders/${id}/cancel`, { token: c.token }).catch(() => undefined);
			}
			if (res.status >= 400) await request(s.base, "DELETE", "/api/v1/cart", { token: c.token }).catch(() => undefined);
		} catch {
			// The shop went down under a cart call: nothing to record, try again when it is back.
		}
	}
}

async function main(): Promise<void> {
	const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "shopflow-crashtest-"));
	const port = await freePort(opts.port);
	const env = {
		DATA_DIR: dataDir,
		NAMESPACE: process.env.NAMESPACE ?? `crashtest-${Date.now().toString(36)}`,
		NODE_ID: "crashtest-shop",
		NOTIFICATIONS_KEEP_PER_USER: "1000000",
		SEED_DEMO_DATA: "true",
	};
	const start = () => startEmbeddedShop(port, { quiet: true, env });
	let shop: StartedProcess = await start();
	const s: Shared = { base: shop.url, up: true, stop: false, answered: 0, clicks: [], retry: [], tokens: new Map(), reasons: [] };
	const admin = await loginAdmin(shop.url);
	await ensureStock(shop.url, admin, SCARCE, SCARCE_UNITS);
	for (const p of PRODUCTS) await ensureStock(shop.url, admin, p, 1_000_000);
	const before = await stockSnapshot(shop.url, admin, [...PRODUCTS, SCARCE]);
	log(`shop on ${shop.url}, files in ${dataDir}; registering ${opts.users} customers`);
	const customers = await registerCustomers([shop.url], opts.users, "crash");

	const workers = customers.map((c, n) => customer(s, c, n));
	let kills = 0;
	const t0 = Date.now();
	while (kills < opts.kills || s.answered < opts.orders) {
		await sleep(between(opts["min-uptime"], opts["max-uptime"]));
		if (kills >= opts.kills) continue;
		s.up = false;
		shop.child.kill("SIGKILL");
		await new Promise(r => (shop.child.exitCode !== null || shop.child.signalCode !== null ? r(null) : shop.child.once("exit", r)));
		kills++;
		shop = await start();
		s.base = shop.url;
		s.up = true;
		log(`kill ${kills}/${opts.kills}: ${s.answered} checkouts answered, ${s.retry.length} keyed to retry, ${s.clicks.filter(c => c.lost).length} lost`);
	}
	s.stop = true;
	await Promise.all(workers);
	log(`${kills} kills in ${Math.round((Date.now() - t0) / 1000)} s; retrying ${s.retry.length} keyed checkouts whose answers were lost`);
	const owner = new Map(customers.map(c => [c.id, c]));
	for (const r of s.retry) {
		const c = owner.get(r.click.customer) as Customer;
		for (let attempt = 0; ; attempt++) {
			const res = await request<{ order?: { id: string }; type?: string }>(shop.url, "POST", "/api/v1/checkout", { token: c.token, body: r.body, headers: r.headers, timeoutMs: 70_000 }).catch(() => null);
			if (res?.body?.order?.id) {
				r.click.answeredIds.add(res.body.order.id);
				s.tokens.set(res.body.order.id, r.click.token);
				break;
			}
			// 409 while the first request's claim waits to be taken over, 422 when nothing was placed (its cart emptied since).
			if (res && res.status < 500 && res.status !== 409) break;
			if (attempt > 100) {
				s.reasons.push(`keyed checkout ${String(r.headers["Idempotency-Key"])} was never answered again (last ${res?.status ?? "no answer"})`);
				break;
			}
			await sleep(1000);
		}
	}

	const orders = await ordersOf(shop.url, customers);
	log(`${orders.size} orders; waiting for their sagas to settle`);
	const settled = await waitUntilSettled(shop.url, admin, [...orders.keys()], opts["settle-timeout"] * 1000, n => n > 0 && log(`${n} orders not settled yet`));
	// Delivery is at least once and eventually: the events the kills left staged are sent again after each restart,
	// and the notification check waits until nothing is staged, unsent or claimed any more (read from the files).
	const drainedBy = Date.now() + opts["drain-timeout"] * 1000;
	for (let quiet = 0; quiet < 2 && Date.now() < drainedBy; ) {
		await sleep(2000);
		const c = checkEventFiles(dataDir).counts;
		const left = c.staged + c.outbox_pending + c.claims_processing;
		quiet = left === 0 ? quiet + 1 : 0;
		if (left > 0) log(`events still on their way: ${c.staged} staged, ${c.outbox_pending} in the outbox, ${c.claims_processing} claims running`);
	}
	const after = await stockSnapshot(shop.url, admin, [...PRODUCTS, SCARCE]);
	const withUsers = new Map([...settled].map(([id, o]) => [id, { ...o, user_id: orders.get(id)?.user_id ?? o.user_id }]));
	const violations = [
		...s.reasons,
		...(await checkInvariants({ base: shop.url, adminToken: admin, orders: settled, acceptedIds: s.clicks.flatMap(c => [...c.answeredIds]), before, after })),
		...checkClicks(s.clicks, withUsers),
		...(await checkNotifications(shop.url, admin, customers, settled)),
		...failureReasons(settled, s.tokens),
	];
	// A graceful stop may leave events staged by handlers that were still running (they are sent at the next start):
	// start once more on the same files, let the relay catch up while idle, stop, and read what is left.
	await stopChild(shop.child);
	shop = await start();
	await sleep(4000);
	await stopChild(shop.child);
	const files = checkEventFiles(dataDir);
	violations.push(...files.violations);

	const by = (st: string) => [...settled.values()].filter(o => o.status === st).length;
	process.stdout.write(
		[
			`crashtest: ${kills} SIGKILLs of the embedded shop, ${orders.size} orders from ${s.clicks.length} checkouts (${s.retry.length} keyed retried, ${s.clicks.filter(c => c.lost).length} unkeyed lost on the client)`,
			`orders: ${["SHIPPED", "DELIVERED", "FAILED", "CANCELLED"].map(st => `${by(st)} ${st}`).join(", ")}; failures: ${JSON.stringify(countBy([...settled.values()].map(o => o.failure_reason).filter(Boolean) as string[]))}`,
			`left in the files: ${JSON.stringify(files.counts)}`,
			violations.length === 0 ? "invariants: all hold (0 violations)" : `invariants: ${violations.length} violations:\n  ${violations.slice(0, 200).join("\n  ")}`,
			"",
		].join("\n"),
	);
	if (!opts["keep-data"]) fs.rmSync(dataDir, { recursive: true, force: true });
	process.exit(violations.length === 0 ? 0 : 1);
}

/** failure_reason agrees with what happened: PAYMENT_ERROR for declined cards only, OUT_OF_STOCK with the scarce product only, nothing technical. */
function failureReasons(orders: Map<string, OrderView>, tokens: Map<string, string>): string[] {
	const out: string[] = [];
	for (const o of orders.values()) {
		if (o.status !== "FAILED") continue;
		const token = tokens.get(o.id);
		if (o.failure_reason === "PAYMENT_ERROR" && token !== undefined && token !== "card-declined") out.push(`order ${o.id} failed PAYMENT_ERROR with card ${token}`);
		else if (o.failure_reason === "OUT_OF_STOCK" && !o.items.some(i => i.product_id === SCARCE)) out.push(`order ${o.id} failed OUT_OF_STOCK without the scarce product`);
		else if (o.failure_reason !== "PAYMENT_ERROR" && o.failure_reason !== "OUT_OF_STOCK") out.push(`order ${o.id} failed ${o.failure_reason}: no fault was injected`);
	}
	return out;
}

function countBy(values: string[]): Record<string, number> {
	const out: Record<string, number> = {};
	for (const v of values) out[v] = (out[v] ?? 0) + 1;
	return out;
}

main().catch(err => {
	process.stderr.write(`crashtest failed: ${err instanceof Error ? err.stack : String(err)}\n`);
	process.exit(2);
});
