import { mergeDeadLetters } from "../../../../mixins/events/dead-letters";
import type { DeadLetter } from "../../../../mixins/events.mixin";

const dl = (id: string, failed_at: string): DeadLetter =>
	({ id, failed_at, service: "s", consumer: "s", event_id: id, event_name: "x", status: "dead" }) as DeadLetter;

describe("mergeDeadLetters", () => {
	it("lists each dead letter once, newest first, one page at a time", () => {
		const a = [dl("1", "2026-01-01T00:00:01Z"), dl("2", "2026-01-01T00:00:03Z")];
		const b = [dl("2", "2026-01-01T00:00:03Z"), dl("3", "2026-01-01T00:00:02Z")];
		expect(mergeDeadLetters([a, b], 1, 2)).toEqual({ rows: [a[1], b[1]], total: 3 });
		expect(mergeDeadLetters([a, b], 2, 2)).toEqual({ rows: [a[0]], total: 3 });
		expect(mergeDeadLetters([], 1, 10)).toEqual({ rows: [], total: 0 });
	});
});
