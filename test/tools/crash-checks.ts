/**
 * The crash test's own invariants, beyond money and stock (invariants.ts): what each checkout was answered
 * against the orders that exist, a voucher's uses against the orders that keep it, each order's notifications against its history, and, read from the NeDB files
 * of a stopped shop, what the event machinery left behind (outbox rows, staged events, claims, dead letters); and
 * that every order rebuilds from its event stream with no difference (POST /admin/orders/rebuild).
 */
import fs from "node:fs";
import path from "node:path";
import { request, type Customer } from "./http-client";
import { paymentsOf, type OrderView } from "./invariants";
import { rebuildViolations, type RebuildReport } from "../../services/common/chaos-invariants";
import { expectedMilestones, MILESTONES, type Milestone } from "../../services/notifications/messages";

/** One checkout click as the client saw it: its answer, or that the answer was lost (the shop died under it). */
export interface Click {
	customer: string;
	key: string | null;
	token: string;
	/** The order id of every answer this click (and its keyed retries) got. */
	answeredIds: Set<string>;
	/** No answer ever came (an unkeyed request the shop died under): reported as timed out on the client. */
	lost: boolean;
	/** What each attempt was answered, for the reports: "<status> <sent at> +<ms>" (an order id when there was one). */
	answers?: string[];
}

/** Orders per click and per key: one click is at most one order, every order is some click's answer or a lost click's. */
export function checkClicks(clicks: Click[], orders: Map<string, OrderView & { user_id: string }>): string[] {
	const violations: string[] = [];
	for (const c of clicks)
		if (c.answeredIds.size > 1) violations.push(`checkout ${c.key ? `with key ${c.key}` : "click"} of ${c.customer} was answered with ${c.answeredIds.size} orders: ${[...c.answeredIds].join(", ")}`);
	const answered = new Set(clicks.flatMap(c => [...c.answeredIds]));
	const lostBy = new Map<string, number>();
	for (const c of clicks) if (c.lost) lostBy.set(c.customer, (lostBy.get(c.customer) ?? 0) + 1);
	const unnamedBy = new Map<string, string[]>();
	for (const o of orders.values())
		if (!answered.has(o.id)) unnamedBy.set(o.user_id, [...(unnamedBy.get(o.user_id) ?? []), `${o.id} ${o.status} created ${o.history?.[0]?.at?.slice(11, 23) ?? "?"}`]);
	for (const [user, ids] of unnamedBy)
		if (ids.length > (lostBy.get(user) ?? 0)) {
			const noOrder = clicks.filter(c => c.customer === user && c.answeredIds.size === 0 && !c.lost).flatMap(c => c.answers ?? []);
			// Every answer this customer got in the two minutes before each unnamed order was created, orders included.
			const times = ids.map(i => i.match(/created (\d\d):(\d\d):(\d\d\.\d+)/)).filter(m => m !== null).map(m => seconds(m[1], m[2], m[3]));
			const near = clicks
				.filter(c => c.customer === user)
				.filter(c => {
					const m = c.answers?.[0]?.match(/sent (\d\d):(\d\d):(\d\d\.\d+)/);
					const t = m ? seconds(m[1], m[2], m[3]) : NaN;
					return times.some(o => t >= o - 120 && t <= o + 5);
				})
				.map(c => (c.answers ?? []).join(" / "));
			const seen = (noOrder.length > 0 ? `; answers without an order: ${noOrder.join(", ")}` : "") + (near.length > 0 ? `; clicks in the 2 minutes before: ${near.join(" | ")}` : "");
			violations.push(`customer ${user} has ${ids.length} orders no answer named (${ids.join(", ")}) but only ${lostBy.get(user) ?? 0} checkouts lost their answer${seen}`);
		}
	return violations;
}

/** Seconds since midnight of an HH:MM:SS.mmm time. */
function seconds(h: string, m: string, s: string): number {
	return Number(h) * 3600 + Number(m) * 60 + Number(s);
}

interface NotificationRow {
	order_id: string | null;
	milestone: Milestone | null;
}

