/**
 * `npm run crashtest`: the embedded shop on NeDB files under a stream of checkouts (keyed and unkeyed,
 * `Prefer: respond-async`, cancels, declined cards, a scarce product), SIGKILLed at random moments and started
 * again on the same files; with `--cluster`, the local cluster over a private NATS, whose `orders` node is
 * SIGKILLed and started again and whose NATS is stopped for a few seconds and started again (crash-targets.ts).
 * A third of the carts carry a voucher with a limited number of uses, which runs out during the run.
 * Keyed checkouts whose answers were lost are retried with the same key and body, as a
 * client would; unkeyed ones are reported as timed out on the client. When the kills are done the sagas settle,
 * and the invariants are checked: money, stock, one order per click and per key, every order named by an answer
 * or a lost request, notifications against history, failure reasons, the voucher's uses against the orders that
 * live with it (never above its limit), and, from the files of the stopped shop
 * (every node's), nothing left in the outbox, staged in a document, stuck in a claim, or dead-lettered without a
 * reason, and no reservation or stock hold left behind.
 * Exits 1 on any violation. See docs/crashtest.md.
 */
import { parseToolArgsWith } from "./args";
import { checkClicks, checkNotifications, checkRebuild, checkReservationFiles, checkVoucher, type Click } from "./crash-checks";
import { CRASH_SPEC, CRASH_SUMMARY, faultDueAt, parseCrashOptions } from "./crash-options";
import { clusterTarget, embeddedTarget, eventFileCounts, type CrashTarget } from "./crash-targets";
import { ensureStock, loginAdmin, registerCustomers, request, type Customer } from "./http-client";
import { checkInvariants, ordersOf, stockSnapshot, waitUntilSettled, type OrderView } from "./invariants";

const opts = parseToolArgsWith("crashtest", CRASH_SUMMARY, CRASH_SPEC, parseCrashOptions);

const PRODUCTS = ["laptop-123", "dell-xps-13", "iphone-16", "pixel-9"];
const SCARCE = "macbook-air-13";
const SCARCE_UNITS = 40;
const ADDRESS = { street: "1 Crash Lane", city: "Springfield", postal_code: "12345", country: "US" };
/** The voucher a third of the carts carry, and its uses: fewer than the run's orders with it, so it runs out. */
const VOUCHER = "CRASHTEST";
const VOUCHER_USES = 60;
const log = (s: string) => process.stderr.write(`[crashtest] ${s}\n`);
const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));
const between = (a: number, b: number) => a + Math.floor(Math.random() * (b - a + 1));

interface Shared {
	target: CrashTarget;
	stop: boolean;
	answered: number;
	clicks: Click[];
	/** Keyed clicks whose answer was lost: retried after the kills, as a client with a key would. */
	retry: Array<{ click: Click; body: object; headers: Record<string, string> }>;
	tokens: Map<string, string>;
	reasons: string[];
	/** Answers by HTTP status of 500 and above, to checkouts (keyed ones are retried). */
	serverErrors: Record<string, number>;
	/** When NATS was down, plus OUTAGE_GRACE_MS: a saga that failed then failed for a fault that was injected. */
	outages: Array<{ from: number; to: number }>;
}

/** How long after a NATS outage a saga may still fail of it (its step calls' retries and timeouts). */
const OUTAGE_GRACE_MS = 30_000;

/** Whether an error means the request never reached the shop (nothing can have happened). */
const notSent = (err: unknown) => /ECONNREFUSED/.test(String((err as { code?: string }).code ?? err));

