import { moneyViolations, rebuildViolations, settlementViolations, shippedUnits, stockViolations } from "../../../../services/common/chaos-invariants";
import { SCENARIOS, scenarioById } from "../../../../services/common/chaos-scenarios";

const order = (status: string, total = 10, items = [{ product_id: "p1", quantity: 2 }]) => ({ id: "o1", status, total, items });
const paid = (...statuses: string[]) => statuses.map(status => ({ status }));

describe("the chaos invariants", () => {
	it("want every order settled, a SHIPPED one included", () => {
		expect(settlementViolations(order("SHIPPED"))).toEqual([]);
		expect(settlementViolations(order("FAILED"))).toEqual([]);
		expect(settlementViolations(order("COMPENSATING"))).toEqual(["order o1 is still COMPENSATING"]);
	});

	it("want the total charged for a shipped order and nothing for a failed one", () => {
		expect(moneyViolations(order("SHIPPED", 10.5), { rows: paid("CAPTURED"), net_charged_cents: 1050 })).toEqual([]);
		expect(moneyViolations(order("FAILED"), { rows: paid("REFUNDED"), net_charged_cents: 0 })).toEqual([]);
		expect(moneyViolations(order("FAILED"), { rows: paid("CAPTURED"), net_charged_cents: 1000 })).toEqual(["order o1 is FAILED but 1000 cents are charged (expected 0)"]);
	});

	it("refuse a second charge for one order, even refunded", () => {
		expect(moneyViolations(order("FAILED"), { rows: paid("REFUNDED", "REFUNDED", "DECLINED"), net_charged_cents: 0 })).toEqual(["order o1 was charged 2 times"]);
	});

	it("balance stock with the units shipped and want reservations back", () => {
		const shipped = shippedUnits([order("SHIPPED"), order("DELIVERED"), order("FAILED")]);
		expect(shipped.get("p1")).toBe(4);
		const before = new Map([["p1", { on_hand: 10, reserved: 1 }]]);
		expect(stockViolations(before, new Map([["p1", { on_hand: 6, reserved: 1 }]]), shipped)).toEqual([]);
		expect(stockViolations(before, new Map([["p1", { on_hand: 7, reserved: 2 }]]), shipped)).toEqual([
			"p1: on hand 10 before, 7 after, 4 shipped (off by -1)",
			"p1: 2 reserved after the run, 1 before",
		]);
	});
});

describe("the chaos scenarios", () => {
	it("are the seed's eight, each found by its id", () => {
		expect(SCENARIOS.map(s => s.id)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
		expect(scenarioById(7)?.searchBehavior).toMatch(/^search:/);
		expect(scenarioById(9)).toBeUndefined();
	});
});

describe("rebuildViolations", () => {
	it("holds with no difference and every order streamed; names each differing field and the orders without a stream", () => {
		expect(rebuildViolations({ checked: 3, differences: [], without_stream: 0 })).toEqual([]);
		const v = rebuildViolations({ checked: 3, differences: [{ order_id: "o1", field: "status", stored: "SHIPPED", rebuilt: "PAID" }], without_stream: 1 });
		expect(v).toEqual(['order o1: status is "SHIPPED" but its stream rebuilds "PAID"', "1 of 3 orders have no event stream"]);
	});
});
