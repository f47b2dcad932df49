// The console's panels over one snapshot of the feed: sagas, recent checkouts, circuit breakers per node, dead
// letters (with redrive) and the outbox backlog.
import { useEffect, useState } from "preact/hooks";
import { api } from "../lib/api";
import { reasonClass } from "./charts";
import type { DeadLetter, RecentCheckout, Snapshot } from "./types";

export type OpenTrace = (traceId: string | null, orderId: string | null) => void;

interface FailedOrder {
	id: string;
	failure_reason: string | null;
	updated_at: string;
}

const time = (iso: string) => new Date(iso).toLocaleTimeString();

export function Kpis({ s }: { s: Snapshot }) {
	const failed = Object.values(s.sagas.failed_by_reason).reduce((a, b) => a + b, 0);
	const open = s.breakers.filter(b => b.state !== "closed").length;
	const cards: Array<[string, number, string]> = [
		["Sagas running", s.sagas.running, s.sagas.running > 0 ? "busy" : ""],
		["Compensating", s.sagas.compensating, s.sagas.compensating > 0 ? "warn" : ""],
		["Failed orders", failed, failed > 0 ? "bad" : ""],
		["Open breakers", open, open > 0 ? "bad" : ""],
		["Dead letters", s.dead_letters.total, s.dead_letters.total > 0 ? "warn" : ""],
		["Outbox backlog", s.outbox.total, s.outbox.total > 0 ? "warn" : ""],
	];
	return (
		<section class="kpis" aria-label="Now">
			{cards.map(([label, value, tone]) => (
				<div key={label} class={`kpi ${tone}`}>
					<span class="kpi-value">{value}</span>
					<span class="kpi-label">{label}</span>
				</div>
			))}
		</section>
	);
}

export function SagasPanel({ s, onOpen }: { s: Snapshot; onOpen: OpenTrace }) {
	const reasons = Object.entries(s.sagas.failed_by_reason).filter(([, n]) => n > 0);
	const failedCount = s.sagas.by_status.FAILED ?? 0;
	const [failed, setFailed] = useState<FailedOrder[]>([]);
	// The newest failures, read again whenever their count moves.
	useEffect(() => {
		if (failedCount === 0) return setFailed([]);
		api<{ rows: FailedOrder[] }>("GET", "/orders?status=FAILED&page_size=6")
			.then(r => setFailed(r.rows))
			.catch(() => undefined);
	}, [failedCount]);
	const traceOf = (orderId: string) => s.checkouts.find(c => c.order_id === orderId)?.trace_id ?? null;
	const open = (orderId: string) => (
		<button type="button" class="link" onClick={() => onOpen(traceOf(orderId), orderId)} aria-label={`Open the saga of order ${orderId}`}>
			<code>{orderId}</code>
		</button>
	);
	return (
		<section class="panel" aria-labelledby="sagas-h">
			<h2 id="sagas-h">Sagas</h2>
			<dl class="counts">
				{["PENDING", "PAID", "STOCK_RESERVED", "COMPENSATING", "SHIPPED", "DELIVERED", "FAILED", "CANCELLED"].map(st => (
					<div key={st}>
						<dt>{st}</dt>
						<dd>{s.sagas.by_status[st] ?? 0}</dd>
					</div>
				))}
			</dl>
			<h3>Failed by reason</h3>
			{reasons.length === 0 ? (
				<p class="muted">No failed orders.</p>
			) : (
				<ul class="reasons">
					{reasons.map(([r, n]) => (
						<li key={r}>
							<i class={`swatch ${reasonClass(r)}`} /> {r} <b>{n}</b>
						</li>
					))}
				</ul>
			)}
			{failed.length > 0 ? (
				<>
					<h3>Latest failures</h3>
					<ul class="plain">
						{failed.map(o => (
							<li key={o.id}>
								{open(o.id)} <i class={`swatch ${reasonClass(o.failure_reason ?? "")}`} /> {o.failure_reason} <span class="muted">{time(o.updated_at)}</span>
							</li>
						))}
					</ul>
				</>
			) : null}
			<h3>In flight</h3>
			{s.sagas.active.length === 0 ? (
				<p class="muted">No saga running or compensating.</p>
			) : (
				<ul class="plain">
					{s.sagas.active.map(a => (
						<li key={a.order_id}>
							{open(a.order_id)} {a.status} <span class="muted">since {time(a.updated_at)}</span>
						</li>
					))}
				</ul>
			)}
		</section>
	);
}

function statusClass(c: { status: string; compensated: boolean }): string {
	if (c.compensated) return "st-compensated";
	if (c.status === "SHIPPED" || c.status === "DELIVERED") return "st-ok";
	if (c.status === "FAILED" || c.status === "NO_ORDER") return "st-failed";
	return "st-pending";
}

