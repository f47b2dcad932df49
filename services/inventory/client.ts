/**
 * How other services read availability from inventory for display: one batch call with a short timeout and
 * no retries; null when inventory does not answer, so product pages and search results still render.
 */
import type { Context } from "moleculer";
import type { AvailabilityResult, StockLine } from "./model";

/** inventory.reserve's answer (a repeated call answers the same). */
export interface ReservationAnswer {
	order_id: string;
	status: "RESERVED";
	lines: StockLine[];
}
/** The answer of inventory.release ("RELEASED" or "NONE") and inventory.commit ("COMMITTED"). */
export type StatusAnswer<S extends string> = { order_id: string; status: S };

export interface DisplayAvailability {
	available: number;
	in_stock: boolean;
}

/** How long a page waits for inventory before it shows no availability. */
export const AVAILABILITY_TIMEOUT_MS = 1500;

/** Whether an action has an endpoint now (calling one that has none only logs a warning and fails). */
export function isCallable(ctx: Context, action: string): boolean {
	// The registry's endpoint list of the action (undefined when no node has it), as `$node.actions` reads it.
	return ctx.broker.registry.getActionEndpoints(action)?.hasAvailable() === true;
}

/** Available units per product id (0 for products without stock), or null when inventory is unavailable. */
export async function fetchAvailability(
	ctx: Context,
	ids: string[],
	onError: (err: Error) => void = () => undefined,
): Promise<Map<string, DisplayAvailability> | null> {
	const unique = [...new Set(ids)];
	if (unique.length === 0) return new Map();
	if (!isCallable(ctx, "inventory.availability")) return null;
	try {
		const res = await ctx.call<AvailabilityResult, { items: Array<{ product_id: string; quantity: number }> }>(
			"inventory.availability",
			{ items: unique.map(product_id => ({ product_id, quantity: 1 })) },
			{ timeout: AVAILABILITY_TIMEOUT_MS, retries: 0 },
		);
		const out = new Map<string, DisplayAvailability>(unique.map(id => [id, { available: 0, in_stock: false }]));
		for (const i of res.items) out.set(i.product_id, { available: i.available, in_stock: i.available > 0 });
		return out;
	} catch (err) {
		onError(err as Error);
		return null;
	}
}
