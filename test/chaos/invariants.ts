/**
 * After a scenario: wait until the shop is quiet, then check the invariants of issue 5.
 * - every order ends in a terminal status (DELIVERED, FAILED, CANCELLED);
 * - the net amount charged for an order is its total when it shipped, 0 otherwise;
 * - stock on hand at the start = on hand at the end + units shipped, and nothing stays reserved;
 * - every domain event was handled by each consuming service, or sits in its dead-letter store;
 * - no request got a 5xx that an injected fault or an open circuit breaker does not explain;
 * - the sellers' ledgers add up: each balance is the sum of its entries, and the shops' amounts (net plus
 *   commission) equal what customers paid for delivered lines (test/tools/ledger-check.ts).
 */
import { rebuildViolations, type RebuildReport } from "../../services/common/chaos-invariants";
import { toCents } from "../../services/common/money";
import { checkLedger, type LedgerEntry, type LedgerOrder, type ShopLedger } from "../tools/ledger-check";
import { ChaosObserver } from "./observer";
import type { ChaosShop } from "./shop";
import type { LoadResult, RequestOutcome } from "./load";

export interface Order {
	id: string;
	status: string;
	failure_reason: string | null;
	total: number;
	items: Array<{ product_id: string; quantity: number }>;
}

interface Levels {
	on_hand: number;
	reserved: number;
}

const TERMINAL = new Set(["DELIVERED", "FAILED", "CANCELLED"]);

export type StockSnapshot = Map<string, Levels>;

/** How long a read waits for a circuit breaker that the scenario's faults opened (half-open after 5 s). */
const BREAKER_WAIT_MS = 15_000;

/**
 * A read for the checks: a call that finds its service's endpoints behind an open circuit breaker
 * (SERVICE_NOT_AVAILABLE, left open by the scenario's faults) is tried again until the breaker lets it through.
 */
async function read(shop: ChaosShop, action: string, params: Record<string, unknown> = {}): Promise<unknown> {
	const end = Date.now() + BREAKER_WAIT_MS;
	for (;;) {
		try {
			return await shop.broker.call(action, params);
		} catch (err) {
			if ((err as { type?: string }).type !== "SERVICE_NOT_AVAILABLE" || Date.now() > end) throw err;
			await new Promise(r => setTimeout(r, 250));
		}
	}
}

/** Stock of the products a scenario sells. */
export async function stockSnapshot(shop: ChaosShop): Promise<StockSnapshot> {
	const out: StockSnapshot = new Map();
	for (const id of shop.products) {
		const l = (await read(shop, "inventory.levels", { product_id: id })) as Levels;
		out.set(id, { on_hand: l.on_hand, reserved: l.reserved });
	}
	return out;
}

export async function allOrders(shop: ChaosShop): Promise<Order[]> {
	return ((await read(shop, "orders.find", { limit: 10_000 })) as { rows: Order[] }).rows;
}

async function deadLetterKeys(shop: ChaosShop): Promise<Set<string>> {
	const keys = new Set<string>();
	for (const svc of shop.broker.services) {
		if (!svc.actions || typeof (svc.actions as Record<string, unknown>).deadLetters !== "function") continue;
		const { rows } = (await read(shop, `${svc.name}.deadLetters`, { status: "all", limit: 500 })) as {
			rows: Array<{ service: string; event_id: string }>;
		};
		for (const d of rows) keys.add(`${d.service}|${d.event_id}`);
	}
	return keys;
}

/** Deliveries still owed: (consumer, event) pairs neither handled nor dead-lettered. */
async function undelivered(shop: ChaosShop): Promise<string[]> {
	const subs = ChaosObserver.subscriptions(shop.broker);
	const dead = await deadLetterKeys(shop);
	const out: string[] = [];
	for (const [id, name] of shop.observer.published)
		for (const service of subs.get(name) ?? [])
			if (!shop.observer.handled.has(`${service}|${id}`) && !dead.has(`${service}|${id}`)) out.push(`${name} ${id} → ${service}`);
	return out;
}

async function pendingOutbox(shop: ChaosShop): Promise<number> {
	let n = 0;
	for (const svc of shop.broker.services) {
		if (!svc.actions || typeof (svc.actions as Record<string, unknown>).eventStats !== "function") continue;
		n += ((await read(shop, `${svc.name}.eventStats`)) as { pending_outbox: number }).pending_outbox;
	}
	return n;
}

