/**
 * The two load drivers of the benchmark: autocannon for single requests (open connections, each with its
 * own user token when the route needs one), and a closed loop of virtual users for checkout, each filling
 * its cart and checking out, timing the checkout request alone.
 */
import autocannon from "autocannon";
import { ensureStock, listProducts, loginAdmin, registerCustomers, request, waitForHttp, type Customer } from "./http-client";
import { LatencyRecorder } from "./stats";

export interface BenchOptions {
	durationSec: number;
	warmupSec: number;
	connections: number;
	users: number;
	quiet: boolean;
}

/** Units per product put in stock before the run, so that no checkout fails for lack of stock. */
const STOCK_PER_PRODUCT = 1_000_000;

/** Logs in as admin, retrying for up to 30 s while the gateway answers 503 (a service of the cluster not discovered yet). */
export async function loginWhenAvailable(url: string, timeoutMs = 30_000): Promise<string> {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		try {
			return await loginAdmin(url);
		} catch (err) {
			if (!String(err).includes("answered 503") || Date.now() > deadline) throw err;
		}
		await new Promise(r => setTimeout(r, 250));
	}
}

export interface PreparedShop {
	productIds: string[];
	customers: Customer[];
}

/** Stocks a few products through the admin API and registers one customer per connection. */
export async function prepareShop(urls: string[], customers: number): Promise<PreparedShop> {
	for (const url of urls) {
		await waitForHttp(url, "/api/v1/products");
		await waitForHttp(url, "/api/v1/search?q=laptop");
	}
	// A gateway may answer before it has discovered the users node (503): log in through each until it can.
	const logins = await Promise.all(urls.map(url => loginWhenAvailable(url)));
	const admin = logins[0];
	const products = await listProducts(urls[0]);
	if (products.length === 0) throw new Error("the catalog is empty: the benchmark needs the demo catalog (SEED_DEMO_DATA)");
	// 40 products: a customer's cart holds at most 100 units of one product and 50 products, and the cart/add
	// route adds one unit per request for the whole run (with 10 products, carts filled up after ~1,000 adds).
	const productIds = products.slice(0, 40).map(p => p.id);
	for (const id of productIds) await ensureStock(urls[0], admin, id, STOCK_PER_PRODUCT);
	return { productIds, customers: await registerCustomers(urls, customers) };
}

export interface RouteResult {
	route: string;
	requests: number;
	rps: number;
	p50: number;
	p95: number;
	p99: number;
	/** Non-2xx answers. */
	non2xx: number;
	/** Socket errors and timeouts. */
	socketErrors: number;
	/** A few status codes and messages of failed requests, for the report. */
	samples: string[];
	/** CPU time the shop's processes used per measured request (per order for checkout), ms. */
	cpuMsPerRequest: number | null;
}

export interface AutocannonRoute {
	route: string;
	urls: string[];
	path: string;
	method?: "GET" | "POST";
	/** One per connection, round-robin: the Bearer token each connection sends. */
	customers?: Customer[];
	/** The JSON body of the n-th request of a connection. */
	body?: (n: number) => unknown;
	durationSec: number;
	connections: number;
	warmupSec?: number;
	/** CPU time used so far by the processes under test, ms. */
	cpuMs?: () => number;
}

function runOnce(route: AutocannonRoute, durationSec: number, latencies: LatencyRecorder | null): Promise<autocannon.Result> {
	let clientIndex = 0;
	const setupClient = (client: autocannon.Client): void => {
		const customer = route.customers?.[clientIndex++ % route.customers.length];
		const headers: Record<string, string> = { "content-type": "application/json" };
		if (customer) headers.authorization = `Bearer ${customer.token}`;
		let n = 0;
		const body = route.body;
		client.setRequests([
			{
				method: route.method ?? "GET",
				path: route.path,
				headers,
				...(body ? { setupRequest: (req: autocannon.Request) => ({ ...req, body: JSON.stringify(body(n++)) }) } : {}),
			},
		]);
	};
	return new Promise((resolve, reject) => {
		const instance = autocannon(
			{
				url: (route.urls.length === 1 ? route.urls[0] : route.urls) as string,
				connections: route.connections,
				duration: durationSec,
				timeout: 10,
				setupClient,
			},
			(err, result) => (err ? reject(err) : resolve(result)),
		);
		if (latencies) instance.on("response", (_client, _status, _bytes, time: number) => latencies.add(time));
	});
}

/** Runs one route under autocannon (after a short warm-up that is not counted). */
export async function runAutocannon(route: AutocannonRoute): Promise<RouteResult> {
	if (route.warmupSec) await runOnce(route, route.warmupSec, null);
	const latencies = new LatencyRecorder();
	const cpuBefore = route.cpuMs?.() ?? 0;
	const r = await runOnce(route, route.durationSec, latencies);
	const cpuUsed = (route.cpuMs?.() ?? 0) - cpuBefore;
	const samples = Object.entries(r.statusCodeStats ?? {})
		.filter(([code]) => !code.startsWith("2"))
		.map(([code, s]) => `${code} x${s.count ?? 0}`);
	return {
		route: route.route,
		requests: r.requests.total,
		rps: r.requests.total / r.duration,
		p50: latencies.percentile(50),
		p95: latencies.percentile(95),
		p99: latencies.percentile(99),
		non2xx: r.non2xx,
		socketErrors: r.errors,
		samples,
		cpuMsPerRequest: route.cpuMs && r.requests.total > 0 ? cpuUsed / r.requests.total : null,
	};
}