/** One customer: fill the cart, check out in one of the mixed ways, sometimes cancel; until told to stop. */
async function customer(s: Shared, c: Customer, n: number): Promise<void> {
	for (let i = 0; !s.stop; i++) {
		if (!s.target.up) {
			await sleep(100);
			continue;
		}
		const base = s.target.bases[n % s.target.bases.length];
		try {
			const product = Math.random() < 0.15 ? SCARCE : PRODUCTS[(n + i) % PRODUCTS.length];
			const add = await request(base, "POST", "/api/v1/cart/add", { token: c.token, body: { product_id: product, quantity: 1 } });
			if (add.status !== 200) {
				if (add.status >= 500) await sleep(200);
				await request(base, "DELETE", "/api/v1/cart", { token: c.token });
				continue;
			}
			// A customer who finds the voucher used up (422) checks out at full price, as they chose.
			if (Math.random() < 0.33) await request(base, "POST", "/api/v1/cart/voucher", { token: c.token, body: { code: VOUCHER } });
			const keyed = Math.random() < 0.5;
			const token = Math.random() < 0.1 ? "card-declined" : "card-456";
			const headers: Record<string, string> = {};
			if (keyed) headers["Idempotency-Key"] = `crash-${c.id}-${i}`;
			if (Math.random() < 0.2) headers.Prefer = "respond-async";
			const body = { shipping_address: ADDRESS, payment_method: token };
			const click: Click = { customer: c.id, key: keyed ? headers["Idempotency-Key"] : null, token, answeredIds: new Set(), lost: false };
			s.clicks.push(click);
			let res;
			const sent = new Date();
			try {
				res = await request<{ order?: { id: string }; type?: string }>(base, "POST", "/api/v1/checkout", { token: c.token, body, headers, timeoutMs: 70_000 });
				click.answers = [`${keyed ? "keyed" : "unkeyed"} ${res.status}${res.body?.type ? ` ${res.body.type}` : ""}${res.body?.order?.id ? ` ${res.body.order.id}` : ""} sent ${sent.toISOString().slice(11, 23)} +${Math.round(res.ms)} ms`];
			} catch (err) {
				if (notSent(err)) s.clicks.pop();
				else if (keyed) s.retry.push({ click, body, headers });
				else click.lost = true;
				continue;
			}
			// "Outcome unknown, send the same request again": a client without a key does so (its cart claim answers it),
			// through 5xx and 409 CHECKOUT_IN_PROGRESS, for up to 90 s; if that never tells, its answer counts as lost.
			if (!keyed && !res.body?.order?.id && res.body?.type === "CHECKOUT_OUTCOME_UNKNOWN") {
				for (let again = 0; again < 90 && !res.body?.order?.id && (res.status >= 500 || res.body?.type === "CHECKOUT_IN_PROGRESS"); again++) {
					await sleep(1000);
					const next = await request<{ order?: { id: string }; type?: string }>(base, "POST", "/api/v1/checkout", { token: c.token, body, headers, timeoutMs: 70_000 }).catch(() => null);
					if (!next) continue;
					res = next;
					click.answers?.push(`${res.status}${res.body?.type ? ` ${res.body.type}` : ""}${res.body?.order?.id ? ` ${res.body.order.id}` : ""} (sent again)`);
				}
				if (!res.body?.order?.id) click.lost = true;
			}
			const id = res.body?.order?.id;
			if (res.status >= 500) s.serverErrors[res.status] = (s.serverErrors[res.status] ?? 0) + 1;
			if (!id && res.status >= 500 && keyed) {
				// A client with a key retries an error it did not cause, with the same key and body.
				s.retry.push({ click, body, headers });
				await request(base, "DELETE", "/api/v1/cart", { token: c.token }).catch(() => undefined);
				continue;
			}
			if (id) {
				click.answeredIds.add(id);
				s.tokens.set(id, token);
				s.answered++;
				if (res.status === 202 && Math.random() < 0.3) await request(base, "POST", `/api/v1/orders/${id}/cancel`, { token: c.token }).catch(() => undefined);
			}
			if (res.status >= 400) await request(base, "DELETE", "/api/v1/cart", { token: c.token }).catch(() => undefined);
		} catch {
			// The shop went down under a cart call: nothing to record, try again when it is back.
		}
	}
}

/** The kills (and, in cluster mode, the NATS outages) in a random order, each after a random uptime. */
function schedule(kills: number, outages: number): Array<"kill" | "outage"> {
	const steps: Array<"kill" | "outage"> = Array.from({ length: kills }, () => "kill");
	for (let i = 0; i < outages; i++) steps.splice(between(1, steps.length), 0, "outage");
	return steps;
}

