import { pickTask, TASK_WEIGHTS, type TaskName } from "../../tools/journeys";
import { LatencyRecorder, numberArg, parseArgs, renderTable } from "../../tools/stats";

describe("pickTask", () => {
	it("picks each journey in proportion to its weight", () => {
		const counts = new Map<TaskName, number>();
		const steps = 2000;
		for (let i = 0; i < steps; i++) {
			const task = pickTask((i + 0.5) / steps);
			counts.set(task, (counts.get(task) ?? 0) + 1);
		}
		const total = Object.values(TASK_WEIGHTS).reduce((a, b) => a + b, 0);
		for (const [task, weight] of Object.entries(TASK_WEIGHTS) as Array<[TaskName, number]>)
			expect(counts.get(task)).toBe((steps * weight) / total);
	});

	it("follows Online Boutique's weights: browse 10, search 4, view cart 3, add to cart 2, checkout 1", () => {
		expect(TASK_WEIGHTS).toEqual({ browse: 10, search: 4, viewCart: 3, addToCart: 2, checkout: 1 });
		expect(pickTask(0)).toBe("browse");
		expect(pickTask(0.999999)).toBe("checkout");
	});
});

describe("LatencyRecorder", () => {
	it("answers percentiles by nearest rank", () => {
		const rec = new LatencyRecorder();
		for (let v = 100; v >= 1; v--) rec.add(v);
		expect(rec.count).toBe(100);
		expect(rec.percentile(50)).toBe(50);
		expect(rec.percentile(95)).toBe(95);
		expect(rec.percentile(99)).toBe(99);
		expect(rec.percentile(100)).toBe(100);
	});

	it("answers 0 when nothing was recorded and forgets on reset", () => {
		const rec = new LatencyRecorder();
		expect(rec.percentile(99)).toBe(0);
		rec.add(5);
		rec.reset();
		expect(rec.count).toBe(0);
	});
});

describe("command-line options", () => {
	it("reads --name value, --name=value and bare flags", () => {
		const args = parseArgs(["--users", "20", "--behavior=payment:error=0.1", "--verbose", "--duration", "60"]);
		expect(args.get("users")).toBe("20");
		expect(args.get("behavior")).toBe("payment:error=0.1");
		expect(args.get("verbose")).toBe("true");
		expect(numberArg(args, "duration", 10)).toBe(60);
		expect(numberArg(args, "connections", 32)).toBe(32);
	});

	it("refuses a number option that is not a positive number, naming it", () => {
		expect(() => numberArg(parseArgs(["--users", "many"]), "users", 1)).toThrow("--users must be a positive number");
	});
});

describe("renderTable", () => {
	it("aligns text left and numbers right under a header line", () => {
		const out = renderTable(["route", "req/s"], [["GET /a", 5], ["POST /longer", 1234]]).split("\n");
		expect(out).toEqual(["route         req/s", "------------  -----", "GET /a            5", "POST /longer   1234"]);
	});
});
