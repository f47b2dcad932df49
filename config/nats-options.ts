/**
 * The `nats` connection options of this node from NATS_URL and the NATS_* credentials and TLS files (config/env.ts):
 * the same for Moleculer's transporter, the event bus's JetStream connection and the start check, so that a node
 * either joins a secured cluster on all three or on none. Secrets stay in these options; nothing here is logged.
 */
import fs from "node:fs";
import { credsAuthenticator, type ConnectionOptions } from "nats";
import type { Config } from "./env";

/**
 * Options for `nats.connect` and for Moleculer's NATS transporter (which passes them on; given `servers`, not `url`,
 * whose parsing there would overwrite `user` and `pass`). Credentials in NATS_URL (user:password@, or a token as the
 * user) count when no NATS_USER, NATS_TOKEN or NATS_CREDS_FILE is set.
 */
export function natsConnectOptions(url: string, config: Pick<Config, "natsAuth">): ConnectionOptions {
	const { user, password, token, credsFile, tls } = config.natsAuth;
	const opts: ConnectionOptions = { servers: natsServers(url) };
	const first = new URL(url.split(",")[0].trim());
	if (user && password) Object.assign(opts, { user, pass: password });
	else if (token) opts.token = token;
	else if (!credsFile && first.username && first.password) Object.assign(opts, { user: decodeURIComponent(first.username), pass: decodeURIComponent(first.password) });
	else if (!credsFile && first.username) opts.token = decodeURIComponent(first.username);
	if (credsFile) opts.authenticator = credsAuthenticator(fs.readFileSync(credsFile));
	if (tls || first.protocol === "tls:") {
		const files = tls ?? { caFile: null, certFile: null, keyFile: null };
		opts.tls = {
			...(files.caFile ? { caFile: files.caFile } : {}),
			...(files.certFile ? { certFile: files.certFile } : {}),
			...(files.keyFile ? { keyFile: files.keyFile } : {}),
		};
	}
	return opts;
}

/** NATS_URL's servers as `nats` wants them (host:port each): a tls:// scheme is carried by the `tls` option. */
export function natsServers(url: string): string[] {
	return url.split(",").map(s => {
		const u = new URL(s.trim());
		return `${u.hostname}:${u.port || "4222"}`;
	});
}