async function main(): Promise<void> {
	const namespace = process.env.NAMESPACE ?? `crashtest-${Date.now().toString(36)}`;
	const target = opts.cluster
		? await clusterTarget({ port: opts.port, natsPort: opts["nats-port"], namespace, redisUrl: process.env.REDIS_URL ?? "redis://127.0.0.1:6379", log })
		: await embeddedTarget({ port: opts.port, namespace });
	running = target;
	const base = () => target.bases[0];
	const s: Shared = { target, stop: false, answered: 0, clicks: [], retry: [], tokens: new Map(), reasons: [], serverErrors: {}, outages: [] };
	const admin = await untilAnswered("admin login", () => loginAdmin(base()));
	await ensureStock(base(), admin, SCARCE, SCARCE_UNITS);
	for (const p of PRODUCTS) await ensureStock(base(), admin, p, 1_000_000);
	await untilAnswered("voucher", async () => {
		const res = await request(base(), "POST", "/api/v1/admin/vouchers", { token: admin, body: { code: VOUCHER, type: "percent", value: 10, max_uses: VOUCHER_USES } });
		if (res.status !== 201 && res.status !== 409) throw new Error(`voucher create answered ${res.status}`);
	});
	const before = await stockSnapshot(base(), admin, [...PRODUCTS, SCARCE]);
	log(`${opts.cluster ? "cluster" : "shop"} on ${target.bases.join(", ")}, namespace ${namespace}, files in ${target.root}; registering ${opts.users} customers`);
	const customers = await registerCustomers(target.bases, opts.users, "crash");

	const workers = customers.map((c, n) => customer(s, c, n));
	const steps = schedule(opts.kills, opts.cluster ? opts["nats-outages"] : 0);
	let kills = 0;
	let outages = 0;
	const t0 = Date.now();
	const total = steps.length;
	while (steps.length > 0 || s.answered < opts.orders) {
		await sleep(between(opts["min-uptime"], opts["max-uptime"]));
		// In the cluster a kill stalls the checkouts in flight for their timeout: spread the faults over the orders.
		if (opts.cluster && s.answered < faultDueAt(total - steps.length, total, opts.orders)) continue;
		const step = steps.shift();
		if (step === "kill") {
			await target.crash();
			kills++;
		} else if (step === "outage") {
			const from = Date.now();
			await target.outage(opts["outage-seconds"]);
			s.outages.push({ from, to: Date.now() + OUTAGE_GRACE_MS });
			outages++;
		} else continue;
		log(`${step === "kill" ? `kill ${kills}/${opts.kills}` : `NATS outage ${outages}`}: ${s.answered} checkouts answered, ${s.retry.length} keyed to retry, ${s.clicks.filter(c => c.lost).length} lost`);
	}
	s.stop = true;
	await Promise.all(workers);
	const loadSeconds = Math.round((Date.now() - t0) / 1000);
	log(`${kills} kills and ${outages} NATS outages in ${loadSeconds} s; retrying ${s.retry.length} keyed checkouts whose answers were lost`);
	await retryKeyed(s, customers);

	const orders = await ordersOf(base(), customers);
	log(`${orders.size} orders; waiting for their sagas to settle`);
	const settled = await waitUntilSettled(base(), admin, [...orders.keys()], opts["settle-timeout"] * 1000, n => n > 0 && log(`${n} orders not settled yet`));
	// Delivery is at least once and eventually: the events the kills left staged are sent again after each restart,
	// and the notification check waits until nothing is staged, unsent, claimed or (cluster) unacknowledged any more.
	const drainedBy = Date.now() + opts["drain-timeout"] * 1000;
	for (let quiet = 0; quiet < 2 && Date.now() < drainedBy; ) {
		await sleep(2000);
		const left = await target.inFlight();
		const total = Object.values(left).reduce((a, b) => a + Math.abs(b), 0);
		quiet = total === 0 ? quiet + 1 : 0;
		if (total > 0) log(`events still on their way: ${JSON.stringify(left)}`);
	}
	const after = await stockSnapshot(base(), admin, [...PRODUCTS, SCARCE]);
	const withUsers = new Map([...settled].map(([id, o]) => [id, { ...o, user_id: orders.get(id)?.user_id ?? o.user_id }]));
	const inOutage: Record<string, number> = {};
	const rebuilt = await checkRebuild(base(), admin, orders.size);
	const violations = [
		...s.reasons,
		...(await checkInvariants({ base: base(), adminToken: admin, orders: settled, acceptedIds: s.clicks.flatMap(c => [...c.answeredIds]), before, after })),
		...checkClicks(s.clicks, withUsers),
		...(await checkNotifications(base(), admin, customers, settled)),
		...failureReasons(settled, s.tokens, s.outages, inOutage),
		...(await checkVoucher(base(), admin, VOUCHER, VOUCHER_USES, settled)),
		...rebuilt.violations,
	];
	// A graceful stop may leave events staged by handlers that were still running (they are sent at the next start):
	// start once more on the same files, let the relay catch up while idle, stop, and read what is left.
	await target.finish(opts.cluster ? 10_000 : 4000);
	const files = eventFileCounts(target.dataDirs());
	violations.push(...files.violations, ...checkReservationFiles(target.dataDirs(), settled));

	const by = (st: string) => [...settled.values()].filter(o => o.status === st).length;
	const seconds = Math.round((Date.now() - t0) / 1000);
	process.stdout.write(
		[
			`crashtest: ${kills} SIGKILLs of ${target.victim}${opts.cluster ? ` and ${outages} NATS outages of ${opts["outage-seconds"]} s` : ""}, ${orders.size} orders from ${s.clicks.length} checkouts (${s.retry.length} keyed retried, ${s.clicks.filter(c => c.lost).length} unkeyed lost on the client); load ${loadSeconds} s, ${seconds} s in all`,
			`orders: ${["SHIPPED", "DELIVERED", "FAILED", "CANCELLED"].map(st => `${by(st)} ${st}`).join(", ")}; failures: ${JSON.stringify(countBy([...settled.values()].map(o => o.failure_reason).filter(Boolean) as string[]))}; checkout answers >= 500: ${JSON.stringify(s.serverErrors)}${opts.cluster ? `; failed during a NATS outage: ${JSON.stringify(inOutage)}` : ""}`,
			`left in the files: ${JSON.stringify(files.counts)}`,
			`rebuild from the order streams: ${rebuilt.report ? `${rebuilt.report.checked} orders checked, ${rebuilt.report.differences.length} differences, ${rebuilt.report.without_stream} without a stream` : "not answered"}`,
			violations.length === 0 ? "invariants: all hold (0 violations)" : `invariants: ${violations.length} violations:\n  ${violations.slice(0, 200).join("\n  ")}`,
			"",
		].join("\n"),
	);
	await target.cleanup(opts["keep-data"]);
	process.exit(violations.length === 0 ? 0 : 1);
}

