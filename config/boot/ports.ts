/**
 * Whether this node's listening ports are free before the broker starts: a port in use (another shop, or
 * METRICS_PORT equal to PORT) stops the start with one line naming the variable and the port, instead of the
 * broker's fatal error with a stack.
 */
import net from "node:net";
import { ConfigError, type Config } from "../env";

/** Resolves null when the port can be listened on (all interfaces, as the gateway and the metrics reporter do), else the error code. */
function probe(port: number): Promise<string | null> {
	return new Promise(resolve => {
		const server = net.createServer();
		server.once("error", (err: NodeJS.ErrnoException) => resolve(err.code ?? "ERROR"));
		server.listen({ port, host: "0.0.0.0", exclusive: true }, () => server.close(() => resolve(null)));
	});
}

function problem(code: string, port: number): string {
	if (code === "EADDRINUSE") return `port ${port} is already in use`;
	if (code === "EACCES") return `port ${port} needs privileges this process does not have`;
	return `cannot listen on port ${port} (${code})`;
}

/** Throws a ConfigError naming PORT or METRICS_PORT when the gateway's or the metrics port cannot be listened on. */
export async function checkPorts(config: Config, runsGateway: boolean): Promise<void> {
	const metrics = config.metricsPort;
	if (runsGateway && metrics !== null && metrics !== 0 && metrics === config.port)
		throw new ConfigError("METRICS_PORT", `is ${metrics}, the same as PORT; give each its own port`);
	const wanted: Array<[string, number]> = [];
	if (runsGateway && config.port !== 0) wanted.push(["PORT", config.port]);
	if (metrics !== null && metrics !== 0) wanted.push(["METRICS_PORT", metrics]);
	for (const [name, port] of wanted) {
		const code = await probe(port);
		if (code) throw new ConfigError(name, problem(code, port));
	}
}
