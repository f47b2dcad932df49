/**
 * A Prometheus reporter that serves through the gateway's `GET /metrics` instead of opening its own port.
 */
import { MetricReporters, type MetricRegistry, type ServiceBroker } from "moleculer";
import { requestMetricsOf } from "./tracing/request-metrics.middleware";

type ReporterInstance = InstanceType<typeof MetricReporters.Prometheus> & {
	registry: MetricRegistry;
	generatePrometheusResponse(): string;
};

const Prometheus = MetricReporters.Prometheus as unknown as new (opts?: Record<string, unknown>) => ReporterInstance;
const Base = MetricReporters.Base as unknown as { prototype: { init(this: unknown, registry: MetricRegistry): void } };

export class GatewayPrometheusReporter extends Prometheus {
	/** Registers with the metric registry without starting an HTTP server. */
	override init(registry: MetricRegistry): void {
		Base.prototype.init.call(this, registry);
	}

	/** Nothing to close: there is no server. */
	override stop(): Promise<void> {
		return Promise.resolve();
	}

	/** The Prometheus text exposition of this node's metrics, with the request metrics of installRequestMetrics. */
	render(): string {
		const broker = (this.registry as unknown as { broker: ServiceBroker }).broker;
		const requests = requestMetricsOf(broker).render();
		const rest = this.generatePrometheusResponse();
		return requests ? `${rest.trimEnd()}\n${requests}\n` : rest;
	}
}

/** Finds the gateway reporter among a broker's metric reporters. */
export function findPrometheusReporter(registry: MetricRegistry): GatewayPrometheusReporter | undefined {
	const reporters = (registry as unknown as { reporter?: unknown[] }).reporter ?? [];
	return reporters.find((r): r is GatewayPrometheusReporter => r instanceof GatewayPrometheusReporter);
}
