/**
 * ShopFlow's Prometheus reporter. It renders this node's metrics (with the request metrics of
 * RequestMetricsMiddleware) for the gateway's `GET /metrics`, and, when the node has a METRICS_PORT, serves them on
 * that port too, as Moleculer's own Prometheus reporter does: every node counts what it does (orders on the orders
 * node, refunds on the payments node), so in a cluster Prometheus scrapes every node, not only the gateways.
 * The same port answers GET /health (and /health/ready, the same answer), the health check of nodes without a gateway
 * (Dockerfile, docker-compose.yml, deploy/k8s/), and GET /health/live, which says only that the process answers.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { MetricReporters, type MetricRegistry } from "moleculer";
import { initAsBaseReporter } from "../middlewares/moleculer-internals";
import { requestMetricsOf } from "../middlewares/request-metrics";
import { METRICS_TEXT, type MetricsText } from "../../services/common/metrics";

type ReporterInstance = InstanceType<typeof MetricReporters.Prometheus> & {
	registry: MetricRegistry;
	logger: { info(msg: string): void };
	generatePrometheusResponse(): string;
};

const Prometheus = MetricReporters.Prometheus as unknown as new (opts?: Record<string, unknown>) => ReporterInstance;

export interface ShopReporterOptions {
	/** METRICS_PORT: serve GET /metrics on this port (0: any free port); null or absent: only through the gateway. */
	port?: number | null;
	/** The interface it listens on (all of them by default, so that Prometheus in another container reaches it). */
	host?: string;
}

export class GatewayPrometheusReporter extends Prometheus implements MetricsText {
	readonly [METRICS_TEXT] = true as const;
	private metricsServer: http.Server | null = null;
	private readonly listenPort: number | null;
	private readonly listenHost: string;

	constructor(opts: ShopReporterOptions = {}) {
		super({});
		this.listenPort = opts.port ?? null;
		this.listenHost = opts.host ?? "0.0.0.0";
	}

	/** Registers with the metric registry; opens the node's metrics port when it has one (a busy port stops the node). */
	override init(registry: MetricRegistry): void {
		initAsBaseReporter(this, registry);
		if (this.listenPort === null) return;
		const broker = registry.broker;
		const server = http.createServer((req, res) => this.serve(req, res));
		this.metricsServer = server;
		server.on("error", err => broker.fatal(`METRICS_PORT: cannot listen on ${this.listenHost}:${this.listenPort} (${err.message})`, err, true));
		server.listen(this.listenPort, this.listenHost, () => {
			this.logger.info(`Prometheus metrics of node ${broker.nodeID} on http://${this.listenHost}:${this.address()?.port ?? this.listenPort}/metrics`);
		});
	}

	/** Closes the metrics port, if it was opened. */
	override stop(): Promise<void> {
		const server = this.metricsServer;
		this.metricsServer = null;
		if (!server?.listening) return Promise.resolve();
		return new Promise(resolve => server.close(() => resolve()));
	}

	/** The address of the metrics port (tests ask for it after METRICS_PORT=0); null without one. */
	address(): AddressInfo | null {
		const a = this.metricsServer?.address();
		return a && typeof a === "object" ? a : null;
	}

	/** GET /metrics on the metrics port: the same text as the gateway's /metrics; GET /health[/ready|/live]; anything else is a 404. */
	private serve(req: http.IncomingMessage, res: http.ServerResponse): void {
		const path = (req.url ?? "").split("?")[0];
		const read = req.method === "GET" || req.method === "HEAD";
		if (read && path === "/health/live") {
			// Liveness: the process answers; a NATS outage must not make Kubernetes restart every node (readiness says it).
			res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify({ status: "ok" }));
			return;
		}
		if (read && (path === "/health" || path === "/health/ready")) {
			const health = this.health();
			res.writeHead(health.status === "ok" ? 200 : 503, { "Content-Type": "application/json" }).end(JSON.stringify(health));
			return;
		}
		if (path !== "/metrics" || !read) {
			res.writeHead(404, { "Content-Type": "text/plain; charset=utf-8" }).end("Not found: GET /metrics, /health, /health/ready or /health/live\n");
			return;
		}
		try {
			const body = this.render();
			res.writeHead(200, { "Content-Type": "text/plain; version=0.0.4; charset=utf-8" }).end(req.method === "HEAD" ? undefined : body);
		} catch {
			res.writeHead(500, { "Content-Type": "text/plain; charset=utf-8" }).end("metrics could not be rendered\n");
		}
	}

	/** This node's health: ok once its services have started and while its transporter (if any) is connected. */
	health(): { status: "ok" | "down"; node_id: string; started: boolean; transporter: "none" | "ok" | "down" } {
		const broker = this.registry.broker;
		const transit = broker.transit;
		const transporter = !transit ? "none" : transit.connected ? "ok" : "down";
		const started = broker.started === true && broker.stopping !== true;
		return { status: started && transporter !== "down" ? "ok" : "down", node_id: broker.nodeID, started, transporter };
	}

	/** The Prometheus text exposition of this node's metrics, with the request metrics of RequestMetricsMiddleware. */
	render(): string {
		const broker = this.registry.broker;
		const requests = requestMetricsOf(broker).render();
		const rest = this.generatePrometheusResponse();
		return requests ? `${rest.trimEnd()}\n${requests}\n` : rest;
	}
}

/** Finds the gateway reporter among a broker's metric reporters. */
export function findPrometheusReporter(registry: MetricRegistry): GatewayPrometheusReporter | undefined {
	const reporters: unknown[] = registry.reporter ?? [];
	return reporters.find((r): r is GatewayPrometheusReporter => r instanceof GatewayPrometheusReporter);
}
