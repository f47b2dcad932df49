/**
 * Redeeming and releasing a voucher for an order, step by step, over the voucher's document and the order's row in
 * `redemptions`. Why these steps keep a voucher's uses exact under any concurrency, crash or retry: model.ts.
 */
import { DuplicateKeyError, type Repository } from "../../mixins/db.mixin";
import type { StagedEvent } from "../../mixins/events.mixin";
import { EVENTS, type EventName, type VoucherUsePayload } from "../common/events";
import { DependencyUnavailableError } from "../common/errors";
import { VoucherUnavailableError } from "./errors";
import { countCondition, countedCustomer, redemptionId, sameVoucher, usability, type OpEntry, type RedemptionDoc, type VoucherDoc } from "./model";
import type { RedeemAnswer, ReleaseAnswer } from "./client";

/** What the steps need of the service. */
export interface RedemptionStore {
	vouchers: Repository<VoucherDoc>;
	rows: Repository<RedemptionDoc>;
	/** Builds an event to store in a row's write. */
	stage(event: EventName, payload: VoucherUsePayload): StagedEvent;
	/** Publishes an event stored in a row (the relay's sweep does it after a crash). */
	relay(rowId: string, event: StagedEvent): Promise<void>;
	warn(message: string): void;
}

/** Attempts of one redeem or release whose conditional writes kept missing because the voucher or row changed. */
const MAX_ATTEMPTS = 20;
/** A voucher's working set is purged of finished orders once it holds this many entries. */
export const PURGE_AT = 64;

const now = () => new Date().toISOString();

/** The order's row, stored as CLAIMED if it has none. */
async function claimRow(store: RedemptionStore, code: string, orderId: string, userKey: string, discountCents: number, instance: string | undefined): Promise<RedemptionDoc> {
	const id = redemptionId(code, orderId);
	const at = now();
	const row: RedemptionDoc = { id, code, order_id: orderId, user_key: userKey, discount_cents: discountCents, status: "CLAIMED", instance, created_at: at, updated_at: at };
	try {
		return await store.rows.insert(row);
	} catch (err) {
		if (!(err instanceof DuplicateKeyError)) throw err;
		const existing = await store.rows.findById(id);
		if (!existing) throw new DependencyUnavailableError("vouchers", `redemption ${id} vanished; retry`);
		return existing;
	}
}

/** Moves a row from one status to another if it still has the first; true when this call moved it. */
async function moveRow(store: RedemptionStore, row: RedemptionDoc, to: Partial<RedemptionDoc>, event?: StagedEvent): Promise<boolean> {
	const update: Record<string, unknown> = { $set: { ...to, updated_at: now() } };
	if (event) update.$push = { pending_events: event };
	const n = await store.rows.updateWhere({ id: row.id, status: row.status }, update);
	if (n === 1 && event) await store.relay(row.id, event);
	return n === 1;
}

/**
 * Uses the voucher once for the order; a repeat answers the same redemption. 409 VOUCHER_UNAVAILABLE when it cannot
 * be used (nothing counted, and the order's row is closed so that nothing will be).
 */
