/**
 * The console's chaos playground: one of the seed's eight scenarios (services/common/chaos-scenarios.ts) for N
 * checkouts, placed as real checkouts by customers of its own (registered for the run) through checkout.start and
 * the saga, with the scenario's behavior in their meta as the gateway would put it there. Each outcome goes to the
 * consoles as it comes; once the orders settle the invariants are checked (services/common/chaos-invariants.ts)
 * and reported one by one. One run at a time per gateway; the guard (admins, CHAOS_ENABLED, bounds) is the
 * action's (ops-actions.ts).
 */
import { randomBytes } from "node:crypto";
import type { ServiceBroker } from "moleculer";
import { parseBehavior } from "../common/behavior";
import type { Scenario } from "../common/chaos-scenarios";
import { moneyViolations, rebuildViolations, settlementViolations, SETTLED_STATUSES, shippedUnits, stockViolations, type InvariantOrder, type InvariantPayments, type RebuildReport, type StockCount } from "../common/chaos-invariants";
import type { AuthUser } from "../common/meta";
import type { CheckoutAnswer, OpsFeed } from "./ops-feed";

export interface ChaosOutcome {
	n: number;
	order_id: string | null;
	status: string;
	failure_reason: string | null;
	/** HTTP status the gateway would have answered. */
	code: number;
	duration: number;
	trace_id: string | null;
	compensated: boolean;
	/** The error type of a checkout that placed no order. */
	error: string | null;
}

export type InvariantName = "orders settle" | "one charge per order" | "money nets to zero for failed orders" | "stock conserved" | "orders rebuild from their streams";
export interface InvariantResult {
	name: InvariantName;
	status: "pending" | "holds" | "violated";
	violations: string[];
}

export interface ChaosRunView {
	id: string;
	scenario: Scenario;
	checkouts: number;
	concurrency: number;
	status: "running" | "settling" | "checking" | "done" | "failed";
	started_at: string;
	finished_at: string | null;
	outcomes: ChaosOutcome[];
	searches: { total: number; failed: number; p95_ms: number | null };
	invariants: InvariantResult[];
	/** Why the run stopped early, when it did. */
	error: string | null;
}

export interface ChaosRunOptions {
	scenario: Scenario;
	checkouts: number;
	concurrency: number;
	/** The admin who started the run (reads stock and payments as them). */
	admin: AuthUser;
	/** How long the orders get to settle after the last checkout. */
	settleMs?: number;
}

const INVARIANTS: InvariantName[] = ["orders settle", "one charge per order", "money nets to zero for failed orders", "stock conserved", "orders rebuild from their streams"];
const PRODUCTS = 3;
const CALL_TIMEOUT = 70_000;
const sleep = (ms: number): Promise<void> => new Promise(r => setTimeout(r, ms));

/** The HTTP status a checkout answer carries (checkout.start sets it in meta, which a broker call does not return). */
export function answerCode(body: CheckoutAnswer): number {
	const status = body.order?.status;
	if (status === "SHIPPED" || status === "DELIVERED") return 201;
	if (status !== "FAILED") return 202;
	const reason = body.order?.failure_reason;
	return reason === "PAYMENT_ERROR" ? 402 : reason === "OUT_OF_STOCK" ? 409 : reason === "VOUCHER_UNAVAILABLE" ? 409 : 503;
}

function p95(values: number[]): number | null {
	if (values.length === 0) return null;
	const sorted = [...values].sort((a, b) => a - b);
	return Math.round(sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.95) - 1)]);
}

export class ChaosRun {
	readonly view: ChaosRunView;
	private customers: AuthUser[] = [];
	private products: string[] = [];
	private before = new Map<string, StockCount>();
	private searchTimes: number[] = [];
	private aborted = false;

	constructor(
		private readonly broker: ServiceBroker,
		private readonly feed: OpsFeed,
		private readonly opts: ChaosRunOptions,
	) {
		this.view = {
			id: `chaos_${Date.now().toString(36)}${randomBytes(3).toString("hex")}`,
			scenario: opts.scenario,
			checkouts: opts.checkouts,
			concurrency: opts.concurrency,
			status: "running",
			started_at: new Date().toISOString(),
			finished_at: null,
			outcomes: [],
			searches: { total: 0, failed: 0, p95_ms: null },
			invariants: INVARIANTS.map(name => ({ name, status: "pending", violations: [] })),
			error: null,
		};
	}

