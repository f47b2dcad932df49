/**
 * Stock updates over the stock collection. Every change of a row is ONE atomic update that moves `available`
 * together with `on_hand` or `reserved`; a reservation takes units from a row only with the conditional
 * update `{id, available: {$gte: n}}`, so concurrent buyers can never take more than is there.
 */
import { DuplicateKeyError, type Repository } from "../../mixins/db.mixin";
import { mergeItems, mergeLines, planAllocation, rowId, type ItemRequest, type StockLine, type StockRow } from "./model";

export type ReserveOutcome =
	| { ok: true; lines: StockLine[] }
	/** An item could not be covered; `taken` is what was held so far (recorded; the caller gives it back). */
	| { ok: false; aborted: false; product_id: string; requested: number; taken: StockLine[] }
	/** The reservation stopped being this call's (released meanwhile): whoever took it over gives `taken` back. */
	| { ok: false; aborted: true; taken: StockLine[] };

/** Records a taken line on the reservation; false when the reservation is no longer the caller's. */
export type RecordTaken = (line: StockLine) => Promise<boolean>;

/** How often one product's allocation is re-planned after losing a race for a row before giving up. */
const MAX_REPLANS = 20;

export class StockStore {
	constructor(private readonly rows: Repository<StockRow>) {}

	/** The rows of one product. */
	rowsOf(productId: string): Promise<StockRow[]> {
		return this.rows.find({ product_id: productId });
	}

	/** Available units per product for several products (products without rows are absent). */
	async availableOf(productIds: string[]): Promise<Map<string, number>> {
		const rows = productIds.length ? await this.rows.find({ product_id: { $in: [...new Set(productIds)] } }) : [];
		const out = new Map<string, number>();
		for (const r of rows) out.set(r.product_id, (out.get(r.product_id) ?? 0) + Math.max(0, r.available));
		return out;
	}

	/** Takes n units of a row if it still has them: one conditional atomic update. */
	async take(id: string, n: number): Promise<boolean> {
		const changed = await this.rows.updateWhere(
			{ id, available: { $gte: n } },
			{ $inc: { reserved: n, available: -n }, $set: { updated_at: new Date().toISOString() } },
		);
		return changed === 1;
	}

	/** Gives reserved units back to available. */
	async untake(line: StockLine): Promise<void> {
		await this.rows.updateWhere(
			{ id: rowId(line.product_id, line.warehouse_id) },
			{ $inc: { reserved: -line.quantity, available: line.quantity }, $set: { updated_at: new Date().toISOString() } },
		);
	}

	/** Shipment: the reserved units leave the warehouse (on_hand and reserved fall, available stays). */
	async ship(line: StockLine): Promise<void> {
		await this.rows.updateWhere(
			{ id: rowId(line.product_id, line.warehouse_id) },
			{ $inc: { on_hand: -line.quantity, reserved: -line.quantity }, $set: { updated_at: new Date().toISOString() } },
		);
	}

	/** Shipped units come back (a committed order was released): on_hand and available rise. */
	async restore(line: StockLine): Promise<void> {
		await this.rows.updateWhere(
			{ id: rowId(line.product_id, line.warehouse_id) },
			{ $inc: { on_hand: line.quantity, available: line.quantity }, $set: { updated_at: new Date().toISOString() } },
		);
	}

	/**
	 * Takes every item or stops: per item, the fullest warehouses first, one conditional update per row; a lost
	 * race re-plans from fresh rows. Every taken line is recorded on the reservation before the next one is taken,
	 * so that whoever ends the reservation (this call, a release, or a later call after a crash) can give back
	 * exactly what was taken; a line that cannot be recorded is given back at once.
	 */
	async reserveAll(items: ItemRequest[], record: RecordTaken): Promise<ReserveOutcome> {
		const taken: StockLine[] = [];
		for (const item of mergeItems(items)) {
			let remaining = item.quantity;
			for (let attempt = 0; remaining > 0 && attempt < MAX_REPLANS; attempt++) {
				const plan = planAllocation(await this.rowsOf(item.product_id), remaining);
				if (!plan) break;
				for (const piece of plan) {
					if (!(await this.take(piece.row_id, piece.quantity))) continue;
					const line = { product_id: item.product_id, warehouse_id: piece.warehouse_id, quantity: piece.quantity };
					if (!(await record(line))) {
						await this.untake(line);
						return { ok: false, aborted: true, taken };
					}
					taken.push(line);
					remaining -= piece.quantity;
				}
			}
			if (remaining > 0) return { ok: false, aborted: false, product_id: item.product_id, requested: item.quantity, taken };
		}
		return { ok: true, lines: mergeLines(taken) };
	}

	/** Gives back lines that were taken. */
	async untakeAll(lines: StockLine[]): Promise<void> {
		for (const line of lines) await this.untake(line);
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
