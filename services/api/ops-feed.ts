/**
 * The operations console's live feed on a gateway node: server-sent event streams (`GET /api/v1/admin/ops/stream`)
 * that get a `snapshot` of the cluster every two seconds (ops-readings.ts, ops-series.ts), a `checkout` event the moment
 * this gateway answers a checkout, and `chaos` events as a playground run goes (ops-chaos-run.ts).
 * Nothing is read from the cluster while no console is open: the tick runs only with at least one stream, and
 * the only standing cost is remembering the last checkouts this gateway answered (a bounded list) and their
 * latencies (a counter per 10-second bucket).
 */
import type { ServerResponse } from "node:http";
import { PassThrough, type Readable } from "node:stream";
import type { ServiceBroker } from "moleculer";
import { readCluster, type ClusterReading } from "./ops-readings";
import { OpsSeries, type SeriesPoint } from "./ops-series";

/** A checkout this gateway answered (over HTTP or for the playground), newest first in the snapshot. */
export interface RecentCheckout {
	order_id: string;
	trace_id: string | null;
	status: string;
	failure_reason: string | null;
	/** HTTP status of the answer. */
	code: number;
	duration: number;
	at: string;
	/** Whether the saga undid a step (the order went through COMPENSATING). */
	compensated: boolean;
	/** The chaos run it belongs to, when the playground placed it. */
	run_id?: string;
}

export interface OpsSnapshot extends ClusterReading {
	at: string;
	series: SeriesPoint[];
	checkouts: RecentCheckout[];
	/** Streams open on this gateway. */
	consoles: number;
}

/** What a checkout answers (checkout.start), as far as the feed reads it. */
export interface CheckoutAnswer {
	order?: { id?: string; status?: string; failure_reason?: string | null; history?: Array<{ status: string }> };
	trace_id?: string;
	duration?: number;
}

const RECENT_CHECKOUTS = 50;
/** Streams a single gateway keeps open at most: a console is one person's tab, not a fan-out service. */
export const MAX_STREAMS = 50;

export class OpsFeed {
	readonly series = new OpsSeries();
	private readonly streams = new Set<PassThrough>();
	private readonly checkouts: RecentCheckout[] = [];
	private timer: NodeJS.Timeout | null = null;
	private ticking = false;

	constructor(
		private readonly broker: ServiceBroker,
		private readonly intervalMs = 2000,
	) {}

	/** Consoles watching now. */
	get consoles(): number {
		return this.streams.size;
	}

	/** Whether another stream may be opened. */
	get full(): boolean {
		return this.streams.size >= MAX_STREAMS;
	}

	/** A new event stream: a snapshot at once, then the feed; it leaves when its client goes. */
	open(): PassThrough {
		const stream = new PassThrough();
		this.streams.add(stream);
		const leave = (): void => {
			this.streams.delete(stream);
			if (this.streams.size === 0) this.stopTicking();
		};
		stream.once("close", leave);
		stream.once("error", leave);
		// The browser reconnects after 3 s if the connection drops.
		stream.write("retry: 3000\n\n");
		void this.tick();
		if (!this.timer) {
			this.timer = setInterval(() => void this.tick(), this.intervalMs);
			this.timer.unref();
		}
		return stream;
	}

	/** Sends one event to every open stream. */
	send(event: string, data: unknown): void {
		if (this.streams.size === 0) return;
		const frame = `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
		for (const s of this.streams) if (!s.destroyed && s.writable) s.write(frame);
	}

	/** The snapshot every tick sends. */
	async snapshot(): Promise<OpsSnapshot> {
		const reading = await readCluster(this.broker);
		this.series.recordCounters(reading.orders_created, reading.failed_total_by_reason);
		return { ...reading, at: new Date().toISOString(), series: this.series.points(), checkouts: [...this.checkouts], consoles: this.streams.size };
	}

	/** Remembers a checkout answer and tells the consoles at once. */
	recordCheckout(code: number, body: CheckoutAnswer, runId?: string): RecentCheckout | null {
		const order = body.order;
		if (!order?.id) return null;
		const entry: RecentCheckout = {
			order_id: order.id,
			trace_id: body.trace_id ?? null,
			status: order.status ?? "UNKNOWN",
			failure_reason: order.failure_reason ?? null,
			code,
			duration: Math.round(body.duration ?? 0),
			at: new Date().toISOString(),
			compensated: (order.history ?? []).some(h => h.status === "COMPENSATING"),
			...(runId ? { run_id: runId } : {}),
		};
		if (typeof body.duration === "number") this.series.recordLatency(body.duration);
		this.checkouts.unshift(entry);
		if (this.checkouts.length > RECENT_CHECKOUTS) this.checkouts.pop();
		this.send("checkout", entry);
		return entry;
	}

	/** Ends every stream (the gateway is stopping: an open stream must not hold its drain up). */
	closeAll(): void {
		for (const s of this.streams) s.end();
		this.streams.clear();
		this.stopTicking();
	}

	private stopTicking(): void {
		if (this.timer) clearInterval(this.timer);
		this.timer = null;
	}

	private async tick(): Promise<void> {
		if (this.ticking || this.streams.size === 0) return;
		this.ticking = true;
		try {
			this.send("snapshot", await this.snapshot());
		} catch (err) {
			this.broker.logger.warn(`ops feed: the cluster could not be read: ${String(err)}`);
		} finally {
			this.ticking = false;
		}
	}
}

/**
 * Sends an event stream as the answer (the gateway's sendResponse hands it here): piped without moleculer-web's
 * `pipeline`, for which a console that closes its tab is an error to log; here it just ends the stream.
 */
export function sendEventStream(res: ServerResponse, stream: Readable): void {
	res.writeHead(200, { "Content-Type": "text/event-stream; charset=utf-8", "Cache-Control": "no-cache, no-store", "X-Accel-Buffering": "no" });
	res.once("close", () => stream.destroy());
	stream.once("end", () => res.end());
	stream.pipe(res, { end: false });
}