	/** Runs the scenario to its end; never throws (a failure is the run's `error`). */
	async run(): Promise<ChaosRunView> {
		try {
			await this.prepare();
			await this.load();
			this.setStatus("settling");
			const orders = await this.settle(this.opts.settleMs ?? 60_000);
			if (this.aborted) throw new Error("the gateway stopped during the run");
			this.setStatus("checking");
			await this.check(orders);
			this.view.status = "done";
		} catch (err) {
			this.view.status = "failed";
			this.view.error = err instanceof Error ? err.message : String(err);
		}
		this.view.finished_at = new Date().toISOString();
		this.announce();
		return this.view;
	}

	/** Stops placing checkouts (the gateway is stopping); the run ends as failed. */
	abort(): void {
		this.aborted = true;
	}

	private announce(): void {
		this.feed.send("chaos", this.view);
	}

	private setStatus(status: ChaosRunView["status"]): void {
		this.view.status = status;
		this.announce();
	}

	private adminCall<T>(action: string, params: object): Promise<T> {
		return this.broker.call(action, params, { meta: { user: this.opts.admin }, timeout: CALL_TIMEOUT }) as Promise<T>;
	}

	/** The run's own customers, and the products it buys with enough stock for every checkout. */
	private async prepare(): Promise<void> {
		const { rows } = await this.adminCall<{ rows: Array<{ id: string }> }>("products.list", { page: 1, page_size: 20 });
		this.products = rows.slice(0, PRODUCTS).map(p => p.id);
		if (this.products.length === 0) throw new Error("the catalog is empty: the playground needs products to buy");
		const needed = this.opts.checkouts * 2;
		for (const id of this.products) {
			const levels = await this.adminCall<{ available: number; warehouses: Array<{ warehouse_id: string }> }>("inventory.levels", { product_id: id });
			if (levels.available < needed)
				await this.adminCall("inventory.restock", { product_id: id, warehouse_id: levels.warehouses[0]?.warehouse_id ?? "main", quantity: needed - levels.available });
		}
		for (const id of this.products) {
			const l = await this.adminCall<StockCount>("inventory.levels", { product_id: id });
			this.before.set(id, { on_hand: l.on_hand, reserved: l.reserved });
		}
		const count = Math.min(this.opts.concurrency, this.opts.checkouts);
		this.customers = await Promise.all(
			Array.from({ length: count }, async (_, i) => {
				const res = (await this.broker.call(
					"users.register",
					{ email: `${this.view.id}-${i}@playground.shopflow.local`, password: randomBytes(18).toString("base64url"), name: `Chaos playground ${i + 1}` },
					{ timeout: 30_000 },
				)) as { user: AuthUser };
				return { id: res.user.id, email: res.user.email, name: res.user.name, role: "customer" as const };
			}),
		);
	}

	/** The checkouts, `concurrency` customers at a time (one cart each), and searches beside them for scenario 7. */
	private async load(): Promise<void> {
		const behavior = this.opts.scenario.checkoutBehavior ? parseBehavior(this.opts.scenario.checkoutBehavior) : undefined;
		let next = 0;
		let done = false;
		const worker = async (user: AuthUser): Promise<void> => {
			while (next < this.opts.checkouts) {
				if (this.aborted) throw new Error("the gateway stopped during the run");
				const n = next++;
				this.view.outcomes.push(await this.checkoutOnce(user, n, behavior));
				this.announce();
			}
		};
		const searchBehavior = this.opts.scenario.searchBehavior ? parseBehavior(this.opts.scenario.searchBehavior) : null;
		const searcher = async (): Promise<void> => {
			while (!done && searchBehavior) {
				const t0 = Date.now();
				try {
					await this.broker.call("search.query", { q: "a" }, { meta: { behavior: searchBehavior }, timeout: 30_000 });
				} catch {
					this.view.searches.failed++;
				}
				this.view.searches.total++;
				this.searchTimes.push(Date.now() - t0);
				this.view.searches.p95_ms = p95(this.searchTimes);
			}
		};
		const searchers = searchBehavior ? [searcher(), searcher()] : [];
		try {
			await Promise.all(this.customers.map(worker));
		} finally {
			done = true;
			await Promise.all(searchers);
		}
	}

