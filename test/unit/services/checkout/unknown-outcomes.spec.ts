import { ServiceBroker } from "moleculer";
import { closeAdapter, connectAdapter, openAdapter, Repository, type StoreAdapter } from "../../../../mixins/db.mixin";
import { CART_CLAIM, CheckoutClaims, processOwner, type RequestDoc } from "../../../../services/checkout/claims";
import type { OrderCreateResult } from "../../../../services/checkout/model";
import { UnknownOutcomes, type UnknownOutcomeDeps } from "../../../../services/checkout/unknown-outcomes";
import { testConfig } from "../../../helpers/shop";

describe("checkout unknown outcomes", () => {
	const broker = new ServiceBroker({ logger: false });
	const config = testConfig();
	let adapter: StoreAdapter;
	let repo: Repository<RequestDoc>;
	let claims: CheckoutClaims;
	let running: Set<string>;
	const orders = new Map<string, OrderCreateResult>();
	let ordersDown = false;
	const cleared: string[] = [];
	const deps: UnknownOutcomeDeps = {
		lookup: async (_userId, key) => {
			if (ordersDown) throw new Error("SERVICE_NOT_AVAILABLE");
			return orders.get(key) ?? null;
		},
		clearCart: async (_userId, order) => {
			cleared.push(order.id);
		},
	};
	const sweep = (noOrderAfterMs = 300_000) => new UnknownOutcomes(claims, running, deps, { intervalMs: 60_000, noOrderAfterMs }, broker.getLogger("test"));
	const order = (id: string, status: string): OrderCreateResult => ({ order: { id, status, items: [{ product_id: "p1", quantity: 2 }] }, saga: { id: `saga-${id}`, steps: [] } });

	/** A claim left with an unknown outcome by an earlier attempt. */
	async function abandoned(id: string, hash: string, key: string): Promise<RequestDoc> {
		const claim = await claims.claim(id, "u1", hash, key);
		if (claim.kind !== "claimed") throw new Error("not claimed");
		await claims.abandon(claim.doc);
		return claim.doc;
	}

	beforeEach(async () => {
		adapter = openAdapter(broker, broker.getLogger("test"), config, "checkout", "requests");
		await connectAdapter(adapter, config, []);
		repo = new Repository<RequestDoc>("requests", adapter);
		running = new Set();
		claims = new CheckoutClaims(repo, processOwner("node-a", "run-1", running, () => true), 60_000);
		orders.clear();
		cleared.length = 0;
		ordersDown = false;
	});
	afterEach(() => closeAdapter(adapter));

	it("marks a cart claim done and clears the cart when its order was placed", async () => {
		await abandoned("u1:cart:1", CART_CLAIM, "k1");
		orders.set("k1", order("o1", "SHIPPED"));
		expect(await sweep().runOnce()).toBe(1);
		expect(await repo.findById("u1:cart:1")).toMatchObject({ state: "DONE", status_code: 201, order_key: "k1" });
		expect(cleared).toEqual(["o1"]);
	});

	it("keeps the answer of an Idempotency-Key claim for its retry", async () => {
		await abandoned("u1:key", "body-hash", "k2");
		orders.set("k2", order("o2", "PENDING"));
		expect(await sweep().runOnce()).toBe(1);
		expect(await repo.findById("u1:key")).toMatchObject({ state: "DONE", status_code: 202, response: { order: { id: "o2" } } });
		expect(cleared).toEqual([]);
	});

	it("gives a cart claim back when its order failed, leaving the cart as it was", async () => {
		await abandoned("u1:cart:2", CART_CLAIM, "k3");
		orders.set("k3", order("o3", "FAILED"));
		expect(await sweep().runOnce()).toBe(1);
		expect(await repo.findById("u1:cart:2")).toBeNull();
		expect(cleared).toEqual([]);
	});

	it("leaves the claim and its order key while orders cannot say", async () => {
		await abandoned("u1:cart:3", CART_CLAIM, "k4");
		ordersDown = true;
		expect(await sweep().runOnce()).toBe(0);
		expect(await repo.findById("u1:cart:3")).toMatchObject({ state: "IN_PROGRESS", claimed_at: 0, order_key: "k4" });
	});

	it("gives a claim back only once no order can appear under its key any more", async () => {
		await abandoned("u1:cart:4", CART_CLAIM, "k5");
		expect(await sweep().runOnce()).toBe(0);
		expect(await repo.findById("u1:cart:4")).toMatchObject({ state: "IN_PROGRESS", claimed_at: 0 });
		expect(await sweep(0).runOnce()).toBe(1);
		expect(await repo.findById("u1:cart:4")).toBeNull();
	});

	it("never touches a claim whose checkout still runs", async () => {
		const live = await claims.claim("u1:cart:5", "u1", CART_CLAIM, "k6");
		if (live.kind !== "claimed") throw new Error("not claimed");
		running.add(live.doc.id);
		orders.set("k6", order("o6", "SHIPPED"));
		expect(await sweep().runOnce()).toBe(0);
		expect(await repo.findById("u1:cart:5")).toMatchObject({ state: "IN_PROGRESS", claimed_at: live.doc.claimed_at });
	});

	it("settles the claim of a process that died mid-checkout", async () => {
		const live = await claims.claim("u1:cart:6", "u1", CART_CLAIM, "k7");
		if (live.kind !== "claimed") throw new Error("not claimed");
		// Not in `running`: the process that owned it is gone.
		orders.set("k7", order("o7", "SHIPPED"));
		expect(await sweep().runOnce()).toBe(1);
		expect(await repo.findById("u1:cart:6")).toMatchObject({ state: "DONE" });
	});
});
