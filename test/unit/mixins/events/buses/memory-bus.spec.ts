import type { DeliveryResult, Delivery } from "../../../../../mixins/events/buses/bus";
import { MAX_IN_FLIGHT_PER_GROUP, openMemoryBus } from "../../../../../mixins/events/buses/memory-bus";
import { createMessage } from "../../../../../mixins/events/policy";

const ns = (): string => `t-mb-${Math.random().toString(36).slice(2)}`;
const wait = (ms: number): Promise<void> => new Promise(r => setTimeout(r, ms));

describe("the in-process event bus", () => {
	it("hands each event to one subscriber of a durable group and to every node group", async () => {
		const n = ns();
		const a = openMemoryBus(n);
		const b = openMemoryBus(n);
		const got: string[] = [];
		const ack = (tag: string) => async (d: Delivery): Promise<DeliveryResult> => {
			got.push(`${tag}:${d.message.event_id}`);
			return { kind: "ack" };
		};
		await a.subscribe({ group: "g", eventName: "x.happened", mode: "durable" }, ack("g1"));
		await b.subscribe({ group: "g", eventName: "x.happened", mode: "durable" }, ack("g2"));
		await a.subscribe({ group: "n.a", eventName: "x.happened", mode: "node" }, ack("na"));
		await b.subscribe({ group: "n.b", eventName: "x.happened", mode: "node" }, ack("nb"));
		await a.publish(createMessage("s", "x.happened", {}, {}, new Date(), "e1"));
		await a.publish(createMessage("s", "other.thing", {}, {}, new Date(), "e2"));
		for (let i = 0; i < 200 && got.length < 3; i++) await wait(10);
		await wait(50);
		expect(got.filter(g => g.startsWith("g")).length).toBe(1);
		expect(got).toEqual(expect.arrayContaining(["na:e1", "nb:e1"]));
		expect(got).toHaveLength(3);
		await a.close();
		await b.close();
	});

	it("runs at most MAX_IN_FLIGHT_PER_GROUP deliveries of a group at once and starts the next as each ends", async () => {
		const bus = openMemoryBus(ns());
		let running = 0;
		let peak = 0;
		let done = 0;
		const gates: Array<() => void> = [];
		await bus.subscribe({ group: "g", eventName: "x.happened", mode: "durable" }, async () => {
			running++;
			peak = Math.max(peak, running);
			await new Promise<void>(r => gates.push(r));
			running--;
			done++;
			return { kind: "ack" };
		});
		const total = MAX_IN_FLIGHT_PER_GROUP * 3 + 7;
		for (let i = 0; i < total; i++) await bus.publish(createMessage("s", "x.happened", {}, {}, new Date(), `e${i}`));
		for (let i = 0; i < 200 && running < MAX_IN_FLIGHT_PER_GROUP; i++) await wait(5);
		await wait(20);
		expect(running).toBe(MAX_IN_FLIGHT_PER_GROUP);
		for (let i = 0; i < 1000 && done < total; i++) {
			gates.splice(0).forEach(open => open());
			await wait(2);
		}
		expect(done).toBe(total);
		expect(peak).toBe(MAX_IN_FLIGHT_PER_GROUP);
		expect(await bus.whenConsumed?.(`e${total - 1}`)).toBe(true);
		await bus.close();
	});

	it("redelivers after the asked delay with the next attempt number", async () => {
		const bus = openMemoryBus(ns());
		const attempts: number[] = [];
		await bus.subscribe({ group: "g", eventName: "x.happened", mode: "durable" }, async d => {
			attempts.push(d.attempt);
			return d.attempt < 3 ? { kind: "retry", delayMs: 10 } : { kind: "ack" };
		});
		await bus.publish(createMessage("s", "x.happened", {}));
		for (let i = 0; i < 200 && attempts.length < 3; i++) await wait(10);
		await wait(50);
		expect(attempts).toEqual([1, 2, 3]);
		await bus.close();
	});

	it("keeps events for a durable group that subscribes later, but not for a node group", async () => {
		const bus = openMemoryBus(ns());
		await bus.publish(createMessage("s", "x.happened", {}, {}, new Date(), "early"));
		const durable: string[] = [];
		const node: string[] = [];
		await bus.subscribe({ group: "late", eventName: "x.happened", mode: "durable" }, async d => (durable.push(d.message.event_id), { kind: "ack" }));
		await bus.subscribe({ group: "n.1", eventName: "x.happened", mode: "node" }, async d => (node.push(d.message.event_id), { kind: "ack" }));
		for (let i = 0; i < 200 && durable.length < 1; i++) await wait(10);
		await wait(50);
		expect(durable).toEqual(["early"]);
		expect(node).toEqual([]);
		await bus.close();
	});
});