export async function redeem(store: RedemptionStore, code: string, orderId: string, userKey: string, discountCents: number): Promise<RedeemAnswer> {
	// The row names the voucher it was claimed on: a code deleted and created again meanwhile is another voucher.
	const first = await store.vouchers.findById(code);
	if (!first) throw new VoucherUnavailableError(code, "VOUCHER_NOT_FOUND", `voucher '${code}' no longer exists`);
	let row = await claimRow(store, code, orderId, userKey, discountCents, first.instance);
	for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
		if (row.status === "REDEEMED") return { code, order_id: orderId, status: "REDEEMED", uses: row.uses ?? 0 };
		if (row.status !== "CLAIMED") throw new VoucherUnavailableError(code, "VOUCHER_RELEASED", `voucher '${code}' was released for order '${orderId}'`);
		// The voucher first, then the row: an entry purged before the voucher was read had a final row already (the
		// first attempt uses the voucher read before the row was claimed, which is earlier still).
		const doc = attempt === 0 ? first : await store.vouchers.findById(code);
		const fresh = await store.rows.findById(row.id);
		if (!fresh) throw new DependencyUnavailableError("vouchers", `redemption ${row.id} vanished; retry`);
		if (fresh.status !== "CLAIMED") {
			row = fresh;
			continue;
		}
		if (!doc || !sameVoucher(fresh, doc)) {
			await closeRefused(store, fresh);
			throw new VoucherUnavailableError(code, "VOUCHER_NOT_FOUND", `voucher '${code}' no longer exists`);
		}
		const entry = doc.ops[orderId];
		if (entry === "released") {
			row = (await store.rows.findById(row.id)) ?? fresh;
			continue;
		}
		if (entry !== undefined) {
			// Counted by an earlier attempt whose answer was lost: only the row's mark is missing.
			if (await markRedeemed(store, fresh, doc, countedCustomer(entry) !== null, doc.uses)) return { code, order_id: orderId, status: "REDEEMED", uses: doc.uses };
			row = (await store.rows.findById(row.id)) ?? fresh;
			continue;
		}
		// The scope and minimum were checked when the order was priced; here only what can change in between.
		const verdict = usability(doc, userKey, new Date());
		if (!verdict.ok) {
			await closeRefused(store, fresh);
			throw new VoucherUnavailableError(code, verdict.reason, `${verdict.message}: the order was not placed and nothing was charged`);
		}
		const perCustomer = doc.max_uses_per_customer !== null;
		const value: OpEntry = perCustomer ? `counted:${userKey}` : "counted";
		const inc: Record<string, number> = { uses: 1 };
		if (perCustomer) inc[`per_customer.${userKey}`] = 1;
		const n = await store.vouchers.updateWhere(countCondition(doc, orderId, userKey), { $inc: inc, $set: { [`ops.${orderId}`]: value } });
		if (n === 1) {
			if (await markRedeemed(store, fresh, doc, perCustomer, doc.uses + 1)) return { code, order_id: orderId, status: "REDEEMED", uses: doc.uses + 1 };
			row = (await store.rows.findById(row.id)) ?? fresh;
		}
	}
	throw new DependencyUnavailableError("vouchers", `voucher '${code}' is changing too fast to redeem; retry`);
}

/** Marks a counted row REDEEMED with its voucher.redeemed event; then purges the voucher's working set when it is due. */
async function markRedeemed(store: RedemptionStore, row: RedemptionDoc, doc: VoucherDoc, customerCounted: boolean, uses: number): Promise<boolean> {
	const payload: VoucherUsePayload = { code: row.code, order_id: row.order_id, voucher_type: doc.type, discount_cents: row.discount_cents, uses };
	const moved = await moveRow(store, row, { status: "REDEEMED", customer_counted: customerCounted, uses }, store.stage(EVENTS.VOUCHER_REDEEMED, payload));
	if (moved && Object.keys(doc.ops).length >= PURGE_AT) await purge(store, doc.id).catch(err => store.warn(`Purge of voucher ${doc.id} left for later: ${String(err)}`));
	return moved;
}

/** A redeem refused for good: the row is released (fencing the order), so a retry of it counts nothing either. */
async function closeRefused(store: RedemptionStore, row: RedemptionDoc): Promise<void> {
	if (await moveRow(store, row, { status: "RELEASING", was: "CLAIMED" })) await finishRelease(store, { ...row, status: "RELEASING", was: "CLAIMED" });
}

