import { UsageError } from "../../tools/args";
import { CLUSTER_KILLS, EMBEDDED_KILLS, parseCrashOptions } from "../../tools/crash-options";

describe("crash test options", () => {
	it("kills the embedded shop 30 times and the orders node 12 times by default, with 2 NATS outages", () => {
		expect(parseCrashOptions([])).toMatchObject({ cluster: false, kills: EMBEDDED_KILLS });
		expect(parseCrashOptions(["--cluster"])).toMatchObject({ cluster: true, kills: CLUSTER_KILLS, "nats-outages": 2, "outage-seconds": 5 });
		expect([EMBEDDED_KILLS, CLUSTER_KILLS]).toEqual([30, 12]);
	});

	it("keeps a --kills given on the command line in either mode", () => {
		expect(parseCrashOptions(["--cluster", "--kills", "3"])).toMatchObject({ kills: 3 });
		expect(parseCrashOptions(["--kills=30", "--cluster"])).toMatchObject({ kills: 30 });
		expect(parseCrashOptions(["--kills", "5"])).toMatchObject({ cluster: false, kills: 5 });
	});

	it("accepts the NATS options with --cluster, zero outages included", () => {
		expect(parseCrashOptions(["--cluster", "--nats-outages", "0", "--nats-port=14225", "--outage-seconds", "8"])).toMatchObject({ "nats-outages": 0, "nats-port": 14225, "outage-seconds": 8 });
	});

	it("refuses the NATS options without --cluster, naming them", () => {
		expect(() => parseCrashOptions(["--nats-outages", "2"])).toThrow(new UsageError("--nats-outages only with --cluster"));
		expect(() => parseCrashOptions(["--nats-port=1", "--outage-seconds", "3"])).toThrow(new UsageError("--outage-seconds, --nats-port only with --cluster"));
	});

	it("refuses a least uptime above the most, and whatever the strict parser refuses", () => {
		expect(() => parseCrashOptions(["--min-uptime", "7000"])).toThrow(/--min-uptime \(7000\) is above --max-uptime \(6000\)/);
		expect(() => parseCrashOptions(["--cluster", "--kills", "0"])).toThrow(/--kills must be a number of at least 1/);
		expect(() => parseCrashOptions(["--clusters"])).toThrow(/unknown option --clusters/);
		expect(parseCrashOptions(["--help"])).toBe("help");
	});
});