	/** One checkout: a product into the customer's cart, then checkout.start with the scenario's behavior. */
	private async checkoutOnce(user: AuthUser, n: number, behavior: unknown): Promise<ChaosOutcome> {
		const product = this.products[n % this.products.length];
		const t0 = Date.now();
		try {
			await this.broker.call("cart.add", { product_id: product, quantity: 1 + (n % 2) }, { meta: { user }, timeout: CALL_TIMEOUT });
			const body = (await this.broker.call(
				"checkout.start",
				{ shipping_address: "1 Chaos Street, Testville", payment_method: "card-456" },
				{ meta: { user, behavior, headers: { "idempotency-key": `${this.view.id}-${n}` } }, timeout: CALL_TIMEOUT },
			)) as CheckoutAnswer;
			const code = answerCode(body);
			const recorded = this.feed.recordCheckout(code, body, this.view.id);
			return {
				n,
				order_id: body.order?.id ?? null,
				status: body.order?.status ?? "UNKNOWN",
				failure_reason: body.order?.failure_reason ?? null,
				code,
				duration: Math.round(body.duration ?? Date.now() - t0),
				trace_id: body.trace_id ?? null,
				compensated: recorded?.compensated ?? false,
				error: null,
			};
		} catch (err) {
			const e = err as { code?: number; type?: string; message?: string };
			// Without an order the cart still holds the items: empty it, so the next checkout buys one line.
			await this.broker.call("cart.clear", {}, { meta: { user } }).catch(() => undefined);
			return { n, order_id: null, status: "NO_ORDER", failure_reason: null, code: typeof e.code === "number" ? e.code : 500, duration: Date.now() - t0, trace_id: null, compensated: false, error: e.type ?? e.message ?? "ERROR" };
		}
	}

	/** The run's orders once every one of them settled (or the time is up). */
	private async settle(timeoutMs: number): Promise<InvariantOrder[]> {
		const deadline = Date.now() + timeoutMs;
		for (;;) {
			const lists = await Promise.all(
				this.customers.map(c => this.broker.call("orders.find", { user_id: c.id, limit: 1000 }, { timeout: CALL_TIMEOUT }) as Promise<{ rows: InvariantOrder[] }>),
			);
			const orders = lists.flatMap(l => l.rows);
			if (orders.every(o => SETTLED_STATUSES.has(o.status)) || Date.now() > deadline || this.aborted) return orders;
			await sleep(500);
		}
	}

	/** The invariants, each reported as soon as it is known; stock is read again for a few seconds while it disagrees. */
	private async check(orders: InvariantOrder[]): Promise<void> {
		const result = (name: InvariantName, violations: string[]): void => {
			const r = this.view.invariants.find(i => i.name === name);
			if (r) Object.assign(r, { status: violations.length === 0 ? "holds" : "violated", violations: violations.slice(0, 20) });
			this.announce();
		};
		result("orders settle", orders.flatMap(settlementViolations));

		const payments = await Promise.all(orders.map(o => this.adminCall<InvariantPayments>("payments.listByOrder", { order_id: o.id })));
		const money = orders.map((o, i) => moneyViolations(o, payments[i]));
		result("one charge per order", money.flat().filter(v => / was charged \d+ times$/.test(v)));
		result(
			"money nets to zero for failed orders",
			money.flat().filter(v => !/ was charged \d+ times$/.test(v)),
		);

		// Shipping commits the stock as the parcel leaves; give the last commits a moment.
		let stock: string[] = [];
		for (let attempt = 0; attempt < 10; attempt++) {
			const after = new Map<string, StockCount>();
			for (const id of this.products) after.set(id, await this.adminCall<StockCount>("inventory.levels", { product_id: id }));
			stock = stockViolations(this.before, after, shippedUnits(orders));
			if (stock.length === 0) break;
			await sleep(500);
		}
		result("stock conserved", stock);

		// Each of the run's orders, folded from its event stream, is the stored order.
		const rebuilt = await Promise.all(orders.map(o => this.adminCall<RebuildReport>("orders.rebuild", { id: o.id })));
		result("orders rebuild from their streams", rebuilt.flatMap(rebuildViolations));
	}
}
