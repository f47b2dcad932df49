/**
 * Stock updates over the stock collection. Every change of a row is ONE atomic update that moves `available`
 * together with `on_hand` or `reserved`; a reservation takes units from a row only with the conditional
 * update `{id, available: {$gte: n}}`, so concurrent buyers can never take more than is there.
 */
import { DuplicateKeyError, type Repository } from "../../mixins/db.mixin";
import { mergeItems, mergeLines, planAllocation, rowId, type ItemRequest, type StockLine, type StockRow } from "./model";

export type ReserveOutcome =
	| { ok: true; lines: StockLine[] }
	/** An item could not be covered; what was held stays held under the key until the caller drops it. */
	| { ok: false; product_id: string; requested: number; held: number };

/** How often one product's allocation is re-planned after losing a race for a row before giving up. */
const MAX_REPLANS = 20;

/**
 * The field of a row holding an order's units. Every change of a hold is one conditional update of one row that
 * moves the units and the hold together, so each line's change is applied exactly once however often a call is
 * repeated or resumed after a crash: the hold is the marker of what is held, its removal of what was given back
 * or shipped. `restored.<key>` marks units of a shipped order put back on the shelf.
 */
const holdPath = (key: string): string => `holds.${key}`;
const restoredPath = (key: string): string => `restored.${key}`;

/** A hold key that is a safe field name (no dot, no dollar) for an order id. */
export function holdKey(orderId: string): string {
	return orderId.replace(/[^A-Za-z0-9_:@-]/g, "_");
}

export class StockStore {
	constructor(private readonly rows: Repository<StockRow>) {}

	/** The rows of one product. */
	rowsOf(productId: string): Promise<StockRow[]> {
		return this.rows.find({ product_id: productId });
	}

	/** The rows of several products. */
	rowsOfMany(productIds: string[]): Promise<StockRow[]> {
		return productIds.length ? this.rows.find({ product_id: { $in: [...new Set(productIds)] } }) : Promise.resolve([]);
	}

	/** Available units per product for several products (products without rows are absent). */
	async availableOf(productIds: string[]): Promise<Map<string, number>> {
		const rows = await this.rowsOfMany(productIds);
		const out = new Map<string, number>();
		for (const r of rows) out.set(r.product_id, (out.get(r.product_id) ?? 0) + Math.max(0, r.available));
		return out;
	}

	/** What an order holds on these products' rows, one line per row. */
	async heldLines(productIds: string[], key: string): Promise<StockLine[]> {
		const rows = await this.rowsOfMany(productIds);
		return rows.filter(r => (r.holds?.[key] ?? 0) > 0).map(r => ({ product_id: r.product_id, warehouse_id: r.warehouse_id, quantity: r.holds?.[key] ?? 0 }));
	}

	/** Adds n units to an order's hold on a row if the row still has them and the hold is as read: one conditional update. */
	async hold(row: StockRow, key: string, n: number): Promise<boolean> {
		const current = row.holds?.[key];
		const changed = await this.rows.updateWhere(
			{ id: row.id, available: { $gte: n }, [holdPath(key)]: current === undefined ? { $exists: false } : current },
			{ $inc: { reserved: n, available: -n, [holdPath(key)]: n }, $set: { updated_at: new Date().toISOString() } },
		);
		return changed === 1;
	}

	/** Gives an order's held units on a row back to available, keeping `keep` of them held (0: the hold goes). */
	async drop(row: StockRow, key: string, keep = 0): Promise<boolean> {
		const q = row.holds?.[key] ?? 0;
		if (q <= keep) return false;
		const back = q - keep;
		const update: Record<string, unknown> = { $inc: { reserved: -back, available: back }, $set: { updated_at: new Date().toISOString() } };
		if (keep === 0) update.$unset = { [holdPath(key)]: true };
		else (update.$set as Record<string, unknown>)[holdPath(key)] = keep;
		return (await this.rows.updateWhere({ id: row.id, [holdPath(key)]: q }, update)) === 1;
	}

	/** Shipment of an order's hold on a row: the units leave the warehouse (on_hand and reserved fall), once. */
	async ship(row: StockRow, key: string): Promise<boolean> {
		const q = row.holds?.[key] ?? 0;
		if (q <= 0) return false;
		const changed = await this.rows.updateWhere(
			{ id: row.id, [holdPath(key)]: q },
			{ $inc: { on_hand: -q, reserved: -q }, $unset: { [holdPath(key)]: true }, $set: { updated_at: new Date().toISOString() } },
		);
		return changed === 1;
	}

	/** Shipped units of an order come back (on_hand and available rise), once per row and order. */
	async restore(line: StockLine, key: string): Promise<void> {
		await this.rows.updateWhere(
			{ id: rowId(line.product_id, line.warehouse_id), [restoredPath(key)]: { $exists: false } },
			{ $inc: { on_hand: line.quantity, available: line.quantity }, $set: { [restoredPath(key)]: line.quantity, updated_at: new Date().toISOString() } },
		);
	}

	/** Forgets the restore markers of an order once its reservation records that the restore is complete. */
	async forgetRestored(lines: StockLine[], key: string): Promise<void> {
		for (const line of lines) await this.rows.updateWhere({ id: rowId(line.product_id, line.warehouse_id) }, { $unset: { [restoredPath(key)]: true } });
	}

	/** Gives back everything an order holds on these products' rows. */
	async dropAll(productIds: string[], key: string): Promise<void> {
		for (const row of await this.rowsOfMany(productIds)) if (row.holds?.[key]) await this.drop(row, key);
	}

