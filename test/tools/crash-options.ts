/**
 * The crash test's options: the strict parser's spec (args.ts) plus the rules that depend on the mode. `--kills`
 * defaults to 30 SIGKILLs of the embedded shop, or 12 of the `orders` node with `--cluster`; the NATS options
 * only mean something with `--cluster` and are refused without it.
 */
import { parseStrict, UsageError, type OptionSpec, type Parsed } from "./args";

export const CRASH_SUMMARY = "SIGKILLs the embedded shop (or, with --cluster, the node running orders) under checkouts and checks that nothing was lost or done twice";

export const EMBEDDED_KILLS = 30;
export const CLUSTER_KILLS = 12;

export const CRASH_SPEC = {
	cluster: { kind: "flag", help: "run the local cluster over a private NATS and kill the node running orders" },
	kills: { kind: "number", default: EMBEDDED_KILLS, min: 1, help: `SIGKILLs (${CLUSTER_KILLS} with --cluster)` },
	"nats-outages": { kind: "number", default: 2, min: 0, help: "--cluster: times the private NATS is stopped" },
	"outage-seconds": { kind: "number", default: 5, min: 1, help: "--cluster: how long each NATS outage lasts" },
	"nats-port": { kind: "number", default: 14222, min: 1, help: "--cluster: port of the private NATS (the next free one from here)" },
	orders: { kind: "number", default: 5000, min: 1, help: "keep the checkouts going until this many were answered" },
	users: { kind: "number", default: 24, min: 1, help: "concurrent customers" },
	"min-uptime": { kind: "number", default: 1500, min: 100, help: "least ms between a restart and the next kill" },
	"max-uptime": { kind: "number", default: 6000, min: 100, help: "most ms between a restart and the next kill" },
	"settle-timeout": { kind: "number", default: 180, min: 1, help: "seconds to wait for the sagas to settle at the end" },
	"drain-timeout": { kind: "number", default: 300, min: 1, help: "seconds to wait for the events left by the kills to be delivered" },
	port: { kind: "number", default: 18480, min: 1, help: "gateway port (the next free one from here; --cluster uses two)" },
	"keep-data": { kind: "flag", help: "keep the shop's NeDB files (their folder is printed)" },
} satisfies Record<string, OptionSpec>;

export type CrashOptions = Parsed<typeof CRASH_SPEC>;

/** Whether an option was written on the command line (as `--name value` or `--name=value`). */
function given(argv: string[], name: string): boolean {
	return argv.some(a => a === `--${name}` || a.startsWith(`--${name}=`));
}

/** Parses the crash test's argv: the mode's default kills, NATS options refused without --cluster, uptimes in order. */
export function parseCrashOptions(argv: string[]): CrashOptions | "help" {
	const parsed = parseStrict(argv, CRASH_SPEC);
	if (parsed === "help") return parsed;
	if (!parsed.cluster) {
		const natsOnly = ["nats-outages", "outage-seconds", "nats-port"].filter(n => given(argv, n));
		if (natsOnly.length > 0) throw new UsageError(`${natsOnly.map(n => `--${n}`).join(", ")} only with --cluster`);
	} else if (!given(argv, "kills")) parsed.kills = CLUSTER_KILLS;
	if (parsed["min-uptime"] > parsed["max-uptime"]) throw new UsageError(`--min-uptime (${parsed["min-uptime"]}) is above --max-uptime (${parsed["max-uptime"]})`);
	return parsed;
}

/**
 * How many checkouts must have been answered before fault `index` (0-based) of `faults` in cluster mode: the faults
 * are spread evenly over the run's orders, the last at faults/(faults+1) of them, so that every one of them hits
 * sagas under load (a kill there stalls the checkouts in flight until their timeout, so faults paced by time alone
 * would all fall in the first minutes).
 */
export function faultDueAt(index: number, faults: number, orders: number): number {
	return Math.floor((orders * (index + 1)) / (faults + 1));
}
