/**
 * A fuzz test of every write route through the real gateway (fast-check): generated wrong types, nulls, huge and
 * empty values, unknown fields and bad encodings. Whatever comes in, the shop answers below 500, a refused write
 * leaves the caller's data as it was, and another customer's data and an untouched product never change.
 * Runs are bounded (a few per route) so that the whole file stays within seconds.
 */
import { gzipSync } from "node:zlib";
import fc from "fast-check";
import { http, loginAdmin, registerCustomer, startShop, type Shop } from "../helpers/shop";
import { eventually } from "../helpers/eventually";

/** Runs per route; the routes that hash a password (register, login, profile) get fewer. */
const RUNS = 12;
const SLOW_RUNS = 4;
const TARGET = "fuzz-target";
const SENTINEL = "pixel-8a";

type Who = "user" | "admin" | "none" | "bad-token";
interface RouteSpec {
	method: string;
	/** Path under /api/v1, with `:x` params filled from the generated path values. */
	path: string;
	who: Who;
	body: fc.Arbitrary<Record<string, unknown>>;
	runs?: number;
}

const HUGE = "x".repeat(20_000);
/** Values of the wrong kind for any field. */
const junk: fc.Arbitrary<unknown> = fc.oneof(
	{ arbitrary: fc.constant(null), weight: 4 },
	{ arbitrary: fc.constantFrom(true, false, 0, -1, 1.5, 1e308, -1e308, Number.MAX_SAFE_INTEGER + 2, "", " ", HUGE, "\u0000", "💥", "__proto__", [], {}, [null], [3], "7", "1e3"), weight: 4 },
	fc.string({ maxLength: 30 }),
	fc.integer(),
	fc.double({ noNaN: true, noDefaultInfinity: true }),
	fc.array(fc.oneof(fc.string({ maxLength: 5 }), fc.integer(), fc.constant(null)), { maxLength: 3 }),
	fc.dictionary(fc.string({ maxLength: 8 }), fc.oneof(fc.string({ maxLength: 5 }), fc.integer()), { maxKeys: 3 }),
);
/**
 * A body: a valid one (each field present or not), then up to two fields made wrong and an unknown field added
 * (names such as __proto__ and constructor included), so that most requests get past all but the broken field.
 */
function body(fields: Record<string, fc.Arbitrary<unknown>>): fc.Arbitrary<Record<string, unknown>> {
	const keys = Object.keys(fields);
	const valid = fc.record(fields, { requiredKeys: [] }) as fc.Arbitrary<Record<string, unknown>>;
	const broken = keys.length ? fc.dictionary(fc.constantFrom(...keys), junk, { maxKeys: 2 }) : fc.constant({});
	const unknown = fc.dictionary(fc.oneof(fc.constantFrom("__proto__", "constructor", "id", "role", "user_id", "$$strict"), fc.string({ maxLength: 10 })), junk, { maxKeys: 1 });
	return fc.tuple(valid, broken, unknown).map(([v, b, u]) => {
		const out: Record<string, unknown> = {};
		// defineProperty: a key named __proto__ becomes a plain field of the JSON body, as a client would send it.
		for (const [key, value] of Object.entries(u)) Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
		return Object.assign(out, v, b);
	});
}
/** Path parameters: a real id of the caller (or of the victim, or of the fuzz product), or junk. */
const idOf = (...real: Array<() => string>): fc.Arbitrary<string> =>
	fc.oneof(
		...real.map(r => ({ arbitrary: fc.constant(0).map(() => r()), weight: 3 })),
		{ arbitrary: fc.constantFrom("", " ", "..", "%", "%E0%A4%A", "%00", "a/b", "x".repeat(500), "__proto__", "constructor"), weight: 1 },
		{ arbitrary: fc.string({ minLength: 1, maxLength: 20 }), weight: 1 },
	);