/** Every notification of a customer (all pages). */
async function notificationsOf(base: string, c: Customer): Promise<NotificationRow[]> {
	const out: NotificationRow[] = [];
	for (let page = 1; page < 10_000; page++) {
		const res = await request<{ rows: NotificationRow[]; total: number; page_size: number }>(base, "GET", `/api/v1/account/notifications?page=${page}&page_size=100`, { token: c.token });
		if (res.status !== 200) throw new Error(`GET /account/notifications answered ${res.status}`);
		out.push(...res.body.rows);
		if (page * res.body.page_size >= res.body.total) break;
	}
	return out;
}

/** Whether a failed or cancelled order's money was given back, from all its payments (undefined when unreadable). */
async function wasRefunded(base: string, adminToken: string, o: OrderView): Promise<boolean | undefined> {
	const payments = await paymentsOf(base, adminToken, o.id);
	return payments ? payments.rows.some(p => (p.refunded_cents ?? 0) > 0) : undefined;
}

/**
 * Each order's customer notifications against the milestones its history implies (the notifications service's
 * own rule, expectedMilestones): none missing, none twice.
 */
export async function checkNotifications(base: string, adminToken: string, customers: Customer[], orders: Map<string, OrderView>): Promise<string[]> {
	const violations: string[] = [];
	const byOrder = new Map<string, string[]>();
	for (const c of customers)
		for (const n of await notificationsOf(base, c)) if (n.order_id && n.milestone) byOrder.set(n.order_id, [...(byOrder.get(n.order_id) ?? []), n.milestone]);
	for (const o of orders.values()) {
		const refunded = o.status === "FAILED" || o.status === "CANCELLED" ? await wasRefunded(base, adminToken, o) : false;
		const want = expectedMilestones({ status: o.status, failure_reason: o.failure_reason, history: o.history ?? [] }, { refunded }).join(",");
		const got = [...(byOrder.get(o.id) ?? [])].sort((x, y) => MILESTONES.indexOf(x as Milestone) - MILESTONES.indexOf(y as Milestone)).join(",");
		if (want !== got) violations.push(`order ${o.id} (${o.status}): notified [${got}], its history implies [${want}]`);
	}
	return violations;
}

/** The documents of one NeDB file as they stand (later lines replace earlier ones; `$$deleted` removes). */
export function readNeDbFile(file: string): Array<Record<string, unknown>> {
	const docs = new Map<string, Record<string, unknown>>();
	for (const line of fs.readFileSync(file, "utf8").split("\n")) {
		if (!line.trim()) continue;
		let doc: Record<string, unknown>;
		try {
			doc = JSON.parse(line) as Record<string, unknown>;
		} catch {
			continue; // a line cut by the kill
		}
		if (doc.$$indexCreated) continue;
		const id = String(doc._id);
		if (doc.$$deleted) docs.delete(id);
		else docs.set(id, doc);
	}
	return [...docs.values()];
}

/** What the event machinery left in a stopped shop's files: every entry is a violation. */
export function checkEventFiles(dataDir: string): { violations: string[]; counts: Record<string, number> } {
	const violations: string[] = [];
	const counts = { outbox_pending: 0, staged: 0, claims_processing: 0, dead_letters: 0, claims: 0 };
	for (const name of fs.readdirSync(dataDir).filter(f => f.endsWith(".db"))) {
		const rows = readNeDbFile(path.join(dataDir, name));
		if (name.endsWith(".events_outbox.db"))
			for (const r of rows.filter(r => r.status === "pending")) {
				counts.outbox_pending++;
				violations.push(`${name}: outbox row ${String(r._id)} was never sent`);
			}
		else if (name.endsWith(".events_processed.db")) {
			counts.claims += rows.length;
			for (const r of rows.filter(r => r.status === "processing")) {
				counts.claims_processing++;
				violations.push(`${name}: claim ${String(r._id)} is stuck processing`);
			}
		} else if (name.endsWith(".events_dead_letters.db")) {
			counts.dead_letters += rows.length;
			for (const r of rows.filter(r => !r.error)) violations.push(`${name}: dead letter ${String(r._id)} has no reason`);
		} else
			for (const r of rows.filter(r => Array.isArray(r.pending_events) && r.pending_events.length > 0)) {
				counts.staged += (r.pending_events as unknown[]).length;
				violations.push(`${name}: document ${String(r._id)} still holds ${(r.pending_events as unknown[]).length} staged event(s)`);
			}
	}
	return { violations, counts };
}