export function CheckoutsPanel({ rows, onOpen }: { rows: RecentCheckout[]; onOpen: OpenTrace }) {
	return (
		<section class="panel wide" aria-labelledby="checkouts-h">
			<h2 id="checkouts-h">Recent checkouts</h2>
			{rows.length === 0 ? (
				<p class="muted">No checkout answered by this gateway yet.</p>
			) : (
				<table class="table">
					<thead>
						<tr>
							<th>time</th>
							<th>order</th>
							<th>status</th>
							<th>code</th>
							<th class="num">ms</th>
							<th>trace</th>
						</tr>
					</thead>
					<tbody>
						{rows.slice(0, 12).map(c => (
							<tr key={`${c.order_id}-${c.at}`}>
								<td class="muted">{time(c.at)}</td>
								<td>
									<code>{c.order_id}</code>
									{c.run_id ? <span class="tag">chaos</span> : null}
								</td>
								<td class={statusClass(c)}>
									{c.status}
									{c.failure_reason ? ` ${c.failure_reason}` : ""}
									{c.compensated ? " (compensated)" : ""}
								</td>
								<td>{c.code}</td>
								<td class="num">{c.duration}</td>
								<td>
									{c.trace_id ? (
										<button type="button" class="link" onClick={() => onOpen(c.trace_id!, c.order_id)} aria-label={`Open the trace of order ${c.order_id}`}>
											trace
										</button>
									) : null}
								</td>
							</tr>
						))}
					</tbody>
				</table>
			)}
		</section>
	);
}

export function BreakersPanel({ s }: { s: Snapshot }) {
	return (
		<section class="panel" aria-labelledby="breakers-h">
			<h2 id="breakers-h">Circuit breakers</h2>
			{s.nodes.map(n => {
				const mine = s.breakers.filter(b => b.node === n.id);
				return (
					<div key={n.id} class="node">
						<h3>
							node <code>{n.id}</code> <span class="muted">{n.services.length} services</span>
						</h3>
						{mine.length === 0 ? (
							<p class="muted">No breaker has tripped on this node's calls.</p>
						) : (
							<ul class="plain">
								{mine.map(b => (
									<li key={`${b.kind}-${b.target}`}>
										<span class={`breaker breaker-${b.state}`}>{b.state}</span> {b.target}
										{b.kind === "payment-gateway" && b.failures !== undefined ? <span class="muted"> ({b.failures} failures in window)</span> : null}
									</li>
								))}
							</ul>
						)}
					</div>
				);
			})}
			{s.unreachable.length > 0 ? <p class="error">Not answering: {s.unreachable.join(", ")}</p> : null}
		</section>
	);
}

export function DeadLettersPanel({ total }: { total: number }) {
	const [rows, setRows] = useState<DeadLetter[]>([]);
	const [busy, setBusy] = useState<string | null>(null);
	const [message, setMessage] = useState<string | null>(null);
	const load = () =>
		api<{ rows: DeadLetter[] }>("GET", "/admin/dead-letters?page_size=20")
			.then(r => setRows(r.rows))
			.catch(() => undefined);
	// The snapshot's count changes when letters arrive or leave: read the list again then.
	useEffect(() => void load(), [total]);

	const redrive = async (d: DeadLetter) => {
		setBusy(d.id);
		try {
			const r = await api<{ status: string }>("POST", `/admin/dead-letters/${encodeURIComponent(d.id)}/redrive`);
			setMessage(`${d.event_name} → ${d.consumer}: ${r.status}`);
		} catch (e) {
			setMessage(`${d.event_name} → ${d.consumer}: ${e instanceof Error ? e.message : String(e)}`);
		}
		setBusy(null);
		await load();
	};

	return (
		<section class="panel" aria-labelledby="dl-h">
			<h2 id="dl-h">Dead letters</h2>
			{message ? (
				<p class="notice" role="status">
					{message}
				</p>
			) : null}
			{rows.length === 0 ? (
				<p class="muted">None: every event reached its consumers.</p>
			) : (
				<ul class="plain dead-letters">
					{rows.map(d => (
						<li key={d.id}>
							<div>
								<b>{d.event_name}</b> → {d.consumer} <span class="muted">after {d.attempts} attempts, {time(d.failed_at)}</span>
							</div>
							<div class="muted clip">{d.error}</div>
							<button type="button" disabled={busy !== null} onClick={() => void redrive(d)}>
								{busy === d.id ? "Redriving…" : "Redrive"}
							</button>
						</li>
					))}
				</ul>
			)}
		</section>
	);
}

export function OutboxPanel({ s }: { s: Snapshot }) {
	const rows = Object.entries(s.outbox.by_service).sort((a, b) => b[1] - a[1]);
	return (
		<section class="panel" aria-labelledby="outbox-h">
			<h2 id="outbox-h">Outbox backlog</h2>
			<p class="muted">Events stored with their change and not yet handed to the bus, per service.</p>
			<p>
				<b>{s.outbox.total}</b> event{s.outbox.total === 1 ? "" : "s"} waiting{s.outbox.total === 0 ? ": every event was handed to the bus." : ""}
			</p>
			<ul class="chips">
				{rows.map(([svc, n]) => (
					<li key={svc} class={n > 0 ? "backlog" : ""}>
						{svc} <b>{n}</b>
					</li>
				))}
			</ul>
			<p class="muted">
				{s.orders_created} orders created, {s.compensations} compensations, {s.refunds} refunds since the nodes started.
			</p>
		</section>
	);
}
