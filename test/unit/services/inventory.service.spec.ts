import type { ServiceBroker } from "moleculer";
import { EventsMixin } from "../../../mixins/events.mixin";
import { EVENTS, type DomainEvent } from "../../../services/common/events";
import type { Levels } from "../../../services/inventory/model";
import type { ReservationAnswer } from "../../../services/inventory/client";
import { startShop, type Shop } from "../../helpers/shop";
import { eventually } from "../../helpers/eventually";

const admin = { meta: { user: { id: "admin", email: "admin@example.com", name: "Admin", role: "admin" } } };
const noRetry = { retries: 0 };

describe("inventory service", () => {
	let shop: Shop;
	let broker: ServiceBroker;
	const events: Array<{ name: string; payload: Record<string, unknown> }> = [];
	let seq = 0;

	/** A new catalog product with the given units per warehouse. */
	async function product(stock: Record<string, number>): Promise<string> {
		const id = `item-${++seq}-${Date.now()}`;
		await broker.call("products.create", { id, name: `Item ${seq}`, brand: "Acme", category: "gadgets", price: 10 }, admin);
		for (const [warehouse_id, on_hand] of Object.entries(stock))
			await broker.call("inventory.setLevel", { product_id: id, warehouse_id, on_hand }, admin);
		return id;
	}
	const levels = (product_id: string): Promise<Levels> => broker.call("inventory.levels", { product_id });

	beforeAll(async () => {
		shop = await startShop(["products", "inventory"], { NAMESPACE: `t-inv-${Date.now()}-${Math.random()}`, LOW_STOCK_THRESHOLD: "3" });
		broker = shop.broker;
		const record = (name: string) => (event: DomainEvent) => {
			events.push({ name, payload: event });
		};
		broker.createService({
			name: "inventory-event-recorder",
			mixins: [
				EventsMixin({
					handlers: Object.fromEntries(
						[EVENTS.INVENTORY_RESERVED, EVENTS.INVENTORY_RESERVATION_FAILED, EVENTS.INVENTORY_RELEASED, EVENTS.INVENTORY_LOW].map(n => [n, record(n)]),
					),
				}),
			],
		});
		await broker.waitForServices(["inventory-event-recorder"]);
	});
	afterAll(() => shop.stop());

	it("reports availability per item and whether all items are covered", async () => {
		const id = await product({ "wh-a": 3, "wh-b": 2 });
		const res = await broker.call("inventory.availability", {
			items: [
				{ product_id: id, quantity: 5 },
				{ product_id: "no-such-product", quantity: 1 },
			],
		});
		expect(res).toEqual({
			ok: false,
			items: [
				{ product_id: id, requested: 5, available: 5, ok: true },
				{ product_id: "no-such-product", requested: 1, available: 0, ok: false },
			],
		});
	});

	it("splits a reservation over warehouses, keeps available = on_hand - reserved and announces it", async () => {
		const id = await product({ "wh-a": 4, "wh-b": 3 });
		const res = await broker.call<ReservationAnswer, object>("inventory.reserve", { order_id: `ord-split-${id}`, user_id: "u1", items: [{ product_id: id, quantity: 6 }] });
		expect(res.status).toBe("RESERVED");
		expect(res.lines.map(l => l.quantity).sort()).toEqual([2, 4]);
		const after = await levels(id);
		expect(after).toMatchObject({ on_hand: 7, reserved: 6, available: 1 });
		for (const w of after.warehouses) expect(w.available).toBe(w.on_hand - w.reserved);
		await eventually(() => {
			expect(events).toContainEqual(expect.objectContaining({ name: "inventory.reserved", payload: expect.objectContaining({ order_id: `ord-split-${id}`, user_id: "u1" }) }));
			expect(events).toContainEqual(expect.objectContaining({ name: "inventory.low", payload: expect.objectContaining({ product_id: id, available: 1, threshold: 3 }) }));
		});
	});

	it("reserves all lines or none and says which product is short", async () => {
		const a = await product({ "wh-a": 5 });
		const b = await product({ "wh-a": 1, "wh-b": 1 });
		const order_id = `ord-short-${a}`;
		await expect(
			broker.call("inventory.reserve", { order_id, items: [{ product_id: a, quantity: 5 }, { product_id: b, quantity: 3 }] }, noRetry),
		).rejects.toMatchObject({ code: 409, type: "INSUFFICIENT_STOCK", data: { product_id: b, requested: 3, available: 2 } });
		expect(await levels(a)).toMatchObject({ reserved: 0, available: 5 });
		expect(await levels(b)).toMatchObject({ reserved: 0, available: 2 });
		await eventually(() =>
			expect(events).toContainEqual(expect.objectContaining({ name: "inventory.reservation-failed", payload: expect.objectContaining({ order_id, product_id: b }) })),
		);
	});

	it("never oversells: 200 concurrent reservations for 10 units reserve exactly 10", async () => {
		const id = await product({ "wh-a": 6, "wh-b": 4 });
		let minAvailable = Infinity;
		let storm = true;
		const watcher = (async () => {
			while (storm) {
				const l = await levels(id);
				for (const w of l.warehouses) minAvailable = Math.min(minAvailable, w.available);
				await new Promise(r => setImmediate(r));
			}
		})();
		const results = await Promise.allSettled(
			Array.from({ length: 200 }, (_, i) => broker.call("inventory.reserve", { order_id: `ord-storm-${id}-${i}`, items: [{ product_id: id, quantity: 1 }] }, noRetry)),
		);
		storm = false;
		await watcher;
		const ok = results.filter(r => r.status === "fulfilled");
		const failed = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
		expect(ok).toHaveLength(10);
		expect(failed.every(f => (f.reason as { code: number }).code === 409)).toBe(true);
		const after = await levels(id);
		expect(after).toMatchObject({ on_hand: 10, reserved: 10, available: 0 });
		expect(after.warehouses.every(w => w.available === 0 && w.reserved === w.on_hand)).toBe(true);
		expect(minAvailable).toBeGreaterThanOrEqual(0);
	});

	it("answers concurrent duplicate reservations of one order with one reservation", async () => {
		const id = await product({ "wh-a": 20 });
		const order_id = `ord-dup-${id}`;
		const answers = await Promise.all(
			Array.from({ length: 25 }, () => broker.call<ReservationAnswer, object>("inventory.reserve", { order_id, items: [{ product_id: id, quantity: 3 }] }, noRetry)),
		);
		for (const a of answers) expect(a).toEqual(answers[0]);
		expect(await levels(id)).toMatchObject({ reserved: 3, available: 17 });
	});

	it("answers concurrent duplicates of a failing reservation with the same 409", async () => {
		const id = await product({ "wh-a": 2 });
		const order_id = `ord-dupfail-${id}`;
		const results = await Promise.allSettled(
			Array.from({ length: 10 }, () => broker.call("inventory.reserve", { order_id, items: [{ product_id: id, quantity: 3 }] }, noRetry)),
		);
		for (const r of results) expect(r).toMatchObject({ status: "rejected", reason: { code: 409, type: "INSUFFICIENT_STOCK", data: { requested: 3, available: 2 } } });
		expect(await levels(id)).toMatchObject({ reserved: 0, available: 2 });
	});

	it("commits on shipment and releases idempotently, restoring on_hand after a commit", async () => {
		const id = await product({ "wh-a": 10 });
		const order_id = `ord-life-${id}`;
		await broker.call("inventory.reserve", { order_id, user_id: "u7", items: [{ product_id: id, quantity: 4 }] });
		expect(await broker.call("inventory.commit", { order_id })).toEqual({ order_id, status: "COMMITTED" });
		expect(await broker.call("inventory.commit", { order_id })).toEqual({ order_id, status: "COMMITTED" });
		expect(await levels(id)).toMatchObject({ on_hand: 6, reserved: 0, available: 6 });
		expect(await broker.call("inventory.release", { order_id, reason: "returned" })).toEqual({ order_id, status: "RELEASED" });
		expect(await broker.call("inventory.release", { order_id })).toEqual({ order_id, status: "RELEASED" });
		expect(await levels(id)).toMatchObject({ on_hand: 10, reserved: 0, available: 10 });
		const released = (): typeof events => events.filter(e => e.name === "inventory.released" && e.payload.order_id === order_id);
		await eventually(() => expect(released()).toHaveLength(1));
		await new Promise(r => setTimeout(r, 100));
		expect(released()).toHaveLength(1);
		expect(released()[0].payload).toMatchObject({ user_id: "u7", was_committed: true, reason: "returned" });
	});

	it("releases a held reservation once, even when released concurrently", async () => {
		const id = await product({ "wh-a": 5 });
		const order_id = `ord-rel-${id}`;
		await broker.call("inventory.reserve", { order_id, items: [{ product_id: id, quantity: 5 }] });
		await Promise.all(Array.from({ length: 10 }, () => broker.call("inventory.release", { order_id })));
		expect(await levels(id)).toMatchObject({ on_hand: 5, reserved: 0, available: 5 });
		await expect(broker.call("inventory.reserve", { order_id, items: [{ product_id: id, quantity: 1 }] }, noRetry)).rejects.toMatchObject({
			code: 409,
			type: "RESERVATION_RELEASED",
		});
	});

	/** What a reserve call leaves behind when its process dies after holding 2 of 4 units: a stale PENDING reservation. */
	async function abandoned(id: string, order_id: string): Promise<void> {
		const svc = broker.getLocalService("inventory") as unknown as {
			stockStore: { hold(row: object, key: string, n: number): Promise<boolean>; rowsOf(p: string): Promise<object[]> };
			collection(name: string): { insert(doc: object): Promise<unknown> };
		};
		const old = new Date(Date.now() - 60_000).toISOString();
		await svc.collection("reservations").insert({
			id: order_id,
			order_id,
			user_id: null,
			status: "PENDING",
			items: [{ product_id: id, quantity: 4 }],
			lines: [],
			owner: "a-dead-process",
			reason: null,
			created_at: old,
			updated_at: old,
		});
		const [row] = await svc.stockStore.rowsOf(id);
		expect(await svc.stockStore.hold(row, order_id, 2)).toBe(true);
		expect(await levels(id)).toMatchObject({ reserved: 2, available: 3 });
	}

	it("gives back what a reservation abandoned mid-way (its node crashed) had taken, when the order is released", async () => {
		const id = await product({ "wh-a": 5 });
		const order_id = `ord-crash-${id}`;
		await abandoned(id, order_id);
		expect(await broker.call("inventory.release", { order_id, reason: "saga compensation" })).toEqual({ order_id, status: "RELEASED" });
		expect(await levels(id)).toMatchObject({ on_hand: 5, reserved: 0, available: 5 });
	}, 20_000);

	it("completes a reservation abandoned mid-way when the reserve is repeated, holding exactly what the order needs", async () => {
		const id = await product({ "wh-a": 5 });
		const order_id = `ord-resume-${id}`;
		await abandoned(id, order_id);
		const res = await broker.call<{ status: string; lines: Array<{ quantity: number }> }, object>("inventory.reserve", { order_id, items: [{ product_id: id, quantity: 4 }] });
		expect(res.status).toBe("RESERVED");
		expect(res.lines.reduce((n, l) => n + l.quantity, 0)).toBe(4);
		expect(await levels(id)).toMatchObject({ on_hand: 5, reserved: 4, available: 1 });
		await broker.call("inventory.commit", { order_id });
		expect(await levels(id)).toMatchObject({ on_hand: 1, reserved: 0, available: 1 });
	}, 20_000);

	it("answers NONE for releasing an unknown order and 404 for committing one", async () => {
		expect(await broker.call("inventory.release", { order_id: "ord-never" })).toEqual({ order_id: "ord-never", status: "NONE" });
		await expect(broker.call("inventory.commit", { order_id: "ord-never" }, noRetry)).rejects.toMatchObject({ code: 404 });
	});

	it("restocks a warehouse and refuses a negative or fractional quantity with 422 naming the field", async () => {
		const id = await product({ "wh-a": 1 });
		const res = await broker.call<Levels, object>("inventory.restock", { product_id: id, warehouse_id: "wh-c", quantity: 9 }, admin);
		expect(res).toMatchObject({ on_hand: 10, available: 10 });
		expect(res.warehouses.map(w => w.warehouse_id)).toEqual(["wh-a", "wh-c"]);
		for (const quantity of [-5, 0, 2.5])
			await expect(broker.call("inventory.restock", { product_id: id, warehouse_id: "wh-a", quantity }, noRetry)).rejects.toMatchObject({
				code: 422,
				data: [expect.objectContaining({ field: "quantity" })],
			});
		await expect(broker.call("inventory.restock", { product_id: "no-such-product", warehouse_id: "wh-a", quantity: 1 }, noRetry)).rejects.toMatchObject({ code: 404 });
	});

	it("refuses to set on_hand below what is reserved (409)", async () => {
		const id = await product({ "wh-a": 5 });
		await broker.call("inventory.reserve", { order_id: `ord-set-${id}`, items: [{ product_id: id, quantity: 4 }] });
		await expect(broker.call("inventory.setLevel", { product_id: id, warehouse_id: "wh-a", on_hand: 3 }, noRetry)).rejects.toMatchObject({
			code: 409,
			type: "BELOW_RESERVED",
		});
		expect(await broker.call("inventory.setLevel", { product_id: id, warehouse_id: "wh-a", on_hand: 8 })).toMatchObject({ on_hand: 8, reserved: 4, available: 4 });
	});

	it("seeds the demo stock over several warehouses only once", async () => {
		const first = await broker.call<{ inserted: number }, object>("inventory.seedDemo", {});
		const second = await broker.call<{ inserted: number }, object>("inventory.seedDemo", {});
		expect(first.inserted).toBeGreaterThan(40);
		expect(second.inserted).toBe(0);
		const laptop = await levels("laptop-123");
		expect(laptop.warehouses.length).toBeGreaterThanOrEqual(2);
		expect(laptop.available).toBeGreaterThan(0);
	});
});

describe("inventory on a node of its own", () => {
	let shop: Shop;
	beforeAll(async () => {
		shop = await startShop(["inventory"], { NAMESPACE: `t-inv-solo-${Date.now()}-${Math.random()}`, SEED_DEMO_DATA: "true" });
	});
	afterAll(() => shop.stop());

	it("stocks the demo catalog itself when it starts with SEED_DEMO_DATA, and never twice", async () => {
		const laptop = await shop.broker.call<Levels, object>("inventory.levels", { product_id: "laptop-123" });
		expect(laptop.warehouses.length).toBeGreaterThanOrEqual(2);
		expect(laptop.available).toBeGreaterThan(0);
		expect(await shop.broker.call("inventory.seedDemo", {})).toEqual({ inserted: 0 });
	});
});
