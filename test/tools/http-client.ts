/**
 * A small JSON client over a keep-alive http.Agent for the benchmark and the load generator, plus the shop
 * calls they share (register, admin login, stock).
 */
import http from "node:http";

const agent = new http.Agent({ keepAlive: true, maxSockets: 512 });

export interface JsonResponse<T = Record<string, unknown>> {
	status: number;
	body: T;
	/** Round trip in milliseconds, from sending the request to the end of the body. */
	ms: number;
	headers: http.IncomingHttpHeaders;
}

export interface RequestOptions {
	body?: unknown;
	token?: string;
	headers?: Record<string, string>;
	timeoutMs?: number;
}

/**
 * One request; network errors reject, every HTTP status resolves. A read sent on a kept-alive socket that the
 * server closed at that moment (its keep-alive timeout) is sent again once on a new socket, as Node's docs advise;
 * a write is never repeated.
 */
export async function request<T = Record<string, unknown>>(base: string, method: string, path: string, opts: RequestOptions = {}): Promise<JsonResponse<T>> {
	try {
		return await requestOnce<T>(base, method, path, opts);
	} catch (err) {
		if (!(err instanceof StaleSocketError) || (method !== "GET" && method !== "HEAD")) throw err instanceof StaleSocketError ? err.cause : err;
		return requestOnce<T>(base, method, path, opts);
	}
}

/** A request that failed on a reused keep-alive socket before any answer (ECONNRESET, "socket hang up"). */
class StaleSocketError extends Error {}

function requestOnce<T>(base: string, method: string, path: string, opts: RequestOptions): Promise<JsonResponse<T>> {
	const url = new URL(path, base);
	const payload = opts.body === undefined ? undefined : JSON.stringify(opts.body);
	const headers: Record<string, string> = { accept: "application/json", ...opts.headers };
	if (payload !== undefined) {
		headers["content-type"] = "application/json";
		headers["content-length"] = String(Buffer.byteLength(payload));
	}
	if (opts.token) headers.authorization = `Bearer ${opts.token}`;
	const started = performance.now();
	return new Promise((resolve, reject) => {
		let answered = false;
		const req = http.request(
			{ agent, hostname: url.hostname, port: url.port, path: url.pathname + url.search, method, headers, timeout: opts.timeoutMs ?? 30_000 },
			res => {
				answered = true;
				const chunks: Buffer[] = [];
				res.on("data", (c: Buffer) => chunks.push(c));
				res.on("end", () => {
					const text = Buffer.concat(chunks).toString("utf8");
					let body: unknown = text;
					try {
						body = text ? JSON.parse(text) : null;
					} catch {
						/* not JSON */
					}
					resolve({ status: res.statusCode ?? 0, body: body as T, ms: performance.now() - started, headers: res.headers });
				});
				res.on("error", reject);
			},
		);
		req.on("timeout", () => req.destroy(new Error(`${method} ${path} timed out`)));
		req.on("error", (err: NodeJS.ErrnoException) => {
			// Tells a reset of a kept-alive connection from a reset of a new one (the server closed its listener under it).
			Object.assign(err, { reusedSocket: req.reusedSocket });
			const stale = req.reusedSocket && !answered && (err.code === "ECONNRESET" || err.message === "socket hang up");
			reject(stale ? new StaleSocketError(err.message, { cause: err }) : err);
		});
		if (payload !== undefined) req.write(payload);
		req.end();
	});
}

/** Like request, but throws unless the status is the expected one. */
export async function expectStatus<T = Record<string, unknown>>(
	expected: number | number[],
	base: string,
	method: string,
	path: string,
	opts: RequestOptions = {},
): Promise<JsonResponse<T>> {
	const res = await request<T>(base, method, path, opts);
	const ok = Array.isArray(expected) ? expected.includes(res.status) : res.status === expected;
	if (!ok) throw new Error(`${method} ${path} answered ${res.status}: ${JSON.stringify(res.body).slice(0, 300)}`);
	return res;
}

export interface Customer {
	email: string;
	token: string;
	id: string;
}

