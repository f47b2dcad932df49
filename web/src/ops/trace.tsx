// A trace as a waterfall of its call chain (GET /api/v1/traces/:trace_id): one row per call or event delivery with
// its service, action, node, code and duration, a bar placed on the trace's timeline, nested under its caller; and,
// when the trace placed an order, that order's saga log (GET /api/v1/admin/sagas/:id) with each step's fate.
import { useEffect, useState } from "preact/hooks";
import { api, ApiError } from "../lib/api";
import type { CallRecord, SagaLog, Trace } from "./types";

interface Row {
	call: CallRecord;
	depth: number;
}

/** Calls in start order, each with its depth under its caller (by span ids). */
export function waterfallRows(calls: CallRecord[]): Row[] {
	const bySpan = new Map(calls.filter(c => c.span_id).map(c => [c.span_id!, c]));
	const depth = (c: CallRecord, seen = 0): number => {
		const parent = c.parent_id ? bySpan.get(c.parent_id) : undefined;
		return parent && seen < 20 ? 1 + depth(parent, seen + 1) : 0;
	};
	return [...calls].sort((a, b) => (a.started_at ?? 0) - (b.started_at ?? 0)).map(call => ({ call, depth: depth(call) }));
}

function codeClass(code: number): string {
	return code >= 500 ? "code-5xx" : code >= 400 ? "code-4xx" : "code-ok";
}

export function Waterfall({ trace }: { trace: Trace }) {
	const start = Math.min(...trace.calls.map(c => c.started_at ?? 0));
	const total = Math.max(1, trace.duration);
	return (
		<table class="waterfall">
			<thead>
				<tr>
					<th>service</th>
					<th>action</th>
					<th>node</th>
					<th>code</th>
					<th class="num">ms</th>
					<th class="timeline-head">timeline ({total} ms)</th>
				</tr>
			</thead>
			<tbody>
				{waterfallRows(trace.calls).map(({ call, depth }, i) => {
					const x = (((call.started_at ?? start) - start) / total) * 1000;
					const w = Math.max(2, (call.duration / total) * 1000);
					return (
						<tr key={call.span_id ?? i} class={call.kind === "event" ? "row-event" : ""}>
							<td>{call.name}</td>
							<td class={`indent-${Math.min(depth, 6)}`}>
								{call.action}
								{call.kind === "event" && call.consumer ? ` → ${call.consumer}` : ""}
								{call.fault ? <span class="fault"> ⚡ {call.fault}</span> : null}
							</td>
							<td class="muted">{call.node}</td>
							<td class={codeClass(call.code)}>
								{call.code}
								{call.error_type ? <span class="muted"> {call.error_type}</span> : null}
							</td>
							<td class="num">{Math.round(call.duration)}</td>
							<td class="timeline">
								<svg viewBox="0 0 1000 12" preserveAspectRatio="none" aria-hidden="true">
									<rect class={`span-bar ${codeClass(call.code)}`} x={Math.min(x, 998)} width={Math.min(w, 1000 - x)} y={1} height={10} />
								</svg>
							</td>
						</tr>
					);
				})}
			</tbody>
		</table>
	);
}

export function SagaSteps({ saga }: { saga: SagaLog }) {
	return (
		<div class="saga">
			<p>
				Saga <code>{saga.id}</code>: <b>{saga.status}</b>, order {saga.order_status}
				{saga.failed_step ? ` — ${saga.failed_step} failed${saga.error ? `: ${saga.error.message}` : ""}` : ""}
			</p>
			<ol class="steps">
				{saga.steps.map(s => (
					<li key={s.name} class={`step step-${s.status.toLowerCase()}`}>
						<b>{s.name}</b> {s.status}
						<span class="muted">
							{" "}
							{s.attempts} attempt{s.attempts === 1 ? "" : "s"}, {Math.round(s.duration)} ms
							{s.compensation_attempts > 0 ? `; undone in ${Math.round(s.compensation_duration)} ms` : ""}
						</span>
						{s.error ? <div class="muted">{s.error.type}: {s.error.message}</div> : null}
					</li>
				))}
			</ol>
		</div>
	);
}

/** The trace viewer: a trace id box, the waterfall and the order's saga. */
export function TracePanel({ traceId, orderId, onOpen }: { traceId: string | null; orderId: string | null; onOpen(traceId: string | null, orderId: string | null): void }) {
	const [input, setInput] = useState(traceId ?? "");
	const [trace, setTrace] = useState<Trace | null>(null);
	const [saga, setSaga] = useState<SagaLog | null>(null);
	const [error, setError] = useState<string | null>(null);

	useEffect(() => {
		setInput(traceId ?? "");
		setTrace(null);
		setSaga(null);
		setError(null);
		let live = true;
		if (traceId)
			api<Trace>("GET", `/traces/${encodeURIComponent(traceId)}`)
				.then(t => live && setTrace(t))
				.catch((e: unknown) => live && setError(e instanceof ApiError && e.status === 404 ? "No node holds this trace any more (or it never existed)." : String(e)));
		if (orderId)
			api<SagaLog>("GET", `/admin/sagas/${encodeURIComponent(orderId)}`)
				.then(s => live && setSaga(s))
				.catch(() => undefined);
		return () => {
			live = false;
		};
	}, [traceId, orderId]);

	return (
		<section class="panel wide" id="trace" aria-labelledby="trace-h">
			<h2 id="trace-h">Trace and saga</h2>
			<form
				class="row"
				onSubmit={e => {
					e.preventDefault();
					if (input.trim()) onOpen(input.trim(), null);
				}}
			>
				<label>
					Trace id <input name="trace" value={input} size={40} onInput={e => setInput((e.target as HTMLInputElement).value)} placeholder="X-Trace-Id of any request" />
				</label>
				<button type="submit">Open trace</button>
			</form>
			{error ? <p class="error">{error}</p> : null}
			{saga ? <SagaSteps saga={saga} /> : null}
			{trace ? (
				<>
					<p class="muted">
						{trace.calls.length} calls over {trace.duration} ms, trace <code>{trace.trace_id}</code>
					</p>
					<Waterfall trace={trace} />
				</>
			) : traceId && !error ? (
				<p class="muted">Loading…</p>
			) : !traceId && !orderId ? (
				<p class="muted">Pick a checkout below, or paste the X-Trace-Id of any request.</p>
			) : !traceId ? (
				<p class="muted">This gateway did not answer the order's checkout, so its trace id is not known here.</p>
			) : null}
		</section>
	);
}