describe("fuzzing every write route through the gateway", () => {
	let shop: Shop;
	let admin: string;
	let user: { token: string; id: string; email: string };
	let victim: { token: string; id: string };
	const ids = { userAddress: "", victimAddress: "", userCard: "", victimCard: "", victimOrder: "", victimShipment: "" };

	const tokenFor = (who: Who): string | undefined =>
		who === "user" ? user.token : who === "admin" ? admin : who === "bad-token" ? `${"e".repeat(30)}.x.y` : undefined;
	const get = async (p: string, token: string): Promise<unknown> => (await http(shop.url, "GET", `/api/v1${p}`, { token })).body;
	/** Everything a customer's writes can change, as the customer reads it. */
	const customerState = (token: string): Promise<unknown[]> =>
		Promise.all(["/account/profile", "/account/addresses", "/account/payment-methods", "/cart", "/orders"].map(p => get(p, token)));
	/** What an admin's catalog writes can change: the fuzz product and its stock, the sentinel and its stock. */
	const catalogState = (): Promise<unknown[]> =>
		Promise.all([`/products/${TARGET}`, `/inventory/${TARGET}`, `/products/${SENTINEL}`, `/inventory/${SENTINEL}`].map(p => get(p, admin)));
	const untouchedState = async (): Promise<unknown[]> => [await customerState(victim.token), await get(`/products/${SENTINEL}`, admin), await get(`/inventory/${SENTINEL}`, admin)];

	beforeAll(async () => {
		shop = await startShop(
			["api", "users", "products", "search", "inventory", "reviews", "cart", "checkout", "orders", "payments", "shipping", "notifications"],
			{ NAMESPACE: `t-fuzz-${Date.now()}-${Math.random()}`, RATE_LIMIT_PER_MINUTE: "10000000" },
		);
		await shop.broker.call("products.seedDemo", {});
		admin = await loginAdmin(shop.url, shop.config);
		user = await registerCustomer(shop.url);
		victim = await registerCustomer(shop.url);
		const post = async (p: string, b: unknown, token: string): Promise<Record<string, unknown>> => {
			const res = await http(shop.url, "POST", `/api/v1${p}`, { body: b, token });
			if (res.status >= 300) throw new Error(`${p}: ${res.status} ${JSON.stringify(res.body)}`);
			return res.body;
		};
		await post("/products", { id: TARGET, name: "Fuzz Target", brand: "Acme", category: "gadgets", price: 10 }, admin);
		await post(`/inventory/${TARGET}/restock`, { warehouse_id: "main", quantity: 1000 }, admin);
		for (const [who, token] of [["user", user.token], ["victim", victim.token]] as const) {
			ids[`${who}Address`] = (await post("/account/addresses", { street: "1 Main St", city: "Springfield" }, token)).id as string;
			ids[`${who}Card`] = (await post("/account/payment-methods", { token: "card-456", brand: "visa", last4: "4242" }, token)).id as string;
		}
		await post("/cart/add", { product_id: "laptop-123", quantity: 1 }, victim.token);
		const placed = await post("/checkout", { shipping_address: ids.victimAddress, payment_method: ids.victimCard }, victim.token);
		ids.victimOrder = (placed.order as { id: string }).id;
		await eventually(async () => {
			const order = (await get(`/orders/${ids.victimOrder}`, victim.token)) as { status: string; shipment_id: string | null };
			expect(order.status).toBe("SHIPPED");
			ids.victimShipment = order.shipment_id ?? "";
		}, 10_000);
		await post("/cart/add", { product_id: SENTINEL, quantity: 1 }, victim.token);
		await post("/cart/add", { product_id: TARGET, quantity: 1 }, user.token);
	}, 60_000);
	afterAll(() => shop.stop());

	// The valid side of each field is valid, so that a request fails (if at all) on the field made wrong.
	const text = (max: number) => fc.string({ minLength: 1, maxLength: max }).filter(t => t.trim() !== "");
	const productId = fc.constantFrom(TARGET, "laptop-123", "no-such-product");
	const product = {
		name: text(20),
		brand: fc.constantFrom("Acme", "Zed"),
		category: fc.constantFrom("gadgets", "Smart Home"),
		price: fc.integer({ min: 1, max: 99_999 }).map(c => c / 100),
		description: fc.string({ maxLength: 20 }),
		currency: fc.constantFrom("USD", "eur"),
		image_url: fc.constant("https://example.com/p.jpg"),
		tags: fc.array(text(5), { maxLength: 3 }),
	};
	const street = { street: text(30), city: text(20) };
	const routes: Record<string, RouteSpec> = {
		register: { method: "POST", path: "/users/register", who: "none", runs: SLOW_RUNS, body: body({ email: fc.emailAddress(), password: fc.string({ minLength: 8, maxLength: 20 }), name: text(20) }) },
		login: { method: "POST", path: "/users/login", who: "none", runs: SLOW_RUNS, body: body({ email: fc.constantFrom("nobody@example.com"), password: fc.string({ minLength: 1, maxLength: 20 }) }) },
		profile: { method: "PUT", path: "/account/profile", who: "user", runs: SLOW_RUNS, body: body({ name: text(20), notification_channel: fc.constantFrom("email", "sms"), current_password: text(10), password: fc.string({ minLength: 8, maxLength: 12 }) }) },
		addAddress: { method: "POST", path: "/account/addresses", who: "user", body: body({ ...street, label: text(10), postal_code: text(10), country: fc.constantFrom("US", "Germany") }) },
		updateAddress: { method: "PUT", path: "/account/addresses/:address", who: "user", body: body({ ...street, label: text(10), country: fc.constantFrom("US") }) },
		removeAddress: { method: "DELETE", path: "/account/addresses/:address", who: "user", body: body({}) },
		addPaymentMethod: { method: "POST", path: "/account/payment-methods", who: "user", body: body({ token: fc.constantFrom("card-456", "4111111111111111"), brand: fc.constantFrom("visa"), last4: fc.constantFrom("4242") }) },
		removePaymentMethod: { method: "DELETE", path: "/account/payment-methods/:card", who: "user", body: body({}) },
		cartAdd: { method: "POST", path: "/cart/add", who: "user", body: body({ product_id: productId, quantity: fc.integer({ min: 1, max: 3 }) }) },
		cartUpdate: { method: "PUT", path: "/cart/items/:product", who: "user", body: body({ quantity: fc.integer({ min: 0, max: 3 }) }) },
		cartRemove: { method: "DELETE", path: "/cart/items/:product", who: "user", body: body({}) },
		cartClear: { method: "DELETE", path: "/cart", who: "bad-token", body: body({}) },
		checkout: { method: "POST", path: "/checkout", who: "user", body: body({ shipping_address: fc.oneof(fc.record(street), text(20), fc.constant("addr_none")), payment_method: fc.constantFrom("card-declined", "card-456", "4111111111111111"), cart_id: text(10) }) },
		review: { method: "POST", path: "/reviews", who: "user", body: body({ product_id: productId, rating: fc.integer({ min: 1, max: 5 }), comment: fc.string({ maxLength: 30 }) }) },
		cancel: { method: "POST", path: "/orders/:order/cancel", who: "user", body: body({ reason: text(10) }) },
		createProduct: { method: "POST", path: "/products", who: "admin", body: body({ id: fc.constantFrom("fuzz-new"), ...product }) },
		updateProduct: { method: "PUT", path: `/products/:target`, who: "admin", body: body(product) },
		removeProduct: { method: "DELETE", path: "/products/:junk", who: "admin", body: body({}) },
		restock: { method: "POST", path: "/inventory/:target/restock", who: "admin", body: body({ warehouse_id: fc.constantFrom("main", "wh-2"), quantity: fc.integer({ min: 1, max: 5 }) }) },
		setLevel: { method: "PUT", path: "/inventory/:target", who: "admin", body: body({ warehouse_id: fc.constantFrom("main"), on_hand: fc.integer({ min: 0, max: 2000 }) }) },
		deliver: { method: "POST", path: "/shipments/:shipment/deliver", who: "user", body: body({}) },
	};
	/** Path values: the caller's own ids, the victim's (must be refused), the fuzz product, or junk. */
	const pathValues = fc.record({
		address: idOf(() => ids.userAddress, () => ids.victimAddress),
		card: idOf(() => ids.userCard, () => ids.victimCard),
		product: idOf(() => TARGET, () => SENTINEL),
		order: idOf(() => ids.victimOrder),
		shipment: idOf(() => ids.victimShipment),
		target: idOf(() => TARGET),
		junk: idOf(),
	});
	const fill = (p: string, values: Record<string, string>): string => p.replace(/:(\w+)/g, (_m, k: string) => (values[k].startsWith("%") ? values[k] : encodeURIComponent(values[k])));
	/** The state a route's write could change: the caller's data, or the catalog for admin routes. */
	const stateFor = (spec: RouteSpec): Promise<unknown> => (spec.who === "admin" ? catalogState() : spec.who === "user" ? customerState(user.token) : Promise.resolve(null));

	/** Sends one request and checks the answer and the state around it. */
	async function check(spec: RouteSpec, p: string, send: () => Promise<{ status: number; body: unknown }>): Promise<void> {
		const before = await stateFor(spec);
		const res = await send();
		if (res.status >= 500) throw new Error(`${spec.method} ${p} answered ${res.status}: ${JSON.stringify(res.body).slice(0, 300)}`);
		// A checkout that ran and failed (402 declined card, 409 out of stock) answers with its order: that is a write
		// that happened, not a refusal; every other 4xx must leave the state as it was.
		const ranAndFailed = typeof res.body === "object" && res.body !== null && "order" in res.body;
		if (res.status >= 400 && !ranAndFailed) expect(await stateFor(spec)).toEqual(before);
	}

	it.each(Object.keys(routes))("answers generated bodies on %s below 500 and stores nothing when it refuses", async name => {
		const spec = routes[name];
		const untouched = await untouchedState();
		await fc.assert(
			fc.asyncProperty(spec.body, pathValues, fc.oneof({ arbitrary: fc.constant(spec.who), weight: 6 }, fc.constantFrom<Who>("none", "bad-token")), async (b, values, who) => {
				const p = fill(spec.path, values);
				await check(spec, p, () => http(shop.url, spec.method, `/api/v1${p}`, { body: b, token: tokenFor(who) }));
			}),
			// A failure prints its seed and path; FUZZ_SEED=<seed> replays that run.
			{ numRuns: spec.runs ?? RUNS, ...(process.env.FUZZ_SEED ? { seed: Number(process.env.FUZZ_SEED) } : {}) },
		);
		expect(await untouchedState()).toEqual(untouched);
	});

	/** Bodies that are not one JSON object: broken JSON, bad UTF-8, other types, deep nesting, bad compression. */
	const rawBodies: Array<{ name: string; headers: Record<string, string>; body: string | Uint8Array }> = [
		{ name: "broken JSON", headers: { "content-type": "application/json" }, body: '{"name": ' },
		{ name: "invalid UTF-8", headers: { "content-type": "application/json" }, body: new Uint8Array([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]) },
		{ name: "a JSON array", headers: { "content-type": "application/json" }, body: "[1,2,3]" },
		{ name: "JSON null", headers: { "content-type": "application/json" }, body: "null" },
		{ name: "a JSON string", headers: { "content-type": "application/json" }, body: '"text"' },
		{ name: "deep nesting", headers: { "content-type": "application/json" }, body: `{"a":${"[".repeat(5000)}${"]".repeat(5000)}}` },
		{ name: "a body beyond the size limit", headers: { "content-type": "application/json" }, body: JSON.stringify({ name: "x".repeat(2_000_000) }) },
		{ name: "form encoding", headers: { "content-type": "application/x-www-form-urlencoded" }, body: "name=x&price=7" },
		{ name: "text with JSON inside", headers: { "content-type": "text/plain" }, body: '{"quantity": 1}' },
		{ name: "a declared charset that is not UTF-8", headers: { "content-type": "application/json; charset=latin1" }, body: '{"quantity": 1}' },
		{ name: "gzip that does not inflate", headers: { "content-type": "application/json", "content-encoding": "gzip" }, body: new Uint8Array([0x1f, 0x8b, 0x08, 0x00, 0xde, 0xad, 0xbe, 0xef]) },
		{ name: "deflate that does not inflate", headers: { "content-type": "application/json", "content-encoding": "deflate" }, body: "not deflated" },
		{ name: "gzip that is JSON", headers: { "content-type": "application/json", "content-encoding": "gzip" }, body: new Uint8Array(gzipSync('{"quantity": 1}')) },
	];

	it.each(rawBodies.map(r => r.name))("answers %s on every write route below 500 and stores nothing when it refuses", async name => {
		const raw = rawBodies.find(r => r.name === name)!;
		const untouched = await untouchedState();
		const values = { address: ids.userAddress, card: ids.userCard, product: TARGET, order: "nope", shipment: "nope", target: TARGET, junk: "nope" };
		for (const spec of Object.values(routes)) {
			const p = fill(spec.path, values);
			const token = tokenFor(spec.who);
			await check(spec, p, async () => {
				const res = await fetch(`${shop.url}/api/v1${p}`, {
					method: spec.method,
					headers: { ...raw.headers, ...(token ? { authorization: `Bearer ${token}` } : {}) },
					body: raw.body,
				});
				return { status: res.status, body: await res.text() };
			});
		}
		expect(await untouchedState()).toEqual(untouched);
	});
});
