// The chaos playground: pick one of the seed's eight scenarios and N checkouts; the gateway places them as real
// checkouts of customers of its own (POST /api/v1/admin/chaos/runs), and the feed brings each outcome and then
// each invariant as it is known.
import { useEffect, useState } from "preact/hooks";
import { api, ApiError } from "../lib/api";
import type { OpenTrace } from "./panels";
import type { ChaosOutcome, ChaosRun, ScenarioList } from "./types";

function outcomeClass(o: ChaosOutcome): string {
	if (o.compensated) return "st-compensated";
	if (o.status === "SHIPPED" || o.status === "DELIVERED") return "st-ok";
	if (o.status === "FAILED" || o.status === "NO_ORDER") return "st-failed";
	return "st-pending";
}

function outcomeLabel(o: ChaosOutcome): string {
	const what = o.failure_reason ?? o.error ?? o.status;
	return `#${o.n + 1} ${o.status}${o.failure_reason ? ` ${o.failure_reason}` : ""}${o.compensated ? " (compensated)" : ""}, ${o.duration} ms${o.status === "NO_ORDER" ? `: ${what}` : ""}`;
}

function percentile(values: number[], p: number): number | null {
	if (values.length === 0) return null;
	const s = [...values].sort((a, b) => a - b);
	return s[Math.min(s.length - 1, Math.ceil(s.length * p) - 1)];
}

function Summary({ run }: { run: ChaosRun }) {
	const by = new Map<string, number>();
	for (const o of run.outcomes) {
		const k = o.compensated ? `${o.status} ${o.failure_reason ?? ""} (compensated)` : o.failure_reason ? `${o.status} ${o.failure_reason}` : o.status;
		by.set(k, (by.get(k) ?? 0) + 1);
	}
	const d = run.outcomes.map(o => o.duration);
	return (
		<p class="muted">
			{[...by].map(([k, n]) => `${n} ${k}`).join(", ") || "no checkout answered yet"}
			{d.length ? ` · p50 ${percentile(d, 0.5)} ms, p95 ${percentile(d, 0.95)} ms` : ""}
			{run.scenario.searchBehavior ? ` · ${run.searches.total} searches beside them, ${run.searches.failed} failed, p95 ${run.searches.p95_ms ?? "–"} ms` : ""}
		</p>
	);
}

export function ChaosPanel({ run, onOpen }: { run: ChaosRun | null; onOpen: OpenTrace }) {
	const [list, setList] = useState<ScenarioList | null>(null);
	const [scenario, setScenario] = useState(4);
	const [checkouts, setCheckouts] = useState(20);
	const [error, setError] = useState<string | null>(null);
	const [started, setStarted] = useState<ChaosRun | null>(null);

	useEffect(() => {
		api<ScenarioList>("GET", "/admin/chaos/scenarios")
			.then(setList)
			.catch((e: unknown) => setError(String(e)));
	}, []);

	// The feed's view of the run wins over the answer of the start (it is newer).
	const shown = run ?? started ?? list?.current ?? null;
	const running = shown !== null && shown.status !== "done" && shown.status !== "failed";
	const chosen = list?.rows.find(s => s.id === scenario);

	const start = async (e: Event) => {
		e.preventDefault();
		setError(null);
		try {
			setStarted(await api<ChaosRun>("POST", "/admin/chaos/runs", { scenario, checkouts }));
		} catch (err) {
			setError(err instanceof ApiError ? `${err.message} (${err.type})` : String(err));
		}
	};

	return (
		<section class="panel wide" aria-labelledby="chaos-h">
			<h2 id="chaos-h">Chaos playground</h2>
			{list && !list.enabled ? <p class="error">Fault injection is off on this deployment (set CHAOS_ENABLED=true to allow the playground).</p> : null}
			<form class="row" onSubmit={e => void start(e)}>
				<label>
					Scenario{" "}
					<select name="scenario" value={scenario} onChange={e => setScenario(Number((e.target as HTMLSelectElement).value))}>
						{(list?.rows ?? []).map(s => (
							<option key={s.id} value={s.id}>
								{s.id}. {s.name}
							</option>
						))}
					</select>
				</label>
				<label>
					Checkouts{" "}
					<input
						name="checkouts"
						type="number"
						min={1}
						max={list?.max_checkouts ?? 100}
						value={checkouts}
						onInput={e => setCheckouts(Number((e.target as HTMLInputElement).value))}
					/>
				</label>
				<button type="submit" disabled={running || !list?.enabled}>
					{running ? "Running…" : "Run scenario"}
				</button>
			</form>
			{chosen ? (
				<p class="muted">
					<code>{chosen.checkoutBehavior || chosen.searchBehavior || "no faults"}</code> — expect: {chosen.expect}
				</p>
			) : null}
			{error ? <p class="error">{error}</p> : null}
			{shown ? (
				<div class="run" aria-live="polite">
					<h3>
						Run <code>{shown.id}</code>: {shown.scenario.id}. {shown.scenario.name} — <span class={`run-${shown.status}`}>{shown.status}</span> ({shown.outcomes.length}/{shown.checkouts} checkouts)
					</h3>
					<progress max={shown.checkouts} value={shown.outcomes.length} />
					<div class="outcomes" aria-label="Checkouts of the run (open one for its trace)">
						{shown.outcomes.map(o => (
							<button
								type="button"
								key={o.n}
								class={`outcome ${outcomeClass(o)}`}
								title={outcomeLabel(o)}
								aria-label={outcomeLabel(o)}
								disabled={!o.trace_id}
								onClick={() => o.trace_id && onOpen(o.trace_id, o.order_id)}
							/>
						))}
					</div>
					<Summary run={shown} />
					<h3>Invariants</h3>
					<ul class="invariants">
						{shown.invariants.map(i => (
							<li key={i.name} class={`inv inv-${i.status}`}>
								<span class="inv-mark" aria-hidden="true">
									{i.status === "holds" ? "✓" : i.status === "violated" ? "✗" : "…"}
								</span>{" "}
								{i.name}: <b>{i.status}</b>
								{i.violations.length > 0 ? (
									<ul>
										{i.violations.map(v => (
											<li key={v}>{v}</li>
										))}
									</ul>
								) : null}
							</li>
						))}
					</ul>
					{shown.error ? <p class="error">The run stopped: {shown.error}</p> : null}
				</div>
			) : null}
		</section>
	);
}
