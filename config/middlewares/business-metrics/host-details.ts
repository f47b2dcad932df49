/**
 * Moleculer's process metrics include details of the host that a scraper has no use for and an attacker would like:
 * the user name, uid, gid and home directory, the host name, the kernel release, every network address and MAC, the
 * command line. They
 * are emptied on every node (in every environment), so that no metrics reporter, `/metrics` or `$node.metrics`
 * shows them; memory, CPU and uptime stay. Node ids name the nodes in labels: Moleculer's default is `<host>-<pid>`,
 * so a shop that must not show its host names sets NODE_ID.
 */
import type { MetricRegistry } from "moleculer";
import { freezeMetric } from "../moleculer-internals";

/** The metrics emptied (names from moleculer/src/metrics/constants.js). */
export const HOST_DETAIL_METRICS = [
	"os.user.uid",
	"os.user.gid",
	"os.user.username",
	"os.user.homedir",
	"os.hostname",
	"os.release",
	"os.network.address",
	"os.network.mac",
	"process.arguments",
];

/** Empties the host-detail metrics and makes them ignore Moleculer's periodic updates (freezeMetric). */
export function hideHostDetails(registry: MetricRegistry): void {
	for (const name of HOST_DETAIL_METRICS) freezeMetric(registry, name);
}
