/**
 * The load of one chaos scenario: customers with carts checking out through the gateway with the scenario's
 * behavior, `concurrency` at a time, with a progress line; optionally searches beside them (scenario 7).
 */
import { request, registerCustomer, type Customer } from "../tools/http-client";
import { collectCallChain, type CallRecord } from "../../services/common/call-chain";
import type { ChaosShop } from "./shop";
import type { Scenario } from "./scenarios";

export interface RequestOutcome {
	status: number;
	ms: number;
	startedAt: number;
	traceId: string;
	orderId: string | null;
	/** The error type of a failed request (body.type). */
	type: string | null;
	/** For a 5xx: the call chain read right after it (the buffer is bounded). */
	chain: CallRecord[] | null;
}

export interface LoadResult {
	checkouts: RequestOutcome[];
	searches: RequestOutcome[];
	seconds: number;
}

export interface LoadOptions {
	checkouts: number;
	concurrency: number;
	/** Called with a progress line now and then. */
	progress?: (line: string, final: boolean) => void;
}

const CHECKOUT_BODY = { shipping_address: "1 Chaos Street", payment_method: "card-456" };

async function outcome(shop: ChaosShop, startedAt: number, res: { status: number; ms: number; headers: Record<string, unknown>; body: unknown }): Promise<RequestOutcome> {
	const body = (res.body ?? {}) as { order?: { id?: string }; type?: string };
	const traceId = String(res.headers["x-trace-id"] ?? "");
	return {
		status: res.status,
		ms: res.ms,
		startedAt,
		traceId,
		orderId: body.order?.id ?? null,
		type: res.status >= 400 ? (body.type ?? null) : null,
		chain: res.status >= 500 && traceId ? await collectCallChain(shop.broker, traceId) : null,
	};
}

/** One customer's checkout: one or two products into the cart, then POST /checkout with the behavior. */
async function checkoutOnce(shop: ChaosShop, customer: Customer, behavior: string, n: number): Promise<RequestOutcome> {
	const product = shop.products[n % shop.products.length];
	const add = await request(shop.url, "POST", "/api/v1/cart/add", { token: customer.token, body: { product_id: product, quantity: 1 + (n % 3) } });
	if (add.status !== 200 && add.status !== 201) throw new Error(`cart add answered ${add.status}: ${JSON.stringify(add.body).slice(0, 200)}`);
	const qs = behavior ? `?behavior=${encodeURIComponent(behavior)}` : "";
	const startedAt = Date.now();
	const res = await request(shop.url, "POST", `/api/v1/checkout${qs}`, { token: customer.token, body: CHECKOUT_BODY, timeoutMs: 120_000 });
	return outcome(shop, startedAt, res as never);
}

/** Runs the scenario's checkouts (and searches) and answers every outcome. */
export async function runLoad(shop: ChaosShop, scenario: Scenario, opts: LoadOptions): Promise<LoadResult> {
	const customers: Customer[] = [];
	for (let i = 0; i < opts.concurrency; i += 5)
		customers.push(...(await Promise.all(Array.from({ length: Math.min(5, opts.concurrency - i) }, () => registerCustomer(shop.url, "chaos")))));

	const checkouts: RequestOutcome[] = [];
	const searches: RequestOutcome[] = [];
	const t0 = Date.now();
	let next = 0;
	let done = false;
	const report = (final: boolean): void => {
		const fivexx = checkouts.filter(c => c.status >= 500).length;
		const extra = scenario.searchBehavior ? `, ${searches.length} searches` : "";
		opts.progress?.(`scenario ${scenario.id}: ${checkouts.length}/${opts.checkouts} checkouts, ${fivexx} 5xx${extra}, ${((Date.now() - t0) / 1000).toFixed(1)} s`, final);
	};
	const ticker = setInterval(() => report(false), 500);

	const worker = async (customer: Customer): Promise<void> => {
		while (next < opts.checkouts) {
			const n = next++;
			checkouts.push(await checkoutOnce(shop, customer, scenario.checkoutBehavior, n));
		}
	};
	const searcher = async (): Promise<void> => {
		while (!done) {
			const startedAt = Date.now();
			const res = await request(shop.url, "GET", `/api/v1/search?q=a&behavior=${encodeURIComponent(scenario.searchBehavior ?? "")}`, { timeoutMs: 30_000 });
			searches.push(await outcome(shop, startedAt, res as never));
		}
	};
	const searchers = scenario.searchBehavior ? Array.from({ length: 5 }, () => searcher()) : [];
	try {
		await Promise.all(customers.map(worker));
	} finally {
		done = true;
		await Promise.all(searchers);
		clearInterval(ticker);
		report(true);
	}
	return { checkouts, searches, seconds: (Date.now() - t0) / 1000 };
}