/** Waits until every order is terminal, the outboxes are empty and every delivery is settled (or the time is up). */
export async function waitForQuiescence(shop: ChaosShop, timeoutMs: number): Promise<number> {
	const t0 = Date.now();
	while (Date.now() - t0 < timeoutMs) {
		const orders = await allOrders(shop);
		if (orders.every(o => TERMINAL.has(o.status)) && (await pendingOutbox(shop)) === 0 && (await undelivered(shop)).length === 0)
			return Date.now() - t0;
		await new Promise(r => setTimeout(r, 250));
	}
	return Date.now() - t0;
}

/** Whether a 5xx is explained by an injected fault in its trace, an error it names, or an open breaker. */
export function explained5xx(r: RequestOutcome, breakerOpen: (from: number, to: number) => boolean): boolean {
	if (r.type === "INJECTED_FAULT") return true;
	if (r.chain?.some(c => c.fault !== undefined || c.error_type === "INJECTED_FAULT")) return true;
	return breakerOpen(r.startedAt - 1000, r.startedAt + r.ms + 1000);
}

/** Every violated invariant, as one line each. */
export async function checkInvariants(shop: ChaosShop, before: StockSnapshot, load: LoadResult): Promise<string[]> {
	const violations: string[] = [];
	const orders = await allOrders(shop);

	for (const o of orders) if (!TERMINAL.has(o.status)) violations.push(`order ${o.id} ended ${o.status}, not a terminal status`);

	for (const o of orders) {
		const { net_charged_cents } = (await read(shop, "payments.listByOrder", { order_id: o.id })) as { net_charged_cents: number };
		const shipped = o.status === "SHIPPED" || o.status === "DELIVERED";
		const expected = shipped ? toCents(o.total) : 0;
		if (net_charged_cents !== expected) violations.push(`order ${o.id} (${o.status}) has ${net_charged_cents} cents charged, expected ${expected}`);
	}

	const after = await stockSnapshot(shop);
	const shippedUnits = new Map<string, number>();
	for (const o of orders)
		if (o.status === "SHIPPED" || o.status === "DELIVERED")
			for (const i of o.items) shippedUnits.set(i.product_id, (shippedUnits.get(i.product_id) ?? 0) + i.quantity);
	for (const [id, start] of before) {
		const end = after.get(id) ?? { on_hand: NaN, reserved: NaN };
		const units = shippedUnits.get(id) ?? 0;
		if (start.on_hand !== end.on_hand + units)
			violations.push(`${id}: on hand ${start.on_hand} at the start, ${end.on_hand} at the end + ${units} shipped`);
		if (end.reserved !== 0) violations.push(`${id}: ${end.reserved} units still reserved with every order terminal`);
	}

	for (const line of (await undelivered(shop)).slice(0, 20)) violations.push(`event not handled nor dead-lettered: ${line}`);

	const breakerOpen = (from: number, to: number): boolean => shop.observer.breakerOpenDuring(from, to);
	for (const r of [...load.checkouts, ...load.searches])
		if (r.status >= 500 && !explained5xx(r, breakerOpen)) violations.push(`unexplained ${r.status} (${r.type ?? "no type"}) for trace ${r.traceId}`);

	const placed = new Set(orders.map(o => o.id));
	for (const r of load.checkouts) if (r.orderId && !placed.has(r.orderId)) violations.push(`checkout answered order ${r.orderId}, which is not stored`);

	violations.push(...(await ledgerViolations(shop, orders as unknown as LedgerOrder[])));
	violations.push(...rebuildViolations((await read(shop, "orders.rebuild")) as RebuildReport));
	return violations;
}

/** The ledger invariant; without a ledger service in the shop there is nothing to check. */
async function ledgerViolations(shop: ChaosShop, orders: LedgerOrder[]): Promise<string[]> {
	if (!shop.broker.registry.getActionEndpoints("ledger.all")?.hasAvailable()) return [];
	const { rows } = (await read(shop, "ledger.all")) as { rows: LedgerEntry[] };
	const byShop = new Map<string, ShopLedger>();
	for (const e of rows) {
		const l = byShop.get(e.shop_id) ?? { shop_id: e.shop_id, balance_cents: 0, entries: [] };
		l.entries.push(e);
		l.balance_cents += e.net_cents;
		byShop.set(e.shop_id, l);
	}
	return checkLedger(orders, [...byShop.values()]);
}
