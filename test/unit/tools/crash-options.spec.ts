import { UsageError } from "../../tools/args";
import { CLUSTER_KILLS, EMBEDDED_KILLS, faultDueAt, parseCrashOptions } from "../../tools/crash-options";

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

describe("faultDueAt", () => {
	it("spreads 14 faults evenly over 5,000 orders, none at the start or the end", () => {
		const due = Array.from({ length: 14 }, (_, i) => faultDueAt(i, 14, 5000));
		expect(due[0]).toBe(333);
		expect(due[13]).toBe(4666);
		for (let i = 1; i < due.length; i++) expect(due[i] - due[i - 1]).toBeGreaterThanOrEqual(333);
	});

	it("asks for nothing before the only fault of a tiny run beyond half its orders", () => {
		expect(faultDueAt(0, 1, 300)).toBe(150);
		expect(faultDueAt(0, 3, 1)).toBe(0);
	});
});