/**
 * Inventory's own records against the settled orders, read from the stopped shop's files (any folder holding
 * `inventory.*.db`): an order that shipped has a COMMITTED reservation, one that failed or was cancelled holds
 * none, no reservation is left PENDING, RESERVED or with stock work owed (`dirty`), and no stock row still holds
 * units for an order.
 */
export function checkReservationFiles(dirs: string[], orders: Map<string, OrderView>): string[] {
	const violations: string[] = [];
	for (const dir of dirs) {
		const file = (coll: string) => path.join(dir, `inventory.${coll}.db`);
		if (!fs.existsSync(file("reservations"))) continue;
		const byOrder = new Map(readNeDbFile(file("reservations")).map(r => [String(r.order_id), r]));
		for (const [id, r] of byOrder) {
			const o = orders.get(id);
			if (r.status === "PENDING" || r.status === "RESERVED") violations.push(`reservation of order ${id} is still ${String(r.status)}${o ? ` (order ${o.status})` : ""}`);
			if (r.dirty) violations.push(`reservation of order ${id} (${String(r.status)}) still owes stock work`);
		}
		for (const o of orders.values()) {
			const status = byOrder.get(o.id)?.status;
			if ((o.status === "SHIPPED" || o.status === "DELIVERED") && status !== "COMMITTED") violations.push(`order ${o.id} is ${o.status} but its reservation is ${String(status ?? "missing")}`);
			if ((o.status === "FAILED" || o.status === "CANCELLED") && status === "COMMITTED") violations.push(`order ${o.id} is ${o.status} but its reservation is COMMITTED`);
		}
		if (!fs.existsSync(file("stock"))) continue;
		for (const row of readNeDbFile(file("stock")))
			for (const [key, units] of Object.entries((row.holds ?? {}) as Record<string, number>))
				if (units > 0) violations.push(`stock row ${String(row._id)} still holds ${units} unit(s) for ${key}`);
	}
	return violations;
}

/** Orders that keep their voucher's use: placed and not undone (a failed or cancelled order gave it back). */
const KEEPS_VOUCHER = new Set(["SHIPPED", "DELIVERED"]);

/** A voucher's uses equal the settled orders that keep it, never above its limit (admin GET /admin/vouchers/:code). */
export async function checkVoucher(base: string, adminToken: string, code: string, maxUses: number, orders: Map<string, OrderView>): Promise<string[]> {
	const res = await request<{ uses: number }>(base, "GET", `/api/v1/admin/vouchers/${code}`, { token: adminToken });
	if (res.status !== 200) return [`voucher ${code} could not be read (${res.status})`];
	const keeping = [...orders.values()].filter(o => o.voucher?.code === code && KEEPS_VOUCHER.has(o.status)).length;
	const out: string[] = [];
	if (res.body.uses !== keeping) out.push(`voucher ${code} shows ${res.body.uses} uses but ${keeping} placed orders carry it`);
	if (res.body.uses > maxUses) out.push(`voucher ${code} was used ${res.body.uses} times, above its ${maxUses}`);
	return out;
}

/** Rebuilds every order from its stream through the admin route: the report, and its violations (also fewer orders checked than placed). */
export async function checkRebuild(base: string, adminToken: string, orders: number): Promise<{ report: RebuildReport | null; violations: string[] }> {
	const res = await request<RebuildReport>(base, "POST", "/api/v1/admin/orders/rebuild", { token: adminToken, body: {}, timeoutMs: 120_000 });
	if (res.status !== 200) return { report: null, violations: [`rebuild: POST /admin/orders/rebuild answered ${res.status}`] };
	const violations = rebuildViolations(res.body);
	if (res.body.checked < orders) violations.push(`rebuild checked ${res.body.checked} orders, fewer than the ${orders} placed`);
	return { report: res.body, violations };
}