	/**
	 * Ships what an order holds, once per row: first by its lines (each the row's whole hold, so no read), then
	 * whatever is still held on the rows (a line shipped before a crash, or a hold that differs from its line).
	 */
	async shipLines(lines: StockLine[], key: string): Promise<void> {
		let all = true;
		for (const l of lines) all = (await this.ship({ id: rowId(l.product_id, l.warehouse_id), holds: { [key]: l.quantity } } as StockRow, key)) && all;
		if (all) return;
		for (const row of await this.rowsOfMany(lines.map(l => l.product_id))) if (row.holds?.[key]) await this.ship(row, key);
	}

	/**
	 * Holds every item for an order under `key`, or stops at the first item that cannot be covered. Units the key
	 * already holds (an earlier attempt that died, or a concurrent one) count; per item, the fullest warehouses
	 * first, one conditional update per row; a lost race re-plans from fresh rows; more than needed (two attempts
	 * at once) is given back.
	 */
	async holdAll(items: ItemRequest[], key: string): Promise<ReserveOutcome> {
		const lines: StockLine[] = [];
		for (const item of mergeItems(items)) {
			let held = 0;
			let got: StockLine[] | null = null;
			for (let attempt = 0; attempt < MAX_REPLANS && !got; attempt++) {
				const rows = await this.rowsOf(item.product_id);
				held = rows.reduce((n, r) => n + (r.holds?.[key] ?? 0), 0);
				if (held > item.quantity) {
					await this.trim(rows, key, held - item.quantity);
					continue;
				}
				const holding = new Map(rows.filter(r => r.holds?.[key]).map(r => [r.warehouse_id, r.holds?.[key] ?? 0]));
				const plan = held === item.quantity ? [] : planAllocation(rows, item.quantity - held);
				if (!plan) break;
				const byId = new Map(rows.map(r => [r.id, r]));
				let all = true;
				for (const piece of plan) {
					if (!(await this.hold(byId.get(piece.row_id) as StockRow, key, piece.quantity))) {
						all = false;
						break;
					}
					holding.set(piece.warehouse_id, (holding.get(piece.warehouse_id) ?? 0) + piece.quantity);
				}
				// A lost race re-reads the rows (what this attempt did hold counts as held then).
				if (all) got = [...holding].map(([warehouse_id, quantity]) => ({ product_id: item.product_id, warehouse_id, quantity }));
			}
			if (!got) return { ok: false, product_id: item.product_id, requested: item.quantity, held };
			lines.push(...got);
		}
		return { ok: true, lines: mergeLines(lines) };
	}

	/** Gives back `excess` units of a key's holds over a product's rows. */
	private async trim(rows: StockRow[], key: string, excess: number): Promise<void> {
		for (const row of rows) {
			const q = row.holds?.[key] ?? 0;
			if (excess <= 0 || q === 0) continue;
			const back = Math.min(q, excess);
			if (await this.drop(row, key, q - back)) excess -= back;
		}
	}

/** Adds units to a warehouse, creating the row on the first delivery. */
	async restock(productId: string, warehouseId: string, quantity: number): Promise<void> {
		const id = rowId(productId, warehouseId);
		const inc = { $inc: { on_hand: quantity, available: quantity }, $set: { updated_at: new Date().toISOString() } };
		if ((await this.rows.updateWhere({ id }, inc)) === 1) return;
		try {
			await this.rows.insert({
				id,
				product_id: productId,
				warehouse_id: warehouseId,
				on_hand: quantity,
				reserved: 0,
				available: quantity,
				updated_at: new Date().toISOString(),
			});
		} catch (err) {
			if (!(err instanceof DuplicateKeyError)) throw err;
			await this.rows.updateWhere({ id }, inc); // created by a concurrent restock meanwhile
		}
	}

	/**
	 * Sets a row's on_hand (a stock count). Refused (returns the reserved count) when fewer than the reserved
	 * units would remain. Optimistic: the update applies only to the on_hand it was computed from.
	 */
	async setOnHand(productId: string, warehouseId: string, onHand: number): Promise<{ ok: true } | { ok: false; reserved: number }> {
		const id = rowId(productId, warehouseId);
		for (;;) {
			const row = await this.rows.findById(id);
			if (!row) {
				try {
					await this.rows.insert({ id, product_id: productId, warehouse_id: warehouseId, on_hand: onHand, reserved: 0, available: onHand, updated_at: new Date().toISOString() });
					return { ok: true };
				} catch (err) {
					if (!(err instanceof DuplicateKeyError)) throw err;
					continue;
				}
			}
			if (row.reserved > onHand) return { ok: false, reserved: row.reserved };
			const n = await this.rows.updateWhere(
				{ id, on_hand: row.on_hand, reserved: { $lte: onHand } },
				{ $set: { on_hand: onHand, updated_at: new Date().toISOString() }, $inc: { available: onHand - row.on_hand } },
			);
			if (n === 1) return { ok: true };
		}
	}

	/** Inserts the rows that do not exist yet (fixed ids: running twice, or on two nodes, adds nothing twice). */
	async seed(rows: Array<{ product_id: string; warehouse_id: string; on_hand: number }>): Promise<number> {
		let inserted = 0;
		for (const r of rows) {
			try {
				await this.rows.insert({ id: rowId(r.product_id, r.warehouse_id), ...r, reserved: 0, available: r.on_hand, updated_at: new Date().toISOString() });
				inserted++;
			} catch (err) {
				if (!(err instanceof DuplicateKeyError)) throw err;
			}
		}
		return inserted;
	}
}
