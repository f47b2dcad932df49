// The shopper's orders, and an order's page with its bill and its history as a timeline: the audit trail of
// GET /orders/:id/history where the shop has it (200), else the order's own status changes (404).
import { useEffect, useState } from "preact/hooks";
import { api } from "../lib/api";
import { price, when } from "../lib/format";
import { useApi } from "./data";
import { explain, messageForType } from "./errors";
import { href, type Route } from "./router";
import type { Address, HistoryEvent, Order, Page } from "./types";
import { Alert, BillTable, Pager } from "./ui";

/** Statuses an order leaves by itself soon: the page looks again until it settles. */
const MOVING = new Set(["PENDING", "PAID", "STOCK_RESERVED", "COMPENSATING"]);

const STATUS_WORDS: Record<string, string> = {
	PENDING: "Placed",
	PAID: "Paid",
	STOCK_RESERVED: "Items reserved",
	SHIPPED: "Shipped",
	DELIVERED: "Delivered",
	COMPENSATING: "Being undone",
	FAILED: "Failed",
	CANCELLED: "Cancelled",
};

/** An order's status as a coloured badge. */
function StatusBadge({ status }: { status: string }) {
	return <span class={`status status-${status.toLowerCase()}`}>{STATUS_WORDS[status] ?? status}</span>;
}

/** The signed-in shopper's orders, newest first. */
export function OrdersPage({ route }: { route: Route }) {
	const page = route.query.get("page") ?? "1";
	const orders = useApi<Page<Order>>(`/orders?page=${encodeURIComponent(page)}`);
	const o = orders.data;
	return (
		<section aria-labelledby="orders-title">
			<h1 id="orders-title">Your orders</h1>
			{orders.error && <Alert>{explain(orders.error)}</Alert>}
			{!o && !orders.error && <div class="orders-skeleton" aria-busy="true" />}
			{o && o.rows.length === 0 && (
				<p class="empty">
					No orders yet. <a href="#/">Browse the catalog</a>.
				</p>
			)}
			{o && o.rows.length > 0 && (
				<ul class="order-list">
					{o.rows.map(r => (
						<li key={r.id}>
							<a href={`#/order/${encodeURIComponent(r.id)}`}>{r.id}</a>
							<StatusBadge status={r.status} />
							<span class="muted">{when(r.created_at)}</span>
							<span>
								{r.items.reduce((n, i) => n + i.quantity, 0)} items · {price(r.total, r.currency)}
							</span>
						</li>
					))}
				</ul>
			)}
			{o && <Pager page={o.page} pages={o.total_pages} link={p => href("/orders", { page: p })} />}
		</section>
	);
}

interface TimelineEntry {
	key: string;
	title: string;
	at: string;
	detail: string | null;
	bad: boolean;
}

/** The order stream's event types (GET /orders/:id/history) in the shopper's words. */
const EVENT_WORDS: Record<string, string> = {
	created: "Placed",
	paid: "Paid",
	stock_reserved: "Items reserved",
	shipped: "Shipped",
	delivered: "Delivered",
	compensating: "Being undone",
	failed: "Failed",
	cancelled: "Cancelled",
	cancel_requested: "Cancellation requested",
	payment_recorded: "Payment recorded",
	shipment_recorded: "Shipment recorded",
	refunded: "Refunded",
	stock_released: "Items released",
	shipment_cancelled: "Shipment cancelled",
	shipment_preparing: "Parcel being packed",
	shipment_shipped: "Parcel handed to the carrier",
	shipment_delivered: "Parcel arrived",
	legacy: "Order as recorded before its event stream",
	voucher_released: "Voucher given back",
	imported: "Imported",
};

function eventTitle(type: string): string {
	if (EVENT_WORDS[type]) return EVENT_WORDS[type];
	const t = type.replace(/[._]/g, " ");
	return t.charAt(0).toUpperCase() + t.slice(1);
}

/** Who did it: the stream's actor is "user:<id>", "admin:<id>" or "system:<part>". */
function actorWords(actor: unknown): string | null {
	if (typeof actor !== "string") return null;
	const [kind, who] = actor.split(":", 2);
	if (kind === "user") return "by you";
	if (kind === "admin") return "by the shop's staff";
	if (kind === "system" && who && who !== "unknown") return "by the shop";
	return null;
}

function eventDetail(e: HistoryEvent, currency: string): string | null {
	const d = (e.data ?? {}) as { reason?: unknown; failure_reason?: unknown; amount_cents?: unknown; code?: unknown };
	const parts: string[] = [];
	if (typeof d.reason === "string" && d.reason) parts.push(d.reason);
	if (typeof d.amount_cents === "number") parts.push(price(d.amount_cents / 100, currency));
	if (typeof d.code === "string") parts.push(`voucher ${d.code}`);
	const by = actorWords(e.actor);
	if (by) parts.push(by);
	return parts.length ? parts.join(" · ") : null;
}