/** Retries every keyed checkout whose answer was lost, with the same key and body, until it is answered. */
async function retryKeyed(s: Shared, customers: Customer[]): Promise<void> {
	const owner = new Map(customers.map((c, n) => [c.id, { c, base: s.target.bases[n % s.target.bases.length] }]));
	for (const r of s.retry) {
		const { c, base } = owner.get(r.click.customer) as { c: Customer; base: string };
		for (let attempt = 0; ; attempt++) {
			const res = await request<{ order?: { id: string }; type?: string }>(base, "POST", "/api/v1/checkout", { token: c.token, body: r.body, headers: r.headers, timeoutMs: 70_000 }).catch(() => null);
			if (res && (res.status < 500 || attempt === 0)) r.click.answers?.push(`${res.status}${res.body?.type ? ` ${res.body.type}` : ""} (key ${String(r.headers["Idempotency-Key"])} sent again)`);
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
}

/**
 * failure_reason agrees with what happened: PAYMENT_ERROR for declined cards only, OUT_OF_STOCK with the scarce
 * product only, nothing technical, except for orders that failed during a NATS outage (then any reason but a wrong
 * OUT_OF_STOCK: the outage is a fault that was injected); those are counted in `inOutage`.
 */
function failureReasons(orders: Map<string, OrderView>, tokens: Map<string, string>, outages: Array<{ from: number; to: number }>, inOutage: Record<string, number>): string[] {
	const out: string[] = [];
	for (const o of orders.values()) {
		if (o.status !== "FAILED") continue;
		const token = tokens.get(o.id);
		const failedAt = Date.parse(o.history?.find(h => h.status === "COMPENSATING" || h.status === "FAILED")?.at ?? "");
		const outage = outages.some(w => failedAt >= w.from && failedAt <= w.to);
		if (o.failure_reason === "OUT_OF_STOCK" && !o.items.some(i => i.product_id === SCARCE)) out.push(`order ${o.id} failed OUT_OF_STOCK without the scarce product`);
		else if (outage && !(o.failure_reason === "PAYMENT_ERROR" && token === "card-declined") && o.failure_reason !== "OUT_OF_STOCK")
			inOutage[String(o.failure_reason)] = (inOutage[String(o.failure_reason)] ?? 0) + 1;
		else if (o.failure_reason === "PAYMENT_ERROR" && token !== undefined && token !== "card-declined") out.push(`order ${o.id} failed PAYMENT_ERROR with card ${token}`);
		else if (o.failure_reason === "VOUCHER_UNAVAILABLE" && !o.voucher) out.push(`order ${o.id} failed VOUCHER_UNAVAILABLE without a voucher`);
		else if (o.failure_reason !== "PAYMENT_ERROR" && o.failure_reason !== "OUT_OF_STOCK" && o.failure_reason !== "VOUCHER_UNAVAILABLE")
			out.push(`order ${o.id} failed ${o.failure_reason}: no fault was injected`);
	}
	return out;
}

function countBy(values: string[]): Record<string, number> {
	const out: Record<string, number> = {};
	for (const v of values) out[v] = (out[v] ?? 0) + 1;
	return out;
}

/** The target of the run, stopped (its files kept) when the tool fails or is interrupted. */
let running: CrashTarget | null = null;

/** Retries a call for up to two minutes while the shop finishes starting (a cluster's services join one by one). */
async function untilAnswered<T>(what: string, call: () => Promise<T>): Promise<T> {
	const deadline = Date.now() + 120_000;
	for (;;) {
		try {
			return await call();
		} catch (err) {
			if (Date.now() > deadline) throw err;
			log(`${what} not answered yet (${err instanceof Error ? err.message.slice(0, 120) : String(err)})`);
			await sleep(2000);
		}
	}
}

async function fail(why: string, code: number): Promise<never> {
	process.stderr.write(`crashtest ${why}\n`);
	await running?.cleanup(true).catch(() => undefined);
	if (running) process.stderr.write(`files kept in ${running.root}\n`);
	process.exit(code);
}

process.once("SIGINT", () => void fail("interrupted", 130));
main().catch(err => fail(`failed: ${err instanceof Error ? err.stack : String(err)}`, 2));