/** Gives the order's use back (the saga's compensation); idempotent, and a later redeem of the order uses nothing. */
export async function release(store: RedemptionStore, code: string, orderId: string): Promise<ReleaseAnswer> {
	const id = redemptionId(code, orderId);
	for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
		const row = await store.rows.findById(id);
		if (!row) {
			// Nothing redeemed yet: a RELEASED row stops a redeem that arrives after its compensation.
			const at = now();
			try {
				await store.rows.insert({ id, code, order_id: orderId, user_key: "", discount_cents: 0, status: "RELEASED", was: "NONE", created_at: at, updated_at: at });
				return { code, order_id: orderId, status: "NONE" };
			} catch (err) {
				if (!(err instanceof DuplicateKeyError)) throw err;
				continue;
			}
		}
		if (row.status === "RELEASED") return { code, order_id: orderId, status: row.was === "REDEEMED" ? "RELEASED" : "NONE" };
		if (row.status === "RELEASING") {
			if (await finishRelease(store, row)) return { code, order_id: orderId, status: row.was === "REDEEMED" ? "RELEASED" : "NONE" };
			continue;
		}
		await moveRow(store, row, { status: "RELEASING", was: row.status });
	}
	throw new DependencyUnavailableError("vouchers", `voucher '${code}' is changing too fast to release; retry`);
}

/** The second half of a release: the use given back (or the order fenced), then the row RELEASED; false to try again. */
async function finishRelease(store: RedemptionStore, row: RedemptionDoc): Promise<boolean> {
	const doc = await store.vouchers.findById(row.code);
	const fresh = await store.rows.findById(row.id);
	if (!fresh || fresh.status !== "RELEASING") return fresh?.status === "RELEASED";
	let usesAfter = doc?.uses ?? 0;
	if (doc) {
		const entry = doc.ops[row.order_id];
		if (entry !== "released") {
			// Counted and still in the working set; counted and purged (a REDEEMED row); or never counted (fence only).
			const counted = entry !== undefined || (fresh.was === "REDEEMED" && sameVoucher(fresh, doc));
			const customer = countedCustomer(entry) ?? (fresh.customer_counted ? fresh.user_key : null);
			const condition = entry !== undefined ? { id: doc.id, [`ops.${row.order_id}`]: entry } : { id: doc.id, gen: doc.gen, [`ops.${row.order_id}`]: { $exists: false } };
			const update: Record<string, unknown> = { $set: { [`ops.${row.order_id}`]: "released" } };
			if (counted) update.$inc = customer !== null ? { uses: -1, [`per_customer.${customer}`]: -1 } : { uses: -1 };
			if ((await store.vouchers.updateWhere(condition, update)) !== 1) return false;
			if (counted) usesAfter = Math.max(0, doc.uses - 1);
		}
	}
	// voucher.released only for a use that was reported redeemed.
	const event =
		fresh.was === "REDEEMED" && doc
			? store.stage(EVENTS.VOUCHER_RELEASED, { code: fresh.code, order_id: fresh.order_id, voucher_type: doc.type, discount_cents: fresh.discount_cents, uses: usesAfter })
			: undefined;
	if (await moveRow(store, fresh, { status: "RELEASED" }, event)) return true;
	return (await store.rows.findById(row.id))?.status === "RELEASED";
}

/**
 * Removes the entries of orders whose rows are final from the voucher's working set, in one write conditional on
 * the generation and on each removed entry as read; a purge that misses is simply left to the next one.
 */
export async function purge(store: RedemptionStore, code: string): Promise<number> {
	const doc = await store.vouchers.findById(code);
	if (!doc) return 0;
	const orderIds = Object.keys(doc.ops);
	if (orderIds.length === 0) return 0;
	const rows = await store.rows.find({ id: { $in: orderIds.map(o => redemptionId(code, o)) } }, { limit: orderIds.length });
	const status = new Map(rows.map(r => [r.order_id, r.status]));
	const done = orderIds.filter(o => {
		const s = status.get(o);
		const entry = doc.ops[o];
		return (s === "REDEEMED" && entry !== "released") || (s === "RELEASED" && entry === "released");
	});
	if (done.length === 0) return 0;
	const condition: Record<string, unknown> = { id: code, gen: doc.gen };
	const unset: Record<string, true> = {};
	for (const o of done) {
		condition[`ops.${o}`] = doc.ops[o];
		unset[`ops.${o}`] = true;
	}
	return (await store.vouchers.updateWhere(condition, { $unset: unset, $inc: { gen: 1 } })) === 1 ? done.length : 0;
}

