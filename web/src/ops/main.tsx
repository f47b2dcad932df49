// The operations console (/ops/): an admin signs in, and the page follows the shop live through the gateway's
// event stream (feed.ts): sagas, charts, the chaos playground, traces, checkouts, breakers, dead letters, outbox.
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { api, ApiError, setToken, token } from "../lib/api";
import "./ops.css";
import { ChaosPanel } from "./chaos";
import { FailuresChart, LatencyChart, OrdersChart } from "./charts";
import { connectFeed, type FeedState } from "./feed";
import { BreakersPanel, CheckoutsPanel, DeadLettersPanel, Kpis, OutboxPanel, SagasPanel } from "./panels";
import { TracePanel } from "./trace";
import type { ChaosRun, RecentCheckout, Snapshot } from "./types";

interface Me {
	email: string;
	name: string;
	role: string;
}

const REASONS = ["PAYMENT_ERROR", "OUT_OF_STOCK", "INVENTORY_UNAVAILABLE", "SHIPPING_ERROR", "VOUCHER_UNAVAILABLE"];

function SignIn({ onDone, notice }: { onDone(me: Me): void; notice: string | null }) {
	const [email, setEmail] = useState("");
	const [password, setPassword] = useState("");
	const [error, setError] = useState<string | null>(notice);
	const [busy, setBusy] = useState(false);
	const submit = async (e: Event) => {
		e.preventDefault();
		setBusy(true);
		setError(null);
		try {
			const r = await api<{ token: string; user: Me }>("POST", "/users/login", { email, password });
			if (r.user.role !== "admin") setError("This account is not an admin: the console is for operators.");
			else {
				setToken(r.token);
				onDone(r.user);
			}
		} catch (err) {
			setError(err instanceof ApiError ? err.message : String(err));
		}
		setBusy(false);
	};
	return (
		<main class="signin">
			<h1>ShopFlow operations</h1>
			<form onSubmit={e => void submit(e)} class="panel">
				<h2>Sign in as an admin</h2>
				<label>
					Email
					<input name="email" type="email" autocomplete="username" required value={email} onInput={e => setEmail((e.target as HTMLInputElement).value)} />
				</label>
				<label>
					Password
					<input name="password" type="password" autocomplete="current-password" required value={password} onInput={e => setPassword((e.target as HTMLInputElement).value)} />
				</label>
				{error ? (
					<p class="error" role="alert">
						{error}
					</p>
				) : null}
				<button type="submit" disabled={busy}>
					{busy ? "Signing in…" : "Sign in"}
				</button>
			</form>
		</main>
	);
}

const FEED_LABEL: Record<FeedState, string> = { connecting: "connecting…", live: "live", reconnecting: "reconnecting…", denied: "not allowed" };

function Console({ me, onSignOut }: { me: Me; onSignOut(): void }) {
	const [snap, setSnap] = useState<Snapshot | null>(null);
	const [feed, setFeed] = useState<FeedState>("connecting");
	const [run, setRun] = useState<ChaosRun | null>(null);
	const [checkouts, setCheckouts] = useState<RecentCheckout[]>([]);
	const [trace, setTrace] = useState<{ traceId: string | null; orderId: string | null } | null>(null);

	useEffect(
		() =>
			connectFeed({
				onState: s => {
					setFeed(s);
					if (s === "denied") onSignOut();
				},
				onEvent: (name, data) => {
					if (name === "snapshot") {
						setSnap(data as Snapshot);
						setCheckouts((data as Snapshot).checkouts);
					} else if (name === "checkout") setCheckouts(list => [data as RecentCheckout, ...list].slice(0, 50));
					else if (name === "chaos") setRun(data as ChaosRun);
				},
			}),
		[],
	);

	const openTrace = (traceId: string | null, orderId: string | null) => {
		setTrace({ traceId, orderId });
		document.getElementById("trace")?.scrollIntoView({ behavior: "smooth", block: "start" });
	};
	const reasons = [...new Set([...REASONS, ...Object.keys(snap?.failed_total_by_reason ?? {})])];

	return (
		<>
			<header class="top">
				<h1>ShopFlow operations</h1>
				<span class={`feed feed-${feed}`} role="status">
					{FEED_LABEL[feed]}
				</span>
				{snap ? (
					<span class="muted">
						{snap.nodes.length} node{snap.nodes.length === 1 ? "" : "s"} · updated {new Date(snap.at).toLocaleTimeString()}
					</span>
				) : null}
				<span class="spacer" />
				<span class="muted">{me.email}</span>
				<button type="button" onClick={onSignOut}>
					Sign out
				</button>
			</header>
			<main class="console">
				{snap ? (
					<>
						<Kpis s={snap} />
						<div class="grid3">
							<section class="panel" aria-labelledby="c1">
								<h2 id="c1">Orders per minute</h2>
								<OrdersChart points={snap.series} />
							</section>
							<section class="panel" aria-labelledby="c2">
								<h2 id="c2">Failures by reason</h2>
								<FailuresChart points={snap.series} reasons={reasons} />
							</section>
							<section class="panel" aria-labelledby="c3">
								<h2 id="c3">p95 checkout latency</h2>
								<LatencyChart points={snap.series} />
							</section>
						</div>
					</>
				) : (
					<p class="muted">Waiting for the first snapshot…</p>
				)}
				<ChaosPanel run={run} onOpen={openTrace} />
				<TracePanel traceId={trace?.traceId ?? null} orderId={trace?.orderId ?? null} onOpen={openTrace} />
				<CheckoutsPanel rows={checkouts} onOpen={openTrace} />
				{snap ? (
					<div class="grid2">
						<SagasPanel s={snap} onOpen={openTrace} />
						<BreakersPanel s={snap} />
						<DeadLettersPanel total={snap.dead_letters.total} />
						<OutboxPanel s={snap} />
					</div>
				) : null}
			</main>
		</>
	);
}

function App() {
	const [me, setMe] = useState<Me | null>(null);
	const [checking, setChecking] = useState(token() !== null);
	const [notice, setNotice] = useState<string | null>(null);

	useEffect(() => {
		if (!token()) return;
		api<Me>("GET", "/account/profile")
			.then(u => {
				if (u.role === "admin") setMe(u);
				else setNotice("You are signed in as a customer: sign in with an admin account.");
			})
			.catch(() => setToken(null))
			.finally(() => setChecking(false));
	}, []);

	if (checking) return <p class="muted">Loading…</p>;
	if (!me) return <SignIn onDone={setMe} notice={notice} />;
	return (
		<Console
			me={me}
			onSignOut={() => {
				setToken(null);
				setMe(null);
			}}
		/>
	);
}

render(<App />, document.getElementById("app")!);