/** Registers a new customer with a unique email. */
export async function registerCustomer(base: string, label = "bench"): Promise<Customer> {
	const email = `${label}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}@example.com`;
	const res = await expectStatus<{ token: string; user: { id: string } }>(201, base, "POST", "/api/v1/users/register", {
		body: { email, password: "load-test-password", name: "Load Test" },
	});
	return { email, token: res.body.token, id: res.body.user.id };
}

/** Registers `count` customers, a few at a time (the password hash is deliberately slow). */
export async function registerCustomers(bases: string[], count: number, label = "bench"): Promise<Customer[]> {
	const out: Customer[] = [];
	for (let i = 0; i < count; i += 8) {
		const batch = Array.from({ length: Math.min(8, count - i) }, (_, j) => registerCustomer(bases[(i + j) % bases.length], label));
		out.push(...(await Promise.all(batch)));
	}
	return out;
}

export interface AdminCredentials {
	email: string;
	password: string;
}

/** The admin account that the users service creates at start (ADMIN_EMAIL / ADMIN_PASSWORD, else the defaults). */
export function adminCredentials(env: NodeJS.ProcessEnv = process.env): AdminCredentials {
	return { email: env.ADMIN_EMAIL ?? "admin@shopflow.local", password: env.ADMIN_PASSWORD ?? "admin-password" };
}

/** Logs in as admin and returns the token. */
export async function loginAdmin(base: string, creds: AdminCredentials = adminCredentials()): Promise<string> {
	const res = await expectStatus<{ token: string }>(200, base, "POST", "/api/v1/users/login", { body: creds });
	return res.body.token;
}

export interface StockLevels {
	product_id: string;
	on_hand: number;
	reserved: number;
	available: number;
	warehouses: Array<{ warehouse_id: string; on_hand: number; reserved: number; available: number }>;
}

/** A product's stock (admin). */
export async function stockLevels(base: string, adminToken: string, productId: string): Promise<StockLevels> {
	const res = await expectStatus<StockLevels>(200, base, "GET", `/api/v1/inventory/${encodeURIComponent(productId)}`, { token: adminToken });
	return res.body;
}

/** Tops a product up so that at least `available` units can be sold, in its first warehouse (or "main"). */
export async function ensureStock(base: string, adminToken: string, productId: string, available: number): Promise<StockLevels> {
	const levels = await stockLevels(base, adminToken, productId);
	if (levels.available >= available) return levels;
	const warehouse = levels.warehouses[0]?.warehouse_id ?? "main";
	// One restock adds at most a million units.
	for (let missing = available - levels.available; missing > 0; missing -= 1_000_000)
		await expectStatus([200, 201], base, "POST", `/api/v1/inventory/${encodeURIComponent(productId)}/restock`, {
			token: adminToken,
			body: { warehouse_id: warehouse, quantity: Math.min(missing, 1_000_000) },
		});
	return stockLevels(base, adminToken, productId);
}

export interface ProductRow {
	id: string;
	name: string;
	price: number;
	availability?: { available: number; in_stock: boolean };
}

/** Every product of the catalog (all pages). */
export async function listProducts(base: string): Promise<ProductRow[]> {
	const out: ProductRow[] = [];
	for (let page = 1; page < 100; page++) {
		const res = await expectStatus<{ rows: ProductRow[]; total_pages: number }>(200, base, "GET", `/api/v1/products?page=${page}&page_size=100`);
		out.push(...res.body.rows);
		if (page >= res.body.total_pages) break;
	}
	return out;
}

/** Waits until GET <base><path> answers 200, or throws after the timeout. */
export async function waitForHttp(base: string, path: string, timeoutMs = 60_000): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		try {
			const res = await request(base, "GET", path, { timeoutMs: 2000 });
			if (res.status === 200) return;
		} catch {
			/* not listening yet */
		}
		if (Date.now() > deadline) throw new Error(`${base}${path} did not answer 200 within ${timeoutMs / 1000} s`);
		await new Promise(r => setTimeout(r, 250));
	}
}