/**
 * Each customer's uses of the voucher (its REDEEMED rows), for a per-customer limit set on a voucher that had none;
 * with the rows counted, which are then marked so that their release gives the customer's use back.
 */
export async function customerCounts(store: RedemptionStore, doc: VoucherDoc): Promise<{ counts: Record<string, number>; rowIds: string[] }> {
	const rows = (await store.rows.find({ code: doc.id, status: "REDEEMED" }, { limit: 1_000_000 })).filter(r => sameVoucher(r, doc));
	const counts: Record<string, number> = {};
	for (const r of rows) if (r.user_key) counts[r.user_key] = (counts[r.user_key] ?? 0) + 1;
	// Uses counted whose rows are not marked yet count too (their release will not give the customer's use back:
	// the customer may wait one use too long, never get one too many).
	const inFlight = Object.entries(doc.ops).filter(([, v]) => v === "counted").map(([orderId]) => redemptionId(doc.id, orderId));
	const pending = inFlight.length ? await store.rows.find({ id: { $in: inFlight }, status: "CLAIMED" }, { limit: inFlight.length }) : [];
	for (const r of pending) if (r.user_key) counts[r.user_key] = (counts[r.user_key] ?? 0) + 1;
	return { counts, rowIds: rows.filter(r => r.user_key).map(r => r.id) };
}

/** Marks rows whose use is now in the customer's count (see customerCounts). */
export async function markCustomerCounted(store: RedemptionStore, rowIds: string[]): Promise<void> {
	for (let i = 0; i < rowIds.length; i += 500) await store.rows.updateWhere({ id: { $in: rowIds.slice(i, i + 500) }, status: "REDEEMED" }, { $set: { customer_counted: true } });
}

/** The orders holding a use of the voucher: REDEEMED rows, and rows whose use is counted but not yet marked. */
export async function holders(store: RedemptionStore, doc: VoucherDoc): Promise<string[]> {
	const rows = (await store.rows.find({ code: doc.id, status: "REDEEMED" }, { limit: 100_000 })).filter(r => sameVoucher(r, doc));
	const out = new Set(rows.map(r => r.order_id));
	for (const [orderId, entry] of Object.entries(doc.ops)) if (entry !== "released") out.add(orderId);
	return [...out];
}

/**
 * Moves the redemptions a voucher's document held before they had rows of their own into rows, then removes them
 * from the document (rows first, so a crash in between only repeats the move). Returns the number of vouchers moved.
 */
export async function migrateLegacy(store: RedemptionStore): Promise<number> {
	const legacy = await store.vouchers.find({ $or: [{ redeemed: { $exists: true } }, { released: { $exists: true } }] }, { limit: 10_000 });
	for (const doc of legacy) {
		const at = now();
		const rows: RedemptionDoc[] = [
			...Object.entries(doc.redeemed ?? {}).map(([orderId, r]): RedemptionDoc => ({
				id: redemptionId(doc.id, orderId),
				code: doc.id,
				order_id: orderId,
				user_key: r.user_key,
				discount_cents: r.discount_cents,
				status: "REDEEMED",
				customer_counted: true,
				instance: doc.instance,
				created_at: r.at,
				updated_at: at,
			})),
			...Object.entries(doc.released ?? {}).map(([orderId, when]): RedemptionDoc => ({
				id: redemptionId(doc.id, orderId),
				code: doc.id,
				order_id: orderId,
				user_key: "",
				discount_cents: 0,
				status: "RELEASED",
				was: "NONE",
				created_at: when,
				updated_at: at,
			})),
		];
		for (const row of rows) {
			try {
				await store.rows.insert(row);
			} catch (err) {
				if (!(err instanceof DuplicateKeyError)) throw err;
			}
		}
		await store.vouchers.updateById(doc.id, { $unset: { redeemed: true, released: true }, $set: { ops: doc.ops ?? {}, gen: doc.gen ?? 0 } });
	}
	return legacy.length;
}
