/**
 * The reservations of orders over the reservations collection: claiming an order's reservation for one call, waiting
 * for one to settle, and the stock work a reservation's status owes, done with the stock store's idempotent per-row
 * steps (stock.ts) and then marked done. The decisions (who may take a reservation over, what work a status owes)
 * are the pure functions at the top.
 */
import { DependencyUnavailableError } from "../common/errors";
import { uuid } from "../common/ids";
import { DuplicateKeyError, type Repository } from "../../mixins/db.mixin";
import { mergeItems, type Reservation } from "./model";
import type { ReserveParams } from "./params";
import { holdKey, type StockStore } from "./stock";

/** How long a duplicate call waits for the first call on the same order to finish. */
export const SETTLE_TIMEOUT_MS = 5_000;
/** A PENDING reservation untouched this long belongs to a call that died: a repeated call takes it over. */
export const PENDING_STALE_MS = 2_000;

/** Whether a call may work on a stored reservation again: a failed one, or a PENDING one whose caller died. */
export function mayTakeOver(r: Pick<Reservation, "status" | "updated_at">, now: number): boolean {
	// A failed attempt gave its units back (or the sweep will): the next call may try again (after a restock, say).
	return r.status === "FAILED" || (r.status === "PENDING" && now - Date.parse(r.updated_at) > PENDING_STALE_MS);
}

/**
 * The stock work a reservation owes while it is dirty: "ship" what a COMMITTED one holds, "give-back" the holds of a
 * FAILED or RELEASED one, "undo-shipment" for one RELEASED after its commit (holds given back, shipped units restored).
 */
export type StockWork = "ship" | "give-back" | "undo-shipment";

export function owedStockWork(r: Pick<Reservation, "status" | "dirty" | "released_from">): StockWork | null {
	if (!r.dirty) return null;
	if (r.status === "COMMITTED") return "ship";
	if (r.status === "RELEASED" && r.released_from === "COMMITTED") return "undo-shipment";
	if (r.status === "FAILED" || r.status === "RELEASED") return "give-back";
	return null;
}

/** The call's claim on an order's reservation: "mine" to work on, or "done" (settled) to answer with. */
export type Claim = { kind: "mine" | "done"; reservation: Reservation };

export class ReservationBook {
	constructor(
		private readonly reservations: Repository<Reservation>,
		private readonly stock: StockStore,
	) {}

	/**
	 * The reservation for this call to work on: a new one, a failed one tried again, or one abandoned mid-way
	 * (PENDING with no progress for a while: its caller died) taken over; else the settled one to answer with.
	 */
	async claim(params: ReserveParams): Promise<Claim> {
		const reservations = this.reservations;
		const items = mergeItems(params.items);
		const now = () => new Date().toISOString();
		try {
			const fresh = { id: params.order_id, order_id: params.order_id, user_id: params.user_id ?? null, status: "PENDING" as const, items, lines: [], owner: uuid(), reason: null, created_at: now(), updated_at: now() };
			return { kind: "mine", reservation: await reservations.insert(fresh) };
		} catch (err) {
			if (!(err instanceof DuplicateKeyError)) throw err;
		}
		const deadline = Date.now() + SETTLE_TIMEOUT_MS;
		for (;;) {
			const r = await reservations.findById(params.order_id);
			if (!r) throw new DependencyUnavailableError("inventory", `the reservation of order '${params.order_id}' vanished`);
			if (mayTakeOver(r, Date.now())) {
				const owner = uuid();
				const n = await reservations.updateWhere({ id: r.id, status: r.status, owner: r.owner }, { $set: { status: "PENDING", items, owner, reason: null, dirty: false, updated_at: now() } });
				if (n === 1) return { kind: "mine", reservation: { ...r, status: "PENDING", items, owner } };
				continue;
			}
			if (r.status !== "PENDING") return { kind: "done", reservation: r };
			if (Date.now() > deadline) throw new DependencyUnavailableError("inventory", `the reservation of order '${params.order_id}' is still in progress`);
			await new Promise(resolve => setTimeout(resolve, 20));
		}
	}

	/** The order's reservation once no call is working on it (waits a little for a PENDING one). */
	async settled(orderId: string): Promise<Reservation | null> {
		const deadline = Date.now() + SETTLE_TIMEOUT_MS;
		for (;;) {
			const r = await this.reservations.findById(orderId);
			if (!r || r.status !== "PENDING" || Date.now() > deadline) return r;
			await new Promise(resolve => setTimeout(resolve, 20));
		}
	}

	/**
	 * The stock work a reservation's status owes (owedStockWork), done with idempotent per-row steps, then the
	 * reservation marked clean. Run by whoever changed the status, by a repeated call, and by the sweep for one left
	 * dirty by a crash.
	 */
	async finishStockWork(orderId: string, known?: Reservation): Promise<void> {
		const r = known ?? (await this.reservations.findById(orderId));
		const work = r ? owedStockWork(r) : null;
		if (!r || !work) return;
		const key = holdKey(orderId);
		const products = [...new Set([...r.items.map(i => i.product_id), ...r.lines.map(l => l.product_id)])];
		if (work === "ship") await this.stock.shipLines(r.lines, key);
		else {
			if (work === "undo-shipment") {
				// A line still held was never shipped (the commit died midway): it is given back; a shipped one is restored.
				const rows = new Map((await this.stock.rowsOfMany(products)).map(row => [row.id, row]));
				for (const line of r.lines) {
					const row = rows.get(`${line.product_id}@${line.warehouse_id}`);
					if (row?.holds?.[key]) await this.stock.drop(row, key);
					else await this.stock.restore(line, key);
				}
			}
			await this.stock.dropAll(products, key);
		}
		await this.reservations.updateWhere({ id: orderId, status: r.status, dirty: true }, { $set: { dirty: false } });
		if (work === "undo-shipment") await this.stock.forgetRestored(r.lines, key);
	}

	/** Finishes the stock work of up to 100 reservations left dirty since before `cutoff` (ISO time). */
	async finishDirty(cutoff: string): Promise<void> {
		for (const r of await this.reservations.find({ dirty: true, updated_at: { $lt: cutoff } }, { limit: 100 })) await this.finishStockWork(r.id);
	}
}
