/**
 * A voucher's redemptions as rows of their own (services/vouchers/model.ts): the voucher's document stays small
 * however many orders use it, and its uses stay exact when redeems, releases and purges of its working set
 * interleave in the worst places, when a node died between counting a use and marking its row, and for documents
 * written before the rows existed. Real vouchers service on a real broker and store; the interleavings are forced
 * by holding one write of one call until the other calls have run.
 */
import { startShop, type Shop } from "../helpers/shop";
import type { Repository } from "../../mixins/db.mixin";
import { countCondition, customerKey, redemptionId, type RedemptionDoc, type VoucherDoc } from "../../services/vouchers/model";
import { PURGE_AT, migrateLegacy, purge, redeem, release, type RedemptionStore } from "../../services/vouchers/redemptions";

const ADMIN = { meta: { user: { id: "u_admin", email: "admin@example.com", name: "Admin", role: "admin" } } };

type VouchersInternals = { redemptionStore(ctx: null): RedemptionStore };

/** A store whose next voucher update waits until `open()` is called: the call using it stops just before that write. */
function heldStore(store: RedemptionStore): { store: RedemptionStore; reached: Promise<void>; open: () => void } {
	let open!: () => void;
	let reach!: () => void;
	const gate = new Promise<void>(r => (open = r));
	const reached = new Promise<void>(r => (reach = r));
	let held = false;
	const vouchers = Object.create(store.vouchers) as Repository<VoucherDoc>;
	vouchers.updateWhere = async (query, update) => {
		if (!held) {
			held = true;
			reach();
			await gate;
		}
		return store.vouchers.updateWhere(query, update);
	};
	return { store: { ...store, vouchers }, reached, open };
}

