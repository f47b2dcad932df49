/**
 * `node dist/config/boot/healthcheck.js`: the container health check of a ShopFlow node, fitting its role. A node that
 * runs the gateway (SERVICES unset or naming api) is healthy when GET /health/ready on PORT answers 200 (transporter,
 * storage and Redis checked); any other node when GET /health on its METRICS_PORT answers 200 (started, transporter
 * connected). Exit code 0 when healthy, 1 otherwise, with one line saying why.
 */
import { loadConfig, type Config } from "../env";
import { resolveServiceName } from "../../services/common/names";

/** The URL that tells whether this node is healthy; null when the node has nothing to ask (no gateway, no METRICS_PORT). */
export function healthUrl(config: Config): string | null {
	const gateway = !config.services || config.services.some(s => resolveServiceName(s) === "api");
	if (gateway) return `http://127.0.0.1:${config.port}/health/ready`;
	return config.metricsPort ? `http://127.0.0.1:${config.metricsPort}/health` : null;
}

async function main(): Promise<number> {
	const url = healthUrl(loadConfig());
	if (!url) {
		process.stderr.write("unhealthy: this node runs no gateway and has no METRICS_PORT to ask\n");
		return 1;
	}
	try {
		const res = await fetch(url, { signal: AbortSignal.timeout(2500) });
		if (res.ok) return 0;
		process.stderr.write(`unhealthy: ${url} answered ${res.status} ${(await res.text()).slice(0, 300)}\n`);
	} catch (err) {
		process.stderr.write(`unhealthy: ${url} did not answer (${err instanceof Error ? err.message : String(err)})\n`);
	}
	return 1;
}

if (require.main === module) void main().then(code => process.exit(code), () => process.exit(1));