export interface CheckoutLoop {
	urls: string[];
	customers: Customer[];
	productIds: string[];
	durationSec: number;
	warmupSec: number;
	/** Extra headers of every request (X-Behavior). */
	headers?: Record<string, string>;
	/** CPU time used so far by the processes under test, ms. */
	cpuMs?: () => number;
	/** A voucher code applied to the cart (POST /cart/voucher, not timed) before every checkout. */
	voucher?: string;
}

/** The route name of the checkout run with a voucher. */
export const CHECKOUT_WITH_VOUCHER = "POST /checkout with a voucher";

/** Creates (or finds) a percent voucher without use limits for the benchmark's checkouts. */
export async function ensureBenchVoucher(url: string, code: string): Promise<string> {
	const admin = await loginAdmin(url);
	const res = await request(url, "POST", "/api/v1/admin/vouchers", { token: admin, body: { code, type: "percent", value: 10 } });
	if (res.status !== 201 && res.status !== 409) throw new Error(`could not create the benchmark's voucher: ${res.status} ${JSON.stringify(res.body)}`);
	return code;
}

export interface CheckoutResult extends RouteResult {
	/** Latency of the cart/add that precedes each checkout (not part of the checkout numbers). */
	addP50: number;
	orderIds: string[];
}

/** N virtual users (one per customer), each looping cart/add then checkout until the time is up. */
export async function runCheckoutLoop(opts: CheckoutLoop): Promise<CheckoutResult> {
	const latencies = new LatencyRecorder();
	const addLatencies = new LatencyRecorder();
	const orderIds: string[] = [];
	const samples = new Map<string, number>();
	let ok = 0;
	let non2xx = 0;
	let socketErrors = 0;
	let measuring = opts.warmupSec <= 0;
	const start = performance.now();
	const measureFrom = start + opts.warmupSec * 1000;
	const end = measureFrom + opts.durationSec * 1000;
	const note = (key: string) => samples.set(key, (samples.get(key) ?? 0) + 1);
	let cpuAtStart = opts.cpuMs?.() ?? 0;
	let cpuAtEnd = 0;
	const startTimer = setTimeout(() => (cpuAtStart = opts.cpuMs?.() ?? 0), opts.warmupSec * 1000);
	const endTimer = setTimeout(() => (cpuAtEnd = opts.cpuMs?.() ?? 0), (opts.warmupSec + opts.durationSec) * 1000);

	const user = async (customer: Customer, index: number): Promise<void> => {
		const base = opts.urls[index % opts.urls.length];
		let n = index;
		while (performance.now() < end) {
			const product_id = opts.productIds[n++ % opts.productIds.length];
			try {
				const add = await request(base, "POST", "/api/v1/cart/add", { token: customer.token, body: { product_id, quantity: 1 }, headers: opts.headers });
				if (add.status !== 200 && add.status !== 201) {
					if (measuring) note(`cart/add ${add.status} ${errorType(add.body)}`);
					await pause(50);
					continue;
				}
				if (measuring) addLatencies.add(add.ms);
				if (opts.voucher) {
					const applied = await request(base, "POST", "/api/v1/cart/voucher", { token: customer.token, body: { code: opts.voucher }, headers: opts.headers });
					if (applied.status !== 200) {
						if (measuring) note(`cart/voucher ${applied.status} ${errorType(applied.body)}`);
						await pause(50);
						continue;
					}
				}
				const res = await request<{ order?: { id: string } }>(base, "POST", "/api/v1/checkout", {
					token: customer.token,
					body: { shipping_address: { street: "1 Bench Street", city: "Loadtown", postal_code: "12345", country: "US" }, payment_method: "card-456" },
					headers: opts.headers,
				});
				const now = performance.now();
				if (!measuring && now >= measureFrom) measuring = true;
				if (!measuring || now > end) continue;
				latencies.add(res.ms);
				if (res.status === 201) {
					ok++;
					if (res.body.order?.id) orderIds.push(res.body.order.id);
				} else {
					non2xx++;
					note(`checkout ${res.status} ${errorType(res.body)}`);
				}
			} catch (err) {
				if (measuring) {
					socketErrors++;
					note(err instanceof Error ? err.message : String(err));
				}
				await pause(50);
			}
		}
	};
	await Promise.all(opts.customers.map((c, i) => user(c, i)));
	clearTimeout(startTimer);
	clearTimeout(endTimer);
	if (!cpuAtEnd) cpuAtEnd = opts.cpuMs?.() ?? 0;
	const elapsed = Math.max(0.001, Math.min(performance.now(), end) - measureFrom) / 1000;
	return {
		route: opts.voucher ? CHECKOUT_WITH_VOUCHER : "POST /checkout",
		requests: latencies.count,
		rps: ok / elapsed,
		p50: latencies.percentile(50),
		p95: latencies.percentile(95),
		p99: latencies.percentile(99),
		non2xx,
		socketErrors,
		samples: [...samples].map(([k, v]) => `${k} x${v}`),
		cpuMsPerRequest: opts.cpuMs && ok > 0 ? (cpuAtEnd - cpuAtStart) / ok : null,
		addP50: addLatencies.percentile(50),
		orderIds,
	};
}

function errorType(body: unknown): string {
	const b = body as { type?: string; message?: string } | null;
	return b?.type ?? b?.message?.slice(0, 60) ?? "";
}

function pause(ms: number): Promise<void> {
	return new Promise(r => setTimeout(r, ms));
}