describe("voucher redemptions as rows of their own", () => {
	let shop: Shop;
	let store: RedemptionStore;
	let n = 0;
	const code = (label: string) => `${label}${Date.now().toString(36)}${n++}`.toUpperCase();
	const create = async (fields: Record<string, unknown>) => {
		const c = code(String(fields.code ?? "V"));
		await shop.broker.call("vouchers.create", { type: "fixed", value: 1, ...fields, code: c }, ADMIN);
		return c;
	};
	const doc = async (c: string) => (await store.vouchers.findById(c)) as VoucherDoc;
	const row = async (c: string, orderId: string) => store.rows.findById(redemptionId(c, orderId));

	beforeAll(async () => {
		shop = await startShop(["vouchers"], { NAMESPACE: `t-vrows-${Date.now()}-${Math.random()}` });
		store = (shop.broker.getLocalService("vouchers") as unknown as VouchersInternals).redemptionStore(null);
	});
	afterAll(() => shop.stop());

	it("keeps the voucher's document small: 300 orders, each redeemed twice, leave 300 rows and a purged working set", async () => {
		const c = await create({ code: "BIG" });
		const orders = Array.from({ length: 300 }, (_, i) => `ord_big_${i}`);
		for (let i = 0; i < orders.length; i += 25) {
			const batch = orders.slice(i, i + 25);
			await Promise.all(batch.flatMap(o => [redeem(store, c, o, customerKey(`u-${o}`), 100), redeem(store, c, o, customerKey(`u-${o}`), 100)]));
		}
		const after = await doc(c);
		expect(after.uses).toBe(300);
		expect(Object.keys(after.ops).length).toBeLessThan(PURGE_AT + 25);
		expect(after.gen).toBeGreaterThan(0);
		expect(JSON.stringify(after).length).toBeLessThan(8_000);
		expect(await store.rows.count({ code: c, status: "REDEEMED" })).toBe(300);
		// Redeemed again after their entries were purged: still counted once.
		await Promise.all(orders.slice(0, 50).map(o => redeem(store, c, o, customerKey(`u-${o}`), 100)));
		expect((await doc(c)).uses).toBe(300);

		// Each released twice at once, purges running meanwhile: every use given back once.
		for (let i = 0; i < orders.length; i += 25) {
			const answers = await Promise.all(orders.slice(i, i + 25).flatMap(o => [release(store, c, o), release(store, c, o)]));
			expect(new Set(answers.map(a => a.status))).toEqual(new Set(["RELEASED"]));
		}
		expect((await doc(c)).uses).toBe(0);
		expect(await store.rows.count({ code: c, status: "RELEASED" })).toBe(300);
		const { rows } = await shop.broker.call<{ rows: Array<{ uses: number; order_ids: string[] }> }, object>("vouchers.redemptions", { code: c });
		expect(rows[0]).toEqual({ code: c, uses: 0, order_ids: [] });
	});

	it("counts an order once when its entry is purged between a redeem's read and its count", async () => {
		const c = await create({ code: "GEN" });
		// Enough finished orders for the purge to have something to remove besides this one.
		for (let i = 0; i < 5; i++) await redeem(store, c, `ord_gen_done_${i}`, customerKey("u-gen"), 100);
		const held = heldStore(store);
		const first = redeem(held.store, c, "ord_gen", customerKey("u-gen"), 100);
		await held.reached;
		// Meanwhile the same order's redelivered step counts it and marks it, and a purge removes its entry.
		await redeem(store, c, "ord_gen", customerKey("u-gen"), 100);
		expect(await purge(store, c)).toBeGreaterThan(0);
		expect((await doc(c)).ops.ord_gen).toBeUndefined();
		held.open();
		await expect(first).resolves.toMatchObject({ status: "REDEEMED" });
		expect((await doc(c)).uses).toBe(6);
	});

	it("lets no redeem that was on its way count after the order's release, even once the release's fence is purged", async () => {
		const c = await create({ code: "FENCE", max_uses: 5 });
		const held = heldStore(store);
		const late = redeem(held.store, c, "ord_fence", customerKey("u-fence"), 100);
		await held.reached;
		expect(await release(store, c, "ord_fence")).toMatchObject({ status: "NONE" });
		expect((await doc(c)).ops.ord_fence).toBe("released");
		held.open();
		await expect(late).rejects.toMatchObject({ code: 409, type: "VOUCHER_UNAVAILABLE", data: { reason: "VOUCHER_RELEASED" } });
		expect((await doc(c)).uses).toBe(0);

		const held2 = heldStore(store);
		const late2 = redeem(held2.store, c, "ord_fence_2", customerKey("u-fence"), 100);
		await held2.reached;
		await release(store, c, "ord_fence_2");
		expect(await purge(store, c)).toBeGreaterThan(0);
		expect((await doc(c)).ops.ord_fence_2).toBeUndefined();
		held2.open();
		await expect(late2).rejects.toMatchObject({ code: 409, data: { reason: "VOUCHER_RELEASED" } });
		expect((await doc(c)).uses).toBe(0);
	});

	it("gives a use back once when a purge that read the order as redeemed writes after its release gave the use back", async () => {
		const c = await create({ code: "STALE" });
		await redeem(store, c, "ord_stale", customerKey("u-stale"), 100);
		const held = heldStore(store);
		const stalePurge = purge(held.store, c);
		await held.reached;
		// The release gives the use back, then its node dies before the row is marked RELEASED.
		const rows = Object.create(store.rows) as Repository<RedemptionDoc>;
		rows.updateWhere = async (query, update) => {
			if ((update as { $set?: { status?: string } }).$set?.status === "RELEASED") throw new Error("node died");
			return store.rows.updateWhere(query, update);
		};
		await expect(release({ ...store, rows }, c, "ord_stale")).rejects.toThrow("node died");
		expect((await doc(c)).uses).toBe(0);
		held.open();
		// The purge read the order as redeemed and counted; it must not remove what is now the release's entry.
		await stalePurge;
		expect(await release(store, c, "ord_stale")).toMatchObject({ status: "RELEASED" });
		expect((await doc(c)).uses).toBe(0);
	});

	it("marks a use counted by a node that died before marking its row, and gives such a use back once", async () => {
		const c = await create({ code: "DIED", max_uses: 2 });
		const died = async (orderId: string) => {
			const at = new Date().toISOString();
			const key = customerKey("u-died");
			const d = await doc(c);
			await store.rows.insert({ id: redemptionId(c, orderId), code: c, order_id: orderId, user_key: key, discount_cents: 100, status: "CLAIMED", instance: d.instance, created_at: at, updated_at: at });
			expect(await store.vouchers.updateWhere(countCondition(d, orderId, key), { $inc: { uses: 1 }, $set: { [`ops.${orderId}`]: "counted" } })).toBe(1);
		};
		await died("ord_died_1");
		await died("ord_died_2");
		// The step run again by the node that took the saga over: marked, not counted again (the voucher is full).
		await expect(redeem(store, c, "ord_died_1", customerKey("u-died"), 100)).resolves.toMatchObject({ status: "REDEEMED", uses: 2 });
		expect((await row(c, "ord_died_1"))?.status).toBe("REDEEMED");
		// The other order's saga compensates instead: its counted use comes back once, however often released.
		await Promise.all([release(store, c, "ord_died_2"), release(store, c, "ord_died_2"), release(store, c, "ord_died_2")]);
		expect((await doc(c)).uses).toBe(1);
		expect((await row(c, "ord_died_2"))?.status).toBe("RELEASED");
	});

	it("holds each customer to a per-customer limit under a race, and a release gives the customer's use back", async () => {
		const c = await create({ code: "PER", max_uses_per_customer: 2 });
		const key = customerKey("u-per");
		const tries = await Promise.allSettled(Array.from({ length: 12 }, (_, i) => redeem(store, c, `ord_per_${i}`, key, 100)));
		const won = tries.flatMap((t, i) => (t.status === "fulfilled" ? [`ord_per_${i}`] : []));
		expect(won).toHaveLength(2);
		for (const t of tries) if (t.status === "rejected") expect(t.reason).toMatchObject({ code: 409, data: { reason: "VOUCHER_USED_UP" } });
		expect((await doc(c)).per_customer[key]).toBe(2);
		// Another customer is not held to this one's count.
		await expect(redeem(store, c, "ord_per_other", customerKey("u-other"), 100)).resolves.toMatchObject({ status: "REDEEMED" });
		await release(store, c, won[0]);
		expect((await doc(c)).per_customer[key]).toBe(1);
		await expect(redeem(store, c, "ord_per_new", key, 100)).resolves.toMatchObject({ status: "REDEEMED" });
		// A refused order's row was closed: it does not get the use that a release freed later.
		await release(store, c, "ord_per_new");
		const refused = tries.findIndex(t => t.status === "rejected");
		await expect(redeem(store, c, `ord_per_${refused}`, key, 100)).rejects.toMatchObject({ code: 409, data: { reason: "VOUCHER_RELEASED" } });
		expect((await doc(c)).uses).toBe(2);
	});

	it("counts each customer's earlier uses when a per-customer limit is added to a voucher that had none", async () => {
		const c = await create({ code: "LATER" });
		const [a, b] = [customerKey("u-later-a"), customerKey("u-later-b")];
		await redeem(store, c, "ord_later_a1", a, 100);
		await redeem(store, c, "ord_later_a2", a, 100);
		await redeem(store, c, "ord_later_b1", b, 100);
		expect((await doc(c)).per_customer).toEqual({});
		await shop.broker.call("vouchers.update", { code: c, max_uses_per_customer: 2 }, ADMIN);
		expect((await doc(c)).per_customer).toEqual({ [a]: 2, [b]: 1 });
		await expect(redeem(store, c, "ord_later_a3", a, 100)).rejects.toMatchObject({ code: 409, data: { reason: "VOUCHER_USED_UP" } });
		await expect(redeem(store, c, "ord_later_b2", b, 100)).resolves.toMatchObject({ status: "REDEEMED" });
		// An earlier use given back frees the customer's count too.
		await release(store, c, "ord_later_a1");
		expect((await doc(c)).per_customer[a]).toBe(1);
		await expect(redeem(store, c, "ord_later_a4", a, 100)).resolves.toMatchObject({ status: "REDEEMED" });
		expect((await doc(c)).uses).toBe(4);
	});

	it("never lets the orders of a deleted voucher touch a new voucher created with the same code", async () => {
		const c = await create({ code: "AGAIN", max_uses: 1, max_uses_per_customer: 1 });
		const key = customerKey("u-again");
		await redeem(store, c, "ord_again_old", key, 100);
		await shop.broker.call("vouchers.remove", { code: c }, ADMIN);
		await shop.broker.call("vouchers.create", { code: c, type: "fixed", value: 1, max_uses: 1, max_uses_per_customer: 1 }, ADMIN);
		await redeem(store, c, "ord_again_new", key, 100);
		// The old order fails now: its use was the deleted voucher's, and the new one keeps its own count.
		expect(await release(store, c, "ord_again_old")).toMatchObject({ status: "RELEASED" });
		expect(await doc(c)).toMatchObject({ uses: 1, per_customer: { [key]: 1 } });
		await expect(redeem(store, c, "ord_again_other", customerKey("u-again-2"), 100)).rejects.toMatchObject({ code: 409, data: { reason: "VOUCHER_USED_UP" } });
		// A repeat of the old order's redeem finds it released; an order claimed on the deleted voucher is refused.
		await expect(redeem(store, c, "ord_again_old", key, 100)).rejects.toMatchObject({ code: 409, data: { reason: "VOUCHER_RELEASED" } });
		const at = new Date().toISOString();
		await store.rows.insert({ id: redemptionId(c, "ord_again_claimed"), code: c, order_id: "ord_again_claimed", user_key: key, discount_cents: 100, status: "CLAIMED", instance: "vi_deleted", created_at: at, updated_at: at });
		await expect(redeem(store, c, "ord_again_claimed", key, 100)).rejects.toMatchObject({ code: 409, data: { reason: "VOUCHER_NOT_FOUND" } });
		expect(await doc(c)).toMatchObject({ uses: 1 });
		const { rows } = await shop.broker.call<{ rows: Array<{ order_ids: string[] }> }, object>("vouchers.redemptions", { code: c });
		expect(rows[0].order_ids).toEqual(["ord_again_new"]);
	});

	it("ends every raced order released and the voucher at 0 uses, whatever the order of redeems and releases", async () => {
		const c = await create({ code: "RACE", max_uses: 1000 });
		const orders = Array.from({ length: 80 }, (_, i) => `ord_race_${i}`);
		const jitter = () => new Promise(r => setTimeout(r, Math.random() * 5));
		const calls = orders.flatMap(o => [
			...Array.from({ length: 3 }, () => jitter().then(() => redeem(store, c, o, customerKey(`u-${o}`), 100))),
			...Array.from({ length: 2 }, () => jitter().then(() => release(store, c, o))),
		]);
		await Promise.allSettled(calls);
		// The saga's compensation always comes last: each order released once more.
		await Promise.all(orders.map(o => release(store, c, o)));
		const d = await doc(c);
		expect(d.uses).toBe(0);
		expect(Object.values(d.ops).every(v => v === "released")).toBe(true);
		expect(await store.rows.count({ code: c, status: "RELEASED" })).toBe(orders.length);
	});

	it("moves the redemptions of a document written before the rows into rows, keeping uses, releases and tombstones", async () => {
		const c = code("LEGACY");
		const at = new Date().toISOString();
		const key = customerKey("u-legacy");
		const legacy = {
			id: c,
			type: "fixed",
			value: 100,
			currency: null,
			min_subtotal_cents: null,
			starts_at: null,
			ends_at: null,
			max_uses: 3,
			max_uses_per_customer: null,
			product_ids: [],
			categories: [],
			shop_id: null,
			active: true,
			uses: 2,
			redeemed: { ord_leg_a: { user_key: key, discount_cents: 100, at }, ord_leg_b: { user_key: key, discount_cents: 100, at } },
			released: { ord_leg_c: at },
			per_customer: { [key]: 2 },
			created_at: at,
			updated_at: at,
		};
		await (store.vouchers as unknown as Repository<typeof legacy>).insert(legacy);
		expect(await migrateLegacy(store)).toBeGreaterThanOrEqual(1);
		const d = await doc(c);
		expect(d).not.toHaveProperty("redeemed");
		expect(d).toMatchObject({ uses: 2, ops: {}, gen: 0 });
		// A repeat of a legacy redemption counts nothing; its release gives the use back; a legacy tombstone still stops its order.
		await expect(redeem(store, c, "ord_leg_a", key, 100)).resolves.toMatchObject({ status: "REDEEMED" });
		expect((await doc(c)).uses).toBe(2);
		expect(await release(store, c, "ord_leg_a")).toMatchObject({ status: "RELEASED" });
		expect((await doc(c)).uses).toBe(1);
		await expect(redeem(store, c, "ord_leg_c", key, 100)).rejects.toMatchObject({ code: 409, data: { reason: "VOUCHER_RELEASED" } });
		// Moving again (a second start) changes nothing.
		await migrateLegacy(store);
		expect(await store.rows.count({ code: c })).toBe(3);
		expect((await doc(c)).uses).toBe(1);
	});
});
