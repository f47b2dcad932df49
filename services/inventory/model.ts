/**
 * Stock rows, reservations and the arithmetic on them: how an order's quantity is split over warehouses,
 * what a product's levels are, when stock counts as low. Pure code.
 */
import type { StockLine } from "../common/events";

export type { StockLine };

/** One product in one warehouse. `available` is kept equal to on_hand - reserved by every update. */
export interface StockRow {
	id: string;
	product_id: string;
	warehouse_id: string;
	on_hand: number;
	reserved: number;
	available: number;
	/** Units held per order (hold key), counted in `reserved`; a hold goes when it is given back or shipped. */
	holds?: Record<string, number>;
	/** Units of a shipped order put back per order, until its reservation records the restore as complete. */
	restored?: Record<string, number>;
	updated_at: string;
}

export type ReservationStatus = "PENDING" | "RESERVED" | "FAILED" | "COMMITTED" | "RELEASED";

/** What an order holds; keyed by order_id (unique), so concurrent duplicate calls cannot both reserve. */
export interface Reservation {
	id: string;
	order_id: string;
	user_id: string | null;
	status: ReservationStatus;
	items: ItemRequest[];
	/** What the order holds once RESERVED (or COMMITTED). */
	lines: StockLine[];
	/** The call working on a PENDING reservation. */
	owner: string;
	/**
	 * Set in the same write as a status that leaves stock work to do (give holds back, ship them, restore shipped
	 * units) and cleared once it is done: a reservation still dirty after a crash is finished by the sweep.
	 */
	dirty?: boolean;
	/** The status a RELEASED reservation had before: what its release had to undo. */
	released_from?: ReservationStatus;
	reason: string | null;
	/** Why the last attempt failed (answered again to a duplicate call). */
	failure?: { product_id: string; requested: number; available: number };
	created_at: string;
	updated_at: string;
	/** Events staged with the status change that they report (EventsMixin publishes and removes them). */
	pending_events?: unknown[];
}

export interface ItemRequest {
	product_id: string;
	quantity: number;
}

export interface AvailabilityItem {
	product_id: string;
	requested: number;
	available: number;
	ok: boolean;
}

export interface AvailabilityResult {
	ok: boolean;
	items: AvailabilityItem[];
}

export interface WarehouseLevel {
	warehouse_id: string;
	on_hand: number;
	reserved: number;
	available: number;
}

export interface Levels {
	product_id: string;
	on_hand: number;
	reserved: number;
	available: number;
	warehouses: WarehouseLevel[];
}

/** The id of a product's row in a warehouse: fixed, so seeding and restocking never create two. */
export function rowId(productId: string, warehouseId: string): string {
	return `${productId}@${warehouseId}`;
}

/** Items with the same product merged into one line, in first-seen order. */
export function mergeItems(items: ItemRequest[]): ItemRequest[] {
	const merged = new Map<string, number>();
	for (const it of items) merged.set(it.product_id, (merged.get(it.product_id) ?? 0) + it.quantity);
	return [...merged].map(([product_id, quantity]) => ({ product_id, quantity }));
}

/** Units available for a product over all its rows. */
export function totalAvailable(rows: Pick<StockRow, "available">[]): number {
	return rows.reduce((sum, r) => sum + Math.max(0, r.available), 0);
}

/**
 * How to take `quantity` units from a product's rows: the fullest warehouse first, so an order is split over
 * as few warehouses as possible. Null when the rows do not hold enough.
 */
export function planAllocation(rows: Pick<StockRow, "id" | "warehouse_id" | "available">[], quantity: number): Array<{ row_id: string; warehouse_id: string; quantity: number }> | null {
	if (totalAvailable(rows) < quantity) return null;
	const sorted = [...rows].filter(r => r.available > 0).sort((a, b) => b.available - a.available || a.warehouse_id.localeCompare(b.warehouse_id));
	const plan: Array<{ row_id: string; warehouse_id: string; quantity: number }> = [];
	let remaining = quantity;
	for (const r of sorted) {
		if (remaining === 0) break;
		const take = Math.min(r.available, remaining);
		plan.push({ row_id: r.id, warehouse_id: r.warehouse_id, quantity: take });
		remaining -= take;
	}
	return plan;
}

/** Lines for the same product and warehouse added together. */
export function mergeLines(lines: StockLine[]): StockLine[] {
	const merged = new Map<string, StockLine>();
	for (const l of lines) {
		const key = rowId(l.product_id, l.warehouse_id);
		const prev = merged.get(key);
		merged.set(key, prev ? { ...prev, quantity: prev.quantity + l.quantity } : { ...l });
	}
	return [...merged.values()];
}

/** A product's levels summed over its warehouses. */
export function summarise(productId: string, rows: StockRow[]): Levels {
	const warehouses = [...rows]
		.sort((a, b) => a.warehouse_id.localeCompare(b.warehouse_id))
		.map(r => ({ warehouse_id: r.warehouse_id, on_hand: r.on_hand, reserved: r.reserved, available: r.available }));
	return {
		product_id: productId,
		on_hand: warehouses.reduce((s, w) => s + w.on_hand, 0),
		reserved: warehouses.reduce((s, w) => s + w.reserved, 0),
		available: warehouses.reduce((s, w) => s + w.available, 0),
		warehouses,
	};
}

/** Whether a change from `before` to `after` available units crossed below the low-stock threshold. */
export function fellBelow(before: number, after: number, threshold: number): boolean {
	return before >= threshold && after < threshold;
}

/** The availability answer for a list of items, given available units per product. */
export function availabilityAnswer(items: ItemRequest[], available: Map<string, number>): AvailabilityResult {
	const rows = items.map(it => {
		const a = available.get(it.product_id) ?? 0;
		return { product_id: it.product_id, requested: it.quantity, available: a, ok: a >= it.quantity };
	});
	return { ok: rows.every(r => r.ok), items: rows };
}