/** The order's timeline: the audit trail when the shop serves it, else the order's status history. */
function useTimeline(order: Order | null): { entries: TimelineEntry[] | null; source: "events" | "status" | null } {
	const [events, setEvents] = useState<HistoryEvent[] | null | "none">(null);
	const id = order?.id;
	const version = order?.updated_at;
	useEffect(() => {
		if (!id) return;
		let live = true;
		api<HistoryEvent[] | { rows: HistoryEvent[] }>("GET", `/orders/${encodeURIComponent(id)}/history`).then(
			r => live && setEvents(Array.isArray(r) ? r : r.rows),
			// 404: this shop has no audit trail (yet); any other failure also falls back to the status history.
			() => live && setEvents("none"),
		);
		return () => {
			live = false;
		};
	}, [id, version]);
	if (!order || events === null) return { entries: null, source: null };
	if (events !== "none" && events.length > 0)
		return {
			source: "events",
			entries: [...events]
				.sort((a, b) => a.seq - b.seq)
				.map(e => ({
					key: `e${e.seq}`,
					title: eventTitle(e.type),
					at: e.at,
					detail: eventDetail(e, order.currency),
					bad: /fail|cancel|compensat|refund|released/i.test(e.type),
				})),
		};
	return {
		source: "status",
		entries: order.history.map((h, i) => ({
			key: `h${i}`,
			title: STATUS_WORDS[h.status] ?? h.status,
			at: h.at,
			detail: h.reason,
			bad: h.status === "FAILED" || h.status === "CANCELLED" || h.status === "COMPENSATING",
		})),
	};
}

function addressText(a: Address | string | null): string {
	if (!a) return "";
	if (typeof a === "string") return a;
	return [a.street, a.city, a.postal_code, a.country].filter(Boolean).join(", ");
}

/** Why an order failed, in words: a payment error whose history says "declined" is a declined card. */
function failureWords(o: Order): string {
	const last = o.history.at(-1)?.reason ?? "";
	const type = o.failure_reason === "PAYMENT_ERROR" && /declined/i.test(last) ? "PAYMENT_DECLINED" : (o.failure_reason ?? "");
	return messageForType(type) ?? `This order failed (${o.failure_reason ?? "unknown reason"}).`;
}

/** An order's page: status, items, bill, shipping address, and its timeline. */
export function OrderPage({ id, route }: { id: string; route: Route }) {
	const order = useApi<Order>(`/orders/${encodeURIComponent(id)}`);
	const o = order.data;
	const timeline = useTimeline(o);
	const [cancelError, setCancelError] = useState<string | null>(null);
	// A moving order (202 accepted, or a saga still compensating) is looked at again every second for a while.
	const [polls, setPolls] = useState(0);
	useEffect(() => {
		if (!o || !MOVING.has(o.status) || polls >= 30) return;
		const t = setTimeout(() => {
			setPolls(n => n + 1);
			order.reload();
		}, 1000);
		return () => clearTimeout(t);
	}, [o, polls]);
	const cancel = async () => {
		setCancelError(null);
		try {
			order.set(await api<Order>("POST", `/orders/${encodeURIComponent(id)}/cancel`));
		} catch (e) {
			setCancelError(explain(e));
		}
	};
	if (order.error) return <Alert>{order.error.status === 404 ? "There is no such order." : explain(order.error)}</Alert>;
	return (
		<article aria-labelledby="order-title" aria-busy={o ? "false" : "true"}>
			<nav class="crumbs" aria-label="Breadcrumb">
				<a href="#/orders">Your orders</a>
			</nav>
			<h1 id="order-title">
				Order <span class="order-id">{id}</span>
			</h1>
			{o && route.query.get("placed") && o.status !== "FAILED" && <Alert kind="ok">Thank you! Your order is placed.</Alert>}
			{o?.status === "FAILED" && <Alert>{failureWords(o)}</Alert>}
			<div class="with-side">
				<section aria-labelledby="timeline-title">
					<h2 id="timeline-title">Timeline</h2>
					{!timeline.entries ? (
						<div class="timeline-skeleton" />
					) : (
						<ol class="timeline" data-source={timeline.source ?? ""}>
							{timeline.entries.map(e => (
								<li key={e.key} class={e.bad ? "bad" : undefined}>
									<strong>{e.title}</strong>
									<time dateTime={e.at} class="muted small">
										{when(e.at)}
									</time>
									{e.detail && <span class="small">{e.detail}</span>}
								</li>
							))}
						</ol>
					)}
				</section>
				<aside class="summary" aria-label="Order details">
					{!o ? (
						<div class="bill-skeleton" />
					) : (
						<>
							<p>
								<StatusBadge status={o.status} /> <span class="muted small">placed {when(o.created_at)}</span>
							</p>
							<ul class="summary-lines">
								{o.items.map(i => (
									<li key={i.product_id}>
										{i.quantity} × <a href={`#/product/${encodeURIComponent(i.product_id)}`}>{i.name}</a> <span class="muted">{price(i.price * i.quantity, o.currency)}</span>
									</li>
								))}
							</ul>
							<BillTable bill={o} />
							{o.shipping_address && <p class="small">Ships to {addressText(o.shipping_address)}</p>}
							{!["FAILED", "CANCELLED", "DELIVERED", "COMPENSATING"].includes(o.status) && (
								<button type="button" class="link danger" onClick={() => void cancel()}>
									Cancel order
								</button>
							)}
							{cancelError && <Alert>{cancelError}</Alert>}
						</>
					)}
				</aside>
			</div>
		</article>
	);
}
